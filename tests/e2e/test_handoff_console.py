"""The hand-off to a person end to end, in headless Chromium over `make run`'s stack
(infra/local/devstack.py on free ports): the customer's web chat (the WhatsApp simulator) and the
agents' console (`GET {escalation}/console`) in two browser contexts.

The customer asks for a person -> the holding message in Spanish -> the `human-agents` SNS topic
(our own SQS queue subscribed to it), an SES e-mail and a case in the fake CRM -> the agent sees
the hand-off in the console, opens it (reason, signals and CRM link before claiming), claims it,
writes a private note and replies -> the reply reaches the customer's chat -> the customer's next
message appears in the console without a reload -> the agent resolves -> the bot answers again.
A second test: two agents claim the same hand-off at once; one wins, the other sees the conflict.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from functools import partial
from typing import Any

import pytest
from e2e_support import eventually, wait_for_index

from infra.local.devstack import DevStack

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CUSTOMER = "15551239101"
RACE_CUSTOMER = "15551239202"
AGENT_HEADERS = {"x-agent-id": "e2e-observer"}
STEP = 20_000  # ms: one hop of the pipeline (several queues; moto is slow)
PIPELINE = 60_000  # ms: a customer message to a reply (webhook, context, AI, sender)
HOLDING = re.compile(r"Gracias por tu (paciencia|mensaje)")
DELIVERED = re.compile(r"^(sent|delivered|read)$")


# ---------------------------------------------------------------------------------- helpers


def _http(method: str, url: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=15) as response:
        return json.loads(response.read() or b"null")


def _agent_api(stack: DevStack, path: str) -> Any:
    headers = {"x-api-key": stack.api_key("escalation"), **AGENT_HEADERS}
    return _http("GET", f"{stack.service_url('escalation')}{path}", headers=headers)


def _subscribe_to_human_agents(stack: DevStack, name: str) -> str:
    """An SQS queue of our own on the `human-agents` topic (the SNS envelope keeps the message
    attributes a team's subscription filters on)."""
    sqs, sns = stack.client("sqs"), stack.client("sns")
    url = str(sqs.create_queue(QueueName=name)["QueueUrl"])
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    topic = next(
        t["TopicArn"]
        for t in sns.list_topics()["Topics"]
        if t["TopicArn"].endswith(":parley-local-human-agents")
    )
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    return url


def _notification_for(stack: DevStack, queue_url: str, wa_id: str) -> dict[str, Any]:
    """The first human-agents notification about customer `wa_id` (by its last four digits)."""
    sqs = stack.client("sqs")

    def receive() -> dict[str, Any] | None:
        got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for message in got.get("Messages", []):
            envelope = json.loads(message["Body"])
            body = json.loads(envelope["Message"])
            if str(body.get("customer", "")).endswith(wa_id[-4:]):
                return {"body": body, "attributes": envelope.get("MessageAttributes", {})}
        return None

    found: dict[str, Any] = eventually(receive, "the human-agents SNS notification", 30)
    return found


def _crm_case(stack: DevStack, handoff_id: str) -> dict[str, Any]:
    """The fake CRM's case of `handoff_id`; a timeout names where the CRM webhook points."""

    def case() -> dict[str, Any] | None:
        cases = _http("GET", f"{stack.simulator_url}/_crm/state")["webhook"]["cases"]
        return next((c for c in cases if c.get("handoff_id") == handoff_id), None)

    try:
        found: dict[str, Any] = eventually(case, "the CRM case", 30)
    except AssertionError as error:
        secret = stack.client("secretsmanager").get_secret_value(SecretId="parley/local/crm")
        url = json.loads(secret["SecretString"]).get("webhook_url")
        logs = stack.run_dir / "logs" / "escalation.log"
        raise AssertionError(
            f"{error}; the CRM secret's webhook_url is {url}, this stack's simulator is "
            f"{stack.simulator_url}; see {logs}"
        ) from None
    return found


def _queued_handoff(stack: DevStack, wa_id: str) -> dict[str, Any]:
    def find() -> dict[str, Any] | None:
        listed = _agent_api(stack, "/agent/queue?view=waiting")["handoffs"]
        return next((h for h in listed if h["customer"] == wa_id), None)

    found: dict[str, Any] = eventually(find, f"a waiting hand-off of {wa_id}", 45)
    return found


def _sign_in(page: Any, stack: DevStack, agent_id: str, name: str, handoff_id: str = "") -> None:
    from playwright.sync_api import expect

    page.goto(
        f"{stack.service_url('escalation')}/console" + (f"#{handoff_id}" if handoff_id else "")
    )
    page.wait_for_selector("body[data-ready='1']")
    # Served from 127.0.0.1, the local API key is filled in already.
    expect(page.locator("#api-key")).to_have_value(stack.api_key("escalation"))
    page.fill("#agent-id", agent_id)
    page.fill("#agent-name", name)
    page.click("#signin-btn")
    expect(page.locator("body")).to_have_attribute("data-signed-in", "1", timeout=STEP)


# ---------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def indexed_stack(stack: DevStack) -> DevStack:
    wait_for_index(stack)
    return stack


@pytest.fixture
def customer_page(indexed_stack: DevStack, chromium: Any) -> Iterator[Any]:
    """The web chat as customer CUSTOMER (the simulator remembers the number in localStorage)."""
    context = chromium.new_context(viewport={"width": 420, "height": 860}, locale="es-ES")
    context.add_init_script(
        f"localStorage.setItem('sim.number', '{CUSTOMER}');"
        "localStorage.setItem('sim.name', 'Lucía Pérez');"
    )
    page = context.new_page()
    page.goto(indexed_stack.simulator_url + "/")
    page.wait_for_selector("body[data-live='1']")
    yield page
    context.close()


@pytest.fixture
def console_page(indexed_stack: DevStack, chromium: Any) -> Iterator[Any]:
    context = chromium.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    yield page
    context.close()


# ---------------------------------------------------------------------------------- tests


def test_customer_to_agent_and_back_to_the_bot(
    indexed_stack: DevStack, customer_page: Any, console_page: Any
) -> None:
    from playwright.sync_api import expect

    stack, chat, console = indexed_stack, customer_page, console_page
    agents_queue = _subscribe_to_human_agents(stack, "e2e-console-human-agents")

    # GIVEN the customer asks for a person in the web chat
    chat.fill("#text", "quiero hablar con una persona")
    chat.click("#send")
    # THEN the customer is told, in Spanish, that a person will reply
    expect(chat.locator(".row.out .text").filter(has_text=HOLDING)).to_have_count(
        1, timeout=PIPELINE
    )

    # AND the team is notified on the human-agents topic, with attributes to filter on
    notification = _notification_for(stack, agents_queue, CUSTOMER)
    attributes = {k: v["Value"] for k, v in notification["attributes"].items()}
    assert attributes["team"] == "admissions"
    assert attributes["language"] == "es"
    assert attributes["priority"] == "normal"
    assert attributes["reason"] == "customer_request"
    handoff_id = notification["body"]["handoff_id"]
    assert notification["body"]["console"].endswith(f"/console#{handoff_id}")

    # AND by e-mail (the emulator's SES), with a link to the console
    emails = eventually(
        lambda: [
            m
            for m in _agent_api(stack, "/agent/emails")["emails"]
            if handoff_id in (m.get("body") or "")
        ],
        "the hand-off e-mail",
        STEP / 1000,
    )
    assert "Customer needs a person" in emails[0]["subject"]
    assert emails[0]["to"], "the e-mail has no recipient"

    # AND a case is opened in the CRM (the local provider: the signed webhook to the simulator)
    case = _crm_case(stack, handoff_id)
    assert case["id"].startswith("WK-")

    # WHEN the agent signs in to the console, the hand-off is in the Waiting queue
    _sign_in(console, stack, "ana", "Ana")
    item = console.locator(f"[data-testid='queue-item'][data-handoff-id='{handoff_id}']")
    expect(item).to_be_visible(timeout=STEP)
    expect(item.locator("[data-testid='priority']")).to_have_text("normal")
    expect(item).to_contain_text("customer request")
    expect(item).to_contain_text("admissions")
    expect(item).to_contain_text("ES")
    expect(item.locator("[data-testid='waiting']")).to_have_text(re.compile(r"\d+ (s|min)"))

    # AND opening it shows the reason, the signals and the CRM case before claiming
    item.click()
    expect(console.locator("#conv")).to_be_visible(timeout=STEP)
    expect(console.locator("#conv-reason")).to_have_text("customer request")
    expect(console.locator("#conv-state")).to_have_attribute(
        "data-state", re.compile("requested|notified")
    )
    expect(console.locator("[data-testid='signal']").first).to_be_visible()
    expect(console.locator("[data-testid='crm-link']")).to_contain_text(case["id"], timeout=STEP)
    asked = console.locator("[data-testid='message'][data-role='customer']")
    expect(asked.filter(has_text="quiero hablar con una persona")).to_have_count(1, timeout=STEP)
    expect(console.locator("#claim-btn")).to_be_enabled()

    # WHEN the agent claims it
    console.click("#claim-btn")
    expect(console.locator("#conv-state")).to_have_attribute("data-state", "accepted", timeout=STEP)
    expect(console.locator("#claim-btn")).to_have_text("Claimed by you")
    expect(console.locator("#message-area")).to_be_hidden()

    # AND writes a private note
    note = "Prefiere que le escriban en español"
    console.fill("#note-text", note)
    console.click("#note-add")
    expect(console.locator("[data-testid='note']").filter(has_text=note)).to_have_count(1)

    # AND replies
    reply = "Hola, soy Ana de admisiones"
    console.fill("#reply-text", reply)
    console.click("#reply-send")
    expect(console.locator("#status-line")).to_contain_text("queued")
    mine = console.locator("[data-testid='message'][data-role='agent']").filter(has_text=reply)
    expect(mine).to_have_count(1)
    # THEN the reply reaches the customer's chat, and the console shows it delivered (not failed)
    expect(chat.locator(".row.out .text").filter(has_text=reply)).to_have_count(1, timeout=STEP)
    expect(mine.locator("[data-testid='delivery-status']")).to_have_attribute(
        "data-status", DELIVERED, timeout=STEP
    )

    # AND the customer's next message appears in the console without a reload
    chat.fill("#text", "Gracias, Ana")
    chat.click("#send")
    expect(asked.filter(has_text="Gracias, Ana")).to_have_count(1, timeout=STEP)

    # AND the e-mail is listed in the console's E-mails panel
    console.click("#emails-refresh")
    expect(
        console.locator("[data-testid='email']").filter(has_text="Customer needs a person").first
    ).to_be_visible(timeout=STEP)

    # WHEN the agent resolves the hand-off
    console.click("#resolve-btn")
    expect(console.locator("#conv-state")).to_have_attribute("data-state", "resolved", timeout=STEP)
    expect(console.locator("#claim-btn")).to_be_disabled()

    # THEN the bot answers the customer's next question again (from the knowledge base)
    answers = chat.locator(".row.out .text").filter(has_text=re.compile(r"Fuente|Source"))
    before = answers.count()
    chat.fill("#text", "¿Cuándo es la fecha límite de solicitud?")
    chat.click("#send")
    expect(answers).to_have_count(before + 1, timeout=PIPELINE)
    answer = answers.last.inner_text()
    assert reply not in answer and not HOLDING.search(answer)
    assert re.search(r"\b20\d\d\b", answer), answer

    # AND the private note never reached the customer
    assert note not in chat.locator("#messages").inner_text()


def test_two_agents_claim_the_same_handoff_and_exactly_one_wins(
    indexed_stack: DevStack, chromium: Any
) -> None:
    from playwright.sync_api import expect

    stack = indexed_stack
    _http(
        "POST",
        f"{stack.simulator_url}/_sim/customer/messages",
        {"from": RACE_CUSTOMER, "text": "I want to talk to a person"},
    )
    handoff_id = _queued_handoff(stack, RACE_CUSTOMER)["handoff_id"]

    contexts = [chromium.new_context(viewport={"width": 1300, "height": 850}) for _ in "ab"]
    try:
        pages = {}
        for agent, context in zip(("agent-a", "agent-b"), contexts, strict=True):
            page = context.new_page()
            _sign_in(page, stack, agent, agent.title(), handoff_id)
            expect(page.locator("#conv")).to_have_attribute("data-handoff-id", handoff_id)
            expect(page.locator("#claim-btn")).to_be_enabled(timeout=STEP)
            pages[agent] = page

        # Both clicks are dispatched before either answer arrives.
        for page in pages.values():
            page.evaluate("document.getElementById('claim-btn').click()")

        def outcome(page: Any) -> str | None:
            if page.locator("#message-area").is_visible():
                return "refused"
            claimed = page.locator("#claim-btn").inner_text() == "Claimed by you"
            return "won" if claimed else None

        results = {
            agent: eventually(partial(outcome, page), f"{agent}'s claim to answer", STEP / 1000)
            for agent, page in pages.items()
        }
        assert sorted(results.values()) == ["refused", "won"], results
        winner = next(a for a, r in results.items() if r == "won")
        loser = next(a for a, r in results.items() if r == "refused")
        message = pages[loser].locator("#message-text")
        expect(message).to_contain_text("409 conflict")
        expect(message).to_contain_text(handoff_id)
        # The loser's console catches up: claimed by the winner, nothing left to claim.
        expect(pages[loser].locator("#conv-agent")).to_contain_text(winner, timeout=STEP)
        expect(pages[loser].locator("#claim-btn")).to_be_disabled()
        expect(pages[loser].locator("#reply-send")).to_be_disabled()
        detail = _agent_api(stack, f"/agent/handoffs/{handoff_id}")
        assert detail["state"] == "accepted" and detail["agent_id"] == winner
    finally:
        for context in contexts:
            context.close()

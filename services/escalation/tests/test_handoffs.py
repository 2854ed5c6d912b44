"""Hand-offs end to end inside the escalation service, against the real emulators (moto server,
redis-server): from the signal in a customer message to the agent's resolution, the SLA watchdog,
the CRM sync and erasure. The agents' routes run through the Chalice test client."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from chalice.test import Client
from handoff_support import (
    HEADERS,
    PNID,
    Probes,
    crm_jobs,
    handoff_requested,
    message,
    new_customer,
    outbound_replies,
    sent_emails,
)

from infra.local.service_contract import Service, deliver, drain
from parley.errors import BatchIncomplete

# The contract's fixtures: moto provisioned from infra/template.yaml, redis, the app's `service`.
pytest_plugins = ["infra.local.service_contract"]
OK = {"batchItemFailures": []}


class FakeContext:
    """The context service's API as the agent API reads it (transcript and session)."""

    def __init__(self) -> None:
        self.last_inbound: dict[str, datetime] = {}

    def transcript(self, conversation: str, limit: int = 50) -> list[dict[str, Any]]:
        return [{"message_id": "m1", "role": "customer", "text": "hola", "at": "2026-01-01"}]

    def session(self, conversation: str) -> dict[str, Any] | None:
        at = self.last_inbound.get(conversation)
        return {"last_inbound_at": at.isoformat()} if at else None


IN_HOURS = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)  # a Wednesday, 10:00 in New York
SATURDAY = datetime(2026, 12, 5, 15, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = IN_HOURS

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def desk(service: Service, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """The service with a controllable clock, an in-memory CRM and a fake context API."""
    from chalicelib.agent_api import AgentApi
    from chalicelib.crm import CrmSync, InMemoryCrm
    from chalicelib.wiring import runtime

    drain("parley-local-outbound.fifo")
    clock, context, crm = Clock(), FakeContext(), InMemoryCrm()
    runtime.override(clock=clock, crm_sync=CrmSync(lambda pnid: crm))
    runtime.override(
        agent_api=AgentApi(
            desk=runtime.desk,
            context=context,  # type: ignore[arg-type]
            templates=list(runtime.policy.desk.templates),
            clock=clock,
        )
    )
    yield {"clock": clock, "context": context, "crm": crm, "probes": Probes.create()}


def runtime_crisis_text(language: str, wa_id: str) -> str:
    from chalicelib.signals import crisis_reply
    from chalicelib.wiring import runtime

    return crisis_reply(runtime.policy, language, wa_id, runtime.profile)


# CRM jobs the service queued, set aside so the next delivery finds only its own event.
PENDING_JOBS: dict[str, list[dict[str, Any]]] = {}


def open_handoff(client: Client, service: Service, wa_id: str, **payload: Any) -> dict[str, Any]:
    request = handoff_requested(wa_id, **payload)
    assert deliver(client, service, [json.dumps(request)]) == OK
    PENDING_JOBS.setdefault(wa_id, []).extend(crm_jobs(wa_id))
    return request


def handoff_of(wa_id: str) -> Any:
    from chalicelib.wiring import runtime

    return runtime.store.open_for(f"{PNID}:{wa_id}")


def run_crm_jobs(client: Client, service: Service, wa_id: str) -> list[dict[str, Any]]:
    jobs = PENDING_JOBS.pop(wa_id, []) + crm_jobs(wa_id)
    for job in jobs:
        deliver(client, service, [json.dumps({k: v for k, v in job.items() if k != "group"})])
    return jobs


# --- a request becomes a hand-off: customer told, people notified, CRM case ------------------


def test_request_opens_a_handoff_tells_the_customer_notifies_people_and_opens_a_case(
    client: Client, service: Service, desk: dict[str, Any], provisioned: str
) -> None:
    wa_id = new_customer()
    emails_before = len(sent_emails(provisioned))
    open_handoff(client, service, wa_id)

    handoff = handoff_of(wa_id)
    assert handoff.state == "notified" and handoff.language == "es"
    [holding] = outbound_replies(wa_id)
    assert holding["origin"] == "system" and "minutos" in holding["text"].lower()
    [note] = desk["probes"].notifications()
    assert note["attributes"]["language"] == "es"
    assert note["attributes"]["reason"] == "customer_request"
    assert {"team", "priority", "audience"} <= set(note["attributes"])
    emails = sent_emails(provisioned)[emails_before:]
    assert len(emails) == 1 and "Customer needs a person" in emails[0]["subject"]

    jobs = run_crm_jobs(client, service, wa_id)
    assert [j["group"] for j in jobs] == [f"crm:{PNID}:{wa_id}"]  # never the conversation's group
    assert len(desk["crm"].cases) == 1
    assert handoff_of(wa_id).crm.case_id


def test_out_of_hours_the_customer_learns_when_someone_answers_and_how_else_to_reach_us(
    client: Client, service: Service, desk: dict[str, Any]
) -> None:
    desk["clock"].now = SATURDAY
    wa_id = new_customer()
    open_handoff(client, service, wa_id, language="en")
    [holding] = outbound_replies(wa_id)
    assert "Monday" in holding["text"] and "@" in holding["text"]


def test_the_same_request_replayed_five_times_is_one_handoff_one_contact_one_case(
    client: Client, service: Service, desk: dict[str, Any]
) -> None:
    wa_id = new_customer()
    request = handoff_requested(wa_id)
    for _ in range(5):
        assert deliver(client, service, [json.dumps(request)]) == OK
        run_crm_jobs(client, service, wa_id)
    assert len(outbound_replies(wa_id)) == 1  # one holding message (same request id: deduped)
    assert len(desk["crm"].contacts) == 1 and len(desk["crm"].cases) == 1


def test_a_request_whose_notification_failed_is_notified_when_retried(
    client: Client, service: Service, desk: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.notify import AwsAgentNotifier
    from chalicelib.wiring import runtime
    from parley.errors import DependencyError

    real = AwsAgentNotifier.notify
    calls: list[str] = []

    def flaky(self: Any, *args: Any) -> None:
        calls.append("notify")
        if len(calls) == 1:
            raise DependencyError("SNS unavailable")
        real(self, *args)

    monkeypatch.setattr(AwsAgentNotifier, "notify", flaky)
    wa_id = new_customer()
    request = handoff_requested(wa_id)
    with pytest.raises(BatchIncomplete):
        deliver(client, service, [json.dumps(request)])
    drain(service.queue)
    assert deliver(client, service, [json.dumps(request)]) == OK  # SQS's redelivery
    assert runtime.store.open_for(f"{PNID}:{wa_id}").state == "notified"
    assert len(desk["probes"].notifications()) == 1


def test_a_second_request_joins_the_open_handoff_and_raises_its_priority(
    client: Client, service: Service, desk: dict[str, Any]
) -> None:
    wa_id = new_customer()
    open_handoff(client, service, wa_id)
    first = handoff_of(wa_id)
    open_handoff(client, service, wa_id, reason="sentiment", priority="high")
    joined = handoff_of(wa_id)
    assert joined.handoff_id == first.handoff_id and joined.priority == "high"


# --- signals in customer messages -------------------------------------------------------------


def test_ordinary_message_costs_no_aws_call_in_the_handler(
    client: Client, service: Service, desk: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from botocore.client import BaseClient

    from chalicelib import handlers
    from parley.events import parse_event

    calls: list[str] = []
    real = BaseClient._make_api_call

    def counting(self: Any, operation: str, params: Any) -> Any:
        calls.append(operation)
        return real(self, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", counting)
    handlers.detect(parse_event(message(new_customer(), "When is the fall deadline?")))
    assert calls == []


def test_explicit_request_in_spanish_publishes_a_handoff_request(
    client: Client, service: Service, desk: dict[str, Any]
) -> None:
    wa_id = new_customer()
    assert deliver(client, service, [json.dumps(message(wa_id, "quiero hablar con una persona"))])
    [requested] = desk["probes"].events_of("handoff.requested", wait=2)
    assert requested["payload"]["reason"] == "customer_request"
    assert requested["payload"]["language"] == "es"


def test_self_harm_gets_the_fixed_crisis_reply_urgently_with_no_quote_and_no_survey(
    client: Client, service: Service, desk: dict[str, Any], provisioned: str
) -> None:
    wa_id = new_customer()
    words = "ya no quiero vivir, no aguanto más"
    assert deliver(client, service, [json.dumps(message(wa_id, words))]) == OK
    [requested] = desk["probes"].events_of("handoff.requested", wait=2)
    assert (requested["payload"]["reason"], requested["payload"]["priority"]) == (
        "self_harm",
        "urgent",
    )
    assert words not in json.dumps(requested)  # evidence is the category, not the words
    drain(service.queue)  # the request also reached this service's own queue
    emails_before = len(sent_emails(provisioned))
    assert deliver(client, service, [json.dumps(requested)]) == OK

    [crisis] = outbound_replies(wa_id)
    assert crisis["origin"] == "system" and crisis["text"] == runtime_crisis_text("es", wa_id)
    [note] = desk["probes"].notifications()
    assert note["attributes"]["priority"] == "urgent"
    assert words not in json.dumps(note) and note["message"]["summary"] is None
    [email] = sent_emails(provisioned)[emails_before:]
    assert words not in json.dumps(email) and "not quoted" in json.dumps(email)
    handoff = handoff_of(wa_id)
    assert handoff.survey_allowed is False
    run_crm_jobs(client, service, wa_id)
    [case] = desk["crm"].cases.values()
    assert words not in json.dumps(case, default=str)


# --- agents: claim, reply, resolve --------------------------------------------------------------


def test_of_two_concurrent_claims_exactly_one_wins(
    client: Client, service: Service, desk: dict[str, Any]
) -> None:
    from chalicelib.wiring import runtime
    from parley.errors import Conflict

    wa_id = new_customer()
    open_handoff(client, service, wa_id)
    handoff_id = handoff_of(wa_id).handoff_id
    results: list[str] = []
    messages: list[str] = []
    barrier = threading.Barrier(2)

    def claim(agent: str) -> None:
        barrier.wait()
        try:
            runtime.desk.claim(handoff_id, agent)
            results.append(f"won:{agent}")
        except Conflict as error:
            results.append(f"lost:{agent}")
            messages.append(error.message)

    threads = [threading.Thread(target=claim, args=(a,)) for a in ("ana", "luis")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.split(":")[0] for r in results) == ["lost", "won"]
    winner = next(r.split(":")[1] for r in results if r.startswith("won"))
    assert runtime.store.get(handoff_id).agent_id == winner
    assert messages == [f"hand-off {handoff_id} is already accepted by {winner}"]
    [accepted] = desk["probes"].events_of("handoff.accepted")
    assert accepted["payload"]["agent_id"] == winner


def test_agent_claims_replies_and_resolves_through_the_api(
    client: Client, service: Service, desk: dict[str, Any]
) -> None:
    wa_id = new_customer()
    open_handoff(client, service, wa_id)
    desk["context"].last_inbound[f"{PNID}:{wa_id}"] = desk["clock"].now
    outbound_replies(wa_id)
    queue = client.http.get("/agent/queue?view=waiting", headers=HEADERS).json_body
    [item] = [h for h in queue["handoffs"] if h["customer"] == wa_id]
    path = f"/agent/handoffs/{item['handoff_id']}"
    detail = client.http.get(path, headers=HEADERS).json_body
    assert detail["reason"] == "customer_request" and detail["window_open"] is True

    assert client.http.post(f"{path}/claim", headers=HEADERS).status_code == 200
    reply = {"text": "Hola, soy Ana de admisiones"}
    answer = client.http.post(f"{path}/reply", headers=HEADERS, body=json.dumps(reply))
    assert answer.status_code == 202
    [sent] = outbound_replies(wa_id)
    assert (sent["origin"], sent["text"]) == ("agent", reply["text"])
    note = client.http.post(f"{path}/notes", headers=HEADERS, body=json.dumps({"text": "VIP?"}))
    assert note.status_code == 201 and outbound_replies(wa_id) == []  # notes never go out
    done = client.http.post(f"{path}/resolve", headers=HEADERS, body=json.dumps({}))
    assert done.json_body["state"] == "resolved"
    [resolved] = desk["probes"].events_of("handoff.resolved")
    assert resolved["payload"]["outcome"] == "resolved"
    mine = client.http.get("/agent/queue?view=mine", headers=HEADERS).json_body
    assert all(h["customer"] != wa_id for h in mine["handoffs"])


def test_outside_the_24h_window_only_approved_templates_can_be_sent(
    client: Client, service: Service, desk: dict[str, Any]
) -> None:
    wa_id = new_customer()
    open_handoff(client, service, wa_id)
    desk["context"].last_inbound[f"{PNID}:{wa_id}"] = desk["clock"].now - timedelta(hours=30)
    handoff_id = handoff_of(wa_id).handoff_id
    outbound_replies(wa_id)
    path = f"/agent/handoffs/{handoff_id}"
    detail = client.http.get(path, headers=HEADERS).json_body
    assert detail["window_open"] is False and detail["templates"]
    text = client.http.post(f"{path}/reply", headers=HEADERS, body=json.dumps({"text": "hi"}))
    assert text.status_code == 409 and "template" in text.json_body["message"]
    template = {"template": detail["templates"][0]["name"]}
    assert (
        client.http.post(f"{path}/reply", headers=HEADERS, body=json.dumps(template)).status_code
        == 202
    )
    [sent] = outbound_replies(wa_id)
    assert sent["kind"] == "template" and sent["origin"] == "agent"


def test_agent_routes_need_the_key_and_an_agent_id(client: Client, service: Service) -> None:
    assert client.http.get("/agent/queue").status_code == 401
    only_key = {"x-api-key": HEADERS["x-api-key"]}
    assert client.http.get("/agent/queue", headers=only_key).status_code == 401
    bad = client.http.post("/agent/handoffs/ho_x/reply", headers=HEADERS, body="{}")
    assert bad.status_code in (400, 404)


# --- nobody waits for ever ----------------------------------------------------------------------


def test_unclaimed_past_the_sla_reminds_and_tells_supervisors_then_expires_to_the_bot(
    client: Client, service: Service, desk: dict[str, Any]
) -> None:
    from chalicelib import handlers
    from chalicelib.wiring import runtime

    wa_id = new_customer()
    open_handoff(client, service, wa_id)
    outbound_replies(wa_id)
    desk["probes"].notifications()
    policy = runtime.policy.sla
    desk["clock"].now += timedelta(minutes=policy.first_response_minutes, seconds=1)
    handoff_id = handoff_of(wa_id).handoff_id
    assert handlers.watch_handoff_sla()["supervisors"] >= 1
    audiences = [
        n["attributes"]["audience"]
        for n in desk["probes"].notifications()
        if n["message"]["handoff_id"] == handoff_id  # other tests' hand-offs are open too
    ]
    assert sorted(audiences) == ["agents", "supervisors"]

    desk["clock"].now += timedelta(minutes=policy.max_wait_minutes)
    assert handlers.watch_handoff_sla()["expired"] >= 1
    [told] = outbound_replies(wa_id)
    assert told["origin"] == "system" and "@" in told["text"]  # how else to reach the business
    [resolved] = [
        e for e in desk["probes"].events_of("handoff.resolved") if e["conversation"].endswith(wa_id)
    ]
    assert resolved["payload"]["outcome"] == "expired"  # context gives the bot back
    assert handoff_of(wa_id) is None


def test_a_closing_session_ends_the_open_handoff(
    client: Client, service: Service, desk: dict[str, Any]
) -> None:
    from handoff_support import event

    wa_id = new_customer()
    open_handoff(client, service, wa_id)
    closed = event("session.closed", wa_id, {"reason": "idle"})
    assert deliver(client, service, [json.dumps(closed)]) == OK
    [resolved] = desk["probes"].events_of("handoff.resolved")
    assert resolved["payload"]["outcome"] == "abandoned"


# --- CRM down never blocks the hand-off ----------------------------------------------------------


def test_crm_down_the_handoff_proceeds_and_the_case_is_created_when_it_comes_back(
    client: Client, service: Service, desk: dict[str, Any]
) -> None:
    from chalicelib.crm import RetryPolicy
    from chalicelib.crm.sync import CrmSync
    from chalicelib.wiring import runtime
    from parley.crm import CrmUnavailable

    crm = desk["crm"]
    quick = RetryPolicy(attempts=2, backoff_base=0.01, budget_seconds=1, breaker_seconds=0)
    runtime.override(crm_sync=CrmSync(lambda pnid: crm, policy=quick))
    crm.fail_next(CrmUnavailable("CRM answered 503"), times=10)
    wa_id = new_customer()
    open_handoff(client, service, wa_id)
    assert handoff_of(wa_id).state == "notified"  # people told, customer told
    assert len(outbound_replies(wa_id)) == 1
    [job] = PENDING_JOBS.pop(wa_id)
    body = json.dumps({k: v for k, v in job.items() if k != "group"})
    with pytest.raises(BatchIncomplete):  # retryable: SQS brings it back, then the DLQ
        deliver(client, service, [body])
    assert crm.cases == {}
    crm._faults.clear()  # the CRM is back
    drain(service.queue)
    assert deliver(client, service, [body]) == OK
    assert len(crm.cases) == 1


# --- erasure ------------------------------------------------------------------------------------


def test_customer_erased_purges_handoffs_and_asks_the_crm(
    client: Client, service: Service, desk: dict[str, Any]
) -> None:
    from handoff_support import event

    from chalicelib.wiring import runtime

    wa_id = new_customer()
    open_handoff(client, service, wa_id)
    run_crm_jobs(client, service, wa_id)
    erased = event("customer.erased", wa_id, {"wa_id": wa_id, "requested_by": "test"})
    assert deliver(client, service, [json.dumps(erased)]) == OK
    assert runtime.store.for_customer(wa_id) == [] and handoff_of(wa_id) is None
    run_crm_jobs(client, service, wa_id)
    assert desk["crm"].contacts == {} and desk["crm"].cases == {}

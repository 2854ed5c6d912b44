"""The chat page in real headless Chromium (Debian's /usr/bin/chromium, no `playwright install`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from conftest import Graph, Receiver

from infra.local.simulator import RunningSimulator

CUSTOMER = "15551234567"
pytestmark = pytest.mark.browser


@pytest.fixture
def page(sim: RunningSimulator, chromium: Any) -> Iterator[object]:
    tab = chromium.new_page(viewport={"width": 400, "height": 820})
    tab.goto(sim.url + "/")
    tab.wait_for_selector("body[data-live='1']")
    yield tab


def _type_and_send(page: object, text: str) -> None:
    page.fill("#text", text)  # type: ignore[attr-defined]
    page.click("#send")  # type: ignore[attr-defined]


def test_chat_page_end_to_end(page: object, graph: Graph, receiver: Receiver) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    expect(page.locator("#biz-name")).to_have_text("Parley Demo")
    _type_and_send(page, "Hi, where is my order?")
    hook = receiver.wait_for(lambda: receiver.messages() and receiver.messages()[-1])
    assert hook.signature_ok()
    message = hook.value["messages"][0]
    assert message["text"]["body"] == "Hi, where is my order?"
    assert hook.value["contacts"][0]["profile"]["name"] == "Alex Demo"
    mine = page.locator(f'[data-wamid="{message["id"]}"] .tick')
    expect(mine).to_have_attribute("data-status", "delivered")

    graph.send(
        {"status": "read", "message_id": message["id"], "typing_indicator": {"type": "text"}}
    )
    expect(mine).to_have_attribute("data-status", "read")
    expect(page.locator("#biz-sub")).to_have_text("typing…")
    assert (
        page.locator(".tick[data-status='read']").evaluate("el => getComputedStyle(el).color")
        == "rgb(83, 189, 235)"
    )

    graph.text(CUSTOMER, "Your order ships today.\nTracking: ABC123")
    expect(page.locator(".row.out .text").last).to_have_text(
        "Your order ships today.\nTracking: ABC123"
    )
    expect(page.locator("#biz-sub")).to_have_text("online")

    buttons = {
        "type": "button",
        "body": {"text": "Anything else?"},
        "footer": {"text": "Parley"},
        "action": {
            "buttons": [
                {"type": "reply", "reply": {"id": "more", "title": "Yes, more help"}},
                {"type": "reply", "reply": {"id": "done", "title": "No, thanks"}},
            ]
        },
    }
    sent = graph.send({"to": CUSTOMER, "type": "interactive", "interactive": buttons})
    wamid = sent.json()["messages"][0]["id"]
    button = page.locator(f'[data-wamid="{wamid}"] button[data-button-id="done"]')
    expect(button).to_have_text("No, thanks")
    page.screenshot(path="/tmp/parley_simulator_chat.png")
    button.click()
    tap = receiver.wait_for(
        lambda: [h for h in receiver.messages() if h.value["messages"][0]["type"] == "interactive"]
    )[0]
    assert tap.signature_ok()
    assert tap.value["messages"][0]["interactive"] == {
        "type": "button_reply",
        "button_reply": {"id": "done", "title": "No, thanks"},
    }
    assert tap.value["messages"][0]["context"]["id"] == wamid


def test_page_reads_shown_messages_and_shows_webhook_failures(
    page: object, graph: Graph, receiver: Receiver
) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    wamid = graph.text(CUSTOMER, "Hello from the business").json()["messages"][0]["id"]
    statuses = receiver.wait_for(lambda: (s := receiver.statuses(wamid)) and len(s) == 3 and s)
    assert [s["status"] for s in statuses] == ["sent", "delivered", "read"]

    receiver.status = 503
    _type_and_send(page, "is anyone there?")
    expect(page.locator("#notice")).to_be_visible()
    expect(page.locator("#notice-text")).to_contain_text("failed")
    expect(page.locator(".tick[data-status='failed']")).to_have_count(1)


def test_voice_recording_and_document_attachment(page: object, receiver: Receiver) -> None:
    from playwright.sync_api import Page

    assert isinstance(page, Page)
    page.click("#mic")
    page.wait_for_timeout(600)
    page.click("#mic")
    voice = receiver.wait_for(lambda: receiver.messages(), timeout=10)[0]
    audio = voice.value["messages"][0]["audio"]
    assert voice.signature_ok() and audio["voice"] is True
    assert audio["mime_type"].startswith("audio/")
    pdf = {"name": "menu.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4 menu"}
    page.set_input_files("#file-document", files=[pdf])
    doc = receiver.wait_for(lambda: len(receiver.messages()) == 2 and receiver.messages()[1])
    document = doc.value["messages"][0]["document"]
    assert document["filename"] == "menu.pdf" and document["mime_type"] == "application/pdf"

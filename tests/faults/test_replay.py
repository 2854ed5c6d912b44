"""Replay: one recorded 20-message conversation delivered 5 times, concurrently and out of order,
straight to ingestion's webhook (as Meta does when it retries and its deliveries race). The
customer gets exactly one reply per turn, and the context service's history holds each of the
20 messages once, in the order they were written.

The stack's inbound rate limit is raised (tests/faults/faults.py INBOUND_LIMITS): 20 messages
at once would otherwise be held for 60 s and answered together.
"""

from __future__ import annotations

import json
import random
import threading
import time
import urllib.request

import pytest

from infra.local import ports
from tests.faults.faults import FaultStack, Tally, TurnLedger, bot_parts, count, redeliver, settle

pytestmark = pytest.mark.slow

CUSTOMER = "15557770001"
COPIES = 5
CONVERSATION = (
    "Hi! I'm thinking about applying to Northbridge for next fall.",
    "When is the application deadline for the fall semester?",
    "Is it the same deadline for international students?",
    "What documents do I need to send with my application?",
    "Do you need my high school transcripts translated into English?",
    "What English test scores do you accept?",
    "Is there an application fee?",
    "Do you waive that cost for families with a low income?",
    "How much is tuition for international undergraduates?",
    "Are there scholarships for international students?",
    "¿Las becas cubren también el alojamiento?",
    "When will I hear back about a scholarship?",
    "Which undergraduate programs do you offer in engineering?",
    "Can I change my major after the first year?",
    "Is housing guaranteed for first-year students?",
    "Can I visit the campus before deciding?",
    "Do you offer virtual tours?",
    "How do I get a visa letter once I'm admitted?",
    "When do classes start in the fall?",
    "Thanks, that's very helpful!",
)


def recorded_messages(start: int) -> list[dict[str, object]]:
    """The conversation as Meta's `messages[]` objects: fixed wamids, one every 15 s."""
    return [
        {
            "from": CUSTOMER,
            "id": f"wamid.HBgLMTU1NTc3NzAwMDEVAgASGBRSRVBMQVk{n:04d}AA==",
            "timestamp": str(start + 15 * n),
            "type": "text",
            "text": {"body": text},
        }
        for n, text in enumerate(CONVERSATION)
    ]


def deliver_all(stack: FaultStack, messages: list[dict[str, object]]) -> None:
    """Every message COPIES times, shuffled, from 8 concurrent senders retrying as Meta does."""
    deliveries = [m for m in messages for _ in range(COPIES)]
    random.Random(13).shuffle(deliveries)
    lock, deadline = threading.Lock(), time.monotonic() + 120

    def sender() -> None:
        while True:
            with lock:
                if not deliveries:
                    return
                message = deliveries.pop()
            redeliver(stack, message, deadline)

    threads = [threading.Thread(target=sender, daemon=True) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def history(stack: FaultStack) -> list[dict[str, object]]:
    """The conversation's stored messages, oldest first (the API pages newest first)."""
    key = f"{ports.DEMO_PHONE_NUMBER_ID}:{CUSTOMER}"
    found: list[dict[str, object]] = []
    before = ""
    while True:
        query = f"?limit=100{'&before=' + before if before else ''}"
        request = urllib.request.Request(
            f"{stack.service_url('context')}/conversations/{key}{query}",
            headers={"x-api-key": stack.api_key("context")},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            page = json.loads(response.read())
        found += page["messages"]
        before = page.get("next_before") or ""
        if not before:
            return list(reversed(found))


def test_replayed_conversation_is_answered_once_per_turn(
    stack: FaultStack, ledger: TurnLedger
) -> None:
    messages = recorded_messages(int(time.time()) - 15 * len(CONVERSATION))
    wamids = [str(m["id"]) for m in messages]
    deliver_all(stack, messages)
    chats = settle(stack, ledger, {CUSTOMER: wamids}, timeout=120)
    tally = Tally("replay", customers=1, sent=len(wamids))
    count(tally, {CUSTOMER: wamids}, chats, ledger)
    assert (tally.lost, tally.duplicated, tally.silent) == (0, 0, 0), tally.problems

    turns = {t for t, answered in ledger.answered.items() if set(answered) & set(wamids)}
    first_parts = [p for p in bot_parts(chats[CUSTOMER]) if "#" not in p]
    assert turns, "no turn.completed for the replayed conversation"
    assert sorted(first_parts) == sorted(f"turn:{t}" for t in turns)  # one reply per turn

    stored = [m for m in history(stack) if m["role"] == "customer"]
    assert [m["message_id"] for m in stored] == wamids
    assert [m["text"] for m in stored] == list(CONVERSATION)

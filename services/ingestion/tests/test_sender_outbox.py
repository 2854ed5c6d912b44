"""The sender sends each part of a reply at most once, even when the channel's answer is lost:
the attempt is recorded before the call, the body carries the request id, an ambiguous failure is
never resent at once, and Meta's status webhook (echoing the request id) confirms the send.
Against the WhatsApp simulator, moto and redis (the fixtures of test_sender_delivery.py)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from inbound_support import statuses_of
from test_inbound_statuses import status_webhook
from test_sender_delivery import Outbound, job, outbound, sim  # noqa: F401 - fixtures

from parley.errors import WhatsAppApiError, is_retryable


class AnswerLost:
    """The number's real channel: the simulator accepts each message, then the answer is lost
    (as when the read times out after Meta took the message), `times` times."""

    def __init__(self, registry: Any, times: int = 1) -> None:
        self.registry, self.times, self.wamids = registry, times, []

    def for_number(self, number: Any) -> Any:
        return self

    def send(self, phone_number_id: str, number: Any, body: dict[str, Any]) -> str:
        wamid: str = self.registry.for_number(number).send(phone_number_id, number, body)
        if body.get("type") in ("text", "template") and self.times > 0:
            self.times -= 1
            self.wamids.append(wamid)
            raise WhatsAppApiError("POST messages timed out", ambiguous=True)
        return wamid


def reply_event(wa_id: str) -> Any:
    from parley.events import ReplyRequestedEvent

    return ReplyRequestedEvent.model_validate_json(job({"to": wa_id, "text": "hello"}))


def sender_with(channels: Any, **changes: Any) -> Any:
    from chalicelib.outbound import build_sender
    from chalicelib.wiring import runtime

    return dataclasses.replace(build_sender(runtime), channels=channels, **changes)


def test_a_lost_answer_is_not_resent_and_metas_status_confirms_the_send(
    outbound: Outbound,  # noqa: F811 - the fixture
    meta: Any,
) -> None:
    from chalicelib.outbound.sender import SendOutcomeUnknown
    from chalicelib.wiring import runtime

    wa_id = outbound.customer()
    lossy = AnswerLost(runtime_registry())
    sender, event = sender_with(lossy), reply_event(wa_id)

    with pytest.raises(WhatsAppApiError) as lost:
        sender.handle(event)
    assert is_retryable(lost.value)  # SQS redelivers the job later ...
    [sent] = outbound.requests(wa_id)  # ... but it is not sent again now
    assert sent["body"]["biz_opaque_callback_data"] == event.payload.request_id

    with pytest.raises(SendOutcomeUnknown):  # the redelivery before any status: waits again
        sender.handle(event)
    assert len(outbound.requests(wa_id)) == 1

    status = status_webhook("status_sent", wa_id, lossy.wamids[0])
    statuses_of(status)[0]["biz_opaque_callback_data"] = event.payload.request_id
    assert meta.post(status).status_code == 200  # Meta: sent, for our request id

    assert sender.handle(event) == lossy.wamids  # confirmed: the redelivery sends nothing
    assert len(outbound.requests(wa_id)) == 1
    assert runtime.store.sent_wamid(event.payload.request_id) == lossy.wamids[0]


def test_an_attempt_no_status_ever_confirmed_is_sent_again_after_the_wait(
    outbound: Outbound,  # noqa: F811 - the fixture
) -> None:
    import time

    from chalicelib.outbound.sender import RECONCILE_SECONDS

    wa_id = outbound.customer()
    event = reply_event(wa_id)
    with pytest.raises(WhatsAppApiError):
        sender_with(AnswerLost(runtime_registry())).handle(event)

    later = sender_with(runtime_registry(), wall_clock=lambda: time.time() + RECONCILE_SECONDS + 1)
    [wamid] = later.handle(event)

    assert [r["status"] for r in outbound.requests(wa_id)] == [200, 200]
    assert wamid and later.handle(event) == [wamid]  # and never a third time


def test_a_refused_send_is_not_held_back(outbound: Outbound) -> None:  # noqa: F811
    wa_id = outbound.customer()
    event = reply_event(wa_id)
    outbound.fault(wa_id, 131000, times=None)  # Meta answers an error: surely not sent
    sender = sender_with(runtime_registry())
    with pytest.raises(WhatsAppApiError):
        sender.handle(event)
    requests_before = len(outbound.requests(wa_id))
    import requests as http

    http.delete(f"{outbound.sim.url}/_sim/faults", timeout=5)

    assert sender.handle(event)  # the redelivery sends at once: nothing to reconcile
    assert len(outbound.requests(wa_id)) == requests_before + 1


def test_jobs_of_a_batch_share_the_invocations_time(outbound: Outbound) -> None:  # noqa: F811
    from chalicelib.outbound.sender import INVOCATION_MARGIN_SECONDS, BudgetSpent

    wa_id = outbound.customer()
    sender = sender_with(runtime_registry())
    sender.begin_invocation(INVOCATION_MARGIN_SECONDS + 30)
    assert sender.handle(reply_event(wa_id))

    sender.begin_invocation(INVOCATION_MARGIN_SECONDS)  # nothing left of this invocation
    with pytest.raises(BudgetSpent) as spent:
        sender.handle(reply_event(wa_id))
    assert is_retryable(spent.value)  # left on the queue for the next invocation
    assert len(outbound.requests(wa_id)) == 1


def runtime_registry() -> Any:
    from chalicelib.outbound import build_sender
    from chalicelib.wiring import runtime

    return build_sender(runtime).channels

"""When a dependency fails after the message was claimed, the claim is released and the answer is
500, so Meta's retry delivers the message; nothing is lost and nothing is published twice."""

from __future__ import annotations

from typing import Any

import pytest
from inbound_support import CONTEXT_QUEUE, load, of_type, personalise, take

from infra.local.service_contract import Service
from parley.errors import DependencyError


class DownPublisher:
    def publish(self, event: Any) -> str:
        raise DependencyError("SNS unavailable")


def test_publish_failure_releases_the_claim_and_answers_500(
    meta: Any, customer: str, service: Service
) -> None:
    from chalicelib.wiring import runtime

    payload = personalise(load("text"), customer)
    runtime.override(publisher=DownPublisher())
    failed = meta.post(payload)
    assert failed.status_code == 500
    assert failed.json_body["error"] == "inbound_not_processed"
    runtime.reset()  # SNS is back
    retried = meta.post(payload)
    assert retried.status_code == 200
    assert retried.json_body["received"] == 1
    assert len(of_type(take(CONTEXT_QUEUE), "message.received")) == 1


def test_secret_unavailable_is_an_error_answer_not_a_crash(
    meta: Any, customer: str, service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.wiring import runtime

    monkeypatch.setenv("WHATSAPP_SECRET_ID", "parley/local/no-such-secret")
    runtime.reset()
    response = meta.post(personalise(load("text"), customer))
    assert response.status_code == 502
    assert response.json_body["error"] == "dependency_error"
    assert take(CONTEXT_QUEUE) == []


def test_override_refuses_unknown_parts(service: Service) -> None:
    from chalicelib.wiring import runtime

    with pytest.raises(TypeError, match="publsher"):
        runtime.override(publsher=DownPublisher())


def test_status_publish_failure_is_published_on_metas_retry(
    meta: Any, customer: str, service: Service
) -> None:
    from test_inbound_statuses import sent_by_us, status_webhook

    from chalicelib.wiring import runtime

    wamid, _ = sent_by_us(customer)
    payload = status_webhook("status_delivered", customer, wamid)
    runtime.override(publisher=DownPublisher())
    assert meta.post(payload).status_code >= 500
    runtime.reset()  # SNS is back
    assert meta.post(payload).status_code == 200
    [event] = of_type(take(CONTEXT_QUEUE), "message.status")
    assert (event["payload"]["message_id"], event["payload"]["status"]) == (wamid, "delivered")

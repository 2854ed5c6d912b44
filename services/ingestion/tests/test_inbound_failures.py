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


# -------------------------------------------------------------- the claim's lease


def _claim_left_by_a_dead_invocation(wamid: str, seconds_ago: float) -> None:
    """The claim an invocation takes before it publishes, taken `seconds_ago`, never completed
    nor released: the function died (timed out) between the claim and the publish."""
    import time

    from chalicelib.store import WaMessagesStore

    store = WaMessagesStore("parley-local-wa-messages", clock=lambda: time.time() - seconds_ago)
    assert store.claim_message(wamid)


def test_metas_retry_after_a_dead_invocations_lease_is_processed(
    meta: Any, customer: str, service: Service
) -> None:
    from chalicelib.store import CLAIM_LEASE_SECONDS

    payload = personalise(load("text"), customer)
    wamid = payload["entry"][0]["changes"][0]["value"]["messages"][0]["id"]
    _claim_left_by_a_dead_invocation(wamid, seconds_ago=CLAIM_LEASE_SECONDS + 5)

    retried = meta.post(payload)

    assert retried.status_code == 200 and retried.json_body["received"] == 1
    assert len(of_type(take(CONTEXT_QUEUE), "message.received")) == 1
    assert (
        meta.post(payload).json_body["duplicates"] == 1
    )  # completed: a later retry is a duplicate


def test_a_retry_while_the_first_invocation_still_runs_is_asked_to_come_back(
    meta: Any, customer: str, service: Service
) -> None:
    payload = personalise(load("text"), customer)
    wamid = payload["entry"][0]["changes"][0]["value"]["messages"][0]["id"]
    _claim_left_by_a_dead_invocation(wamid, seconds_ago=1)

    busy = meta.post(payload)

    assert busy.status_code == 503 and busy.json_body["error"] == "message_in_progress"
    assert take(CONTEXT_QUEUE) == []  # neither processed twice nor dropped: Meta retries later


def test_an_aws_call_with_its_retries_ends_inside_the_webhooks_timeout() -> None:
    """A webhook invocation never outlives its claim: every AWS call (retries included) ends
    before the function's timeout, and the lease outlasts the function."""
    import json
    from pathlib import Path

    from chalicelib.store import CLAIM_LEASE_SECONDS
    from parley import aws

    config = json.loads((Path(__file__).resolve().parents[1] / ".chalice/config.json").read_text())
    webhook_timeout = config["lambda_timeout"]
    built = aws._build("dynamodb", aws.DEFAULT_READ_TIMEOUT).meta.config

    assert built.retries["total_max_attempts"] == aws.MAX_ATTEMPTS == 2
    assert (built.connect_timeout, built.read_timeout) == (aws.CONNECT_TIMEOUT, 3.0)
    assert aws.worst_case_seconds() < webhook_timeout < CLAIM_LEASE_SECONDS

"""Export and erasure of a customer: everything context holds across business numbers, then gone
(DynamoDB and Redis), with `customer.erased` published for the other services."""

from __future__ import annotations

import json
import re
from typing import Any

import boto3
import pytest
from test_api_support import (
    Api,
    new_wa_id,
    received,
)

from infra.local.pytest_fixtures import free_port
from infra.local.service_contract import drain
from parley.logs import conversation_ref

pytest_plugins = ["infra.local.pytest_fixtures", "test_api_support"]

# Queues subscribed to customer.erased on the topic; media.fifo receives nothing else.
ERASED_QUEUES = ("parley-local-media.fifo", "parley-local-outbound.fifo")


def customer_keys(url: str, wa_id: str, conversations: list[str]) -> list[bytes]:
    """Every Redis key whose name or value belongs to the customer: named by the wa_id or by a
    conversation's reference (the cache hashes conversation keys), or holding the wa_id."""
    import redis

    client = redis.Redis.from_url(url)
    whole = re.compile(rb"(?<!\d)" + wa_id.encode() + rb"(?!\d)")
    refs = tuple(conversation_ref(c).encode() for c in conversations)
    return [
        key
        for key in client.scan_iter(count=1000)
        if whole.search(key) or key.endswith(refs) or whole.search(value_of(client, key))
    ]


def value_of(client: Any, key: bytes) -> bytes:
    kind = client.type(key)
    if kind == b"string":
        return bytes(client.get(key) or b"")
    if kind == b"hash":
        return b" ".join(k + b"=" + v for k, v in client.hgetall(key).items())
    if kind == b"list":
        return b" ".join(client.lrange(key, 0, -1))
    return bytes(client.dump(key) or b"")  # other types: their serialised form


def erased_events(queue: str) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
    return [json.loads(m["Body"]) for m in got.get("Messages", [])]


@pytest.fixture
def customer(api: Api) -> tuple[str, list[str]]:
    """A customer with two conversations (two business numbers) and one of someone else."""
    wa_id = new_wa_id()
    keys = [api.conversation(4, wa_id=wa_id), api.conversation(2, wa_id=wa_id)]
    api.apply([received(keys[0], 10, text="my last word")])  # the most recent conversation
    return wa_id, keys


def test_export_holds_every_session_and_message_of_the_customer(
    api: Api, customer: tuple[str, list[str]]
) -> None:
    wa_id, keys = customer
    stranger = api.conversation(2)
    response = api.get(f"/customers/{wa_id}/export")
    assert response.status_code == 200, response.json_body
    body = response.json_body
    assert body["wa_id"] == wa_id
    assert body["conversations"] == sorted(keys)
    assert sorted(s["conversation"] for s in body["sessions"]) == sorted(keys)
    by_conversation = {
        k: [m["text"] for m in body["messages"] if m["conversation"] == k] for k in keys
    }
    assert by_conversation == {
        keys[0]: ["message 0", "message 1", "message 2", "message 3", "my last word"],
        keys[1]: ["message 0", "message 1"],
    }
    assert stranger not in json.dumps(body)


def test_export_of_an_unknown_customer_is_empty(api: Api) -> None:
    body = api.get(f"/customers/{new_wa_id()}/export").json_body
    assert (body["conversations"], body["sessions"], body["messages"]) == ([], [], [])


def test_erasure_removes_history_sessions_and_cache_then_publishes_customer_erased(
    api: Api, customer: tuple[str, list[str]], redis_url: str
) -> None:
    wa_id, keys = customer
    stranger = api.conversation(2)
    for queue in ERASED_QUEUES:
        drain(queue)
    assert customer_keys(redis_url, wa_id, keys), "the cache held the customer before"

    response = api.delete(f"/customers/{wa_id}")

    assert response.status_code == 202, response.json_body
    report = response.json_body
    assert report["status"] == "erased"
    assert report["conversations"] == sorted(keys)
    assert (report["messages_erased"], report["sessions_erased"]) == (7, 2)
    assert report["cache_keys_erased"] >= 1
    assert report["event_conversation"] == keys[0]
    export = api.get(f"/customers/{wa_id}/export").json_body
    assert (export["conversations"], export["sessions"], export["messages"]) == ([], [], [])
    assert customer_keys(redis_url, wa_id, keys) == []
    for key in keys:
        assert api.get(f"/conversations/{key}").status_code == 404
        assert api.get(f"/sessions/{key}").status_code == 404
    for queue in ERASED_QUEUES:
        [event] = [e for e in erased_events(queue) if e["type"] == "customer.erased"]
        assert event["event_id"] == report["event_id"]
        assert event["conversation"] == keys[0]
        assert event["payload"]["wa_id"] == wa_id
        assert event["payload"]["requested_by"]
    assert api.get(f"/conversations/{stranger}").status_code == 200


def test_erasing_an_unknown_customer_still_tells_the_other_services(api: Api) -> None:
    wa_id = new_wa_id()
    drain(ERASED_QUEUES[0])
    response = api.delete(f"/customers/{wa_id}")
    assert response.status_code == 202
    body = response.json_body
    assert (body["messages_erased"], body["sessions_erased"], body["cache_keys_erased"]) == (
        0,
        0,
        0,
    )
    assert body["event_conversation"] == f"0:{wa_id}"
    [event] = erased_events(ERASED_QUEUES[0])
    assert (event["type"], event["payload"]["wa_id"]) == ("customer.erased", wa_id)


def test_erasure_is_repeatable(api: Api, customer: tuple[str, list[str]]) -> None:
    wa_id, _ = customer
    assert api.delete(f"/customers/{wa_id}").status_code == 202
    again = api.delete(f"/customers/{wa_id}")
    assert again.status_code == 202
    assert (again.json_body["messages_erased"], again.json_body["sessions_erased"]) == (0, 0)


def test_erasure_keeps_a_wa_id_that_merely_contains_the_customers(api: Api, redis_url: str) -> None:
    wa_id = new_wa_id()
    longer = wa_id + "9"
    kept = api.conversation(1, wa_id=longer)
    erased = api.conversation(1, wa_id=wa_id)
    assert api.delete(f"/customers/{wa_id}").status_code == 202
    assert api.get(f"/sessions/{kept}").status_code == 200
    assert customer_keys(redis_url, longer, [kept])
    assert customer_keys(redis_url, wa_id, [erased]) == []


def test_erasure_with_redis_unreachable_erases_nothing_and_can_be_retried(
    api: Api, customer: tuple[str, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.wiring import runtime

    wa_id, _ = customer
    drain(ERASED_QUEUES[0])
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
    runtime.reset()  # settings are read once per container
    response = api.delete(f"/customers/{wa_id}")
    assert response.status_code == 502
    assert response.json_body["error"] == "dependency_error"
    assert "cache unreachable" in response.json_body["message"]
    assert len(api.get(f"/customers/{wa_id}/export").json_body["messages"]) == 7
    assert erased_events(ERASED_QUEUES[0]) == []

"""Unit tests of the inbound pieces that need no AWS: signature, keywords, the normaliser's
contract for other channels, deterministic ids, and the Redis token bucket (real redis-server)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from inbound_support import FIXTURES, encode, load, sign

from chalicelib.inbound import RedisTokenBucket, normalize_change_value, verify_signature
from chalicelib.inbound.keywords import opt_keyword
from chalicelib.inbound.language import guess_language
from parley.errors import Unauthorized
from parley.events import MessageReceivedEvent, MessageStatusEvent
from parley.logs import conversation_ref

KEY = "0123456789abcdef0123456789abcdef"


class ListLogger:
    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []

    def warning(self, message: str, **_: Any) -> None:
        self.lines.append(("warning", message))

    def info(self, message: str, **_: Any) -> None:
        self.lines.append(("info", message))

    def error(self, message: str, **_: Any) -> None:
        self.lines.append(("error", message))


def first_value(name: str) -> dict[str, Any]:
    value: dict[str, Any] = load(name)["entry"][0]["changes"][0]["value"]
    return value


def test_signature_is_over_the_exact_bytes() -> None:
    raw = encode(load("text"))
    verify_signature(raw, sign(raw, KEY), KEY)
    reformatted = json.dumps(json.loads(raw), ensure_ascii=False).encode()
    with pytest.raises(Unauthorized):
        verify_signature(reformatted, sign(raw, KEY), KEY)


def test_signature_accepts_upper_case_hex() -> None:
    raw = b"{}"
    verify_signature(raw, "sha256=" + sign(raw, KEY)[7:].upper(), KEY)


@pytest.mark.parametrize(
    ("text", "opted_out"),
    [("STOP", True), ("stop", True), (" S t o p ", True), ("BAJA!", True), ("Start", False)],
)
def test_keywords(text: str, opted_out: bool) -> None:
    keyword = opt_keyword(text)
    assert keyword is not None and keyword.opted_out is opted_out


@pytest.mark.parametrize("text", [None, "", "stop it", "no quiero baja", "STOPPED", "x" * 100])
def test_not_keywords(text: str | None) -> None:
    assert opt_keyword(text) is None


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("¿Cuándo cierra la convocatoria?", "es"),
        ("hola necesito ayuda", "es"),
        ("Quiero saber el costo", "es"),
        ("What is the deadline for the fall?", "en"),
        ("hi", "en"),
        ("ok", "en"),  # unclear: English
        ("", "en"),
        (None, "en"),
    ],
)
def test_the_language_of_a_message_is_guessed_for_the_rate_limit_notice(
    text: str | None, language: str
) -> None:
    assert guess_language(text) == language


@pytest.mark.parametrize("name", sorted(p.stem for p in FIXTURES.glob("*.json")))
def test_every_fixture_normalises_without_error(name: str) -> None:
    payload = load(name)
    for entry in payload["entry"]:
        for change in entry["changes"]:
            if change["field"] == "messages":
                events = normalize_change_value(change["value"], "meta")
                assert all(isinstance(e, MessageReceivedEvent | MessageStatusEvent) for e in events)


def test_eum_channel_gives_the_same_event_but_for_the_channel() -> None:
    [meta] = normalize_change_value(first_value("image"), "meta")
    [eum] = normalize_change_value(first_value("image"), "eum")
    assert isinstance(meta, MessageReceivedEvent) and isinstance(eum, MessageReceivedEvent)
    assert eum.payload.channel == "eum"
    assert eum.payload.model_copy(update={"channel": "meta"}) == meta.payload
    assert eum.event_id == meta.event_id  # the same message, whichever way it arrived


def test_event_ids_are_deterministic_per_message_and_status() -> None:
    [a] = normalize_change_value(first_value("text"), "meta")
    [b] = normalize_change_value(first_value("text"), "meta")
    assert a.event_id == b.event_id
    [sent] = normalize_change_value(first_value("status_sent"), "meta")
    [read] = normalize_change_value(first_value("status_read"), "meta")
    assert sent.event_id != read.event_id


@pytest.mark.parametrize(
    "value",
    [
        {},
        {"metadata": {"display_phone_number": "1"}},
        {"metadata": {"phone_number_id": "1"}, "messages": [{"type": "text"}]},
        {"metadata": {"phone_number_id": "1"}, "messages": [{"id": "wamid.x", "type": "text"}]},
        {"metadata": {"phone_number_id": "1"}, "messages": "nope"},
        {"metadata": {"phone_number_id": "1"}, "statuses": [{"id": "w", "status": "deleted"}]},
        {"metadata": {"phone_number_id": "1"}, "statuses": [{"id": "w", "status": "read"}]},
        {"metadata": {"phone_number_id": "1"}, "messages": [{"id": "w", "from": "a:b"}]},
    ],
    ids=[
        "empty",
        "no-phone-number-id",
        "no-id",
        "no-sender",
        "messages-not-a-list",
        "unknown-status",
        "status-without-recipient",
        "sender-breaking-the-key",
    ],
)
def test_unattributable_parts_are_dropped_not_raised(value: dict[str, Any]) -> None:
    assert normalize_change_value(value, "meta") == []


def test_message_with_broken_content_becomes_unsupported() -> None:
    value = first_value("location")
    value["messages"][0]["location"] = {"name": "no coordinates"}
    [event] = normalize_change_value(value, "meta")
    assert isinstance(event, MessageReceivedEvent)
    assert (event.payload.kind, event.payload.errors[0]["code"]) == ("unsupported", 131051)


@pytest.fixture
def redis(redis_url: str) -> Iterator[Any]:
    import redis as redis_lib

    client = redis_lib.Redis.from_url(redis_url)
    yield client
    client.close()


def test_token_bucket_allows_the_burst_then_refuses_with_one_notice(redis: Any) -> None:
    bucket = RedisTokenBucket(lambda: redis, per_minute=1, burst=2, logger=ListLogger())
    sender = "1:unit-burst"
    verdicts = [bucket.check(sender) for _ in range(5)]
    assert [v.allowed for v in verdicts] == [True, True, False, False, False]
    assert [v.notify for v in verdicts] == [False, False, True, False, False]
    assert bucket.check("1:someone-else").allowed


def test_token_bucket_refills(redis: Any) -> None:
    bucket = RedisTokenBucket(lambda: redis, per_minute=60_000, burst=1, logger=ListLogger())
    assert bucket.check("1:unit-refill").allowed
    time.sleep(0.01)  # 1000 tokens a second: one is back
    assert bucket.check("1:unit-refill").allowed


def test_token_bucket_keys_expire(redis: Any) -> None:
    bucket = RedisTokenBucket(lambda: redis, per_minute=60, burst=5, logger=ListLogger())
    bucket.check("1:unit-ttl")
    key = f"parley:inbound-rate:{conversation_ref('1:unit-ttl')}"
    assert 0 < redis.ttl(key) <= 6  # 5 tokens at 1 a second: a full bucket needs no key


def test_token_bucket_fails_open_and_logs() -> None:
    import redis as redis_lib

    logger = ListLogger()
    down = redis_lib.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    bucket = RedisTokenBucket(lambda: down, per_minute=1, burst=1, logger=logger)
    assert all(bucket.check("1:unit-down").allowed for _ in range(3))
    assert logger.lines[0] == ("warning", "inbound rate limit unavailable, message forwarded")

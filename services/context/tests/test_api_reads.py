"""HTTP API reads: transcript pages, sessions, and the refusals (400/404) with their reasons."""

from __future__ import annotations

import base64

import pytest
from test_api_support import (
    Api,
    new_phone_number_id,
    new_wa_id,
)

pytest_plugins = ["infra.local.pytest_fixtures", "test_api_support"]


def texts(body: dict[str, object]) -> list[str]:
    return [m["text"] for m in body["messages"]]  # type: ignore[index, union-attr]


def test_transcript_pages_newest_first_until_the_oldest(api: Api) -> None:
    key = api.conversation(25)
    seen: list[str] = []
    cursor = ""
    pages = 0
    while True:
        response = api.get(f"/conversations/{key}?limit=10{cursor}")
        assert response.status_code == 200, response.json_body
        seen += texts(response.json_body)
        pages += 1
        if not response.json_body["next_before"]:
            break
        cursor = f"&before={response.json_body['next_before']}"
    assert seen == [f"message {n}" for n in reversed(range(25))]
    assert pages in (3, 4)  # 10 + 10 + 5 (a store may end on an empty page)


def test_transcript_default_limit_is_20_and_holds_only_that_conversation(api: Api) -> None:
    key = api.conversation(22)
    api.conversation(3, wa_id=key.split(":")[1])  # the same customer with another number
    body = api.get(f"/conversations/{key}").json_body
    assert body["conversation"] == key
    assert texts(body) == [f"message {n}" for n in reversed(range(2, 22))]
    assert {m["conversation"] for m in body["messages"]} == {key}
    assert body["next_before"]
    rest = api.get(f"/conversations/{key}?before={body['next_before']}&limit=100").json_body
    assert texts(rest) == ["message 1", "message 0"]
    assert rest["next_before"] is None


def test_transcript_messages_carry_role_kind_and_time(api: Api) -> None:
    key = api.conversation(1)
    [message] = api.get(f"/conversations/{key}").json_body["messages"]
    assert message["role"] == "customer"
    assert message["kind"] == "text"
    assert message["message_id"] == f"wamid.{key}.0"
    assert message["at"].startswith("2025-03-01T12:00:00")


def test_conversation_key_with_an_encoded_colon_is_accepted(api: Api) -> None:
    key = api.conversation(2)
    response = api.get(f"/conversations/{key.replace(':', '%3A')}?limit=1")
    assert response.status_code == 200
    assert texts(response.json_body) == ["message 1"]


def test_session_holds_mode_unanswered_messages_and_counts(api: Api) -> None:
    key = api.conversation(3)
    response = api.get(f"/sessions/{key}")
    assert response.status_code == 200, response.json_body
    session = response.json_body
    assert session["conversation"] == key
    assert session["wa_id"] == key.split(":")[1]
    assert session["mode"] == "bot"
    assert session["message_count"] == 3
    assert session["profile_name"] == "Ana"
    answered = set(session["turn"]["message_ids"]) if session["turn"] else set()
    assert answered | set(session["unanswered"]) == {f"wamid.{key}.{n}" for n in range(3)}


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/conversations/abc", "conversation key must be"),
        ("/conversations/100000000000001", "conversation key must be"),
        ("/conversations/100000000000001:", "conversation key must be"),
        ("/conversations/100000000000001:15551234567x", "conversation key must be"),
        ("/conversations/1:2:3", "conversation key must be"),
        ("/conversations/100000000000001:1555%201234", "conversation key must be"),
        ("/conversations/1:1?limit=0", "limit"),
        ("/conversations/1:1?limit=101", "limit"),
        ("/conversations/1:1?limit=ten", "limit"),
        ("/conversations/1:1?page=2", "page"),
        ("/conversations/1:1?before=%25%25%25", "malformed 'before' cursor"),
        ("/conversations/1:1?before=bm90IGpzb24", "malformed 'before' cursor"),
        ("/conversations/1:1?before=eyJjIjoiMToxIn0", "malformed 'before' cursor"),
        ("/sessions/abc", "conversation key must be"),
        ("/sessions/100000000000001-15551234567", "conversation key must be"),
        ("/customers/+15551234567/export", "wa_id must be"),
        ("/customers/abc/export", "wa_id must be"),
        ("/customers/155512345678901234567/export", "wa_id must be"),
    ],
)
def test_bad_key_or_parameter_is_a_400_with_the_reason(api: Api, path: str, reason: str) -> None:
    response = api.get(path)
    assert response.status_code == 400, response.json_body
    assert response.json_body["error"] == "invalid_input"
    assert reason in response.json_body["message"]


@pytest.mark.parametrize("path", ["/customers/abc", "/customers/1555-1234"])
def test_erasing_a_bad_wa_id_is_a_400(api: Api, path: str) -> None:
    response = api.delete(path)
    assert response.status_code == 400
    assert "wa_id must be" in response.json_body["message"]


def test_cursor_of_another_conversation_is_refused(api: Api) -> None:
    key, other = api.conversation(3), api.conversation(3)
    cursor = api.get(f"/conversations/{key}?limit=1").json_body["next_before"]
    response = api.get(f"/conversations/{other}?before={cursor}")
    assert response.status_code == 400
    assert "another conversation" in response.json_body["message"]


def test_tampered_cursor_is_refused(api: Api) -> None:
    key = api.conversation(3)
    cursor = api.get(f"/conversations/{key}?limit=1").json_body["next_before"]
    forged = base64.urlsafe_b64encode(b'{"c":"%s","k":7}' % key.encode()).decode()
    for bad in (cursor[:-3] + "!!!", forged.rstrip("=")):
        response = api.get(f"/conversations/{key}?before={bad}")
        assert response.status_code == 400, bad
        assert "malformed 'before' cursor" in response.json_body["message"]


def test_unknown_conversation_and_session_are_404(api: Api) -> None:
    key = f"{new_phone_number_id()}:{new_wa_id()}"
    for path in (f"/conversations/{key}", f"/sessions/{key}"):
        response = api.get(path)
        assert response.status_code == 404, path
        assert response.json_body["error"] == "not_found"
        assert key in response.json_body["message"]

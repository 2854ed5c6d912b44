"""The sender's pure parts: Meta's error table, the Graph transport's failures, text splitting,
and the channel registry. No emulators needed (a closed local port stands for a dead network)."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.outbound.split import split_text
from parley.errors import ConfigurationError, WhatsAppApiError, is_retryable
from parley.whatsapp.meta_errors import MetaErrorAction, action_for, action_of, from_graph_body

RETRY, TEMPLATE, PERMANENT = (
    MetaErrorAction.RETRY,
    MetaErrorAction.TEMPLATE,
    MetaErrorAction.PERMANENT,
)


@pytest.mark.parametrize(
    ("code", "status", "action"),
    [
        (130429, 429, RETRY),
        (131000, 500, RETRY),
        (131016, 503, RETRY),
        (131056, 429, RETRY),
        (None, 502, RETRY),  # a 5xx without a Meta body
        (None, None, RETRY),  # no answer at all: network error or timeout
        (131047, 400, TEMPLATE),
        (131026, 400, PERMANENT),
        (131051, 400, PERMANENT),
        (132000, 400, PERMANENT),
        (132015, 400, PERMANENT),
        (190, 401, PERMANENT),
        (100, 400, PERMANENT),
        (999999, 400, PERMANENT),  # unknown code, client error
        (999999, 500, RETRY),  # unknown code, Meta's side
    ],
)
def test_meta_error_codes_map_to_retry_template_or_permanent(
    code: int | None, status: int | None, action: MetaErrorAction
) -> None:
    assert action_for(code, status) is action


def test_a_graph_error_body_becomes_a_classified_error_naming_code_and_details() -> None:
    body = {
        "error": {
            "message": "(#131026) Message undeliverable",
            "code": 131026,
            "error_data": {"details": "recipient is not a WhatsApp user"},
            "fbtrace_id": "Atrace",
        }
    }
    error = from_graph_body(400, body)
    assert (error.meta_code, error.retryable, action_of(error)) == (131026, False, PERMANENT)
    assert str(error) == (
        "WhatsApp error 131026 (HTTP 400): (#131026) Message undeliverable"
        " - recipient is not a WhatsApp user"
    )
    assert error.detail["fbtrace_id"] == "Atrace"
    reengage = from_graph_body(400, {"error": {"code": 131047, "message": "Re-engagement"}})
    assert (action_of(reengage), is_retryable(reengage)) == (TEMPLATE, False)
    assert from_graph_body(502, "<html>bad gateway</html>").retryable


def test_graph_client_turns_a_dead_network_into_a_retryable_error() -> None:
    from infra.local.pytest_fixtures import free_port
    from parley.whatsapp.graph import GraphClient

    graph = GraphClient(f"http://127.0.0.1:{free_port()}", "v21.0", "token", timeout=(0.5, 0.5))
    with pytest.raises(WhatsAppApiError) as caught:
        graph.post(("100", "messages"), {"messaging_product": "whatsapp"})
    assert caught.value.retryable and caught.value.meta_code is None
    assert "connection failed" in str(caught.value)


def test_graph_client_refuses_an_empty_token() -> None:
    from parley.whatsapp.graph import GraphClient

    with pytest.raises(ConfigurationError):
        GraphClient("http://127.0.0.1:9", "v21.0", lambda: "").prepare()


def test_a_text_within_the_limit_is_one_part() -> None:
    assert split_text("Hola. ¿Qué tal?") == ["Hola. ¿Qué tal?"]


def test_a_long_text_is_cut_between_sentences_and_keeps_every_word() -> None:
    text = " ".join(f"Frase {i}: algo útil que decir!" for i in range(400))
    parts = split_text(text, 1000)
    assert all(len(p) <= 1000 for p in parts) and len(parts) > 1
    assert all(p.endswith("!") for p in parts)
    assert " ".join(parts) == text


def test_a_sentence_longer_than_the_limit_is_cut_between_words_then_anywhere() -> None:
    words = "palabra " * 300
    assert all(len(p) <= 1000 for p in split_text(words, 1000))
    assert " ".join(split_text(words, 1000)) == words.strip()
    assert split_text("x" * 2500, 1000) == ["x" * 1000, "x" * 1000, "x" * 500]


def test_paragraph_breaks_are_boundaries_too() -> None:
    text = ("a" * 600 + "\n\n") * 3
    assert split_text(text, 1000) == ["a" * 600, "a" * 600, "a" * 600]


class EchoChannel:
    def __init__(self, name: str) -> None:
        self.name = name

    def send(self, phone_number_id: str, number: Any, body: dict[str, Any]) -> str:
        return self.name


def test_the_registry_picks_the_channel_configured_for_the_number() -> None:
    from chalicelib.outbound import ChannelRegistry
    from parley.settings import BusinessNumber

    built: list[str] = []

    def twilio() -> EchoChannel:
        built.append("twilio")
        return EchoChannel("twilio")

    registry = ChannelRegistry(meta=EchoChannel("meta"), factories={"twilio": twilio})
    assert registry.for_number(BusinessNumber()).send("1", None, {}) == "meta"
    assert built == []  # built on first use only, once
    for _ in range(2):
        assert registry.for_number(BusinessNumber(channel="twilio")).send("1", None, {}) == "twilio"
    assert built == ["twilio"]
    with pytest.raises(ConfigurationError, match="no WhatsApp channel 'eum'"):
        registry.for_number(BusinessNumber(channel="eum"))

"""A 1,000-message conversation: every turn stays within the token budget, and the rolling
summary keeps what fell out of the window; unit checks of the assembly's bounds."""

from __future__ import annotations

import json
import math
import random
from datetime import UTC, datetime, timedelta

import pytest
from context_support import Driver, completed, new_conversation, received

BUDGET = 3000  # CONTEXT_TOKEN_BUDGET's default


def tokens(turn: dict[str, object]) -> int:
    """The documented estimate: ceil(len / 4) per text, + 4 per message."""
    p = turn["payload"]
    assert isinstance(p, dict)
    total = math.ceil(len(p["summary"] or "") / 4)
    for m in p["messages"] + p["history"]:
        total += math.ceil(len(m["text"] or "") / 4) + math.ceil(len(m["media_note"] or "") / 4)
        total += 4
    return total


def _text(rng: random.Random, n: int) -> str:
    size = rng.choice([20, 60, 200, 200, 900, 5000])  # some far longer than a budget share
    words = " ".join(
        rng.choice(["pedido", "envío", "factura", "talla", "devolución"]) for _ in range(size // 8)
    )
    return f"Mensaje {n}: {words}. Segunda frase."


@pytest.mark.slow
def test_every_turn_of_a_1000_message_conversation_stays_within_the_budget(ctx: Driver) -> None:
    rng = random.Random(7)
    c = new_conversation()
    start = datetime(2025, 3, 1, tzinfo=UTC)
    n, turn, sizes, tokens_seen = 0, None, [], []
    while n < 1000:
        batch = (
            [completed(turn, start + timedelta(seconds=n), f"Respuesta {n}. Vale.")] if turn else []
        )
        n += len(batch)
        for _ in range(3):
            batch.append(received(c, f"m{n}", start + timedelta(seconds=n), _text(rng, n)))
            n += 1
        ctx.apply(*batch)
        turn = ctx.one_turn(c)
        sizes.append(len(json.dumps(turn).encode()))
        tokens_seen.append(tokens(turn))
    assert len(ctx.history(c)) >= 1000
    assert max(tokens_seen) <= BUDGET
    assert max(sizes) < 64_000  # bounded bytes too, far from the 200 KB claim-check
    late = turn["payload"]
    assert late["summary"] and len(late["summary"]) <= BUDGET  # max_chars: a quarter in tokens
    assert late["summary"].startswith("- ") and "Mensaje" in late["summary"]
    assert late["history"], "the recent context is not crowded out"
    session = ctx.session(c)
    assert session.summarized_until and session.message_count >= 1000
    assert max(sizes[-50:]) <= max(sizes[:200]) * 1.5  # the size does not grow with the length


def test_assembly_cuts_an_oversized_message_and_keeps_the_newest_context() -> None:
    from chalicelib.assembly import Budget, assemble, turn_tokens
    from chalicelib.models import Session, StoredMessage

    now = datetime.now(UTC)
    history = [
        StoredMessage(
            conversation="1:2",
            message_id=f"h{i}",
            role="customer" if i % 2 else "bot",
            text="x" * 400,
            at=now + timedelta(seconds=i),
        )
        for i in range(100)
    ]
    huge = StoredMessage(
        conversation="1:2",
        message_id="q",
        role="customer",
        text="y" * 100_000,
        at=now + timedelta(hours=1),
    )
    session = Session(
        conversation="1:2", wa_id="2", unanswered=["q"], summary="- Bot: hola\n" * 2000
    )
    turn = assemble(
        session, [*history, huge], turn_id="t", deadline=now, now=now, budget=Budget(tokens=1000)
    )
    assert turn_tokens(turn) <= 1000
    assert [m.message_id for m in turn.messages] == ["q"]
    assert turn.summary is not None and len(turn.summary) <= 250 * 4 + 1
    assert turn.history and turn.history[-1].message_id == "h99"  # contiguous tail
    ids = [m.message_id for m in turn.history]
    assert ids == [f"h{i}" for i in range(100 - len(ids), 100)]


def test_extractive_summary_is_bounded_and_keeps_the_newest_lines() -> None:
    from parley.llm import ExtractiveSummarizer, Utterance

    summarizer = ExtractiveSummarizer()
    summary = None
    for n in range(200):
        lines = [
            Utterance("customer", f"Pedido {n} no llegó. Lo pedí hace una semana."),
            Utterance("bot", f"Reviso el pedido {n}. Un momento."),
            Utterance("customer", "ok, gracias"),
        ]
        summary = summarizer.summarize(summary, lines, max_chars=600)
        assert len(summary) <= 600
    assert summary is not None
    assert summary.splitlines()[-1] == "- Customer: ok, gracias"
    assert "- Customer: Pedido 199 no llegó." in summary
    assert "Pedido 0 " not in summary


def test_token_estimate_is_a_quarter_of_the_characters_rounded_up() -> None:
    from parley.llm import estimate_tokens

    assert [estimate_tokens(t) for t in (None, "", "abc", "abcd", "abcde")] == [0, 0, 1, 1, 2]
    assert estimate_tokens("abcd", overhead=4) == 5

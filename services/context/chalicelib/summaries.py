"""The rolling summary: what fell out of the recent window, folded in through a `Summarizer`.

The recent window is the last `window` messages (what the cache keeps and a turn draws its
history from). Once `trigger` messages older than the window are not in the summary yet, they
are summarised together with the previous summary, and `summarized_until` moves to the newest of
them. Checking costs one query, so it runs on every fourth turn: at most a few turns' messages
more than `trigger` wait outside the window, and all of them are folded in at once. The summary
is bounded (`max_chars`), so a turn's size does not grow with the conversation. A failing
summarizer keeps the previous summary: the turn still goes out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chalicelib.history import message_sort_key
from chalicelib.models import HistoryStore, Session, StoredMessage
from parley.llm import Summarizer, Utterance

MAX_PAGES = 10  # at most 10 x trigger messages are folded in at once
CHECK_EVERY_TURNS = 4  # the check costs a query; between checks a few more may pile up


@dataclass(frozen=True)
class SummaryPolicy:
    window: int
    trigger: int
    max_chars: int


def _line(message: StoredMessage) -> Utterance | None:
    text = message.text
    if message.media is not None:
        text = " ".join(t for t in (text, message.media.transcript, message.media.text) if t)
    return Utterance(role=message.role, text=text) if text else None


def _unsummarized(
    history: HistoryStore, session: Session, oldest_in_window: str, policy: SummaryPolicy
) -> list[StoredMessage]:
    """Messages older than the window and newer than the summary, oldest first."""
    found: list[StoredMessage] = []
    cursor: str | None = oldest_in_window
    done = session.summarized_until or ""
    for _ in range(MAX_PAGES):
        page, cursor = history.page(session.conversation, policy.trigger, cursor)
        fresh = [m for m in page if message_sort_key(m) > done]
        found.extend(fresh)
        if len(fresh) < len(page) or cursor is None:
            break
    return list(reversed(found))


def refresh_summary(
    session: Session,
    history: HistoryStore,
    recent: list[StoredMessage],
    summarizer: Summarizer,
    policy: SummaryPolicy,
    logger: Any = None,
) -> bool:
    """Fold messages that left the window into `session.summary`; True when it changed.
    `recent` is the window (the last `policy.window` messages, oldest first)."""
    if session.message_count <= policy.window + policy.trigger or not recent:
        return False  # cheap: nothing can be outside the window and unsummarised yet
    if session.turn_count % CHECK_EVERY_TURNS:
        return False
    older = _unsummarized(history, session, message_sort_key(recent[0]), policy)
    if len(older) < policy.trigger:
        return False
    lines = [line for line in map(_line, older) if line is not None]
    try:
        summary = summarizer.summarize(session.summary, lines, max_chars=policy.max_chars)
    except Exception as error:  # any provider failure: keep the old summary, answer anyway
        if logger is not None:
            logger.warning("summary not updated", extra={"reason": f"{type(error).__name__}"})
        return False
    session.summary = summary[: policy.max_chars] or session.summary
    session.summarized_until = message_sort_key(older[-1])
    return True

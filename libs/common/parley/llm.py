"""The LLM provider interface: roles as Protocols, one local engine that needs no model.

`Summarizer` folds conversation lines into a bounded rolling summary (the context service keeps
a turn's size independent of the conversation's length with it); `ChatModel` answers a chat. The
local default, `ExtractiveSummarizer`, is deterministic and offline: it keeps the customer's
requests and the answers as short bullet lines. Other providers (Bedrock, an OpenAI-compatible
server, a local chat engine) implement the same Protocols and are chosen by configuration.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

SpeakerRole = Literal["customer", "bot", "agent", "system"]

CHARS_PER_TOKEN = 4
MESSAGE_OVERHEAD_TOKENS = 4


def estimate_tokens(text: str | None, *, overhead: int = 0) -> int:
    """A provider-independent token estimate: ~4 characters per token (English and Spanish text
    average 3.5-4.5 with common tokenizers), rounded up, plus `overhead` (role markers and
    separators a chat format adds per message). Cheap and deterministic; budgets built on it
    should keep a margin."""
    return -(-len(text or "") // CHARS_PER_TOKEN) + overhead


@dataclass(frozen=True)
class Utterance:
    """One line of a conversation as a model sees it."""

    role: SpeakerRole
    text: str


@dataclass(frozen=True)
class ChatReply:
    text: str
    input_tokens: int = 0
    output_tokens: int = 0
    stop_reason: str | None = None
    extra: dict[str, object] = field(default_factory=dict)


class Summarizer(Protocol):
    """Folds new conversation lines into a rolling summary no longer than `max_chars`."""

    def summarize(
        self, previous: str | None, lines: Sequence[Utterance], *, max_chars: int
    ) -> str: ...


class ChatModel(Protocol):
    """Answers a chat: a system prompt and the conversation so far, oldest first."""

    def complete(
        self, system: str, messages: Sequence[Utterance], *, max_tokens: int
    ) -> ChatReply: ...


_ROLE_VERB = {"customer": "Customer", "bot": "Bot", "agent": "Agent", "system": "Note"}
_SENTENCE_END = re.compile(r"(?<=[.!?¿¡])\s+")
_SPACES = re.compile(r"\s+")


class ExtractiveSummarizer:
    """`Summarizer` without a model: one bullet per line that says something, its first sentence
    cut to `line_chars`; consecutive lines of one speaker are joined. When the summary would pass
    `max_chars`, the oldest bullets are dropped (the newest context matters most to the next
    answer), so its size is bounded whatever the conversation's length."""

    def __init__(self, line_chars: int = 160, min_chars: int = 3) -> None:
        self.line_chars = line_chars
        self.min_chars = min_chars

    def summarize(self, previous: str | None, lines: Sequence[Utterance], *, max_chars: int) -> str:
        bullets = [b for b in (previous or "").splitlines() if b.strip()]
        bullets.extend(self._bullets(lines))
        return _fit(bullets, max_chars)

    def _bullets(self, lines: Sequence[Utterance]) -> list[str]:
        out: list[str] = []
        last_role: str | None = None
        for line in lines:
            gist = self._gist(line.text)
            if gist is None:
                continue
            if line.role == last_role and out:
                out[-1] = _cut(f"{out[-1]} / {gist}", self.line_chars + 16)
            else:
                out.append(f"- {_ROLE_VERB[line.role]}: {gist}")
            last_role = line.role
        return out

    def _gist(self, text: str) -> str | None:
        flat = _SPACES.sub(" ", text or "").strip()
        if len(flat) < self.min_chars:
            return None
        first = _SENTENCE_END.split(flat, maxsplit=1)[0]
        return _cut(first, self.line_chars)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(limit - 1, 0)].rstrip() + "…"


def _fit(bullets: list[str], max_chars: int) -> str:
    kept: list[str] = []
    size = 0
    for bullet in reversed(bullets):
        size += len(bullet) + 1
        if size > max_chars:
            break
        kept.append(bullet)
    return "\n".join(reversed(kept))

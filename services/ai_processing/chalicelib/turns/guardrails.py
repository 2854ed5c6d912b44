"""Guardrails: PII redaction in, output checks out (PII, system-prompt leak, length, citations),
and reply buttons when an answer offers a few choices."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from chalicelib.turns.messages import say
from parley.redaction import redact_text
from parley.retrieval import Passage

# Contact details the business publishes (phones, e-mails in its documents) may be quoted.
_CONTACT = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}|\+?\d[\d ().-]{7,16}\d")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_CHOICE = re.compile(r"^\s*(?:[-*•]|\d[.)])\s+(.+?)\s*$")
MAX_BUTTONS = 3
BUTTON_TITLE_CHARS = 20
LEAK_MIN_CHARS = 30


def redact(text: str | None) -> str:
    """Text safe to send to a model or a log line."""
    return redact_text(text or "")


@dataclass
class CheckedReply:
    text: str
    problems: list[str] = field(default_factory=list)


def check_output(
    text: str,
    *,
    system_prompt: str,
    sources: Sequence[Passage],
    language: str,
    max_chars: int,
) -> CheckedReply:
    """Apply every output check; `problems` names what was changed."""
    problems: list[str] = []
    safe = _without_pii(text, (p.text for p in sources))
    if safe != text:
        problems.append("pii")
    if leaks_prompt(safe, system_prompt):
        problems.append("system_prompt_leak")
        safe = say("withheld", language)
    safe = cite(safe, sources, language)
    if len(safe) > max_chars:
        problems.append("too_long")
        safe = shorten(safe, max_chars)
    return CheckedReply(safe, problems)


def _without_pii(text: str, published: Iterable[str]) -> str:
    allowed = {m.group(0) for source in published for m in _CONTACT.finditer(source)}
    kept: list[str] = []

    def protect(match: re.Match[str]) -> str:
        if match.group(0) not in allowed:
            return match.group(0)
        kept.append(match.group(0))
        return f"\x00{len(kept) - 1}\x00"

    redacted = redact_text(_CONTACT.sub(protect, text))
    return re.sub(r"\x00(\d+)\x00", lambda m: kept[int(m.group(1))], redacted)


def leaks_prompt(text: str, system_prompt: str) -> bool:
    """True when the reply repeats a sentence (or a long stretch) of the system prompt."""
    folded = " ".join(text.lower().split())
    for sentence in _SENTENCE.split(" ".join(system_prompt.lower().split())):
        if len(sentence) >= LEAK_MIN_CHARS and sentence.rstrip(".") in folded:
            return True
    return False


def document_name(passage: Passage) -> str:
    return passage.document.rsplit("/", 1)[-1]


def _trigrams(text: str) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", text.lower())
    return {tuple(words[i : i + 3]) for i in range(len(words) - 2)}


def used_sources(text: str, sources: Sequence[Passage]) -> list[Passage]:
    """The passages an answer used: those it names, else all when it quotes them, else none
    (an answer that neither names nor quotes the passages did not come from them)."""
    named = [p for p in sources if document_name(p) in text]
    if named:
        return named
    answer = _trigrams(text)
    return [p for p in sources if answer & _trigrams(p.text)]


def cite(text: str, sources: Sequence[Passage], language: str) -> str:
    """Make sure the reply names the documents it used."""
    names = list(dict.fromkeys(document_name(p) for p in sources))
    missing = [n for n in names if n not in text]
    if not names or len(missing) < len(names):
        return text
    label = say("source" if len(names) == 1 else "sources", language)
    return f"{text.rstrip()}\n\n{label}: {', '.join(names)}"


def shorten(text: str, max_chars: int) -> str:
    if len(text) <= max_chars:
        return text
    cut = text[: max_chars - 1].rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:") + "…"


def choices(text: str) -> tuple[str, list[str]]:
    """(body, button titles) when the reply ends with 2-3 short choices after a question."""
    lines = text.rstrip().splitlines()
    titles: list[str] = []
    while lines and (match := _CHOICE.match(lines[-1])):
        titles.insert(0, match.group(1))
        lines.pop()
    body = "\n".join(lines).rstrip()
    fits = all(len(t) <= BUTTON_TITLE_CHARS for t in titles)
    if 2 <= len(titles) <= MAX_BUTTONS and fits and body.endswith(("?", ":")):
        return body, titles
    return text, []

"""Guardrails: PII redaction in, requests for the assistant's instructions refused, output checks
out (PII, system-prompt leak, length, citations), and reply buttons when an answer offers a few
choices (their titles pass the same checks as the text).

A leak is caught four ways, so a paraphrase or a translation does not slip through: the per-process
canary the system prompt carries, the names of the internal tools, phrases that describe the
assistant's own instructions (English and Spanish), and sentences of the prompt repeated verbatim.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from chalicelib.agents.schema import TOOL_NAMES
from chalicelib.turns.messages import say
from parley.redaction import PiiVault, redact_except, redact_text
from parley.retrieval import Passage

_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_CHOICE = re.compile(r"^\s*(?:[-*•]|\d[.)])\s+(.+?)\s*$")
MAX_BUTTONS = 3
BUTTON_TITLE_CHARS = 20
LEAK_MIN_CHARS = 30

# Random per process, written in every system prompt and never in a reply: a reply that carries
# it is repeating the prompt, in whatever words surround it.
CANARY = f"cn{secrets.token_hex(6)}"


def _any(words: str) -> str:
    """A non-capturing group of the `|`-separated alternatives."""
    return f"(?:{words})"


_SOME_WORDS = r"(?:\s+\w+){0,4}\s+"
_REVEAL_EN = _any("repeat|print|show|output|copy|paste|recite|display|write out|type out")
_REVEAL_ES = _any(
    "repite|repita|repetir|copia|copie|muestra|muestrame|muestreme|imprime|escribe|escribeme"
)
_TOLD_EN = _any("told|instructed|programmed|prompted|configured")
_TOLD_ES = _any("dijeron|indicaron|ordenaron|programaron|pidieron|configuraron|instruyeron")
_ADJECTIVE = _any("full|exact|original|initial|real|actual|hidden|secret|own|complete|entire")
_RULES_ES = _any("instrucciones|indicaciones|directrices|ordenes")
# Requests to see or override the instructions (matched on lower-case, accent-free text).
_ASKS = [
    # English
    rf"\b{_any('ignore|disregard|forget|override|bypass')}\b{_SOME_WORDS}"
    rf"{_any('instructions?|prompts?|directives')}\b",
    rf"\b{_any('system|initial|original|hidden|secret|developer|internal')}\s+prompts?\b",
    rf"\b{_any('system|hidden|secret|developer|internal')}\s+instructions?\b",
    rf"\byour\s+(?:{_ADJECTIVE}\s+)?{_any('instructions|directives|programming')}\b"
    rf"(?!\s+{_any('for|to|on|about|regarding')}\b)",
    rf"\byour\s+(?:{_ADJECTIVE}\s+)?prompt\b(?!\s+\w)",  # not "your prompt reply"
    rf"\b{_REVEAL_EN}\s+(?:\w+\s+){{0,3}}{_any('above|before (?:this|my|the)|preceding|so far')}\b",
    rf"\bwhat\s+{_any('were|are|have')}\s+you\s+(?:been\s+)?{_TOLD_EN}\b",
    rf"\bwhat\s+you\s+{_any('were|have been|are')}\s+{_TOLD_EN}\b",
    rf"\bhow\s+{_any('were|are')}\s+you\s+{_TOLD_EN}\b",
    rf"\b{_any('instructions|rules|directives')}\s+(?:that\s+)?you\s+"
    rf"{_any('were given|have been given|got|received')}\b",
    r"\b(?:jailbreak|developer mode|prompt injection)\b",
    # Spanish
    rf"\b{_any('ignora|ignore|ignorar|olvida|olvide|olvidar|omite|omita|descarta|descarte')}\b"
    rf"{_SOME_WORDS}{_any('instrucciones|indicaciones|directrices|ordenes|prompt')}\b",
    rf"\b{_any('tus|sus')}\s+{_RULES_ES}\b(?!\s+{_any('para|de|del|sobre|acerca')}\b)",
    r"\b(?:tu|su)\s+(?:prompt|programacion)\b",
    r"\b(?:prompt|instrucciones|indicaciones)\s+(?:del|de)\s+sistema\b",
    rf"\bprompt\s+{_any('inicial|original|oculto|secreto|interno')}\b",
    rf"\b{_any('instrucciones|indicaciones')}\s+{_any('ocultas|secretas|internas')}\b",
    rf"\b{_REVEAL_ES}\b(?:\s+\w+){{0,2}}\s+"
    rf"{_any('texto|todo|instrucciones|indicaciones|prompt|contenido|lo')}\s+(?:\w+\s+)?"
    rf"{_any('de arriba|anterior|anteriores|previo|que esta arriba|que hay arriba')}\b",
    rf"\bque\s+te\s+{_TOLD_ES}\b",
    r"\bcomo\s+te\s+(?:programaron|configuraron|instruyeron)\b",
    r"\bmodo\s+(?:desarrollador|dios)\b",
]
# A reply describing the assistant's own instructions.
_DISCLOSES = [
    r"\bmy\s+(?:system\s+)?(?:prompt|instructions|directives|programming)\b",
    rf"\bi\s*{_any('was|have been|.ve been|am|.m')}\s+{_any('instructed|programmed|configured')}\b",
    rf"\bi\s*{_any('was|have been|.ve been')}\s+told\s+(?:to|not to)\b",
    r"\bsystem\s+prompt\b",
    r"\byou are the\s+(?:\w+\s+){0,4}assistant\b",
    rf"\bmis\s+{_RULES_ES}\b",
    r"\bmi\s+(?:prompt|programacion)\b",
    rf"\b(?:me|se me)\s+{_any('indico|ha indicado|han indicado|ordeno')}\b",
    rf"\b(?:me|se me)\s+{_TOLD_ES}\b",
    r"\b(?:prompt|mensaje|instrucciones)\s+del\s+sistema\b",
    r"\bfui\s+(?:programado|instruido|configurado)\b",
    r"\beres\s+el\s+(?:\w+\s+){0,4}asistente\b",
]
_ASK = re.compile("|".join(_ASKS))
_DISCLOSE = re.compile("|".join(_DISCLOSES))


def fold(text: str) -> str:
    """Lower case, accents dropped, whitespace collapsed."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.split())


def turn_vault(conversation: str) -> PiiVault:
    """The vault of one turn; numbers without a country code are also read as the sender's."""
    return PiiVault.for_sender(conversation.partition(":")[2] or None)


def redact(text: str | None, vault: PiiVault | None = None) -> str:
    """Text safe to send to a model (through the turn's vault: placeholders the turn can resolve)
    or to a log line (one way)."""
    if vault is not None:
        return vault.redact(text)
    return redact_text(text or "")


def asks_for_instructions(text: str) -> bool:
    """The customer asks to see, repeat or override the assistant's instructions."""
    return bool(_ASK.search(fold(text)))


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
    allowed: Iterable[str] = (),
) -> CheckedReply:
    """Apply every output check; `problems` names what was changed. `allowed`: the customer's own
    values, which may be said back to them."""
    problems: list[str] = []
    safe = redact_except(text, [*(p.text for p in sources), *allowed])
    if safe != text:
        problems.append("pii")
    if leaks_prompt(text, system_prompt):
        problems.append("system_prompt_leak")
        safe = say("withheld", language)
    safe = cite(safe, sources, language)
    if len(safe) > max_chars:
        problems.append("too_long")
        safe = shorten(safe, max_chars)
    return CheckedReply(safe, problems)


def leaks_prompt(text: str, system_prompt: str) -> bool:
    """True when the reply carries the canary, names an internal tool, describes its instructions
    or repeats a sentence (or a long stretch) of the system prompt."""
    folded = fold(text)
    if CANARY in re.sub(r"[^a-z0-9]", "", folded):
        return True
    if any(name in folded for name in TOOL_NAMES):
        return True
    if _DISCLOSE.search(folded):
        return True
    for sentence in _SENTENCE.split(fold(system_prompt)):
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
    """(body, button titles) when the reply ends with 2-3 short choices after a question. A title
    that fails the output checks makes no button: the choices stay in the text, which the checks
    then withhold or redact like any other."""
    lines = text.rstrip().splitlines()
    titles: list[str] = []
    while lines and (match := _CHOICE.match(lines[-1])):
        titles.insert(0, match.group(1))
        lines.pop()
    body = "\n".join(lines).rstrip()
    fits = all(len(t) <= BUTTON_TITLE_CHARS and _safe_title(t) for t in titles)
    if 2 <= len(titles) <= MAX_BUTTONS and fits and body.endswith(("?", ":")):
        return body, titles
    return text, []


def _safe_title(title: str) -> bool:
    return not leaks_prompt(title, "") and redact_text(title) == title

"""Answer quality on a labelled set (tests/data/answer_set*.yaml, issue 12): each item runs through
the turn the service runs for a local turn — `TurnHandler` (guardrails, language, supervisor
routing, the agent loop) with the `LocalChatModel` and the real `search_knowledge` tool over the
demo knowledge base indexed in SQLite FTS5 — and its reply is scored against what the documents say.

Figures (over a group of items: all, a language, a tag):
- facts present: share of answerable items whose reply contains every required fact (a fact is a
  list of acceptable alternatives; case-insensitive substring after accent folding);
- declined: share of unanswerable items whose reply offers a person or says it could not find the
  answer (a hand-off counts) AND contains no figure (a number of 2+ digits, an amount, a date) that
  is not in the customer's messages;
- routing: share of items whose turn was routed to the labelled intent (off-topic included).

Imported by tests/test_answer_quality.py and `python -m tests.bench.quality`; it holds no tests.
"""

from __future__ import annotations

import re
import tempfile
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import yaml
from pydantic import BaseModel, ConfigDict, model_validator

if TYPE_CHECKING:
    from parley.chat import ChatModel
    from parley.retrieval import Retriever

DATA = Path(__file__).resolve().parent / "data"
# The demo knowledge base (test_turn_support's DEMO_KB): read here without importing the engine, so
# the set's shape can be checked while the engine is being rewritten.
DEMO_KB = Path(__file__).resolve().parents[3] / "infra" / "local" / "demo" / "kb"
SET_GLOB = "answer_set*.yaml"
SPANISH_FAQ = "preguntas-frecuentes.md"
OUT_OF_SCOPE = "out_of_scope"

Expect = Literal["answer", "decline", "out_of_scope", "small_talk"]


class Item(BaseModel):
    """One labelled customer turn (the YAML's schema)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    language: Literal["en", "es"]
    intent: str
    text: str | None = None
    burst: tuple[str, ...] = ()
    history: tuple[str, ...] = ()
    expect: Expect = "answer"
    documents: tuple[str, ...] = ()
    facts: tuple[tuple[str, ...], ...] = ()
    tags: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> Item:
        if (self.text is None) == (not self.burst):
            raise ValueError(f"{self.id}: give exactly one of text or burst")
        if self.expect == "answer" and not (self.documents and self.facts):
            raise ValueError(f"{self.id}: an answerable item needs documents and facts")
        if any(not alternatives for alternatives in self.facts):
            raise ValueError(f"{self.id}: a fact needs at least one alternative")
        return self

    @property
    def messages(self) -> tuple[str, ...]:
        return (self.text,) if self.text is not None else self.burst


def load_set(paths: Iterable[Path] | None = None) -> list[Item]:
    """Every item of the set's files (ids unique across them)."""
    files = sorted(paths) if paths is not None else sorted(DATA.glob(SET_GLOB))
    items = [
        Item.model_validate(raw)
        for path in files
        for raw in yaml.safe_load(path.read_text(encoding="utf-8")) or []
    ]
    ids = [item.id for item in items]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"duplicate item ids: {duplicates}")
    return items


def document_text(name: str) -> str:
    return (DEMO_KB / name).read_text(encoding="utf-8")


# --------------------------------------------------------------------------- scoring

_DASHES = str.maketrans({"\u2013": "-", "\u2014": "-", "\u00a0": " ", "\u2019": "'"})


def fold(text: str) -> str:
    """Lower case, accents and markdown emphasis removed, dashes and spaces normalised."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_DASHES).lower())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).replace("**", "")
    return re.sub(r"\s+", " ", plain)


def missing_facts(reply: str, facts: Sequence[Sequence[str]]) -> list[list[str]]:
    """The facts none of whose alternatives is in the reply."""
    folded = fold(reply)
    return [list(alts) for alts in facts if not any(fold(a) in folded for a in alts)]


_MONTH_NAMES = (
    "january february march april may june july august september october november december",
    "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre",
    "jan feb mar apr may jun jul aug sep oct nov dec",
)
_MONTHS = {m: i for names in _MONTH_NAMES for i, m in enumerate(names.split(), 1)}
_MONTHS |= {"sept": 9, "setiembre": 9}
_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))
_DATE_EN = re.compile(rf"\b({_MONTH})\.? (\d{{1,2}})\b")
_DATE_ES = re.compile(rf"\b(\d{{1,2}}) de ({_MONTH})\b")
_AMOUNT = re.compile(r"(?:\$|usd ?)(\d[\d,.]*)")
# 2+ digits, not glued to letters (X00427, P4) nor part of a form code (I-20, F-1, NB-2027-...)
_NUMBER = re.compile(r"(?<![a-z0-9])(?<![a-z]-)\d[\d,.]*\d")


def figures(text: str) -> set[str]:
    """The figures of a text, normalised: dates as `date:M-D`, amounts and numbers as digits."""
    folded = fold(text)
    found = {f"date:{_MONTHS[m]}-{int(d)}" for m, d in _DATE_EN.findall(folded)}
    found |= {f"date:{_MONTHS[m]}-{int(d)}" for d, m in _DATE_ES.findall(folded)}
    found |= {re.sub(r"\D", "", a) for a in _AMOUNT.findall(folded)}
    found |= {re.sub(r"\D", "", n) for n in _NUMBER.findall(folded)}
    return {f for f in found if f}


def invented_figures(reply: str, customer_texts: Sequence[str]) -> list[str]:
    """Figures of the reply that none of the customer's messages contains."""
    asked = figures("\n".join(customer_texts))
    return sorted(figures(reply) - asked)


_NOT_FOUND = re.compile(
    r"(?:could|ca|did) ?n[o']?t find|cannot find|unable to find|"
    r"do ?n[o']?t have (?:that|this|the|any|enough|specific)? ?(?:information|details)|"
    r"no (?:information|details) (?:about|on)|not (?:in|part of) our (?:documents|information)|"
    r"i(?:'m| am) not sure|i do ?n[o']?t know|"
    r"no encontr|no encuentro|no pude encontrar|no tengo (?:esa|esta|la|informacion|datos)|"
    r"no dispongo|no cuento con|no estoy segur|no lo se|no aparece"
)
_PERSON = re.compile(
    r"\b(?:person|human|someone|counsel+or|advis[eo]r|agent|staff|representative|"
    r"persona|humano|alguien|asesor|asesora|consejer[oa]|agente)\b"
)
_OFFER = re.compile(
    r"would you like|do you want|want me to|shall i|connect|talk|speak|contact|call|reach|"
    r"quiere|quieres|desea|comunic|hablar|contactar|llam"
)


def offers_person(reply: str, buttons: Sequence[str]) -> bool:
    """A reply button names a person, or a sentence of the reply offers one."""
    if any(_PERSON.search(fold(button)) for button in buttons):
        return True
    sentences = re.split(r"[.!?¿¡\n]+", fold(reply))
    return any(_PERSON.search(s) and _OFFER.search(s) for s in sentences)


def says_not_found(reply: str) -> bool:
    return bool(_NOT_FOUND.search(fold(reply)))


# --------------------------------------------------------------------------- running


@dataclass
class Result:
    item: Item
    reply: str
    buttons: list[str]
    intent: str | None
    agent: str | None
    handoff: bool
    sources: list[str]
    missing: list[list[str]] = field(default_factory=list)
    invented: list[str] = field(default_factory=list)
    declined: bool = False

    @property
    def routed(self) -> bool:
        return self.intent == self.item.intent

    @property
    def facts_ok(self) -> bool:
        return self.item.expect == "answer" and not self.missing

    @property
    def declined_ok(self) -> bool:
        return self.item.expect == "decline" and self.declined and not self.invented


def run_item(item: Item, model: ChatModel, retriever: Retriever) -> Result:
    """One item through the turn handler, as the turns queue would deliver it."""
    from test_turn_support import Events, handler, turn

    events = Events()
    # A follow-up comes after a turn that already set the session's language (context keeps it).
    session_language = item.language if item.history else None
    event = turn(
        *item.messages,
        history=[("customer", text) for text in item.history],
        language=session_language,
    )
    handler(model, retriever, events)(event)
    reply, done = events.reply(), events.completed()
    customer = [*item.history, *item.messages]
    result = Result(
        item=item,
        reply=reply.text,
        buttons=[b.title for b in reply.buttons],
        intent=done.intent,
        agent=done.agent,
        handoff=bool(events.handoffs()),
        sources=[s.document.rsplit("/", 1)[-1] for s in done.sources],
        invented=invented_figures(reply.text, customer),
    )
    if item.expect == "answer":
        result.missing = missing_facts(reply.text, item.facts)
    result.declined = (
        result.handoff or offers_person(reply.text, result.buttons) or says_not_found(reply.text)
    )
    return result


def run_set(
    items: Sequence[Item],
    model_factory: Callable[[], ChatModel] | None = None,
    retriever: Retriever | None = None,
) -> Report:
    """Every item through the real turn path (the `LocalChatModel` unless a model factory is
    given); the demo index is built in a temporary directory unless a retriever is given."""
    from test_turn_support import DemoRetriever

    from chalicelib.providers.local import LocalChatModel

    model_factory = model_factory or LocalChatModel
    if retriever is not None:
        return Report([run_item(item, model_factory(), retriever) for item in items])
    with tempfile.TemporaryDirectory(prefix="answer-quality-") as directory:
        demo = DemoRetriever(Path(directory))
        return Report([run_item(item, model_factory(), demo) for item in items])


# --------------------------------------------------------------------------- figures


def _share(hits: Sequence[bool]) -> float | None:
    return sum(hits) / len(hits) if hits else None


@dataclass(frozen=True)
class Figures:
    items: int
    answerable: int
    facts_present: float | None
    fact_recall: float | None
    unanswerable: int
    declined: float | None
    routing: float | None


@dataclass(frozen=True)
class Miss:
    id: str
    kind: str  # "facts", "decline" or "route"
    detail: str
    text: str
    reply: str


@dataclass
class Report:
    results: list[Result]

    def figures(self, results: Sequence[Result] | None = None) -> Figures:
        chosen = self.results if results is None else results
        answerable = [r for r in chosen if r.item.expect == "answer"]
        unanswerable = [r for r in chosen if r.item.expect == "decline"]
        facts = [not any(m == list(a) for m in r.missing) for r in answerable for a in r.item.facts]
        return Figures(
            items=len(chosen),
            answerable=len(answerable),
            facts_present=_share([r.facts_ok for r in answerable]),
            fact_recall=_share(facts),
            unanswerable=len(unanswerable),
            declined=_share([r.declined_ok for r in unanswerable]),
            routing=_share([r.routed for r in chosen]),
        )

    def groups(self) -> dict[str, Figures]:
        """Figures overall, per language and per tag."""
        out = {"all": self.figures()}
        for language in ("en", "es"):
            out[language] = self.figures([r for r in self.results if r.item.language == language])
        tags = sorted({t for r in self.results for t in r.item.tags})
        for tag in tags:
            out[f"#{tag}"] = self.figures([r for r in self.results if tag in r.item.tags])
        return out

    def misses(self) -> list[Miss]:
        out: list[Miss] = []
        for r in self.results:
            text = " | ".join([*r.item.history, *r.item.messages])
            if r.item.expect == "answer" and r.missing:
                out.append(Miss(r.item.id, "facts", f"missing {r.missing}", text, r.reply))
            if r.item.expect == "decline" and not r.declined_ok:
                detail = f"declined={r.declined} invented={r.invented}"
                out.append(Miss(r.item.id, "decline", detail, text, r.reply))
            if not r.routed:
                detail = f"routed {r.intent}, expected {r.item.intent}"
                out.append(Miss(r.item.id, "route", detail, text, r.reply))
        return out


def format_figures(groups: dict[str, Figures]) -> str:
    """A fixed-width table of figures, one row per group."""

    def pct(value: float | None) -> str:
        return "   -" if value is None else f"{value:4.0%}"

    head = f"{'group':<18}{'items':>6}{'answ':>6}{'facts':>7}{'recall':>8}{'unans':>7}"
    head += f"{'declined':>10}{'routing':>9}"
    rows = [head]
    for name, f in groups.items():
        rows.append(
            f"{name:<18}{f.items:>6}{f.answerable:>6}{pct(f.facts_present):>7}"
            f"{pct(f.fact_recall):>8}{f.unanswerable:>7}{pct(f.declined):>10}{pct(f.routing):>9}"
        )
    return "\n".join(rows)


def format_misses(misses: Sequence[Miss], limit: int | None = None) -> str:
    shown = misses[:limit] if limit is not None else misses
    more = f" (first {len(shown)})" if len(shown) < len(misses) else ""
    lines = [f"{len(misses)} misses{more}"]
    for m in shown:
        reply = " ".join(m.reply.split())[:160]
        lines.append(f"- {m.id} [{m.kind}] {m.detail}\n    Q: {m.text}\n    A: {reply}")
    return "\n".join(lines)

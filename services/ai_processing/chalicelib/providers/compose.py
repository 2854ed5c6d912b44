"""The local engine's reply text for a decision: the quoted units (or a list's items), a yes/no
first when the evidence says it, a lead sentence in the customer's language when the passage is
in the other one, the source documents, and the other cases as reply-button lines (the turn
handler turns trailing `- choice` lines after a question into buttons)."""

from __future__ import annotations

import posixpath
from collections.abc import Sequence

from chalicelib.knowledge.language import Language
from chalicelib.providers import facts, localise, phrases
from chalicelib.providers.decision import Decision
from chalicelib.providers.extractive import Candidate
from chalicelib.providers.question import Question


def reply_text(decision: Decision, question: Question, language: Language) -> str:
    if decision.action == "decline":
        return phrases.reply("unknown", language)
    if decision.action == "clarify":
        return _choices(phrases.reply("clarify", language), decision.alternatives)
    chosen = decision.chosen
    body = _listed(chosen) if decision.listed else " ".join(c.text for c in chosen)
    foreign = all(c.language != language for c in chosen)
    if foreign:
        body = f'{_lead(chosen, question, language, decision.yes)}\n"{body}"'
    elif decision.yes is not None:
        body = f"{phrases.reply('yes' if decision.yes else 'no', language)} {body}"
    documents = list(dict.fromkeys(posixpath.basename(c.document) for c in chosen))
    label = phrases.reply("source" if len(documents) == 1 else "sources", language)
    text = f"{body}\n\n{label}: {', '.join(documents)}"
    if decision.alternatives:
        text += "\n\n" + _choices(phrases.reply("other_cases", language), decision.alternatives)
    return text


def _choices(question: str, titles: Sequence[str]) -> str:
    return "\n".join([question, *(f"- {title}" for title in titles)])


def _listed(chosen: Sequence[Candidate]) -> str:
    """`Undergraduate Programs: Computer Science, Nursing, ...` (one line per section)."""
    sections: dict[str, list[str]] = {}
    for c in chosen:
        sections.setdefault(c.heading, []).append(c.label or c.text)
    lines = [f"{heading}: {', '.join(labels)}." for heading, labels in sections.items()]
    return "\n".join(line.lstrip(": ") for line in lines)


def _lead(
    chosen: Sequence[Candidate], question: Question, language: Language, yes: bool | None
) -> str:
    """The key facts said in the customer's language, then where the quote comes from."""
    source = chosen[0].language
    wanted = sorted(facts.ANSWERED_BY.get(question.kind or "", ()))
    said = localise.lead_facts(((c.text, c.label) for c in chosen), source, language, wanted)
    lead = (
        phrases.reply("foreign_lead", language, facts="; ".join(said))
        if said
        else phrases.reply("foreign_note", language)
    )
    if yes is not None:
        lead = f"{phrases.reply('yes' if yes else 'no', language)} {lead}"
    return lead

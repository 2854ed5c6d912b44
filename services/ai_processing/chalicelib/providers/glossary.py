"""The knowledge base's bilingual glossary (chalicelib/knowledge/glossary.yaml: one thing named in
English and Spanish) as stem phrases, so a Spanish question's words are found in an English
sentence (`matrícula` in `tuition`) and the other way round."""

from __future__ import annotations

from functools import cache

from chalicelib.knowledge.language import Language

Phrase = tuple[str, ...]  # a term's content-word stems in its language
Entry = tuple[tuple[Language, Phrase], ...]


@cache
def entries_by_length() -> tuple[Entry, ...]:
    """Every entry; entries with longer phrases first, so `fecha límite` is matched before
    `fecha`."""
    try:
        from chalicelib.knowledge.glossary import curated_entries

        curated = curated_entries()
    except (ImportError, OSError, ValueError):  # no glossary: words match only themselves
        return ()
    entries = [
        tuple((term.language, tuple(term.stems)) for term in entry if term.stems)
        for entry in curated
    ]
    entries = [entry for entry in entries if entry]
    return tuple(sorted(entries, key=lambda e: -max(len(p) for _, p in e)))

"""The knowledge index: one SQLite file with an FTS5 table ranked by BM25.

Each chunk is stored as shown to agents (`chunks`) and, stemmed in its own language (title and
section included), in the FTS5 column of that language. A query is stemmed in both languages and
matched against both columns. Optional vectors (when an embedding provider is configured) sit in
`vectors` beside the chunks they belong to.
"""

from __future__ import annotations

import sqlite3
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from chalicelib.knowledge.documents import Chunk
from chalicelib.knowledge.language import Language, detect_language, query_stems, stems
from parley.errors import ConfigurationError

SCHEMA_VERSION = 1
OTHER_LANGUAGE_WEIGHT = 0.5
_SCHEMA = """
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE documents (
    key TEXT PRIMARY KEY, etag TEXT NOT NULL, title TEXT NOT NULL, collection TEXT NOT NULL,
    language TEXT NOT NULL, chunks INTEGER NOT NULL
);
CREATE TABLE chunks (
    id INTEGER PRIMARY KEY, document TEXT NOT NULL, ordinal INTEGER NOT NULL, title TEXT NOT NULL,
    section TEXT NOT NULL, text TEXT NOT NULL, collection TEXT NOT NULL, language TEXT NOT NULL
);
CREATE INDEX chunks_by_document ON chunks (document);
CREATE VIRTUAL TABLE chunks_fts USING fts5 (en, es, tokenize = 'unicode61 remove_diacritics 2');
CREATE TABLE vectors (chunk_id INTEGER PRIMARY KEY, vector BLOB NOT NULL);
"""


@dataclass(frozen=True)
class IndexedDocument:
    key: str
    etag: str
    title: str
    collection: str
    language: str
    chunks: int


@dataclass(frozen=True)
class Hit:
    chunk_id: int
    document: str
    title: str
    section: str
    text: str
    collection: str
    score: float
    ordinal: int = 0


def collection_of(key: str) -> str:
    """A document's collection is its top-level folder (`demo/fees.md` -> `demo`)."""
    return key.split("/", 1)[0] if "/" in key else "default"


class KnowledgeIndex:
    """An open index file. Not thread-safe: callers serialise access."""

    def __init__(self, path: str | Path, *, readonly: bool = False) -> None:
        self.path = Path(path)
        uri = f"{self.path.resolve().as_uri()}{'?mode=ro' if readonly else ''}"
        self.db = sqlite3.connect(uri, uri=True, check_same_thread=False)
        if not readonly and not self._has_schema():
            self._create()

    def close(self) -> None:
        self.db.close()

    def _has_schema(self) -> bool:
        row = self.db.execute("SELECT 1 FROM sqlite_master WHERE name = 'chunks_fts'").fetchone()
        return row is not None

    def _create(self) -> None:
        try:
            self.db.executescript(_SCHEMA)
        except sqlite3.OperationalError as exc:  # an SQLite built without FTS5
            raise ConfigurationError(f"SQLite cannot build the knowledge index: {exc}") from exc
        self.set_meta("schema_version", str(SCHEMA_VERSION))
        self.db.commit()

    def set_meta(self, name: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (name, value))

    def meta(self, name: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return str(row[0]) if row else None

    def documents(self) -> dict[str, IndexedDocument]:
        rows = self.db.execute(
            "SELECT key, etag, title, collection, language, chunks FROM documents"
        )
        return {row[0]: IndexedDocument(*row) for row in rows}

    def remove(self, key: str) -> None:
        ids = [r[0] for r in self.db.execute("SELECT id FROM chunks WHERE document = ?", (key,))]
        self.db.executemany("DELETE FROM chunks_fts WHERE rowid = ?", [(i,) for i in ids])
        self.db.executemany("DELETE FROM vectors WHERE chunk_id = ?", [(i,) for i in ids])
        self.db.execute("DELETE FROM chunks WHERE document = ?", (key,))
        self.db.execute("DELETE FROM documents WHERE key = ?", (key,))

    def replace(
        self,
        key: str,
        etag: str,
        chunks: Sequence[Chunk],
        vectors: Sequence[Sequence[float]] | None = None,
    ) -> IndexedDocument:
        """Index a document's chunks in place of any earlier version of it."""
        self.remove(key)
        collection = collection_of(key)
        language = detect_language(" ".join(c.text for c in chunks[:20]))
        for position, chunk in enumerate(chunks):
            chunk_language = detect_language(chunk.text, default=language)
            chunk_id = self._insert_chunk(chunk, collection, chunk_language)
            if vectors is not None:
                blob = array("f", vectors[position]).tobytes()
                self.db.execute("INSERT INTO vectors VALUES (?, ?)", (chunk_id, blob))
        title = chunks[0].title if chunks else key
        document = IndexedDocument(key, etag, title, collection, language, len(chunks))
        self.db.execute("INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?)", _row(document))
        return document

    def _insert_chunk(self, chunk: Chunk, collection: str, language: Language) -> int:
        cursor = self.db.execute(
            "INSERT INTO chunks (document, ordinal, title, section, text, collection, language)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (chunk.document, chunk.ordinal, chunk.title, chunk.section, chunk.text, collection,
             language),
        )  # fmt: skip
        chunk_id = int(cursor.lastrowid or 0)
        stemmed = " ".join(stems(f"{chunk.title}\n{chunk.section}\n{chunk.text}", language))
        columns = (stemmed, "") if language == "en" else ("", stemmed)
        self.db.execute(
            "INSERT INTO chunks_fts (rowid, en, es) VALUES (?, ?, ?)", (chunk_id, *columns)
        )
        return chunk_id

    def commit(self) -> None:
        self.db.commit()

    def compact(self) -> None:
        self.db.execute("INSERT INTO chunks_fts (chunks_fts) VALUES ('optimize')")
        self.db.commit()
        self.db.execute("VACUUM")

    def search(self, query: str, limit: int, collections: Iterable[str] | None = None) -> list[Hit]:
        """The best `limit` chunks for `query` by BM25 over both languages' stems."""
        expression = match_expression(query)
        if not expression:
            return []
        # The query's own language counts fully, the other one less (names, numbers, cognates).
        weights = (1.0, OTHER_LANGUAGE_WEIGHT)
        if detect_language(query) == "es":
            weights = weights[::-1]
        rank = "bm25(chunks_fts, ?, ?)"
        sql = (
            f"SELECT c.id, c.document, c.title, c.section, c.text, c.collection, {rank}, c.ordinal"
            " FROM chunks_fts JOIN chunks c ON c.id = chunks_fts.rowid WHERE chunks_fts MATCH ?"
        )
        params: list[object] = [*weights, expression]
        wanted = list(collections) if collections is not None else None
        if wanted is not None:
            sql += f" AND c.collection IN ({', '.join('?' for _ in wanted)})"
            params.extend(wanted)
        sql += f" ORDER BY {rank} LIMIT ?"
        params.extend([*weights, limit])
        rows = self.db.execute(sql, params).fetchall()
        return [
            Hit(int(r[0]), r[1], r[2], r[3], r[4], r[5], score=-float(r[6]), ordinal=int(r[7]))
            for r in rows
        ]

    def vectors(self, chunk_ids: Sequence[int]) -> dict[int, list[float]]:
        marks = ", ".join("?" for _ in chunk_ids)
        rows = self.db.execute(
            f"SELECT chunk_id, vector FROM vectors WHERE chunk_id IN ({marks})", list(chunk_ids)
        )
        return {int(row[0]): array("f", row[1]).tolist() for row in rows}


def match_expression(query: str) -> str:
    """`en : ("fall" OR "deadlin") OR es : ("fall" OR "deadlin")`; empty for an empty query."""
    parts = []
    for language, terms in query_stems(query).items():
        if terms:
            quoted = " OR ".join('"' + term.replace('"', '""') + '"' for term in terms)
            parts.append(f"{language} : ({quoted})")
    return " OR ".join(parts)


def _row(document: IndexedDocument) -> tuple[object, ...]:
    return (
        document.key,
        document.etag,
        document.title,
        document.collection,
        document.language,
        document.chunks,
    )

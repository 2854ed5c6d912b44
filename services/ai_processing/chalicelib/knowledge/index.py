"""The knowledge index: one SQLite file with an FTS5 table ranked by BM25, and passage vectors.

Each chunk is stored as shown to agents (`chunks`) and, stemmed in its own language (title and
section included), in the FTS5 column of that language. A question is normalised, corrected and
expanded across languages (`query.py`), stemmed in both languages and matched against both
columns; scores are scaled by how much of the question a chunk says. Derived at commit: the
vocabulary (typo correction) and the knowledge base's own glossary pairs (`cognates.py`). Vectors
(when an embedder is configured) sit in `vectors` beside their chunks; `nearest` ranks chunks by
similarity to a question's vector.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from chalicelib.knowledge import dictionary
from chalicelib.knowledge.cognates import cognate_pairs
from chalicelib.knowledge.documents import Chunk
from chalicelib.knowledge.language import Language, detect_language, fold, stem, stems, tokens
from chalicelib.knowledge.normalise import compounds
from chalicelib.knowledge.query import Lexicon, Query
from chalicelib.knowledge.vectors import VectorTable, to_blob
from parley.errors import ConfigurationError

SCHEMA_VERSION = 2
OTHER_LANGUAGE_WEIGHT = 0.5
RESCORED = 40  # BM25's best chunks per search whose scores coverage then scales
EXPANSION_WEIGHT = 0.5  # a glossary term is evidence, less than the customer's own word
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
CREATE TABLE vocabulary (
    word TEXT PRIMARY KEY, frequency INTEGER NOT NULL, en TEXT NOT NULL, es TEXT NOT NULL
);
CREATE TABLE glossary (es TEXT NOT NULL, en TEXT NOT NULL, PRIMARY KEY (es, en));
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


def embedding_text(chunk: Chunk) -> str:
    """What a chunk's vector is computed from: its section path, then its text."""
    return f"{chunk.section}\n{chunk.text}" if chunk.section else chunk.text


def collection_of(key: str) -> str:
    """A document's collection is its top-level folder (`demo/fees.md` -> `demo`)."""
    return key.split("/", 1)[0] if "/" in key else "default"


class KnowledgeIndex:
    """An open index file. Not thread-safe: callers serialise access."""

    def __init__(self, path: str | Path, *, readonly: bool = False) -> None:
        self.path = Path(path)
        uri = f"{self.path.resolve().as_uri()}{'?mode=ro' if readonly else ''}"
        self.db = sqlite3.connect(uri, uri=True, check_same_thread=False)
        if not readonly and not self._has_table("chunks_fts"):
            self._create()
        self._changed = False  # documents changed since the derived tables were built
        self._lexicon: Lexicon | None = None
        self._vectors: VectorTable | None = None

    def close(self) -> None:
        self.db.close()

    def _has_table(self, name: str) -> bool:
        row = self.db.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (name,)).fetchone()
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

    @property
    def embedding_model(self) -> str | None:
        """The model the stored vectors come from (None: no vectors)."""
        return self.meta("embedding_model") or None

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
        self._changed = True

    def replace(
        self,
        key: str,
        etag: str,
        chunks: Sequence[Chunk],
        vectors: Sequence[Sequence[float]] | None = None,
        *,
        embedding_model: str | None = None,
    ) -> IndexedDocument:
        """Index a document's chunks (and their vectors, from `embedding_model`) in place of any
        earlier version of it."""
        self.remove(key)
        if vectors is not None and embedding_model:
            self.set_meta("embedding_model", embedding_model)
        collection = collection_of(key)
        language = detect_language(" ".join(c.text for c in chunks[:20]))
        for position, chunk in enumerate(chunks):
            chunk_language = detect_language(chunk.text, default=language)
            chunk_id = self._insert_chunk(chunk, collection, chunk_language)
            blob = to_blob(vectors[position]) if vectors is not None else None
            if blob is not None:
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
        text = f"{chunk.title}\n{chunk.section}\n{chunk.text}"
        stemmed = " ".join([*stems(text, language), *compounds(text)])
        columns = (stemmed, "") if language == "en" else ("", stemmed)
        self.db.execute(
            "INSERT INTO chunks_fts (rowid, en, es) VALUES (?, ?, ?)", (chunk_id, *columns)
        )
        return chunk_id

    def commit(self) -> None:
        """Rebuild what is derived from all documents (vocabulary, glossary pairs) if they
        changed, then commit."""
        if self._changed:
            self._derive()
            self._changed = False
        self.db.commit()
        self._lexicon, self._vectors = None, None

    def _derive(self) -> None:
        rows = self.db.execute("SELECT language, title, section, text FROM chunks").fetchall()
        frequencies: Counter[str] = Counter()
        for _, title, section, text in rows:
            whole = f"{title}\n{section}\n{text}"
            frequencies.update([*tokens(fold(whole.lower())), *compounds(whole)])
        self.db.execute("DELETE FROM vocabulary")
        self.db.executemany(
            "INSERT INTO vocabulary VALUES (?, ?, ?, ?)",
            ((w, n, stem(w, "en"), stem(w, "es")) for w, n in frequencies.items()),
        )
        pairs = cognate_pairs([(row[0], "\n".join(row[1:])) for row in rows])
        self.db.execute("DELETE FROM glossary")
        self.db.executemany("INSERT INTO glossary VALUES (?, ?)", sorted(pairs))

    def compact(self) -> None:
        self.db.execute("INSERT INTO chunks_fts (chunks_fts) VALUES ('optimize')")
        self.db.commit()
        self.db.execute("VACUUM")

    @property
    def lexicon(self) -> Lexicon:
        """This version's vocabulary and glossary (loaded on first use)."""
        if self._lexicon is None:
            if not self._has_table("vocabulary"):  # (an index of an older schema)
                self._lexicon = Lexicon()
                return self._lexicon
            rows = self.db.execute("SELECT word, frequency, en, es FROM vocabulary").fetchall()
            self._lexicon = Lexicon(
                {row[0]: row[1] for row in rows},
                self.db.execute("SELECT es, en FROM glossary").fetchall(),
                stems={s for row in rows for s in row[2:]},
            )
        return self._lexicon

    def warm(self) -> None:
        """Load this version's lexicon, spelling index and vectors now (a newly loaded version
        is warmed before its first question)."""
        self.lexicon.speller.warm()
        dictionary.load()
        self._vector_table()

    def analyse(self, text: str) -> Query:
        return self.lexicon.analyse(text)

    def search(
        self, query: str | Query, limit: int, collections: Iterable[str] | None = None
    ) -> list[Hit]:
        """The best `limit` chunks for `query` by BM25: its own stems in both languages' columns,
        plus its glossary expansions at `EXPANSION_WEIGHT`. The question's own language counts
        fully, the other one less (names, numbers, cognates). Each score is then scaled by the
        share of the question's concepts the chunk says in either language, so "programa de
        enfermería" ranks a passage about the nursing program above one that only says
        "programa" (Spanish words are rare in a mostly English index, so BM25 alone rates them
        high)."""
        analysed = self.analyse(query) if isinstance(query, str) else query
        weights = (1.0, OTHER_LANGUAGE_WEIGHT)
        if analysed.language == "es":
            weights = weights[::-1]
        wanted = list(collections) if collections is not None else None
        scores: dict[int, float] = {}
        hits: dict[int, Hit] = {}
        searches = (
            (analysed.match_expression(), 1.0),
            (analysed.expansion_expression(), EXPANSION_WEIGHT),
        )
        depth = max(limit * 2, RESCORED)  # a chunk found by both searches may be deep in each
        for expression, factor in searches:
            for hit in self._bm25(expression, weights, depth, wanted):
                scores[hit.chunk_id] = scores.get(hit.chunk_id, 0.0) + factor * hit.score
                hits.setdefault(hit.chunk_id, hit)
        for chunk_id, content in self._stemmed(list(scores)).items():
            scores[chunk_id] *= analysed.coverage(content)
        best = sorted(scores, key=lambda chunk_id: -scores[chunk_id])[:limit]
        return [replace(hits[chunk_id], score=scores[chunk_id]) for chunk_id in best]

    def _stemmed(self, chunk_ids: list[int]) -> dict[int, dict[Language, str]]:
        """The chunks' indexed stems per language column."""
        if not chunk_ids:
            return {}
        marks = ", ".join("?" for _ in chunk_ids)
        rows = self.db.execute(
            f"SELECT rowid, en, es FROM chunks_fts WHERE rowid IN ({marks})", chunk_ids
        )
        return {int(row[0]): {"en": row[1] or "", "es": row[2] or ""} for row in rows}

    def _bm25(
        self,
        expression: str,
        weights: tuple[float, float],
        limit: int,
        collections: list[str] | None,
    ) -> list[Hit]:
        if not expression:
            return []
        rank = "bm25(chunks_fts, ?, ?)"
        sql = (
            f"SELECT {_HIT_COLUMNS}, {rank}"
            " FROM chunks_fts JOIN chunks c ON c.id = chunks_fts.rowid WHERE chunks_fts MATCH ?"
        )
        params: list[object] = [*weights, expression]
        if collections is not None:
            sql += f" AND c.collection IN ({', '.join('?' for _ in collections)})"
            params.extend(collections)
        sql += f" ORDER BY {rank} LIMIT ?"
        params.extend([*weights, limit])
        rows = self.db.execute(sql, params).fetchall()
        return [_hit(row[:-1], -float(row[-1])) for row in rows]

    def nearest(
        self,
        vector: Sequence[float],
        limit: int,
        collections: Iterable[str] | None = None,
        among: Iterable[int] | None = None,
    ) -> list[Hit]:
        """The `limit` chunks (of `collections`, of the chunk ids `among`) whose vectors are most
        similar to `vector`, best first."""
        ranked = self._vector_table().nearest(vector, limit, collections, among)
        if not ranked:
            return []
        marks = ", ".join("?" for _ in ranked)
        rows = self.db.execute(
            f"SELECT {_HIT_COLUMNS} FROM chunks c WHERE c.id IN ({marks})",
            [chunk_id for chunk_id, _ in ranked],
        )
        by_id = {int(row[0]): row for row in rows}
        return [_hit(by_id[i], similarity) for i, similarity in ranked if i in by_id]

    def _vector_table(self) -> VectorTable:
        if self._vectors is None:
            self._vectors = VectorTable(
                self.db.execute(
                    "SELECT v.chunk_id, c.collection, v.vector FROM vectors v"
                    " JOIN chunks c ON c.id = v.chunk_id"
                )
            )
        return self._vectors


_HIT_COLUMNS = "c.id, c.document, c.title, c.section, c.text, c.collection, c.ordinal"


def _hit(row: Sequence[Any], score: float) -> Hit:
    chunk_id, document, title, section, text, collection, ordinal = row
    return Hit(int(chunk_id), document, title, section, text, collection, score, int(ordinal))


def _row(document: IndexedDocument) -> tuple[object, ...]:
    return (
        document.key,
        document.etag,
        document.title,
        document.collection,
        document.language,
        document.chunks,
    )

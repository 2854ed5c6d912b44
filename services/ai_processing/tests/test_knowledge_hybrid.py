"""Knowledge search as customers phrase it, on the demo knowledge base: typos and chat shorthand,
Spanish questions answered only by English documents (and the other way round), table rows found
with their headers, and hybrid BM25 + vector search with the offline embedder."""

from __future__ import annotations

import socket
from collections.abc import Sequence
from pathlib import Path

import pytest

from chalicelib.knowledge.chunking import chunk_document, table_rows
from chalicelib.knowledge.embeddings import WordLlamaEmbedder, load_wordllama
from chalicelib.knowledge.extract import extract
from chalicelib.knowledge.index import Hit, KnowledgeIndex, embedding_text
from chalicelib.knowledge.search import fuse, hybrid_search
from chalicelib.knowledge.vectors import VectorTable, to_blob
from parley.embeddings import Embedder, Purpose
from parley.errors import DependencyError

DEMO_KB = Path(__file__).resolve().parents[3] / "infra" / "local" / "demo" / "kb"


def build(directory: Path, embedder: Embedder | None = None) -> KnowledgeIndex:
    index = KnowledgeIndex(directory / "index.sqlite")
    for path in sorted(DEMO_KB.glob("*.md")):
        key = f"demo/{path.name}"
        chunks = chunk_document(key, extract(key, path.read_bytes()))
        if embedder is None:
            index.replace(key, "etag", chunks)
        else:
            vectors = embedder.embed([embedding_text(c) for c in chunks])
            index.replace(key, "etag", chunks, vectors, embedding_model=embedder.model)
    index.commit()
    return index


@pytest.fixture(scope="module")
def lexical(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeIndex:
    return build(tmp_path_factory.mktemp("lexical"))


@pytest.fixture(scope="module")
def hybrid(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeIndex:
    return build(tmp_path_factory.mktemp("hybrid"), WordLlamaEmbedder())


def found(
    index: KnowledgeIndex, question: str, k: int = 4, embedder: Embedder | None = None
) -> list[Hit]:
    return hybrid_search(index, question, k, embedder=embedder)


def documents(hits: Sequence[Hit]) -> list[str]:
    return [hit.document.removeprefix("demo/") for hit in hits]


CASUAL = [
    ("how much is tution for a yr?", "tuition-and-fees.md"),
    ("wen is the erly action deadlin", "deadlines-and-calendar.md"),
    ("is there a scolarship for intl students pls", "scholarships-and-aid.md"),
    ("r u open on saturdays for tourss", "campus-visits.md"),
    ("whats the tecnology fee", "tuition-and-fees.md"),
    ("hw do i get my i20", "international-students.md"),
]


@pytest.mark.parametrize(("question", "document"), CASUAL)
def test_typos_and_chat_shorthand_find_the_document(
    lexical: KnowledgeIndex, question: str, document: str
) -> None:
    assert documents(found(lexical, question))[:2].count(document) >= 1


def test_a_real_word_the_documents_do_not_use_is_not_corrected(lexical: KnowledgeIndex) -> None:
    words = lexical.analyse("how many credits can my parents talk about").words
    assert {"many", "talk", "parents"} <= set(words)
    assert lexical.analyse("how much is tution").words[-1] == "tuition"


SPANISH_ANSWERED_IN_ENGLISH = [
    # (question, the English document that answers it, a fact of the answer); the Spanish FAQ
    # says nothing about these.
    ("¿Cuánto cuesta una habitación individual en la residencia?", "tuition-and-fees.md", "6,900"),
    ("¿Hay un programa de enfermería?", "programs.md", "Nursing"),
    ("¿Necesito seguro médico?", "international-students.md", "Health"),
    ("cuantos creditos tiene ingenieria mecanica", "programs.md", "128"),
    ("¿Dónde estaciono cuando visito el campus?", "campus-visits.md", "Park"),
    # words only the curated glossary pairs with the English ones (no cognate, no FAQ answer)
    ("¿Cuánto es el recargo por pago atrasado?", "tuition-and-fees.md", "$75 late payment fee"),
    ("¿Cuánto cuesta el plan de comidas ilimitado?", "tuition-and-fees.md", "3,300"),
    ("¿Hay descuento si mi hermano también estudia ahí?", "tuition-and-fees.md", "$1,000"),
]


@pytest.mark.parametrize(("question", "document", "fact"), SPANISH_ANSWERED_IN_ENGLISH)
def test_a_spanish_question_finds_the_english_passage(
    lexical: KnowledgeIndex, question: str, document: str, fact: str
) -> None:
    hits = found(lexical, question)
    assert any(h.document == f"demo/{document}" and fact in h.text for h in hits), [
        (h.document, h.text[:60]) for h in hits
    ]


def test_an_english_question_finds_the_spanish_faq_when_only_it_answers(
    lexical: KnowledgeIndex,
) -> None:
    [best, *_] = found(lexical, "Do you have advisors who speak Spanish?")
    assert best.document == "demo/preguntas-frecuentes.md"
    assert "asesores bilingües" in best.text


def test_an_english_question_prefers_english_passages(lexical: KnowledgeIndex) -> None:
    for question in ("How much is tuition?", "Is there need-based financial aid?"):
        assert found(lexical, question)[0].document != "demo/preguntas-frecuentes.md"


def test_each_table_row_is_a_passage_with_its_headers_and_heading() -> None:
    data = (DEMO_KB / "programs.md").read_bytes()
    chunks = chunk_document("demo/programs.md", extract("demo/programs.md", data))
    nursing = next(c for c in chunks if "Program: Nursing" in c.text)
    assert nursing.section == "Undergraduate Programs"
    assert nursing.text == (
        "Undergraduate Programs — Program: Nursing; Degree: B.S.N.; Campus: Harborview; "
        "Modality: In person (with clinical placements); Credits: 128; Spring entry: No"
    )
    whole = [c for c in chunks if "Program | Degree | Campus" in c.text]
    assert len(whole) == 1  # the table is still there whole, for questions about all of it
    assert "Nursing | B.S.N. | Harborview" in whole[0].text
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))


def test_a_row_look_up_finds_the_row(lexical: KnowledgeIndex) -> None:
    [best, *_] = found(lexical, "how many credits is the nursing degree")
    assert "Program: Nursing" in best.text and "Credits: 128" in best.text
    [fee, *_] = found(lexical, "what is the engineering lab fee")
    assert "Fee: Engineering lab fee; Amount: $450" in fee.text


def test_rows_of_a_table_with_an_empty_cell_are_kept_as_they_are() -> None:
    text = "Term | Due | Note\nFall | Aug 10 | paid online\nSpring | Jan 8\nnot a table row"
    assert table_rows(text, "Bills") == [
        "Bills — Term: Fall; Due: Aug 10; Note: paid online",
        "Bills — Spring; Jan 8",  # a dropped cell: which column is empty is unknown
    ]
    assert table_rows("A sentence | with one bar.", "X") == []  # one line is no table


def hit(chunk_id: int) -> Hit:
    return Hit(chunk_id, f"d{chunk_id}", "t", "s", "text", "demo", score=0.0)


def test_reciprocal_rank_fusion_rewards_agreement() -> None:
    bm25, vectors = [hit(1), hit(2), hit(3)], [hit(3), hit(1), hit(4)]
    assert [h.chunk_id for h in fuse([bm25, vectors], 4)] == [1, 3, 2, 4]
    # 2 is second for both: it beats 1, first for one and absent from the other
    assert [h.chunk_id for h in fuse([[hit(1), hit(2)], [hit(5), hit(2)]], 1)] == [2]
    # a ranking weighted zero only breaks no ties: BM25's order stands
    assert [h.chunk_id for h in fuse([bm25, vectors], 4, weights=(1.0, 0.0))] == [1, 2, 3, 4]
    fused = fuse([bm25, vectors], 2, weights=(1.0, 0.5))
    assert fused[0].score == pytest.approx(1 / 61 + 0.5 / 62)


def test_hybrid_search_with_the_offline_embedder(hybrid: KnowledgeIndex) -> None:
    embedder = WordLlamaEmbedder()
    assert hybrid.embedding_model == "wordllama-l2_supercat-256"
    for question, document in [*CASUAL, ("Which graduate programs are online?", "programs.md")]:
        assert document in documents(found(hybrid, question, embedder=embedder))[:2], question
    for question, document, _ in SPANISH_ANSWERED_IN_ENGLISH:
        assert document in documents(found(hybrid, question, embedder=embedder)), question
    # similarity alone always finds a "nearest" passage: one sharing no word is not returned
    assert found(hybrid, "zxqv quetzalcoatl", embedder=embedder) == []


class Recording:
    """An embedder that records its calls and can fail like a dependency."""

    def __init__(self, model: str, fail: bool = False) -> None:
        self.model, self.fail, self.calls = model, fail, 0
        self.inner = WordLlamaEmbedder()

    def embed(self, texts: Sequence[str], *, purpose: Purpose = "document") -> list[list[float]]:
        self.calls += 1
        if self.fail:
            raise DependencyError("embedding service unreachable")
        return self.inner.embed(texts, purpose=purpose)


def test_vectors_of_another_model_are_never_compared(hybrid: KnowledgeIndex) -> None:
    other = Recording("another-model-1024")
    assert found(hybrid, "tuition", embedder=other) == found(hybrid, "tuition")
    assert other.calls == 0


def test_a_failing_embedder_leaves_bm25_answering(hybrid: KnowledgeIndex) -> None:
    failing = Recording(hybrid.embedding_model or "", fail=True)
    assert found(hybrid, "tuition", embedder=failing) == found(hybrid, "tuition")
    assert failing.calls == 1  # the question is embedded once per search


def test_the_offline_embedder_loads_from_its_wheel_without_network(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_network(*args: object, **kwargs: object) -> None:
        raise OSError("network is off in this test")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setenv("HOME", str(tmp_path))  # where a download would be cached
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    model = load_wordllama("l2_supercat", 256)
    [vector] = model.embed(["tuition and fees"], norm=True)
    assert len(vector) == 256
    assert sum(x * x for x in vector) == pytest.approx(1.0, abs=1e-4)
    assert list(tmp_path.iterdir()) == []  # nothing was fetched or cached


def test_vector_search_without_numpy_ranks_like_with_it() -> None:
    rows = [
        (i, "demo" if i % 2 else "other", to_blob([1.0, i / 10, (i % 3) / 5]) or b"")
        for i in range(1, 12)
    ]
    query = [0.9, 0.4, 0.1]
    fast = VectorTable(rows).nearest(query, 5)
    plain = VectorTable(rows, use_numpy=False).nearest(query, 5)
    assert [i for i, _ in fast] == [i for i, _ in plain]
    assert [s for _, s in fast] == pytest.approx([s for _, s in plain], abs=1e-5)
    only_demo = VectorTable(rows, use_numpy=False).nearest(query, 5, collections=["demo"])
    assert all(i % 2 for i, _ in only_demo)
    among = VectorTable(rows).nearest(query, 5, among=[2, 3])
    assert sorted(i for i, _ in among) == [2, 3]

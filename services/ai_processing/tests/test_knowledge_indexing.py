"""Knowledge base against the real local AWS (moto): bucket notifications on the kb-events queue
drive `index_knowledge_base` through the Chalice app, and the retriever searches what it built."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from chalice.test import Client
from test_knowledge_support import (
    HTML,
    KB_BUCKET,
    KB_DLQ,
    KB_QUEUE,
    Clock,
    docx_bytes,
    drain,
    empty_bucket,
    lambda_records,
    pdf_bytes,
    queue_url,
    receive,
    s3,
    sqs,
    xlsx_bytes,
)

from infra.local.pytest_fixtures import moto_endpoint, redis_url  # noqa: F401 - fixtures
from infra.local.service_contract import Service, client, provisioned, service  # noqa: F401

DEMO_KB = Path(__file__).resolve().parents[3] / "infra" / "local" / "demo" / "kb"


@pytest.fixture
def kb(
    service: Service,  # noqa: F811 - the imported fixture
    client: Client,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[KnowledgeBase]:
    from chalicelib.wiring import runtime

    monkeypatch.setenv("KB_CACHE_DIR", str(tmp_path / "kb-cache"))
    monkeypatch.setenv("KB_RELOAD_SECONDS", "0")
    runtime.reset()
    empty_bucket()
    drain(KB_QUEUE)
    drain(KB_DLQ)
    yield KnowledgeBase(client, runtime)
    runtime.reset()


class KnowledgeBase:
    """The bucket, the queue and the handler, as the tests drive them."""

    def __init__(self, client: Client, runtime: Any) -> None:  # noqa: F811
        self.client = client
        self.runtime = runtime

    def put(self, key: str, data: bytes) -> None:
        s3().put_object(Bucket=KB_BUCKET, Key=key, Body=data)

    def delete(self, key: str) -> None:
        s3().delete_object(Bucket=KB_BUCKET, Key=key)

    def deliver(self, expected: int | None = None) -> dict[str, Any]:
        """Receive what the bucket notified on kb-events and invoke the handler with it."""
        messages = receive(KB_QUEUE)
        if expected is not None:  # (the index's own objects notify too; the handler skips them)
            about_documents = [m for m in messages if "index%2F" not in m["Body"]]
            assert len(about_documents) == expected, [m["Body"][-200:] for m in messages]
        result = self.client.lambda_.invoke("index_knowledge_base", lambda_records(messages))
        payload: dict[str, Any] = result.payload
        return payload

    def manifest(self) -> dict[str, Any]:
        body = s3().get_object(Bucket=KB_BUCKET, Key="index/current.json")["Body"].read()
        manifest: dict[str, Any] = json.loads(body)
        return manifest

    def documents(self) -> list[str]:
        return [d["key"] for d in self.manifest()["documents"]]

    def search(self, query: str, k: int = 3, **kwargs: Any) -> list[str]:
        return [p.document for p in self.runtime.retriever.search(query, k=k, **kwargs)]


def removal_event(key: str) -> str:
    """What S3 sends for a delete on a versioned bucket (moto sends nothing for it)."""
    from urllib.parse import quote_plus

    record = {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "eventName": "ObjectRemoved:DeleteMarkerCreated",
        "s3": {"bucket": {"name": KB_BUCKET}, "object": {"key": quote_plus(key, safe="")}},
    }
    return json.dumps({"Records": [record]})


def test_an_upload_of_every_type_is_indexed_through_kb_events_and_found(kb: KnowledgeBase) -> None:
    files = {
        "guides/guía de becas.md": b"# Becas\n\nLa beca Quetzal cubre el alojamiento.",
        "guides/notes.txt": b"The ferry to the island campus leaves from pier 9.",
        "web/parking.html": HTML,
        "fees/extras.csv": b"item,price\nkayak rental,45\n",
        "fees/sheet.xlsx": xlsx_bytes({"Fees": [["Item", "Cost"], ["Observatory pass", 30]]}),
        "guides/library.docx": docx_bytes(
            "Library", {"Hours": ["The archive reading room opens at noon."]}, [["a", "b"]]
        ),
        "guides/shuttle.pdf": pdf_bytes(["The gondola shuttle runs every 20 minutes."], "Shuttle"),
    }
    for key, data in files.items():
        kb.put(key, data)

    assert kb.deliver(expected=len(files)) == {"batchItemFailures": []}

    manifest = kb.manifest()
    assert sorted(kb.documents()) == sorted(files)
    assert manifest["errors"] == []
    assert s3().head_object(Bucket=KB_BUCKET, Key=manifest["index_key"])["ContentLength"] > 0
    assert kb.search("Quetzal beca") == ["guides/guía de becas.md"]
    assert kb.search("ferry pier")[:1] == ["guides/notes.txt"]
    assert kb.search("zebrapermit")[:1] == ["web/parking.html"]
    assert kb.search("scriptword") == []  # scripts are not text
    assert kb.search("kayak")[:1] == ["fees/extras.csv"]
    assert kb.search("observatory")[:1] == ["fees/sheet.xlsx"]
    assert kb.search("archive reading room")[:1] == ["guides/library.docx"]
    assert kb.search("gondola")[:1] == ["guides/shuttle.pdf"]
    [passage] = kb.runtime.retriever.search("gondola", k=1)
    assert (passage.title, passage.section, passage.collection) == ("Shuttle", "Page 1", "guides")


def test_the_demo_knowledge_base_answers_english_and_spanish_questions(kb: KnowledgeBase) -> None:
    for document in sorted(DEMO_KB.glob("*.md")):
        kb.put(f"demo/{document.name}", document.read_bytes())
    assert kb.deliver(expected=8) == {"batchItemFailures": []}

    assert kb.search("When is the fall application deadline?")[0] == (
        "demo/deadlines-and-calendar.md"
    )
    [best] = kb.runtime.retriever.search("¿Cuánto cuesta la matrícula?", k=1)
    assert best.document in ("demo/tuition-and-fees.md", "demo/preguntas-frecuentes.md")
    assert "$18,900" in best.text
    assert best.collection == "demo"
    assert kb.search("tuition", collections=["other"]) == []


def test_a_broken_file_is_reported_with_its_reason_and_the_rest_indexed(kb: KnowledgeBase) -> None:
    kb.put("demo/good.md", b"# Good\n\nThe marimba ensemble rehearses on Fridays.")
    kb.put("demo/broken.pdf", b"%PDF-1.4 this is not really a PDF")
    kb.put("demo/logo.png", b"\x89PNG\r\n")

    assert kb.deliver(expected=3) == {"batchItemFailures": []}  # nothing to retry

    manifest = kb.manifest()
    assert kb.documents() == ["demo/good.md"]
    errors = {e["key"]: e["reason"] for e in manifest["errors"]}
    assert "cannot read the PDF file" in errors["demo/broken.pdf"]
    assert errors["demo/logo.png"] == "unsupported file type .png"
    assert kb.search("marimba") == ["demo/good.md"]

    # a broken file is not retried until it changes; fixed, it is indexed and its error goes
    assert kb.runtime.kb_indexer().sync().published is False
    kb.put("demo/broken.pdf", pdf_bytes(["Now the oboe studio schedule is readable."]))
    assert kb.deliver(expected=1) == {"batchItemFailures": []}
    assert [e["key"] for e in kb.manifest()["errors"]] == ["demo/logo.png"]
    assert kb.search("oboe studio") == ["demo/broken.pdf"]


def test_a_removal_event_removes_the_document(kb: KnowledgeBase) -> None:
    kb.put("demo/a.md", b"# A\n\nThe harpsichord room is on floor two.")
    kb.put("demo/b.md", b"# B\n\nThe climbing wall opens at dawn.")
    kb.deliver(expected=2)
    assert kb.search("harpsichord") == ["demo/a.md"]

    kb.delete("demo/a.md")
    sqs().send_message(QueueUrl=queue_url(KB_QUEUE), MessageBody=removal_event("demo/a.md"))
    assert kb.deliver(expected=1) == {"batchItemFailures": []}

    assert kb.documents() == ["demo/b.md"]
    assert kb.search("harpsichord") == []
    assert kb.search("climbing wall") == ["demo/b.md"]


def test_a_deletion_without_notification_is_reconciled_on_the_next_run(kb: KnowledgeBase) -> None:
    kb.put("demo/a.md", b"# A\n\nThe harpsichord room is on floor two.")
    kb.put("demo/b.md", b"# B\n\nThe climbing wall opens at dawn.")
    kb.deliver(expected=2)

    kb.delete("demo/a.md")  # a versioned bucket: moto sends no removal notification
    kb.put("demo/c.md", b"# C\n\nThe planetarium shows start at eight.")
    kb.deliver(expected=1)

    assert kb.documents() == ["demo/b.md", "demo/c.md"]
    assert kb.search("harpsichord") == []


def test_only_changed_documents_are_extracted_again(kb: KnowledgeBase) -> None:
    kb.put("demo/a.md", b"# A\n\nThe harpsichord room is on floor two.")
    kb.put("demo/b.md", b"# B\n\nThe climbing wall opens at dawn.")
    kb.deliver(expected=2)
    before = {d["key"]: d["etag"] for d in kb.manifest()["documents"]}

    kb.put("demo/a.md", b"# A\n\nThe harpsichord moved to the bell tower.")
    result = kb.runtime.kb_indexer().sync()

    assert (result.published, result.indexed, result.removed) == (True, ["demo/a.md"], [])
    after = {d["key"]: d["etag"] for d in kb.manifest()["documents"]}
    assert after["demo/b.md"] == before["demo/b.md"] and after["demo/a.md"] != before["demo/a.md"]
    assert kb.search("bell tower") == ["demo/a.md"]
    assert kb.search("floor two") == []


def test_a_running_retriever_reloads_after_a_new_version(kb: KnowledgeBase, tmp_path: Path) -> None:
    from chalicelib.knowledge import IndexCache, SqliteFtsRetriever

    kb.put("demo/a.md", b"# A\n\nThe harpsichord room is on floor two.")
    kb.deliver(expected=1)
    clock = Clock()
    other_container = SqliteFtsRetriever(
        kb.runtime.kb_store, IndexCache(tmp_path / "other"), reload_seconds=60, clock=clock
    )
    assert [p.document for p in other_container.search("harpsichord")] == ["demo/a.md"]
    first = other_container.version

    kb.put("demo/b.md", b"# B\n\nThe climbing wall opens at dawn.")
    kb.deliver(expected=1)
    assert other_container.search("climbing wall") == []  # checked less than 60 s ago
    clock.now += 61

    assert [p.document for p in other_container.search("climbing wall")] == ["demo/b.md"]
    assert other_container.version == kb.manifest()["version"] != first


def test_test_events_and_index_objects_start_no_run_and_bad_messages_are_parked(
    kb: KnowledgeBase,
) -> None:
    url = queue_url(KB_QUEUE)
    sqs().send_message(QueueUrl=url, MessageBody=json.dumps({"Event": "s3:TestEvent"}))
    sqs().send_message(QueueUrl=url, MessageBody=removal_event("index/old.sqlite"))
    sqs().send_message(QueueUrl=url, MessageBody="{not json")

    assert kb.deliver() == {"batchItemFailures": []}

    assert "Contents" not in s3().list_objects_v2(Bucket=KB_BUCKET, Prefix="index/")
    [parked] = receive(KB_DLQ)
    assert parked["Body"] == "{not json"
    assert parked["MessageAttributes"]["failure_code"]["StringValue"] == "invalid_input"


def test_runs_that_race_both_land_and_the_loser_is_redone(
    kb: KnowledgeBase, tmp_path: Path
) -> None:
    from chalicelib.knowledge import IndexCache, KnowledgeBaseIndexer, S3IndexStore

    kb.put("demo/a.md", b"# A\n\nThe harpsichord room is on floor two.")

    class RacedStore(S3IndexStore):
        """Another run uploads and publishes while this one is listing the bucket."""

        raced = False

        def documents(self) -> Any:
            if not self.raced:
                self.raced = True
                kb.put("demo/b.md", b"# B\n\nThe climbing wall opens at dawn.")
                KnowledgeBaseIndexer(S3IndexStore(KB_BUCKET), IndexCache(tmp_path / "c2")).sync()
            return super().documents()

    loser = KnowledgeBaseIndexer(RacedStore(KB_BUCKET), IndexCache(tmp_path / "c1"))
    result = loser.sync()

    assert result.published is False  # redone on top of the winner's version: nothing left to do
    assert result.version == kb.manifest()["version"]
    assert kb.documents() == ["demo/a.md", "demo/b.md"]
    index_objects = s3().list_objects_v2(Bucket=KB_BUCKET, Prefix="index/")["Contents"]
    assert sorted(o["Key"] for o in index_objects) == sorted(
        ["index/current.json", kb.manifest()["index_key"]]
    )


def test_a_failed_run_is_retried(kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch) -> None:
    kb.put("demo/a.md", b"# A\n\nThe harpsichord room is on floor two.")
    monkeypatch.setenv("KB_BUCKET", "parley-local-no-such-bucket")
    kb.runtime.reset()

    from parley.errors import BatchIncomplete

    with pytest.raises(BatchIncomplete) as incomplete:
        kb.deliver(expected=1)

    assert len(incomplete.value.failed_ids) == 1


class WordsEmbedder:
    """A stand-in embedding provider: a vector of word counts over a fixed vocabulary."""

    model = "test-words-v1"
    vocabulary = ("music", "sport", "harpsichord", "climbing", "instrument", "wall")

    def __init__(self) -> None:
        self.calls: list[str] = []

    def embed(self, texts: Any, *, purpose: str = "document") -> list[list[float]]:
        self.calls.append(purpose)
        return [[float(text.lower().count(word)) for word in self.vocabulary] for text in texts]


def test_vectors_are_built_with_the_configured_embedder_and_used_by_the_retriever(
    kb: KnowledgeBase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.knowledge import IndexCache, KnowledgeBaseIndexer, SqliteFtsRetriever

    monkeypatch.setenv("EMBEDDER", "none")
    kb.runtime.reset()
    kb.put("demo/a.md", b"# A\n\nThe harpsichord room: music, music, instrument practice.")
    kb.put("demo/b.md", b"# B\n\nThe climbing wall: sport, and the harpsichord poster.")
    kb.deliver(expected=2)
    assert kb.manifest()["embedding_model"] is None  # EMBEDDER=none: BM25 alone

    embedder = WordsEmbedder()
    cache = IndexCache(tmp_path / "embedded")
    result = KnowledgeBaseIndexer(kb.runtime.kb_store, cache, embedder=embedder).sync()

    assert sorted(result.indexed) == ["demo/a.md", "demo/b.md"]  # another model: rebuilt
    assert kb.manifest()["embedding_model"] == "test-words-v1"
    retriever = SqliteFtsRetriever(kb.runtime.kb_store, cache, embedder=embedder)
    ranked = [p.document for p in retriever.search("harpsichord sport climbing wall", k=2)]
    assert ranked == ["demo/b.md", "demo/a.md"]
    # once per document, once for the question
    assert embedder.calls == ["document", "document", "query"]


def test_the_offline_embedder_indexes_vectors_for_hybrid_search(
    kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch
) -> None:
    """EMBEDDER=wordllama (offline; the local stage runs BM25 alone by default): vectors of the
    demo knowledge base, and a hybrid search that still puts the right document first."""
    monkeypatch.setenv("EMBEDDER", "wordllama")
    kb.runtime.reset()
    assert kb.runtime.settings.embedder == "wordllama"  # loaded now, before the handler runs
    for document in sorted(DEMO_KB.glob("*.md")):
        kb.put(f"demo/{document.name}", document.read_bytes())
    assert kb.deliver(expected=8) == {"batchItemFailures": []}

    assert kb.manifest()["embedding_model"] == "wordllama-l2_supercat-256"
    [best] = kb.runtime.retriever.search("how much is tution for a yr?", k=1)
    assert best.document == "demo/tuition-and-fees.md"

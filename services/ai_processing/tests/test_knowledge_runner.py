"""`make run` loads the demo knowledge base: devstack uploads infra/local/demo/kb/*.md under `demo/`
before the services start, and the Lambda-like runner drives `index_knowledge_base` from the
kb-events queue. Here the same happens in-process against the provisioned emulator."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from test_knowledge_support import KB_BUCKET, KB_QUEUE, drain, empty_bucket, s3, wait_for

from infra.local.pytest_fixtures import moto_endpoint, redis_url  # noqa: F401 - fixtures
from infra.local.runner import RunnerOptions, ServiceRunner
from infra.local.service_contract import Service, provisioned, service  # noqa: F401

DEMO_KB = Path(__file__).resolve().parents[3] / "infra" / "local" / "demo" / "kb"


class Lines(io.StringIO):
    """The runner's JSON log (kept quiet)."""


def manifest() -> dict[str, Any] | None:
    try:
        body = s3().get_object(Bucket=KB_BUCKET, Key="index/current.json")["Body"].read()
    except s3().exceptions.NoSuchKey:
        return None
    data: dict[str, Any] = json.loads(body)
    return data


@pytest.mark.slow
def test_the_runner_indexes_the_demo_knowledge_base_uploaded_before_it_starts(
    service: Service,  # noqa: F811 - the imported fixture
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    empty_bucket()
    drain(KB_QUEUE)
    demo = sorted(DEMO_KB.glob("*.md"))
    for document in demo:  # as infra/local/devstack.py does
        s3().upload_file(
            str(document),
            KB_BUCKET,
            f"demo/{document.name}",
            ExtraArgs={"ContentType": "text/markdown"},
        )
    monkeypatch.setenv("KB_CACHE_DIR", str(tmp_path / "runner-cache"))
    options = RunnerOptions(poll_wait_seconds=1, stop_grace_seconds=10)

    saved = {n: m for n, m in sys.modules.items() if n.split(".")[0] in ("app", "chalicelib")}
    try:
        with ServiceRunner(service.directory, "local", None, options, log_stream=Lines()):
            built = wait_for(lambda: (m := manifest()) and len(m["documents"]) == len(demo) and m)
    finally:
        # The runner re-imports the app; give later tests back the modules they imported.
        for name in [n for n in sys.modules if n.split(".")[0] in ("app", "chalicelib")]:
            del sys.modules[name]
        sys.modules.update(saved)

    assert built["errors"] == []
    assert sorted(d["key"] for d in built["documents"]) == [f"demo/{d.name}" for d in demo]
    from chalicelib.knowledge import IndexCache, S3IndexStore, SqliteFtsRetriever

    retriever = SqliteFtsRetriever(S3IndexStore(KB_BUCKET), IndexCache(tmp_path / "agent"))
    [english] = retriever.search("When is the fall application deadline?", k=1)
    [spanish] = retriever.search("¿Cuánto cuesta la matrícula?", k=1)
    assert english.document == "demo/deadlines-and-calendar.md"
    assert spanish.document in ("demo/tuition-and-fees.md", "demo/preguntas-frecuentes.md")

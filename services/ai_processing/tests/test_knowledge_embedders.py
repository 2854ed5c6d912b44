"""Embedders: Bedrock request and response shapes checked by botocore's Stubber against the
bedrock-runtime service model (Titan Text Embeddings v2, Cohere Embed multilingual v3), errors in
the error tree, one contract for both adapters, and the choice by settings."""

from __future__ import annotations

import io
import json
import math
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

from chalicelib.knowledge import BedrockEmbedder, WordLlamaEmbedder
from chalicelib.knowledge.embeddings import COHERE_MULTILINGUAL, TITAN_V2
from parley.embeddings import Embedder
from parley.errors import ConfigurationError, DependencyError, PermanentDependencyError, Throttled


@pytest.fixture
def stubbed() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client(
        "bedrock-runtime",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def body(payload: dict[str, Any]) -> StreamingBody:
    data = json.dumps(payload).encode()
    return StreamingBody(io.BytesIO(data), len(data))


def expect(stubber: Stubber, model: str, request: dict[str, Any], response: dict[str, Any]) -> None:
    stubber.add_response(
        "invoke_model",
        {"body": body(response), "contentType": "application/json"},
        {
            "modelId": model,
            "body": json.dumps(request).encode(),
            "contentType": "application/json",
            "accept": "application/json",
        },
    )


def test_titan_embeds_each_text_with_its_dimensions_normalised(stubbed: Any) -> None:
    client, stubber = stubbed
    for text, vector in [("tuition", [0.6, 0.8]), ("becas", [1.0, 0.0])]:
        request = {"inputText": text, "dimensions": 512, "normalize": True}
        expect(stubber, TITAN_V2, request, {"embedding": vector, "inputTextTokenCount": 2})
    embedder = BedrockEmbedder(TITAN_V2, dimensions=512, workers=1, client=client)

    assert embedder.embed(["tuition", "becas"]) == [[0.6, 0.8], [1.0, 0.0]]
    assert embedder.model == "bedrock-amazon.titan-embed-text-v2:0-512"


def test_cohere_embeds_questions_and_passages_differently_in_batches(stubbed: Any) -> None:
    client, stubber = stubbed
    passages = [f"passage {n}" for n in range(100)]
    for batch in (passages[:96], passages[96:]):
        request = {"texts": batch, "input_type": "search_document", "truncate": "END"}
        response = {"embeddings": [[0.1, 0.2]] * len(batch), "id": "r1", "texts": batch}
        expect(stubber, COHERE_MULTILINGUAL, request, response)
    question = {"texts": ["¿hay becas?"], "input_type": "search_query", "truncate": "END"}
    expect(stubber, COHERE_MULTILINGUAL, question, {"embeddings": [[0.3, 0.4]], "id": "r2"})
    embedder = BedrockEmbedder(COHERE_MULTILINGUAL, client=client)

    assert len(embedder.embed(passages)) == 100
    assert embedder.embed(["¿hay becas?"], purpose="query") == [[0.3, 0.4]]
    assert embedder.model == "bedrock-cohere.embed-multilingual-v3"  # its size is fixed


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("ThrottlingException", Throttled),
        ("ValidationException", PermanentDependencyError),
        ("AccessDeniedException", PermanentDependencyError),
        ("ModelTimeoutException", DependencyError),
    ],
)
def test_bedrock_errors_are_mapped_to_the_error_tree(
    stubbed: Any, code: str, error: type[DependencyError]
) -> None:
    client, stubber = stubbed
    stubber.add_client_error("invoke_model", service_error_code=code, http_status_code=400)
    with pytest.raises(error) as raised:
        BedrockEmbedder(TITAN_V2, client=client).embed(["tuition"], purpose="query")
    assert type(raised.value) is error
    assert code in str(raised.value)


def contract(embedder: Embedder) -> None:
    """What the index needs of any embedder: one vector per text, in order, of one size."""
    assert isinstance(embedder, Embedder)
    assert embedder.model
    vectors = embedder.embed(["tuition and fees", "becas para estudiantes", ""])
    assert len(vectors) == 3 and len({len(v) for v in vectors}) == 1
    assert all(isinstance(x, float) and math.isfinite(x) for v in vectors for x in v)
    assert embedder.embed([]) == []


def test_the_offline_embedder_keeps_the_contract() -> None:
    contract(WordLlamaEmbedder())
    [a, b] = WordLlamaEmbedder().embed(["tuition fees", "tuition costs"], purpose="query")
    assert len(a) == 256 and sum(x * y for x, y in zip(a, b, strict=True)) > 0.5


def test_the_bedrock_embedder_keeps_the_contract(stubbed: Any) -> None:
    client, stubber = stubbed
    for text in ("tuition and fees", "becas para estudiantes", " "):  # an empty text is sent as " "
        request = {"inputText": text, "dimensions": 256, "normalize": True}
        expect(stubber, TITAN_V2, request, {"embedding": [0.5] * 256, "inputTextTokenCount": 3})
    contract(BedrockEmbedder(TITAN_V2, workers=1, client=client))


def settings_env(monkeypatch: pytest.MonkeyPatch, **extra: str) -> None:
    base = {
        "PARLEY_STAGE": "test",
        "EVENTS_TOPIC": "t",
        "IDEMPOTENCY_TABLE": "t",
        "PAYLOADS_BUCKET": "b",
        "TURNS_QUEUE": "q",
        "OUTBOUND_QUEUE": "q",
        "KB_EVENTS_QUEUE": "q",
        "KB_BUCKET": "kb",
    }
    for name in ("EMBEDDER", "BEDROCK_EMBEDDING_MODEL", "BEDROCK_EMBEDDING_DIMENSIONS"):
        monkeypatch.delenv(name, raising=False)
    for key, value in {**base, **extra}.items():
        monkeypatch.setenv(key, value)


def test_the_embedder_is_chosen_by_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.knowledge import SqliteFtsRetriever
    from chalicelib.wiring import runtime

    settings_env(monkeypatch)
    runtime.reset()
    assert runtime.embedder is None  # BM25 alone unless a stage says otherwise

    settings_env(monkeypatch, EMBEDDER="wordllama")
    runtime.reset()
    assert isinstance(runtime.embedder, WordLlamaEmbedder)
    retriever = runtime.retriever
    assert isinstance(retriever, SqliteFtsRetriever) and retriever.embedder is runtime.embedder
    assert runtime.kb_indexer().embedder is runtime.embedder

    settings_env(
        monkeypatch,
        EMBEDDER="bedrock",
        BEDROCK_EMBEDDING_MODEL=COHERE_MULTILINGUAL,
        BEDROCK_EMBEDDING_DIMENSIONS="1024",
    )
    runtime.reset()
    embedder = runtime.embedder
    assert isinstance(embedder, BedrockEmbedder)
    assert (embedder.model_id, embedder.cohere) == (COHERE_MULTILINGUAL, True)
    runtime.reset()


def test_a_titan_size_it_cannot_make_stops_the_service(monkeypatch: pytest.MonkeyPatch) -> None:
    from parley.settings import AiProcessingSettings, load_settings

    settings_env(monkeypatch, EMBEDDER="bedrock", BEDROCK_EMBEDDING_DIMENSIONS="300")
    with pytest.raises(ConfigurationError, match="BEDROCK_EMBEDDING_DIMENSIONS"):
        load_settings(AiProcessingSettings)


def test_the_stages_choose_their_embedders() -> None:
    from pathlib import Path

    config = json.loads(
        (Path(__file__).resolve().parents[1] / ".chalice" / "config.json").read_text()
    )
    chosen = {
        name: s["environment_variables"].get("EMBEDDER") for name, s in config["stages"].items()
    }
    # Locally BM25 alone: it answered more of the answer-quality set than with wordllama (README).
    assert chosen == {"local": "none", "dev": "bedrock", "prod": "bedrock"}

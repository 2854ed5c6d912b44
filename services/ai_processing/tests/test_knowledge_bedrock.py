"""Bedrock Knowledge Base retrieval: request shapes checked by botocore's Stubber against the
service model, results as passages, errors in the error tree; the retriever chosen by settings."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from chalicelib.knowledge import BedrockKnowledgeBaseRetriever
from parley.errors import ConfigurationError, DependencyError, PermanentDependencyError, Throttled
from parley.retrieval import Passage, Retriever

KB_ID = "KBDEMO1234"


@pytest.fixture
def stubbed() -> Iterator[tuple[BedrockKnowledgeBaseRetriever, Stubber]]:
    client = boto3.client(
        "bedrock-agent-runtime",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    with Stubber(client) as stubber:
        yield BedrockKnowledgeBaseRetriever(KB_ID, client=client), stubber
        stubber.assert_no_pending_responses()


def result(uri: str, text: str, score: float, **metadata: Any) -> dict[str, Any]:
    return {
        "content": {"text": text, "type": "TEXT"},
        "location": {"type": "S3", "s3Location": {"uri": uri}},
        "score": score,
        "metadata": {"x-amz-bedrock-kb-source-uri": uri, **metadata},
    }


def test_retrieve_request_shape_and_results_as_passages(stubbed: Any) -> None:
    retriever, stubber = stubbed
    stubber.add_response(
        "retrieve",
        {
            "retrievalResults": [
                result(
                    "s3://parley-prod-knowledge-base/demo/tuition-and-fees.md",
                    "Undergraduate, full-time: $18,900 per semester",
                    0.82,
                ),
                result(
                    "s3://parley-prod-knowledge-base/demo/guide.pdf",
                    "Page text",
                    0.4,
                    **{"x-amz-bedrock-kb-document-page-number": 3.0, "collection": "guides"},
                ),
            ]
        },
        expected_params={
            "knowledgeBaseId": KB_ID,
            "retrievalQuery": {"text": "How much is tuition?"},
            "retrievalConfiguration": {"vectorSearchConfiguration": {"numberOfResults": 4}},
        },
    )

    passages = retriever.search("How much is tuition?", k=4)

    assert isinstance(retriever, Retriever)
    assert passages == [
        Passage(
            document="demo/tuition-and-fees.md",
            text="Undergraduate, full-time: $18,900 per semester",
            score=0.82,
            collection="demo",
        ),
        Passage(
            document="demo/guide.pdf",
            section="Page 3",
            text="Page text",
            score=0.4,
            collection="guides",
        ),
    ]


@pytest.mark.parametrize(
    ("collections", "expected_filter"),
    [
        (["demo"], {"equals": {"key": "collection", "value": "demo"}}),
        (["demo", "fees"], {"in": {"key": "collection", "value": ["demo", "fees"]}}),
    ],
)
def test_collections_become_a_metadata_filter(
    stubbed: Any, collections: list[str], expected_filter: dict[str, Any]
) -> None:
    retriever, stubber = stubbed
    stubber.add_response(
        "retrieve",
        {"retrievalResults": []},
        expected_params={
            "knowledgeBaseId": KB_ID,
            "retrievalQuery": {"text": "fees"},
            "retrievalConfiguration": {
                "vectorSearchConfiguration": {"numberOfResults": 2, "filter": expected_filter}
            },
        },
    )
    assert retriever.search("fees", k=2, collections=collections) == []


@pytest.mark.parametrize(
    ("code", "error", "retryable"),
    [
        ("ThrottlingException", Throttled, True),
        ("ValidationException", PermanentDependencyError, False),
        ("ResourceNotFoundException", PermanentDependencyError, False),
        ("InternalServerException", DependencyError, True),
    ],
)
def test_errors_are_mapped_to_the_error_tree(
    stubbed: Any, code: str, error: type[Exception], retryable: bool
) -> None:
    retriever, stubber = stubbed
    stubber.add_client_error("retrieve", service_error_code=code, http_status_code=400)
    with pytest.raises(error) as caught:
        retriever.search("anything")
    assert type(caught.value) is error
    assert getattr(caught.value, "retryable", None) is retryable


def test_an_empty_query_asks_nothing(stubbed: Any) -> None:
    retriever, _ = stubbed
    assert retriever.search("   ") == []


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
    for key, value in {**base, **extra}.items():
        monkeypatch.setenv(key, value)


def test_the_retriever_is_chosen_by_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.knowledge import SqliteFtsRetriever
    from chalicelib.wiring import runtime

    settings_env(monkeypatch)
    monkeypatch.delenv("RETRIEVER", raising=False)
    runtime.reset()
    assert isinstance(runtime.retriever, SqliteFtsRetriever)

    settings_env(monkeypatch, RETRIEVER="bedrock", BEDROCK_KNOWLEDGE_BASE_ID=KB_ID)
    runtime.reset()
    retriever = runtime.retriever
    assert isinstance(retriever, BedrockKnowledgeBaseRetriever)
    assert retriever.knowledge_base_id == KB_ID
    runtime.reset()


def test_bedrock_without_a_knowledge_base_id_stops_the_service(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from parley.settings import AiProcessingSettings, load_settings

    settings_env(monkeypatch, RETRIEVER="bedrock")
    monkeypatch.delenv("BEDROCK_KNOWLEDGE_BASE_ID", raising=False)
    with pytest.raises(
        ConfigurationError, match=r"BEDROCK_KNOWLEDGE_BASE_ID \(.*RETRIEVER=bedrock"
    ):
        load_settings(AiProcessingSettings)

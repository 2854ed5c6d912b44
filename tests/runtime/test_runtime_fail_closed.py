"""A record that fails is seen again (retry, then the DLQ), with or without partial batch responses.

The handlers of the `parley` test app go through parley's real `process_sqs_batch` and
`process_sns_event`; the runner runs their queue with and without `ReportBatchItemFailures`, the
two states an event source mapping can be in (`chalice deploy` creates it without the flag).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from runtime_support import Aws, RunService, wait_until

PARTIAL = pytest.mark.parametrize(
    "partial", [True, False], ids=["with-partial-batch-responses", "without"]
)
IGNORED = (
    "batchItemFailures ignored: the event source does not report batch item failures, "
    "so the whole batch is deleted"
)


def _send(aws: Aws, url: str, bodies: list[dict[str, Any]], fifo: bool = False) -> None:
    entries = []
    for index, body in enumerate(bodies):
        entry: dict[str, Any] = {"Id": str(index), "MessageBody": json.dumps(body)}
        if fifo:
            entry.update(MessageGroupId=body["group"], MessageDeduplicationId=body["id"])
        entries.append(entry)
    aws.sqs.send_message_batch(QueueUrl=url, Entries=entries)


def _by_id(messages: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {json.loads(m["Body"])["id"]: m for m in messages}


@PARTIAL
def test_failed_record_is_retried_then_dead_lettered_and_successes_run_once(
    aws: Aws, run_service: RunService, unique: str, partial: bool
) -> None:
    name = f"{unique}-jobs"
    url, dlq_url = aws.queue(name, visibility=1, max_receive=3)
    _send(
        aws,
        url,
        [
            {"id": "ok1"},
            {"id": "flaky", "fail_times": 1},
            {"id": "ok2"},
            {"id": "poison", "fail_times": 99},
            {"id": "invalid", "invalid": True},
        ],
    )
    runner, logs = run_service(
        "parley", {"RT_PARLEY_QUEUE": name}, pollers=1, report_batch_item_failures=partial
    )
    state = runner.module.STATE  # type: ignore[union-attr]

    wait_until(lambda: aws.counts(dlq_url)[0] == 2, 30, "the poison and invalid records in the DLQ")
    wait_until(lambda: aws.counts(url) == (0, 0), 10, "the queue to be empty")

    assert sorted(state.batches[0]) == ["flaky", "invalid", "ok1", "ok2", "poison"]
    assert dict(state.successes) == {"ok1": 1, "ok2": 1, "flaky": 1}
    assert dict(state.attempts) == {"ok1": 1, "ok2": 1, "flaky": 2, "poison": 3, "invalid": 1}
    dead = _by_id(aws.drain(dlq_url))
    assert set(dead) == {"poison", "invalid"}
    # a permanent error is parked at once, with its reason; a retryable one by SQS's redrive
    parked = dead["invalid"]["MessageAttributes"]
    assert parked["failure_code"]["StringValue"] == "invalid_input"
    assert parked["failure_reason"]["StringValue"] == "invalid can never be processed"
    assert parked["source_queue"]["StringValue"] == aws.arn(url)
    assert "MessageAttributes" not in dead["poison"]
    (started,) = logs.records("event source started")
    assert started["batch_item_failures"] is partial
    assert not logs.records(IGNORED)


@PARTIAL
def test_fifo_failed_head_and_the_followers_it_held_come_back_in_order(
    aws: Aws, run_service: RunService, unique: str, partial: bool
) -> None:
    name = f"{unique}-jobs.fifo"
    url, dlq_url = aws.queue(name, visibility=1, max_receive=5)
    _send(
        aws,
        url,
        [
            {"id": "a0", "group": "a", "fail_times": 1},
            {"id": "b0", "group": "b"},
            {"id": "a1", "group": "a"},
            {"id": "b1", "group": "b"},
            {"id": "a2", "group": "a"},
        ],
        fifo=True,
    )
    runner, logs = run_service(
        "parley", {"RT_PARLEY_FIFO_QUEUE": name}, pollers=1, report_batch_item_failures=partial
    )
    state = runner.module.STATE  # type: ignore[union-attr]

    wait_until(lambda: len(state.successes) == 5, 20, "every message to be processed")
    wait_until(lambda: aws.counts(url) == (0, 0), 10, "the queue to be empty")

    assert {"a0", "a1"} <= set(state.batches[0]), "the failing head and a follower in one batch"
    assert set(state.successes.values()) == {1}, "each message processed exactly once"
    assert dict(state.attempts) == {"a0": 2, "a1": 1, "a2": 1, "b0": 1, "b1": 1}
    assert [i for i in state.done if i.startswith("a")] == ["a0", "a1", "a2"]
    assert [i for i in state.done if i.startswith("b")] == ["b0", "b1"]
    assert aws.counts(dlq_url) == (0, 0)
    assert not logs.records(IGNORED)


def test_without_partial_batch_responses_lambda_ignores_a_returned_failure(
    aws: Aws, run_service: RunService, unique: str
) -> None:
    """What the runner models (and what made failed records disappear): a handler that only
    returns `batchItemFailures` loses them when the mapping lacks ReportBatchItemFailures."""
    url, _ = aws.queue(f"{unique}-batch", visibility=1)
    for name in ("a", "b", "c"):
        aws.sqs.send_message(
            QueueUrl=url, MessageBody=json.dumps({"id": name, "fail_times": int(name == "b")})
        )
    runner, logs = run_service(
        "worker",
        {"RT_BATCH_QUEUE": f"{unique}-batch"},
        pollers=1,
        report_batch_item_failures_by_queue={f"{unique}-batch": False},
    )
    state = runner.module.STATE  # type: ignore[union-attr]

    (ignored,) = wait_until(lambda: logs.records(IGNORED), 15, "the ignored batchItemFailures")
    wait_until(lambda: aws.counts(url) == (0, 0), 10, "the queue to be empty")

    assert len(ignored["ignored"]) == 1
    assert dict(state.attempts) == {"a": 1, "b": 1, "c": 1}
    assert "b" not in state.successes, "the failed message was deleted, never retried"
    (started,) = logs.records("event source started")
    assert started["batch_item_failures"] is False


def test_sns_handler_failure_is_kept_in_the_on_failure_destination(
    aws: Aws, run_service: RunService, unique: str
) -> None:
    topic = f"{unique}-inbound"
    topic_arn = aws.sns.create_topic(Name=topic)["TopicArn"]
    dlq_url, _ = aws.queue(f"{topic}-dlq")
    runner, logs = run_service("parley", {"RT_PARLEY_TOPIC": topic})
    state = runner.module.STATE  # type: ignore[union-attr]
    bodies = ({"id": "good"}, {"id": "broken", "fail_times": 99}, {"id": "bad", "invalid": True})
    for body in bodies:
        aws.sns.publish(TopicArn=topic_arn, Message=json.dumps(body))

    wait_until(lambda: aws.counts(dlq_url)[0] == 2, 30, "the failed notifications in the DLQ")

    assert dict(state.successes) == {"good": 1}
    assert dict(state.attempts) == {"good": 1, "broken": 3, "bad": 1}
    dead = aws.drain(dlq_url)
    (parked,) = [m for m in dead if "MessageAttributes" in m]
    assert json.loads(parked["Body"]) == {"id": "bad", "invalid": True}
    assert parked["MessageAttributes"]["failure_code"]["StringValue"] == "invalid_input"
    assert parked["MessageAttributes"]["source_topic"]["StringValue"] == topic_arn
    (record,) = [json.loads(m["Body"]) for m in dead if "MessageAttributes" not in m]
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 3
    function = "rt-parley-test-parley_notified"
    assert record["requestContext"]["functionArn"].endswith(f":function:{function}:$LATEST")
    (sns_record,) = record["requestPayload"]["Records"]
    assert json.loads(sns_record["Sns"]["Message"]) == {"id": "broken", "fail_times": 99}
    assert record["responsePayload"]["errorType"] == "DependencyError"
    assert record["responsePayload"]["errorMessage"] == "broken failed on attempt 3"
    (sent,) = logs.records("event sent to the on-failure destination")
    assert sent["destination"] == f"{topic}-dlq"
    assert not logs.records("event dropped after the last asynchronous attempt")
    internal = aws.sqs.get_queue_url(QueueName=f"{function}-sns")["QueueUrl"]
    wait_until(lambda: aws.counts(internal) == (0, 0), 10, "the internal queue to be empty")


def test_sns_handler_without_an_on_failure_destination_drops_as_lambda_does(
    aws: Aws, run_service: RunService, unique: str
) -> None:
    topic_arn = aws.sns.create_topic(Name=f"{unique}-nodlq")["TopicArn"]
    runner, logs = run_service("parley", {"RT_PARLEY_TOPIC": f"{unique}-nodlq"})
    state = runner.module.STATE  # type: ignore[union-attr]
    aws.sns.publish(TopicArn=topic_arn, Message=json.dumps({"id": "lost", "fail_times": 99}))

    (dropped,) = wait_until(
        lambda: logs.records("event dropped after the last asynchronous attempt"), 30, "the drop"
    )

    assert dropped["attempts"] == 3
    assert state.attempts["lost"] == 3

"""SQS event source: Lambda's event shape, partial batch failures, timeouts, DLQ, FIFO groups."""

from __future__ import annotations

import itertools
import json
from typing import Any

from runtime_support import Aws, RunService, wait_until


def _send(aws: Aws, url: str, body: dict[str, Any], **extra: Any) -> str:
    return str(
        aws.sqs.send_message(QueueUrl=url, MessageBody=json.dumps(body), **extra)["MessageId"]
    )


def test_partial_batch_failure_redelivers_only_the_failed_message(
    aws: Aws, run_service: RunService, unique: str
) -> None:
    url, _ = aws.queue(f"{unique}-batch", visibility=1)
    for name in ("a", "b", "c"):
        _send(
            aws,
            url,
            {"id": name, "fail_times": 1 if name == "b" else 0},
            MessageAttributes={"kind": {"DataType": "String", "StringValue": "test"}},
        )
    # One poller: with several, concurrent receives may split the three messages between batches.
    runner, logs = run_service("worker", {"RT_BATCH_QUEUE": f"{unique}-batch"}, pollers=1)
    state = runner.module.STATE  # type: ignore[union-attr]

    wait_until(lambda: state.successes["b"] == 1, 15, "the failed message to be redelivered")
    wait_until(lambda: aws.counts(url) == (0, 0), 10, "the queue to be empty")

    assert sorted(state.batches[0]) == ["a", "b", "c"], "one batch of three"
    assert state.batches[1:] == [["b"]], "only the failed message comes back"
    assert dict(state.successes) == {"a": 1, "b": 1, "c": 1}
    assert dict(state.attempts) == {"a": 1, "b": 2, "c": 1}
    record = state.events[0]["Records"][0]
    assert set(record) >= {
        "messageId", "receiptHandle", "body", "attributes", "messageAttributes",
        "md5OfBody", "eventSource", "eventSourceARN", "awsRegion",
    }  # fmt: skip
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == aws.arn(url)
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert "SentTimestamp" in record["attributes"]
    assert record["messageAttributes"]["kind"] == {
        "stringValue": "test",
        "stringListValues": [],
        "binaryListValues": [],
        "dataType": "String",
    }
    context = state.contexts[0]
    assert context["function_name"] == "rt-worker-test-batch_worker"
    assert context["memory_limit_in_mb"] == 128
    assert 0 < context["remaining_ms"] <= 60_000
    failures = logs.records("message failed")
    assert [f["reason"] for f in failures] == ["reported in batchItemFailures"]
    assert failures[0]["receive_count"] == 1


def test_handler_timeout_fails_the_whole_batch(
    aws: Aws, run_service: RunService, unique: str
) -> None:
    url, _ = aws.queue(f"{unique}-slow", visibility=2)
    aws.sqs.send_message_batch(
        QueueUrl=url,
        Entries=[
            {"Id": "1", "MessageBody": json.dumps({"id": "fast"})},
            {"Id": "2", "MessageBody": json.dumps({"id": "slow", "sleep": 1.5, "fail_times": 0})},
        ],
    )
    runner, logs = run_service("worker", {"RT_SLOW_QUEUE": f"{unique}-slow"})
    state = runner.module.STATE  # type: ignore[union-attr]

    timeouts = wait_until(
        lambda: [r for r in logs.records("invocation") if r["outcome"] == "timeout"],
        10,
        "a timed-out invocation",
    )
    assert "timed out after 1.00 seconds" in timeouts[0]["error"]
    wait_until(lambda: state.attempts["fast"] >= 2, 15, "the whole batch to be redelivered")


def test_failing_message_lands_in_dlq_with_reason_logged(
    aws: Aws, run_service: RunService, unique: str
) -> None:
    url, dlq_url = aws.queue(f"{unique}-poison", visibility=1, max_receive=5)
    _send(aws, url, {"id": "p1"})
    runner, logs = run_service("worker", {"RT_POISON_QUEUE": f"{unique}-poison"})
    state = runner.module.STATE  # type: ignore[union-attr]

    wait_until(lambda: aws.counts(dlq_url)[0] == 1, 30, "the message to reach the DLQ")

    assert state.attempts["p1"] == 5
    failures = logs.records("message failed")
    assert [f["receive_count"] for f in failures] == [1, 2, 3, 4]
    assert all("ValueError: poison message p1" in f["reason"] for f in failures)
    (to_dlq,) = logs.records("message goes to the DLQ")
    assert to_dlq["receive_count"] == 5
    assert to_dlq["max_receive_count"] == 5
    assert to_dlq["dlq"] == f"{unique}-poison-dlq"
    assert "ValueError: poison message p1" in to_dlq["reason"]
    (dead,) = aws.drain(dlq_url)
    assert json.loads(dead["Body"]) == {"id": "p1"}
    assert aws.counts(url) == (0, 0)


def test_fifo_groups_keep_order_run_in_parallel_and_block_only_their_group(
    aws: Aws, run_service: RunService, unique: str
) -> None:
    name = f"{unique}-work.fifo"
    url, _ = aws.queue(name, visibility=2)
    groups = [f"g{i}" for i in range(5)]
    for seq, group in itertools.product(range(10), groups):
        body = {"id": f"{group}-{seq}", "group": group, "seq": seq, "sleep": 0.02}
        if group == "g0" and seq == 0:
            body["fail_times"] = 2  # the head of g0 fails twice
        _send(aws, url, body, MessageGroupId=group, MessageDeduplicationId=body["id"])
    runner, logs = run_service("worker", {"RT_FIFO_QUEUE": name}, pollers=5)
    state = runner.module.STATE  # type: ignore[union-attr]

    wait_until(lambda: len(state.successes) == 50, 40, "all 50 messages to be processed")

    assert set(state.successes.values()) == {1}, "each message processed exactly once"
    spans = sorted(state.spans, key=lambda span: span[3])
    for group in groups:
        order = [seq for g, seq, _, _ in spans if g == group]
        assert order == list(range(10)), f"order kept in {group}"
    head_done = next(end for g, seq, _, end in spans if (g, seq) == ("g0", 0))
    others_done = max(end for g, _, _, end in spans if g != "g0")
    assert others_done < head_done, "the failing head of g0 blocked only g0"
    assert state.attempts["g0-0"] == 3
    assert _overlapping_groups(spans), "different groups were processed at the same time"
    attributes = state.events[0]["Records"][0]["attributes"]
    assert {"MessageGroupId", "MessageDeduplicationId", "SequenceNumber"} <= set(attributes)
    assert all(f["group"] == "g0" for f in logs.records("message failed"))
    assert not logs.records(
        "FIFO order broken by the handler: a later message of a failed group succeeded"
    )


def _overlapping_groups(spans: list[tuple[str, int, float, float]]) -> bool:
    return any(
        a[0] != b[0] and a[2] < b[3] and b[2] < a[3] for a, b in itertools.combinations(spans, 2)
    )

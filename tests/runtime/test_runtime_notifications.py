"""SNS and S3 event sources, and SNS filter policies in front of an SQS handler."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote_plus

from runtime_support import Aws, RunService, wait_until


def test_sns_handler_receives_lambda_sns_shape(
    aws: Aws, run_service: RunService, unique: str
) -> None:
    topic_arn = aws.sns.create_topic(Name=f"{unique}-topic")["TopicArn"]
    runner, logs = run_service("notify", {"RT_TOPIC": f"{unique}-topic"})
    module: Any = runner.module
    published = aws.sns.publish(
        TopicArn=topic_arn,
        Message="hello",
        Subject="greeting",
        MessageAttributes={"event_type": {"DataType": "String", "StringValue": "message.received"}},
    )

    wait_until(lambda: module.SNS_EVENTS, 15, "the SNS handler to run")

    (seen,) = module.SNS_EVENTS
    assert seen["message"] == "hello"
    (record,) = seen["raw"]["Records"]
    assert record["EventSource"] == "aws:sns"
    assert record["EventVersion"] == "1.0"
    assert record["EventSubscriptionArn"].startswith(f"{topic_arn}:")
    sns = record["Sns"]
    assert sns["Type"] == "Notification"
    assert sns["MessageId"] == published["MessageId"]
    assert sns["TopicArn"] == topic_arn
    assert sns["Subject"] == "greeting"
    assert sns["MessageAttributes"] == {
        "event_type": {"Type": "String", "Value": "message.received"}
    }
    assert {"Timestamp", "Signature", "SigningCertUrl", "UnsubscribeUrl"} <= set(sns)
    (started,) = [r for r in logs.records("event source started") if r["event_source"] == "aws:sns"]
    assert "rt-notify-test-on_topic-sns" in started["queue"]


def test_filter_policy_delivers_only_matching_events(
    aws: Aws, run_service: RunService, unique: str
) -> None:
    topic_arn = aws.sns.create_topic(Name=f"{unique}-events")["TopicArn"]
    url, _ = aws.queue(f"{unique}-context", visibility=2)
    aws.sns.subscribe(
        TopicArn=topic_arn,
        Protocol="sqs",
        Endpoint=aws.arn(url),
        Attributes={
            "FilterPolicy": json.dumps({"event_type": ["message.received"]}),
            "RawMessageDelivery": "true",
        },
    )
    runner, _ = run_service("worker", {"RT_EVENTS_QUEUE": f"{unique}-context"})
    state = runner.module.STATE  # type: ignore[union-attr]
    for event_type in ("turn.completed", "message.status", "message.received"):
        aws.sns.publish(
            TopicArn=topic_arn,
            Message=json.dumps({"id": event_type}),
            MessageAttributes={"event_type": {"DataType": "String", "StringValue": event_type}},
        )

    wait_until(lambda: state.successes["message.received"], 15, "the matching event")
    wait_until(lambda: aws.counts(url) == (0, 0), 10, "the queue to be empty")

    assert dict(state.successes) == {"message.received": 1}
    records = [r for event in state.events for r in event["Records"]]
    assert len(records) == 1
    assert records[0]["messageAttributes"]["event_type"]["stringValue"] == "message.received"


def test_s3_upload_fires_once_and_existing_notifications_survive(
    aws: Aws, run_service: RunService, unique: str
) -> None:
    bucket = f"{unique}-uploads"
    aws.s3.create_bucket(Bucket=bucket)
    other_url, _ = aws.queue(f"{unique}-other", visibility=30)
    existing = {
        "Id": "existing-indexer",
        "QueueArn": aws.arn(other_url),
        "Events": ["s3:ObjectCreated:*"],
    }
    aws.s3.put_bucket_notification_configuration(
        Bucket=bucket, NotificationConfiguration={"QueueConfigurations": [existing]}
    )
    runner, logs = run_service("notify", {"RT_BUCKET": bucket})
    module: Any = runner.module

    config = aws.s3.get_bucket_notification_configuration(Bucket=bucket)
    ids = sorted(item["Id"] for item in config["QueueConfigurations"])
    assert ids == ["existing-indexer", "rt-notify-test-on_upload"]

    for key in ("other/skip.txt", "uploads/skip.csv", "uploads/report 1.txt"):
        aws.s3.put_object(Bucket=bucket, Key=key, Body=b"data")

    wait_until(lambda: module.S3_KEYS, 15, "the S3 handler to run")
    queue_name = "rt-notify-test-on_upload-s3"
    internal = aws.sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
    wait_until(lambda: aws.counts(internal) == (0, 0), 10, "the internal queue to be empty")

    keys = module.S3_KEYS
    assert keys == [(bucket, "uploads/report 1.txt")]
    (record,) = module.S3_EVENTS[0]["Records"]
    assert record["eventSource"] == "aws:s3"
    assert record["eventName"].startswith("ObjectCreated:")
    assert record["s3"]["object"]["key"] == "uploads/report+1.txt"
    assert logs.records("test event skipped"), "the s3:TestEvent was skipped"
    bodies = [json.loads(m["Body"]) for m in aws.drain(other_url)]
    keys = [unquote_plus(r["s3"]["object"]["key"]) for b in bodies for r in b.get("Records", [])]
    assert sorted(keys) == ["other/skip.txt", "uploads/report 1.txt", "uploads/skip.csv"]


def test_s3_setup_is_idempotent(aws: Aws, run_service: RunService, unique: str) -> None:
    bucket = f"{unique}-again"
    aws.s3.create_bucket(Bucket=bucket)
    run_service("notify", {"RT_BUCKET": bucket})
    runner, _ = run_service("notify", {"RT_BUCKET": bucket})

    config = aws.s3.get_bucket_notification_configuration(Bucket=bucket)
    assert [item["Id"] for item in config["QueueConfigurations"]] == ["rt-notify-test-on_upload"]
    assert runner.stop(timeout=10)


def test_sns_subscription_is_retried_until_the_topic_exists(
    aws: Aws, run_service: RunService, unique: str
) -> None:
    runner, logs = run_service("notify", {"RT_TOPIC": f"{unique}-late"})
    module: Any = runner.module
    assert logs.records("event source setup failed, retrying")
    topic_arn = aws.sns.create_topic(Name=f"{unique}-late")["TopicArn"]

    def delivered() -> bool:
        aws.sns.publish(TopicArn=topic_arn, Message="late")
        return bool(wait_for_events(module, 0.5))

    wait_until(delivered, 15, "the late subscription to deliver")
    assert module.SNS_EVENTS[0]["message"] == "late"


def wait_for_events(module: Any, seconds: float) -> list[dict[str, Any]]:
    try:
        return list(wait_until(lambda: module.SNS_EVENTS, seconds, "an SNS event"))
    except AssertionError:
        return []

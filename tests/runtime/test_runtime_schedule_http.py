"""Schedules (with time scaling), HTTP routes through the CLI, and the redrive command."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import urllib.request
from datetime import UTC, datetime
from typing import Any

import pytest
from runtime_support import APPS, REPO, Aws, RunService, free_port, wait_until

from infra.local import redrive
from infra.local.runner.schedule import CronSchedule, RateSchedule, parse_schedule


def test_schedules_fire_with_time_scale(run_service: RunService) -> None:
    runner, logs = run_service("clock", {}, time_scale=60)
    module: Any = runner.module

    wait_until(
        lambda: [kind for kind, _, _ in module.FIRED].count("rate") >= 3,
        8,
        "three rate(1 minute) firings at 60x",
    )

    kinds = {kind for kind, _, _ in module.FIRED}
    assert kinds == {"rate", "cron"}
    rate_times = [t for kind, t, _ in module.FIRED if kind == "rate"]
    gaps = [b - a for a, b in itertools.pairwise(rate_times)]
    assert all(0.5 < gap < 3 for gap in gaps), gaps  # one virtual minute is one real second
    event = module.FIRED[0][2]
    assert event["detail-type"] == "Scheduled Event"
    assert event["source"] == "aws.events"
    assert event["detail"] == {}
    assert event["resources"][0].startswith("arn:aws:events:")
    assert event["resources"][0].endswith(
        ":rule/rt-clock-test-" + ("every_minute" if module.FIRED[0][0] == "rate" else "cron_minute")
    )
    assert all(r["outcome"] == "success" for r in logs.records("invocation"))


def test_schedule_expressions() -> None:
    saturday = datetime(2026, 11, 21, 13, 7, tzinfo=UTC)
    weekdays_noon = parse_schedule("cron(0 12 ? * MON-FRI *)")
    assert isinstance(weekdays_noon, CronSchedule)
    assert weekdays_noon.next_after(saturday) == datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    every_15 = parse_schedule("cron(0/15 * * * ? *)")
    assert every_15.next_after(saturday) == datetime(2026, 11, 21, 13, 15, tzinfo=UTC)
    last_day = parse_schedule("cron(30 2 L * ? *)")
    assert last_day.next_after(saturday) == datetime(2026, 11, 30, 2, 30, tzinfo=UTC)
    rate = parse_schedule("rate(5 minutes)")
    assert isinstance(rate, RateSchedule) and rate.seconds == 300
    assert parse_schedule("rate(1 day)").next_after(saturday).day == 22
    for bad in ("cron(0 12 ? * MON#2 *)", "rate(0 minutes)", "every day", "cron(61 * * * ? *)"):
        with pytest.raises(ValueError):
            parse_schedule(bad)


def _get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=2) as response:
        return json.loads(response.read())


def test_cli_serves_http_routes_and_stops_cleanly_on_sigterm(moto_endpoint: str) -> None:
    port = free_port()
    env = {**os.environ, "RT_OVERRIDE": "from-process", "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "infra.local.runner", "--service-dir"]
    command += [str((APPS / "web").relative_to(REPO)), "--port", str(port), "--stage", "test"]
    proc = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, text=True)
    try:
        body = wait_until(lambda: _try_get(f"http://127.0.0.1:{port}/hello"), 20, "the route")
        assert body == {
            "import_time_stage_var": "stage-test",
            "global_var": "global",
            "override": "from-process",
            "function_name": "api_handler",
        }
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/items/7",
            data=b'{"name": "x"}',
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=2) as response:
            assert json.loads(response.read()) == {"id": "7", "body": {"name": "x"}}
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
    messages = [json.loads(line)["msg"] for line in out.splitlines() if line.startswith("{")]
    assert messages[0] == "service started"
    assert messages[-1] == "service stopped"


def _try_get(url: str) -> Any:
    try:
        return _get_json(url)
    except OSError:
        return None


def test_redrive_moves_dlq_messages_back(
    aws: Aws, unique: str, capsys: pytest.CaptureFixture[str]
) -> None:
    url, dlq_url = aws.queue(f"{unique}-test-turns.fifo", visibility=1, max_receive=5)
    for index, group in enumerate(("a", "a", "b", "a")):
        aws.sqs.send_message(
            QueueUrl=dlq_url,
            MessageBody=json.dumps({"n": index}),
            MessageGroupId=group,
            MessageDeduplicationId=f"d{index}",
            MessageAttributes={"event_type": {"DataType": "String", "StringValue": "x"}},
        )

    assert redrive.main(["--queue", "turns", "--stage", "test", "--prefix", unique]) == 0

    assert f"moved 4 message(s) from {unique}-test-turns-dlq.fifo" in capsys.readouterr().out
    assert aws.counts(dlq_url) == (0, 0)
    moved = _receive_all(aws, url)
    by_group: dict[str, list[int]] = {}
    for message in moved:
        group = message["Attributes"]["MessageGroupId"]
        by_group.setdefault(group, []).append(json.loads(message["Body"])["n"])
        assert message["MessageAttributes"]["event_type"]["StringValue"] == "x"
    assert by_group == {"a": [0, 1, 3], "b": [2]}


def _receive_all(aws: Aws, url: str) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    for _ in range(10):
        got = aws.sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        messages += got
        for message in got:
            aws.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        if len(messages) >= 4:
            break
    return messages

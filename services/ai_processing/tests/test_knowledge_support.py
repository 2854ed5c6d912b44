"""Helpers of the knowledge-base tests: real files of every type, and the kb-events SQS path.

(Named test_knowledge_* to sit with the suites it serves; it holds no tests.)
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from typing import Any

import boto3

from infra.local.sample_files import pdf_bytes as sample_pdf

KB_BUCKET = "parley-local-knowledge-base"
KB_QUEUE = "parley-local-kb-events"
KB_DLQ = "parley-local-kb-events-dlq"


def pdf_bytes(lines: list[str], title: str | None = None) -> bytes:
    """A minimal valid one-page PDF whose text stream shows `lines` (Helvetica, one per line)."""
    return sample_pdf([lines], title)


def docx_bytes(title: str, sections: dict[str, list[str]], table: list[list[str]]) -> bytes:
    """A real Word document written by python-docx: title, headings, paragraphs, one table."""
    from docx import Document

    document = Document()
    document.core_properties.title = title
    document.add_heading(title, 0)
    for heading, paragraphs in sections.items():
        document.add_heading(heading, 1)
        for paragraph in paragraphs:
            document.add_paragraph(paragraph)
    grid = document.add_table(rows=len(table), cols=len(table[0]))
    for r, row in enumerate(table):
        for c, value in enumerate(row):
            grid.cell(r, c).text = value
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def xlsx_bytes(sheets: dict[str, list[list[object]]]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


HTML = b"""<!doctype html><html><head><title>Parking on campus</title>
<style>.x { color: red }</style><script>var secret = "scriptword";</script></head>
<body><nav>Home | Visit</nav>
<h1>Parking on campus</h1><p>Visitors park in the <b>Elm Street garage</b> for free.</p>
<h2>Permits</h2><p>Students buy a zebrapermit online.</p>
<table><tr><th>Lot</th><th>Price</th></tr><tr><td>North</td><td>$90</td></tr></table>
</body></html>"""


def s3() -> Any:
    return boto3.client("s3")


def sqs() -> Any:
    return boto3.client("sqs")


def queue_url(name: str) -> str:
    return str(sqs().get_queue_url(QueueName=name)["QueueUrl"])


def empty_bucket() -> None:
    """Every object version and delete marker removed: each test starts from an empty bucket."""
    pages = s3().get_paginator("list_object_versions").paginate(Bucket=KB_BUCKET)
    for page in pages:
        for item in page.get("Versions", []) + page.get("DeleteMarkers", []):
            s3().delete_object(Bucket=KB_BUCKET, Key=item["Key"], VersionId=item["VersionId"])


def drain(name: str) -> None:
    url = queue_url(name)
    while got := sqs().receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
        for message in got:
            sqs().delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def receive(name: str, wait: float = 3.0) -> list[dict[str, Any]]:
    """What the queue holds now (waiting up to `wait` s for the first message)."""
    url = queue_url(name)
    messages: list[dict[str, Any]] = []
    deadline = time.monotonic() + wait
    while True:
        got = (
            sqs()
            .receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=10,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
                WaitTimeSeconds=0 if messages else 1,
            )
            .get("Messages", [])
        )
        messages.extend(got)
        if (messages and not got) or time.monotonic() > deadline:
            return messages


def lambda_records(messages: list[dict[str, Any]], queue: str = KB_QUEUE) -> dict[str, Any]:
    """Received SQS messages as the Lambda SQS event that carries them."""
    arn = f"arn:aws:sqs:us-east-1:123456789012:{queue}"
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m["Attributes"],
                "messageAttributes": {},
                "md5OfBody": m["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": arn,
                "awsRegion": "us-east-1",
            }
            for m in messages
        ]
    }


def wait_for(condition: Callable[[], Any], timeout: float = 30.0, every: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"condition not met within {timeout} s")


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

"""Test app: an SNS handler and an S3 handler, registered when their variables are set."""

from __future__ import annotations

import os
import threading
from typing import Any

from chalice import Chalice
from chalice.app import S3Event, SNSEvent

app = Chalice(app_name="rt-notify")
LOCK = threading.Lock()
SNS_EVENTS: list[dict[str, Any]] = []
S3_EVENTS: list[dict[str, Any]] = []
S3_KEYS: list[tuple[str, str]] = []

if os.environ.get("RT_TOPIC"):

    @app.on_sns_message(topic=os.environ["RT_TOPIC"])
    def on_topic(event: SNSEvent) -> None:
        with LOCK:
            SNS_EVENTS.append({"raw": event.to_dict(), "message": event.message})


if os.environ.get("RT_BUCKET"):

    @app.on_s3_event(bucket=os.environ["RT_BUCKET"], prefix="uploads/", suffix=".txt")
    def on_upload(event: S3Event) -> None:
        with LOCK:
            S3_EVENTS.append(event.to_dict())
            S3_KEYS.append((event.bucket, event.key))

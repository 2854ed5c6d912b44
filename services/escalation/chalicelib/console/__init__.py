"""The agents' web console: one static page (index.html, plain JavaScript) that calls the agent
API with the agent's credentials, and the local view of the e-mails sent."""

from __future__ import annotations

import json
import os
import urllib.request
from functools import cache
from pathlib import Path
from typing import Any

PAGE = Path(__file__).with_name("index.html")


@cache
def page() -> str:
    return PAGE.read_text(encoding="utf-8")


def local_emails(limit: int = 50) -> list[dict[str, Any]]:
    """The e-mails the local AWS emulator's SES accepted, newest first (moto's model view). In
    AWS there is nothing to show here: the messages are in the team's inboxes."""
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if not endpoint or os.environ.get("PARLEY_STAGE", "local") != "local":
        return []
    with urllib.request.urlopen(f"{endpoint.rstrip('/')}/moto-api/data.json", timeout=5) as got:
        data = json.load(got)
    sent = data.get("ses", {}).get("Message", [])
    emails = [
        {
            "id": m.get("id"),
            "from": m.get("source"),
            "to": (m.get("destinations") or {}).get("ToAddresses", []),
            "subject": m.get("subject"),
            "body": m.get("body"),
        }
        for m in sent
    ]
    return list(reversed(emails))[:limit]

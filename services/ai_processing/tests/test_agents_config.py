"""The agents configuration: the shipped demo file validates; broken files are refused with a
reason; an S3 override wins when valid and is ignored (shipped file kept) when broken."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from chalicelib.agents import S3_KEY, load_agents, load_shipped, parse_agents
from chalicelib.agents.loader import SHIPPED
from parley.errors import ConfigurationError


def test_the_shipped_demo_configuration_is_valid() -> None:
    config = load_shipped()
    names = {i.name for i in config.supervisor.intents}
    assert {
        "deadlines",
        "requirements",
        "tuition_fees",
        "scholarships",
        "programs",
        "international",
        "campus_visits",
        "application_status",
        "greeting",
        "goodbye",
        "human",
    } <= names
    for intent in config.supervisor.intents:
        assert intent.examples.get("en") and intent.examples.get("es"), intent.name
    assert "book_campus_visit" in config.agent("campus_visits").tools


def _raw() -> dict[str, Any]:
    return dict(yaml.safe_load(SHIPPED.read_text(encoding="utf-8")))


@pytest.mark.parametrize(
    "breakage",
    [
        lambda d: d["agents"][0].update(tools=["rm_rf"]),
        lambda d: d["supervisor"].update(fallback_agent="nobody"),
        lambda d: d["limits"].update(max_reply_chars=10_000),
        lambda d: d.update(surprise=True),
    ],
)
def test_a_broken_configuration_is_refused(breakage: Any) -> None:
    data = _raw()
    breakage(data)
    with pytest.raises(ConfigurationError):
        parse_agents(yaml.safe_dump(data))


class FakeS3:
    def __init__(self, body: bytes | None) -> None:
        self.body = body

    def get_object(self, Bucket: str, Key: str) -> dict[str, Any]:
        from botocore.exceptions import ClientError

        assert Key == S3_KEY
        if self.body is None:
            raise ClientError({"Error": {"Code": "NoSuchKey"}}, "GetObject")
        import io

        return {"Body": io.BytesIO(self.body)}


def test_an_s3_override_wins() -> None:
    data = _raw()
    data["business"] = "Overridden"
    assert load_agents("kb", s3=FakeS3(yaml.safe_dump(data).encode())).business == "Overridden"


def test_no_override_or_a_broken_one_keeps_the_shipped_file() -> None:
    shipped = load_shipped().business
    assert load_agents("kb", s3=FakeS3(None)).business == shipped
    assert load_agents("kb", s3=FakeS3(b"agents: [")).business == shipped

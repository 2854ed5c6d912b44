"""Every customer-facing phrase comes from the business's profile (parley/profiles/<name>/):
the demo profile is complete and consistent, the services' code names no business, and another
profile really changes what a service sends."""

from __future__ import annotations

import ast
import json
import re
import shutil
import string
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, get_args

import pytest
import yaml

from parley.business_profile import (
    LANGUAGES,
    PROFILES,
    BusinessFields,
    BusinessProfile,
    load_profile,
    load_profile_dir,
)
from parley.events import EventType

ROOT = Path(__file__).resolve().parents[2]
DEMO = PROFILES / "demo_university"
BUSINESS_FIELDS = frozenset(BusinessFields.model_fields)
# Fields a service fills when it sends a text, by key prefix (one prefix per service).
CALL_FIELDS: dict[str, frozenset[str]] = {
    "ingestion.": frozenset(),
    "context.": frozenset(),
    "media.": frozenset({"text", "minutes"}),  # what was heard; the longest recording
    "escalation.": frozenset(
        {"wait_minutes", "max_wait_minutes", "next_opening", "phone", "email", "contacts"}
    ),
    "ai.": frozenset({"choices", "facts", "id"}),  # ai_processing: case names, key facts, app id
}
BUSINESS_WORDS = re.compile(r"admission|admisi[oó]n|northbridge", re.IGNORECASE)
POLICY = "services/escalation/chalicelib/signals/escalation_policy.yaml"
# (file, what the allowed string matches, why it is not customer-facing wording)
ALLOWED: list[tuple[str, str, str]] = [
    (
        "services/ai_processing/chalicelib/agents/agents.yaml",
        r".",
        "the demo business's agents configuration (S3-overridable): the model's instructions, "
        "intent examples and agent ids; the model reads it, customers never do",
    ),
    (
        "services/ai_processing/chalicelib/knowledge/glossary.yaml",
        r".",
        "vocabulary the retriever matches questions to documents with; never sent",
    ),
    (
        "services/ai_processing/chalicelib/tools/knowledge.py",
        r"^(Search the admissions office's documents|Hand the conversation to a human admissions)",
        "tool descriptions for the model",
    ),
    (POLICY, r"\\b", "patterns matched against what customers write (they name the business)"),
    (
        POLICY,
        r"^[\w.-]+@northbridge\.example\.edu$",
        "the demo's contact and notification addresses: business data, not wording",
    ),
    (POLICY, r"^admissions(-senior)?$", "team ids hand-offs are routed by, shown to agents"),
    (
        POLICY,
        r"^admissions_follow_up$",
        "an approved WhatsApp template's name (its wording is approved in Meta's manager)",
    ),
    (POLICY, r"^Northbridge Counseling .* \(demo\)$", "who reviewed the crisis reply: a record"),
]
SOURCE_SUFFIXES = (".py", ".yaml", ".yml", ".json", ".html", ".js")


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


# ------------------------------------------------------------------------- the demo profile


def test_every_demo_text_has_both_languages_and_only_known_placeholders() -> None:
    profile = load_profile("demo_university")
    assert profile.texts, "the demo profile has no texts"
    for key, text in profile.texts.items():
        prefix = next((p for p in CALL_FIELDS if key.startswith(p)), None)
        assert prefix is not None, f"{key}: not under a service's prefix {sorted(CALL_FIELDS)}"
        for language in LANGUAGES:
            wording = getattr(text, language)
            assert wording.strip(), f"{key}.{language} is empty"
            unknown = placeholders(wording) - BUSINESS_FIELDS - CALL_FIELDS[prefix]
            assert not unknown, f"{key}.{language} uses unknown placeholders {sorted(unknown)}"
    for field in BUSINESS_FIELDS:
        for language in LANGUAGES:
            assert getattr(getattr(profile.business, field), language).strip()


def test_every_text_key_the_services_name_is_in_the_profile() -> None:
    events = set(get_args(EventType))
    profile = load_profile("demo_university")
    named = {
        value
        for path in source_files()
        if path.suffix == ".py"
        for value in strings_of(path)
        if re.fullmatch(r"(ingestion|context|media|escalation)\.[a-z_.]+", value)
        and value not in events
    }
    assert named, "no service names a profile text"
    missing = sorted(key for key in named if not profile.has(key))
    assert not missing, f"texts the code sends but the demo profile lacks: {missing}"


def test_the_shipped_escalation_policy_leaves_the_wording_to_the_profile() -> None:
    policy = yaml.safe_load((ROOT / POLICY).read_text(encoding="utf-8"))
    own_texts = {
        "business": policy.get("business"),
        "self_harm.reply": policy["self_harm"].get("reply"),
        "crisis.fallback": policy["crisis"].get("fallback"),
        "holding_messages.in_hours": policy["holding_messages"].get("in_hours"),
        "holding_messages.out_of_hours": policy["holding_messages"].get("out_of_hours"),
        "desk.expired_message": policy["desk"].get("expired_message"),
        "desk.resumed_message": policy["desk"].get("resumed_message"),
    }
    assert {name: text for name, text in own_texts.items() if text} == {}


# ------------------------------------------------------------------------- no business in code


def source_files() -> list[Path]:
    roots = [*sorted((ROOT / "services").glob("*/chalicelib")), ROOT / "libs/common/parley"]
    return [
        path
        for root in roots
        for path in sorted(root.rglob("*"))
        if path.suffix in SOURCE_SUFFIXES
        and path.is_file()
        and "__pycache__" not in path.parts
        and PROFILES not in path.parents
    ]


def strings_of(path: Path) -> list[str]:
    """What a file could say: string literals of Python (not docstrings or comments), string
    values and keys of YAML and JSON (not comments), the lines of anything else."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".py":
        tree = ast.parse(text)
        docstrings = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
            and node.body
            and isinstance(node.body[0], ast.Expr)
            and isinstance(node.body[0].value, ast.Constant)
        }
        return [
            node.value
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
        ]
    if path.suffix in (".yaml", ".yml", ".json"):
        data = yaml.safe_load(text) if path.suffix != ".json" else json.loads(text)
        return list(_scalars(data))
    return text.splitlines()


def _scalars(data: Any) -> Iterator[str]:
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _scalars(key)
            yield from _scalars(value)
    elif isinstance(data, list):
        for item in data:
            yield from _scalars(item)
    elif isinstance(data, str):
        yield data


def test_no_service_code_names_the_demo_business() -> None:
    found = []
    for path in source_files():
        relative = path.relative_to(ROOT).as_posix()
        allowed = [re.compile(pattern) for file, pattern, _ in ALLOWED if file == relative]
        for value in strings_of(path):
            if BUSINESS_WORDS.search(value) and not any(a.search(value) for a in allowed):
                found.append(f"{relative}: {value[:80]!r}")
    assert not found, "business words outside parley/profiles:\n" + "\n".join(found)


def test_the_scan_finds_a_hard_coded_phrase(tmp_path: Path) -> None:
    sample = tmp_path / "replies.py"
    sample.write_text(
        '"""Replies of the Northbridge admissions office (a docstring: not sent)."""\n'
        "# admissions (a comment)\n"
        'TEXT = "Write to the admissions team"\n',
        encoding="utf-8",
    )
    said = [s for s in strings_of(sample) if BUSINESS_WORDS.search(s)]
    assert said == ["Write to the admissions team"]


# ------------------------------------------------------------------------- another business


@pytest.fixture
def clinic(tmp_path: Path) -> BusinessProfile:
    """The demo's texts under another business, with the media refusals reworded."""
    folder = tmp_path / "clinic"
    shutil.copytree(DEMO, folder)
    business = {
        "name": {"en": "Harbor Dental Clinic", "es": "Clínica Dental Harbor"},
        "assistant": {"en": "the Harbor Dental assistant", "es": "el asistente de Harbor Dental"},
        "team": {"en": "front desk", "es": "equipo de recepción"},
        "topics": {"en": "appointments and fees", "es": "citas y tarifas"},
    }
    (folder / "business.yaml").write_text(
        yaml.safe_dump({"business": business, "texts": {}}, allow_unicode=True), encoding="utf-8"
    )
    media = yaml.safe_load((folder / "media.yaml").read_text(encoding="utf-8"))
    media["texts"]["media.rejected.too_large"] = {
        "en": "That file is too big for {name}.",
        "es": "Ese archivo es demasiado grande para {name}.",
    }
    (folder / "media.yaml").write_text(yaml.safe_dump(media, allow_unicode=True), "utf-8")
    return load_profile_dir(folder)


@contextmanager
def service_code(service: str) -> Iterator[None]:
    """The service's `chalicelib` importable inside the block (every service's package has that
    name, so any other one imported before is set aside and put back after)."""

    def ours(name: str) -> bool:
        return name == "chalicelib" or name.startswith("chalicelib.")

    saved = {name: module for name, module in sys.modules.items() if ours(name)}
    for name in saved:
        del sys.modules[name]
    folder = str(ROOT / "services" / service)
    sys.path.insert(0, folder)
    try:
        yield
    finally:
        sys.path.remove(folder)
        for name in [name for name in sys.modules if ours(name)]:
            del sys.modules[name]
        sys.modules.update(saved)


class Collected:
    def __init__(self) -> None:
        self.events: list[Any] = []

    def send(self, event: Any) -> str:
        self.events.append(event)
        return "id"

    publish = send


def test_another_profile_changes_what_the_media_service_tells_the_customer(
    clinic: BusinessProfile,
) -> None:
    from parley.events import MessageReceivedEvent

    with service_code("media"):
        from chalicelib.engines import understand
        from chalicelib.fetch.errors import MediaTooLarge
        from chalicelib.processor import MediaProcessor

        def too_large(message: Any) -> Any:
            raise MediaTooLarge("40 MB over the 16 MB cap")

        outbound = Collected()
        processor = MediaProcessor(
            fetch=too_large,
            read=bytes,
            understand=understand,
            events=Collected(),
            outbound=outbound,
            logger=_Quiet(),
            profile=clinic,
        )
        processor.handle(MessageReceivedEvent.model_validate(_media_message()))
        location = understand(b"", "", "location", engines=None, language="es", profile=clinic)

    [told] = [e.payload.text for e in outbound.events]
    assert told == (
        "That file is too big for Harbor Dental Clinic. / "
        "Ese archivo es demasiado grande para Clínica Dental Harbor."
    )
    assert location.reply == clinic.say("media.unsupported", "es")


def test_another_profile_words_what_the_hand_off_desk_tells_the_customer(
    clinic: BusinessProfile,
) -> None:
    with service_code("escalation"):
        from chalicelib.handoffs.policy_texts import PolicyDesk
        from chalicelib.signals import load_shipped

        policy = load_shipped()
        clinic_desk = PolicyDesk(policy, clinic).expired_text("es")
        demo_desk = PolicyDesk(policy, load_profile("demo_university")).expired_text("es")

    assert "el asistente de Harbor Dental" in clinic_desk
    assert policy.holding_messages.email in clinic_desk  # the policy's numbers, the profile's words
    assert "Harbor" not in demo_desk and clinic_desk != demo_desk


class _Quiet:
    def info(self, *args: Any, **kwargs: Any) -> None:
        pass

    warning = error = info


def _media_message() -> dict[str, Any]:
    return {
        "event_id": "media-too-large-1",
        "type": "message.received",
        "conversation": "123456789012345:15551230000",
        "occurred_at": "2027-03-02T15:00:00+00:00",
        "producer": "test",
        "payload": {
            "channel": "meta",
            "business_phone_number_id": "123456789012345",
            "wa_id": "15551230000",
            "message_id": "wamid.TOOLARGE",
            "kind": "document",
            "media": {"media_id": "1", "mime_type": "application/pdf"},
            "sent_at": "2027-03-02T15:00:00+00:00",
        },
    }

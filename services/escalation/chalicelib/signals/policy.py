"""The escalation policy of one business: when a person is needed and what happens then.

One YAML file (`escalation_policy.yaml` shipped with the service, or an S3 override; see
`loader`) validated by these pydantic models. Patterns are Python regular expressions over the
normalised text (`text.normalise`: lower case, no accents), compiled when the file is loaded so
a broken pattern stops the load with its name.

What the customer reads comes from the business profile (`parley.business_profile`, texts
`escalation.*`); a policy may still carry its own texts (the optional `reply`, `fallback`,
`in_hours`, `out_of_hours`, `expired_message`, `resumed_message`), which then win.
"""

from __future__ import annotations

import re
import string
from datetime import date, time
from functools import cache
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from chalicelib.signals.text import normalise
from parley.payloads import TemplateMessage

Language = Literal["en", "es"]
Priority = Literal["normal", "high", "urgent"]
Reason = Literal[
    "customer_request",
    "sentiment",
    "repeated_failure",
    "sensitive_topic",
    "self_harm",
    "complex_case",
    "vip",
]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
EmailField = Literal[
    "profile_name", "wa_id", "wa_id_last4", "language", "reason", "topic", "priority",
    "summary", "transcript", "message_quote",
]  # fmt: skip
HOLDING_FIELDS = frozenset(
    {"wait_minutes", "max_wait_minutes", "next_opening", "phone", "email", "business"}
)
QUOTING_FIELDS = frozenset({"summary", "transcript", "message_quote"})


@cache
def compiled(pattern: str) -> re.Pattern[str]:
    """A policy pattern, compiled once per process."""
    return re.compile(pattern)


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PatternSet(_Strict):
    """Regular expressions per language; every detector applies both languages (customers
    code-switch and short messages are hard to tell apart)."""

    en: list[str] = Field(default_factory=list)
    es: list[str] = Field(default_factory=list)

    @field_validator("en", "es")
    @classmethod
    def _compiles(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                compiled(pattern)
            except re.error as exc:
                raise ValueError(f"pattern {pattern!r} does not compile: {exc}") from exc
        return patterns

    def all(self) -> list[re.Pattern[str]]:
        return [compiled(p) for p in (*self.en, *self.es)]


class Thresholds(_Strict):
    sentiment_negative: float = Field(default=0.7, gt=0, le=1)
    vip_sentiment_negative: float = Field(default=0.5, gt=0, le=1)
    repeat_similarity: float = Field(default=0.6, gt=0, le=1)
    repeat_min_shared_words: int = Field(default=2, ge=1)
    repeat_lookback: int = Field(default=10, ge=1)


class CustomerRequestRules(_Strict):
    """Explicit requests: extra phrasings, and names of programs or topics that contain a word
    for staff ("Human Resources Management", "advisory board") and so are never a request."""

    not_staff: list[str] = Field(default_factory=list)
    extra_patterns: PatternSet = Field(default_factory=PatternSet)

    @field_validator("not_staff")
    @classmethod
    def _normalised(cls, phrases: list[str]) -> list[str]:
        return [normalise(p) for p in phrases]


class SensitiveTopic(_Strict):
    """A topic always escalated with priority. `negation: decline` lets "I don't want a refund"
    or "I'm not going to sue" pass; `none` (the default) never lets negation suppress it."""

    name: str = Field(pattern=r"^[a-z_]+$")
    priority: Priority = "high"
    negation: Literal["none", "decline"] = "none"
    patterns: PatternSet
    not_patterns: PatternSet = Field(default_factory=PatternSet)


class SelfHarmPolicy(_Strict):
    """Self-harm: recall first. The detector's reviewed phrases live in code (`selfharm.py`);
    a business may add patterns but not remove them. Only an exact benign idiom exempts a
    message. The reply is fixed, reviewed text, never generated (the profile's
    `escalation.self_harm` unless `reply` is set); `{contacts}` receives the crisis contacts of the
    customer's country."""

    benign_idioms: list[str] = Field(default_factory=list)
    extra_patterns: PatternSet = Field(default_factory=PatternSet)
    reply: dict[Language, str] = Field(default_factory=dict)
    reviewed_by: str = Field(min_length=2)
    reviewed_on: date

    @field_validator("benign_idioms")
    @classmethod
    def _normalised(cls, phrases: list[str]) -> list[str]:
        return [normalise(p) for p in phrases]

    @field_validator("reply")
    @classmethod
    def _has_contacts(cls, reply: dict[Language, str]) -> dict[Language, str]:
        for language, text in reply.items():
            if _placeholders(text) != {"contacts"}:
                raise ValueError(f"self_harm.reply.{language} must use exactly {{contacts}}")
        return reply


class CrisisContact(_Strict):
    label: dict[Language, str]
    number: str = Field(min_length=2)


class CrisisContacts(_Strict):
    """Crisis lines and emergency numbers per country (ISO 3166 alpha-2), chosen from the
    customer's WhatsApp id (its calling code), else `default_country`. `fallback` (default: the
    profile's `escalation.crisis_fallback`) stands in for a country with no contacts listed."""

    default_country: str = Field(pattern=r"^[A-Z]{2}$")
    calling_codes: dict[str, str]
    contacts: dict[str, list[CrisisContact]]
    fallback: dict[Language, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _default_is_covered(self) -> CrisisContacts:
        if self.default_country not in self.contacts:
            raise ValueError(f"crisis.default_country {self.default_country} has no contacts")
        return self


class ComplexCaseRules(_Strict):
    """Several problems at once (`min_problems`, or `min_problems_with_marker` when the customer
    announces them: "tengo varios problemas"), or an exception the agents' tools cannot grant."""

    min_problems: int = Field(default=3, ge=2)
    min_problems_with_marker: int = Field(default=2, ge=1)
    exceptions: PatternSet = Field(default_factory=PatternSet)
    not_exceptions: PatternSet = Field(default_factory=PatternSet)


class VipPolicy(_Strict):
    """`boost`: a VIP escalates on any signal, on a weaker sentiment threshold (reason `vip`),
    and one priority higher (at least `high`); an ordinary question stays with the assistant.
    `always`: every VIP message goes to a person (reason `vip` when nothing else fired)."""

    mode: Literal["boost", "always"] = "boost"
    wa_ids: list[str] = Field(default_factory=list)

    @field_validator("wa_ids")
    @classmethod
    def _digits(cls, wa_ids: list[str]) -> list[str]:
        bad = [w for w in wa_ids if not w.isdigit()]
        if bad:
            raise ValueError(f"vip.wa_ids must be digits only (E.164 without '+'): {bad}")
        return wa_ids


class ClosedPeriod(_Strict):
    start: date
    end: date | None = None
    label: str = ""

    def covers(self, day: date) -> bool:
        return self.start <= day <= (self.end or self.start)


class BusinessHours(_Strict):
    """When people answer: a weekly schedule ("08:30-17:00") in `timezone`, minus closures."""

    timezone: str
    timezone_label: dict[Language, str] = Field(default_factory=dict)
    weekly: dict[Weekday, list[str]]
    closed: list[ClosedPeriod] = Field(default_factory=list)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, zone: str) -> str:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {zone!r}") from exc
        return zone

    @field_validator("weekly")
    @classmethod
    def _ranges(cls, weekly: dict[Weekday, list[str]]) -> dict[Weekday, list[str]]:
        for day, ranges in weekly.items():
            for text in ranges:
                start, end = parse_range(text)
                if start >= end:
                    raise ValueError(f"business_hours.weekly.{day}: {text!r} ends before it starts")
        return weekly

    def ranges(self, day: Weekday) -> list[tuple[time, time]]:
        return [parse_range(text) for text in self.weekly.get(day, [])]


class Sla(_Strict):
    first_response_minutes: int = Field(default=5, ge=1)
    max_wait_minutes: int = Field(default=30, ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> Sla:
        if self.max_wait_minutes < self.first_response_minutes:
            raise ValueError("sla.max_wait_minutes is shorter than first_response_minutes")
        return self


class HoldingMessages(_Strict):
    """How else to reach the business while the customer waits (`phone`, `email`), and texts that
    replace the profile's `escalation.holding.*`; placeholders: {wait_minutes},
    {max_wait_minutes}, {next_opening}, {phone}, {email}, {business}."""

    in_hours: dict[Language, str] = Field(default_factory=dict)
    out_of_hours: dict[Language, str] = Field(default_factory=dict)
    phone: str
    email: str

    @field_validator("in_hours", "out_of_hours")
    @classmethod
    def _known_placeholders(cls, texts: dict[Language, str]) -> dict[Language, str]:
        for language, text in texts.items():
            unknown = _placeholders(text) - HOLDING_FIELDS
            if unknown:
                raise ValueError(f"holding message ({language}) uses unknown {sorted(unknown)}")
        return texts


class Teams(_Strict):
    default: str
    by_reason: dict[Reason, str] = Field(default_factory=dict)
    by_topic: dict[str, str] = Field(default_factory=dict)

    def for_decision(self, reason: Reason | None, topic: str | None) -> str:
        if topic and topic in self.by_topic:
            return self.by_topic[topic]
        return self.by_reason.get(reason, self.default) if reason else self.default


class Notifications(_Strict):
    """Which customer data the e-mail to agents may show. A self-harm hand-off never carries
    a quote of the customer (summary, transcript, message) whatever this says."""

    email_fields: list[EmailField] = Field(
        default_factory=lambda: list[EmailField](["profile_name", "wa_id_last4", "reason"])
    )

    def fields_for(self, *, self_harm: bool) -> list[EmailField]:
        if not self_harm:
            return list(self.email_fields)
        return [f for f in self.email_fields if f not in QUOTING_FIELDS]


class DeskSettings(_Strict):
    """The human desk: whom notifications reach (per team, `default` for the rest), texts that
    replace the profile's `escalation.expired` / `escalation.resumed` (a hand-off expired
    unclaimed, the assistant takes over again), and the approved WhatsApp templates agents may
    send outside the 24-hour window."""

    team_emails: dict[str, list[str]] = Field(default_factory=dict)
    supervisor_emails: list[str] = Field(default_factory=list)
    expired_message: dict[Language, str] = Field(default_factory=dict)
    resumed_message: dict[Language, str] = Field(default_factory=dict)
    templates: list[TemplateMessage] = Field(default_factory=list)


class EscalationPolicy(_Strict):
    """The whole file."""

    # {business} in a policy's own holding texts (default: the profile's name).
    business: str | None = None
    languages: list[Language] = Field(default_factory=lambda: list[Language](["en", "es"]))
    default_language: Language = "en"
    thresholds: Thresholds = Field(default_factory=Thresholds)
    priorities: dict[Reason, Priority] = Field(default_factory=dict)
    customer_request: CustomerRequestRules = Field(default_factory=CustomerRequestRules)
    sensitive_topics: list[SensitiveTopic]
    self_harm: SelfHarmPolicy
    crisis: CrisisContacts
    complex_case: ComplexCaseRules = Field(default_factory=ComplexCaseRules)
    vip: VipPolicy = Field(default_factory=VipPolicy)
    business_hours: BusinessHours
    sla: Sla = Field(default_factory=Sla)
    holding_messages: HoldingMessages
    teams: Teams
    notifications: Notifications = Field(default_factory=Notifications)
    desk: DeskSettings

    @model_validator(mode="after")
    def _consistent(self) -> EscalationPolicy:
        names = [t.name for t in self.sensitive_topics]
        if len(set(names)) != len(names) or "self_harm" in names:
            raise ValueError("sensitive_topics: names must be unique and not 'self_harm'")
        if self.priorities.get("self_harm", "urgent") != "urgent":
            raise ValueError("priorities.self_harm cannot be lowered from 'urgent'")
        for field, texts in (
            ("self_harm.reply", self.self_harm.reply),
            ("holding_messages.in_hours", self.holding_messages.in_hours),
            ("holding_messages.out_of_hours", self.holding_messages.out_of_hours),
            ("crisis.fallback", self.crisis.fallback),
            ("desk.expired_message", self.desk.expired_message),
            ("desk.resumed_message", self.desk.resumed_message),
        ):
            missing = set(self.languages) - set(texts)
            if texts and missing:  # none at all: the profile's text
                raise ValueError(f"{field} lacks languages {sorted(missing)}")
        return self

    def priority(self, reason: Reason) -> Priority:
        return "urgent" if reason == "self_harm" else self.priorities.get(reason, "normal")

    def topic(self, name: str) -> SensitiveTopic | None:
        return next((t for t in self.sensitive_topics if t.name == name), None)


def parse_range(text: str) -> tuple[time, time]:
    """ "08:30-17:00" -> (08:30, 17:00); raises ValueError naming the text."""
    try:
        start, end = (time.fromisoformat(part.strip()) for part in text.split("-"))
    except ValueError as exc:
        raise ValueError(f"not a time range HH:MM-HH:MM: {text!r}") from exc
    return start, end


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}

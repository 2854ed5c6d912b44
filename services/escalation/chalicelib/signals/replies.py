"""Fixed texts the hand-off sends: the self-harm reply with the crisis contacts of the customer's
country, and the holding message (in hours: the expected wait; out of hours: when someone will
answer and how else to reach the business). Nothing here is generated.

The wording is the business profile's (`escalation.*`; `profile` defaults to the BUSINESS_PROFILE
setting's) unless the policy carries its own text; the numbers (SLA, hours, phone, e-mail, crisis
lines) are the policy's.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from chalicelib.signals.policy import EscalationPolicy, Language, Weekday
from parley.errors import ConfigurationError

if TYPE_CHECKING:
    from parley.business_profile import BusinessProfile

# The profile texts this service sends (checked when the desk is built).
PROFILE_TEXTS = (
    "escalation.holding.in_hours",
    "escalation.holding.out_of_hours",
    "escalation.expired",
    "escalation.resumed",
    "escalation.self_harm",
    "escalation.crisis_fallback",
)

WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_NAMES = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "es": ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"),
}
_SEARCH_DAYS = 60  # the longest closure plus a margin


def crisis_reply(
    policy: EscalationPolicy,
    language: str,
    wa_id: str | None = None,
    profile: BusinessProfile | None = None,
) -> str:
    """The reviewed self-harm reply in `language`, with the crisis contacts for the country of
    `wa_id` (by calling code; the default country's when there is no wa_id)."""
    lang = policy_language(policy, language)
    contacts = crisis_contacts(policy, lang, wa_id, profile)
    return text_of(policy.self_harm.reply, "escalation.self_harm", lang, profile, contacts=contacts)


def crisis_contacts(
    policy: EscalationPolicy,
    language: str,
    wa_id: str | None = None,
    profile: BusinessProfile | None = None,
) -> str:
    """One "- label: number" line per contact of the customer's country; the fallback line for a
    country the policy has no contacts for (never another country's numbers)."""
    lang = policy_language(policy, language)
    crisis = policy.crisis
    country = country_of(wa_id, crisis.calling_codes) if wa_id else crisis.default_country
    contacts = crisis.contacts.get(country or "")
    if not contacts:
        return text_of(crisis.fallback, "escalation.crisis_fallback", lang, profile)
    return "\n".join(
        f"- {c.label.get(lang) or next(iter(c.label.values()))}: {c.number}" for c in contacts
    )


def country_of(wa_id: str | None, calling_codes: dict[str, str]) -> str | None:
    """The country of a WhatsApp id (E.164 digits) from its longest matching calling code."""
    digits = (wa_id or "").lstrip("+")
    for length in (3, 2, 1):
        country = calling_codes.get(digits[:length])
        if country and len(digits) > length:
            return country
    return None


def is_open(policy: EscalationPolicy, at: datetime) -> bool:
    """Whether people answer at `at` (timezone-aware) by the weekly schedule and closures."""
    hours = policy.business_hours
    local = at.astimezone(ZoneInfo(hours.timezone))
    if any(period.covers(local.date()) for period in hours.closed):
        return False
    now = local.time()
    return any(start <= now < end for start, end in hours.ranges(WEEKDAYS[local.weekday()]))


def next_opening(policy: EscalationPolicy, at: datetime) -> datetime | None:
    """The next time people answer after `at` (local to the business), or None if none soon."""
    hours = policy.business_hours
    local = at.astimezone(ZoneInfo(hours.timezone))
    for offset in range(_SEARCH_DAYS):
        day = (local + timedelta(days=offset)).date()
        if any(period.covers(day) for period in hours.closed):
            continue
        for start, _end in sorted(hours.ranges(WEEKDAYS[day.weekday()])):
            opening = datetime.combine(day, start, tzinfo=local.tzinfo)
            if opening > local:
                return opening
    return None


def holding_message(
    policy: EscalationPolicy,
    language: str,
    at: datetime,
    wait_minutes: int | None = None,
    profile: BusinessProfile | None = None,
) -> str:
    """What the customer reads while waiting for a person: in hours with the expected wait
    (`wait_minutes`, default the SLA's first response), out of hours with the next opening."""
    lang = policy_language(policy, language)
    texts = policy.holding_messages
    opening = next_opening(policy, at)
    values = {
        "wait_minutes": wait_minutes or policy.sla.first_response_minutes,
        "max_wait_minutes": policy.sla.max_wait_minutes,
        "next_opening": describe(policy, opening, lang) if opening else "",
        "phone": texts.phone,
        "email": texts.email,
        "business": policy.business or _profile(profile).business.name.get(lang),
    }
    if is_open(policy, at):
        return text_of(texts.in_hours, "escalation.holding.in_hours", lang, profile, **values)
    return text_of(texts.out_of_hours, "escalation.holding.out_of_hours", lang, profile, **values)


def text_of(
    own: Mapping[Language, str],
    key: str,
    language: Language,
    profile: BusinessProfile | None,
    **values: object,
) -> str:
    """The policy's own text when it has one (an override may), else the profile's `key`."""
    if own:
        return own[language].format(**values)
    return _profile(profile).say(key, language, **values)


def check_profile(profile: BusinessProfile) -> None:
    """ConfigurationError unless the profile has every text this service sends and its self-harm
    reply takes exactly the crisis contacts."""
    missing = [key for key in PROFILE_TEXTS if not profile.has(key)]
    if missing:
        raise ConfigurationError(f"the business profile lacks the texts {missing}")
    for language, text in profile.texts["escalation.self_harm"].model_dump().items():
        fields = {name for _, name, _, _ in string.Formatter().parse(text) if name}
        if fields != {"contacts"}:
            raise ConfigurationError(
                f"the profile's escalation.self_harm ({language}) must use exactly {{contacts}}"
            )


def _profile(profile: BusinessProfile | None) -> BusinessProfile:
    if profile is not None:
        return profile
    from parley.business_profile import load_profile

    return load_profile()


def describe(policy: EscalationPolicy, moment: datetime, language: Language) -> str:
    """ "Monday 8:30 (Eastern Time)" / "lunes 8:30 (hora del Este)"."""
    day = _DAY_NAMES[language][moment.weekday()]
    zone = policy.business_hours.timezone_label.get(language, policy.business_hours.timezone)
    return f"{day} {moment.hour}:{moment.minute:02d} ({zone})"


def policy_language(policy: EscalationPolicy, language: str) -> Language:
    """`language` if the policy speaks it (`es-MX` -> `es`), else its default."""
    for known in policy.languages:
        if language.lower().startswith(known):
            return known
    return policy.default_language

"""The desk's view of the business's escalation policy (`DeskPolicy`): teams, SLA times and what
the customer is told at each step, in their language (the business profile's wording, unless the
policy carries its own)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from chalicelib.signals import EscalationPolicy, crisis_reply, holding_message
from chalicelib.signals.policy import Language
from chalicelib.signals.replies import policy_language, text_of

if TYPE_CHECKING:
    from parley.business_profile import BusinessProfile


class PolicyDesk:
    """`DeskPolicy` over an `EscalationPolicy` and the business profile (default: the
    BUSINESS_PROFILE setting's)."""

    def __init__(self, policy: EscalationPolicy, profile: BusinessProfile | None = None) -> None:
        self.policy = policy
        self.profile = profile

    def _language(self, language: str) -> str:
        return language if language in self.policy.languages else self.policy.default_language

    def team_for(self, reason: str, topic: str | None) -> str:
        known = reason if reason in self._reasons() else None
        return self.policy.teams.for_decision(known, topic)  # type: ignore[arg-type]

    def _reasons(self) -> set[str]:
        from typing import get_args

        from chalicelib.signals.policy import Reason

        return set(get_args(Reason))

    def sla_seconds(self, priority: str) -> int:
        minutes = self.policy.sla.first_response_minutes
        return max(60, minutes * 60 // (2 if priority == "urgent" else 1))

    def max_wait_seconds(self, priority: str) -> int:
        return self.policy.sla.max_wait_minutes * 60

    def holding_text(self, language: str, priority: str, now: datetime) -> str:
        return holding_message(self.policy, self._language(language), now, profile=self.profile)

    def crisis_text(self, language: str, wa_id: str) -> str:
        return crisis_reply(self.policy, self._language(language), wa_id, self.profile)

    def expired_text(self, language: str) -> str:
        return self._desk_text(self.policy.desk.expired_message, "escalation.expired", language)

    def resumed_text(self, language: str) -> str:
        return self._desk_text(self.policy.desk.resumed_message, "escalation.resumed", language)

    def _desk_text(self, own: dict[Language, str], key: str, language: str) -> str:
        contact = self.policy.holding_messages
        lang = policy_language(self.policy, self._language(language))
        return text_of(own, key, lang, self.profile, phone=contact.phone, email=contact.email)

"""The desk's view of the business's escalation policy (`DeskPolicy`): teams, SLA times and what
the customer is told at each step, in their language."""

from __future__ import annotations

from datetime import datetime

from chalicelib.signals import EscalationPolicy, crisis_reply, holding_message


class PolicyDesk:
    """`DeskPolicy` over an `EscalationPolicy`."""

    def __init__(self, policy: EscalationPolicy) -> None:
        self.policy = policy

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
        return holding_message(self.policy, self._language(language), now)

    def crisis_text(self, language: str, wa_id: str) -> str:
        return crisis_reply(self.policy, self._language(language), wa_id)

    def expired_text(self, language: str) -> str:
        return self.policy.desk.expired_message[self._language(language)]  # type: ignore[index]

    def resumed_text(self, language: str) -> str:
        return self.policy.desk.resumed_message[self._language(language)]  # type: ignore[index]

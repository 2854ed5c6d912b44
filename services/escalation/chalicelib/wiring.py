"""The one place the escalation service's dependencies are built from settings (lazily).

Everything is a cached property of `runtime`, built on first use and forgotten by `reset()`;
`override(...)` replaces parts (tests pass their own clock, notifier or CRM).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from parley import health
from parley.service import ServiceRuntime

if TYPE_CHECKING:
    from chalicelib.agent_api import AgentApi
    from chalicelib.crm import CrmSync
    from chalicelib.handoffs.crm_jobs import CrmJobQueue
    from chalicelib.handoffs.desk import HandoffDesk
    from chalicelib.handoffs.store import DynamoHandoffStore
    from chalicelib.intake import Intake
    from chalicelib.notify import AgentNotifier
    from chalicelib.recent import RecentMessages
    from chalicelib.signals import EscalationPolicy
    from parley.business_profile import BusinessProfile
    from parley.events import Event
    from parley.sentiment import SentimentAnalyser
    from parley.settings import EscalationSettings


def _settings() -> EscalationSettings:
    from parley.settings import (  # pydantic-settings costs ~200 ms of import
        EscalationSettings,
        load_settings,
    )

    return load_settings(EscalationSettings)


def _dependencies(s: EscalationSettings) -> list[health.Dependency]:
    from chalicelib.crm import crm_credentials
    from parley.secrets import secret_json

    def crm() -> list[health.Dependency]:
        try:
            secret = secret_json(s.crm_secret_id)
        except Exception as error:  # reported as the CRM secret being unreadable
            problem = f"{type(error).__name__}"
            return [health.setting("CRM secret", f"cannot be read ({problem})")]
        return [health.credential(c) for c in crm_credentials(s.crm_secret_id, secret)]

    return [
        health.table(s.handoffs_table),
        health.queue(s.escalation_queue),
        health.queue(s.outbound_queue),
        health.topic(s.human_agents_topic),
        *crm(),
    ]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class EscalationRuntime(ServiceRuntime["EscalationSettings"]):
    """The service runtime plus the escalation service's own parts."""

    PARTS = (
        "policy",
        "sentiment",
        "store",
        "recent",
        "notifier",
        "crm_jobs",
        "crm_sync",
        "desk",
        "intake",
        "agent_api",
        "clock",
        "profile",
    )

    def needs_ledger(self, event: Event) -> bool:
        """None of its events: a detection publishes under an id derived from the message (the
        topic drops a repeat), a hand-off is created once per requesting event, a session's end
        and an erasure find nothing left the second time, and CRM jobs are upserts."""
        return False

    @cached_property
    def clock(self) -> Callable[[], datetime]:
        return _utcnow

    @cached_property
    def policy(self) -> EscalationPolicy:
        from chalicelib.signals import load_policy, load_shipped

        s = self.settings
        return load_policy(s.policy_bucket, s.policy_key) if s.policy_bucket else load_shipped()

    @cached_property
    def profile(self) -> BusinessProfile:
        """What the business tells its customers (BUSINESS_PROFILE), checked for every text the
        desk sends."""
        from chalicelib.signals.replies import check_profile
        from parley.business_profile import load_profile

        profile = load_profile(self.settings.business_profile)
        check_profile(profile)
        return profile

    @cached_property
    def sentiment(self) -> SentimentAnalyser:
        from chalicelib.signals import ComprehendSentimentAnalyser, LexiconSentimentAnalyser

        if self.settings.sentiment == "comprehend":
            return ComprehendSentimentAnalyser()
        return LexiconSentimentAnalyser()

    @cached_property
    def store(self) -> DynamoHandoffStore:
        from chalicelib.handoffs.store import DynamoHandoffStore

        return DynamoHandoffStore(self.settings.handoffs_table)

    @cached_property
    def recent(self) -> RecentMessages:
        from chalicelib.recent import RecentMessages
        from parley.cache import redis_client

        url = self.settings.redis_url
        return RecentMessages((lambda: redis_client(url)) if url else None, self.logger)

    @cached_property
    def notifier(self) -> AgentNotifier:
        from chalicelib.notify import AwsAgentNotifier, Recipients

        desk = self.policy.desk
        recipients = Recipients(
            email_from=self.settings.notify_email_from,
            team_emails=dict(desk.team_emails),
            supervisor_emails=list(desk.supervisor_emails),
            console_url=self.settings.console_url,
        )
        return AwsAgentNotifier(self.settings.human_agents_topic, recipients)

    @cached_property
    def crm_sync(self) -> CrmSync:
        from chalicelib.crm import CrmDirectory, CrmSync

        return CrmSync(CrmDirectory(self.settings.crm_secret_id))

    @cached_property
    def crm_jobs(self) -> CrmJobQueue:
        from chalicelib.handoffs.crm_jobs import CrmJobQueue

        return CrmJobQueue(self.sender(self.settings.escalation_queue), self.logger)

    @cached_property
    def desk(self) -> HandoffDesk:
        from chalicelib.handoffs.desk import HandoffDesk
        from chalicelib.handoffs.policy_texts import PolicyDesk

        return HandoffDesk(
            store=self.store,
            events=self.publisher,
            outbound=self.sender(self.settings.outbound_queue),
            notifier=self.notifier,
            crm=self.crm_jobs,
            policy=PolicyDesk(self.policy, self.profile),
            clock=self.clock,
            logger=self.logger,
            last_messages=self.recent.earlier,
        )

    @cached_property
    def intake(self) -> Intake:
        from chalicelib.intake import Intake
        from chalicelib.signals import decide

        policy, sentiment = self.policy, self.sentiment

        def bound(messages: Any, **kwargs: Any) -> Any:
            return decide(messages, policy=policy, sentiment=sentiment, **kwargs)

        return Intake(decide=bound, recent=self.recent, events=self.publisher, logger=self.logger)

    @cached_property
    def agent_api(self) -> AgentApi:
        from chalicelib.agent_api import AgentApi
        from chalicelib.context_client import ContextClient

        s = self.settings
        context = None
        if s.context_api_url:
            context = ContextClient(s.context_api_url, api_key=s.api_key)
        templates = list(self.policy.desk.templates)
        return AgentApi(desk=self.desk, context=context, templates=templates, clock=self.clock)


runtime = EscalationRuntime(_settings, _dependencies)

"""The sender: the `reply.requested` handler, the only code that sends to WhatsApp.

For one job: the opt-out and 24 h window rules (outside the window a free-form message becomes the
number's fallback template), the bodies (limits checked), then per part: skip when this request was
already sent, pace (per number and per customer, shared through Redis), send through the number's
channel with retries by Meta code (131047 → the template instead), track, publish `accepted`.

At most once: the attempt is recorded in the outbox before the channel is called, and the body
carries the request id in `biz_opaque_callback_data` (Meta echoes it in the status webhooks). An
ambiguous failure (the request may have reached Meta: a read timeout) is never resent at once:
the job is retried later, and the status webhook reconciles it (chalicelib/inbound/processor.py);
only when no status came within RECONCILE_SECONDS is the attempt taken to have failed.
The time budget is per invocation: a batch's jobs share the Lambda's remaining time.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from chalicelib.outbound import pacing
from chalicelib.outbound.messages import (
    FREE_FORM,
    NOT_MESSAGES,
    Body,
    build_bodies,
    template_body,
)
from chalicelib.outbound.retry import RetryPolicy, call_with_retry
from parley.errors import (
    DependencyError,
    InvalidInput,
    PermanentDependencyError,
    WhatsAppApiError,
)
from parley.events import MessageStatusEvent, ReplyRequestedEvent, split_conversation_key, utcnow
from parley.payloads import MessageStatus, ReplyRequested, TemplateMessage
from parley.whatsapp.meta_errors import MetaErrorAction, action_of

if TYPE_CHECKING:
    from chalicelib.outbound.registry import ChannelRegistry
    from chalicelib.store import Contact, OutboxEntry
    from parley.events import EventBase
    from parley.settings import BusinessNumber, IngestionSettings

PAIR_WINDOW_SECONDS = 6.0
NUMBER_WINDOW_SECONDS = 1.0
DEFAULT_BUDGET_SECONDS = 20.0  # of the 30 s Lambda timeout: room for tracking and publishing
INVOCATION_MARGIN_SECONDS = 5.0  # of the invocation's remaining time: tracking, publishing, DLQ
# Meta sends a `sent` (or `failed`) status within seconds of accepting a message: an attempt with
# no status after this long did not reach it.
RECONCILE_SECONDS = 120.0


class SendOutcomeUnknown(DependencyError):
    """An earlier attempt of this request may have been sent and is not confirmed yet: the job is
    retried later (the status webhook reconciles it meanwhile), never sent again at once."""

    code = "send_outcome_unknown"


class BudgetSpent(DependencyError):
    """The invocation's time ran out before this job: SQS gives it to a later invocation."""

    code = "send_budget_spent"


class OutboundStore(Protocol):
    """What the sender needs of the wa-messages table (WaMessagesStore)."""

    def sent_wamid(self, request_id: str) -> str | None: ...

    def begin_send(self, request_id: str) -> OutboxEntry | None: ...

    def retake_send(self, request_id: str, attempt_at: float) -> bool: ...

    def abandon_send(self, request_id: str) -> None: ...

    def track_outbound(
        self, request_id: str, wamid: str, conversation: str, kind: str, wa_id: str
    ) -> None: ...

    def get_contact(self, phone_number_id: str, wa_id: str) -> Contact | None: ...


class StatusPublisher(Protocol):
    def publish(self, event: EventBase) -> str: ...


@dataclass(frozen=True)
class Job:
    """One reply.requested event being sent, with its time budget."""

    event: ReplyRequestedEvent
    phone_number_id: str
    number: BusinessNumber
    deadline: float

    @property
    def reply(self) -> ReplyRequested:
        return self.event.payload

    @property
    def wa_id(self) -> str:
        return self.reply.to.lstrip("+")


@dataclass
class Sender:
    settings: IngestionSettings
    store: OutboundStore
    publisher: StatusPublisher
    channels: ChannelRegistry
    pacer: pacing.Pacer
    logger: Any
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    budget_seconds: float = DEFAULT_BUDGET_SECONDS
    clock: Callable[[], float] = time.monotonic
    wall_clock: Callable[[], float] = time.time
    invocation_deadline: float | None = None

    def begin_invocation(self, remaining_seconds: float | None) -> None:
        """A batch starts: its jobs share `remaining_seconds` (the Lambda's) less a margin."""
        if remaining_seconds is None:
            self.invocation_deadline = None
        else:
            self.invocation_deadline = self.clock() + remaining_seconds - INVOCATION_MARGIN_SECONDS

    def handle(self, event: ReplyRequestedEvent) -> list[str]:
        """Send the job; returns the message ids sent (or already sent) for it."""
        phone_number_id, _ = split_conversation_key(event.conversation)
        number = self.settings.number(phone_number_id)
        deadline = self.clock() + self.budget_seconds
        if self.invocation_deadline is not None:
            if self.clock() >= self.invocation_deadline:
                raise BudgetSpent("the invocation's time is spent; the job is left for a later one")
            deadline = min(deadline, self.invocation_deadline)
        job = Job(event, phone_number_id, number, deadline)
        if job.reply.kind in NOT_MESSAGES:  # a receipt answers the customer's own message
            self._send(job, build_bodies(job.reply)[0], pair_limited=False)
            return []
        contact = self.store.get_contact(phone_number_id, job.wa_id)
        if contact is not None and contact.opted_out and job.reply.origin != "system":
            self._log("not sent: the customer opted out", job)
            return []
        if contact is not None and contact.bot_paused and job.reply.origin == "bot":
            self._log("not sent: a person has the conversation (hand-off)", job)
            return []
        bodies = build_bodies(job.reply)  # InvalidInput (parked) names a broken limit
        if job.reply.kind in FREE_FORM and not (contact is not None and contact.window_open()):
            self._log("outside the 24 h window: sending the fallback template", job)
            bodies = [self._fallback_body(job)]
        return self._deliver_all(job, bodies)

    def _deliver_all(self, job: Job, bodies: list[Body]) -> list[str]:
        sent: list[str] = []
        for index, body in enumerate(bodies):
            wamid, replaced = self._deliver(job, _part_id(job.reply.request_id, index), body)
            sent.append(wamid)
            if replaced:  # the window closed: the template replaces the rest of the reply too
                break
        return sent

    def _deliver(self, job: Job, part_id: str, body: Body) -> tuple[str, bool]:
        """Send one part unless already sent; (message id, whether a template replaced it)."""
        done = self._claim_attempt(job, part_id)
        if done is not None:
            self._log("already sent; not sending again", job, part=part_id)
            self._publish_accepted(job, done)  # same event id: harmless if it was published
            return done, False
        try:
            wamid, body, replaced = self._send_part(job, part_id, body)
        except Exception as error:
            if not getattr(error, "ambiguous", False):  # surely not sent: a retry may send it
                self.store.abandon_send(part_id)
            raise
        if not wamid:
            raise PermanentDependencyError("the channel accepted the message but gave no id")
        self.store.track_outbound(part_id, wamid, job.event.conversation, body["type"], job.wa_id)
        self._publish_accepted(job, wamid)
        return wamid, replaced

    def _claim_attempt(self, job: Job, part_id: str) -> str | None:
        """Record the attempt in the outbox; the wamid when the part was sent already."""
        entry = self.store.begin_send(part_id)
        if entry is None:
            return None
        if entry.wamid:
            return entry.wamid
        waited = self.wall_clock() - entry.attempt_at
        if waited < RECONCILE_SECONDS or not self.store.retake_send(part_id, entry.attempt_at):
            self._log("an earlier attempt is unconfirmed; retrying later", job, part=part_id)
            raise SendOutcomeUnknown(f"an attempt {waited:.0f} s ago is not confirmed yet")
        self._log("no status for the earlier attempt: sending again", job, part=part_id)
        return None

    def _send_part(self, job: Job, part_id: str, body: Body) -> tuple[str, Body, bool]:
        body = {**body, "biz_opaque_callback_data": part_id}
        try:
            return self._send(job, body, pair_limited=True), body, False
        except WhatsAppApiError as exc:
            if action_of(exc) is not MetaErrorAction.TEMPLATE or body.get("type") == "template":
                raise
            self._log("131047 re-engagement required: sending the fallback template", job)
            body = {**self._fallback_body(job), "biz_opaque_callback_data": part_id}
            return self._send(job, body, pair_limited=True), body, True

    def _send(self, job: Job, body: Body, *, pair_limited: bool) -> str:
        channel = self.channels.for_number(job.number)
        prepare = getattr(channel, "prepare", None)
        if callable(prepare):  # slow set-up (credentials) before the slot, not between it and Meta
            prepare()

        def attempt() -> str:
            self._pace(job, pair_limited)
            return channel.send(job.phone_number_id, job.number, body)

        return call_with_retry(attempt, self.policy, deadline=job.deadline, logger=self.logger)

    def _pace(self, job: Job, pair_limited: bool) -> None:
        if pair_limited:  # receipts (read, typing) are not messages to the customer
            key = pacing.pair_key(job.phone_number_id, job.wa_id)
            limit = self.settings.recipient_messages_per_6s
            self.pacer.acquire(key, limit, PAIR_WINDOW_SECONDS, job.deadline)
        rate = job.number.messages_per_second
        key = pacing.number_key(job.phone_number_id)
        self.pacer.acquire(key, rate, NUMBER_WINDOW_SECONDS, job.deadline)

    def _fallback_body(self, job: Job) -> Body:
        template = TemplateMessage(
            name=job.number.fallback_template, language=job.number.fallback_template_language
        )
        return template_body(job.reply.to, template)

    def _publish_accepted(self, job: Job, wamid: str) -> None:
        status = MessageStatus(
            message_id=wamid,
            status="accepted",
            recipient=job.wa_id,
            at=utcnow(),
            request_id=job.reply.request_id,
        )
        self.publisher.publish(
            MessageStatusEvent(
                event_id=hashlib.sha256(f"accepted:{wamid}".encode()).hexdigest()[:32],
                conversation=job.event.conversation,
                producer=self.settings.service_name,
                trace=job.event.trace,
                payload=status,
            )
        )

    def _log(self, message: str, job: Job, **extra: object) -> None:
        self.logger.info(
            message,
            extra={"request_id": job.reply.request_id, "kind": job.reply.kind, **extra},
        )


def _part_id(request_id: str, index: int) -> str:
    """Each part of a split text is tracked on its own, so a redelivery resumes after the last
    part sent instead of sending the first ones again."""
    return request_id if index == 0 else f"{request_id}#{index + 1}"


def as_reply_event(event: object) -> ReplyRequestedEvent:
    if not isinstance(event, ReplyRequestedEvent):
        raise InvalidInput(f"the sender handles reply.requested, not {getattr(event, 'type', '?')}")
    return event

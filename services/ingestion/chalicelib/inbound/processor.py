"""What happens to each normalised inbound event: dedupe, record, route, feedback.

Messages: claim the wamid (durable, 7 days) -> record the 24 h window -> opt-out keywords -> rate
limit -> typing indicator on outbound.fifo -> `message.received` to the topic (and media.fifo for
media). A failure after the claim releases it and raises `InboundNotProcessed` (HTTP 500), so
Meta's retry processes the message; deterministic event ids make the repeated sends dedupe.

Statuses: advance the tracked message (never backwards) -> publish `message.status` (a repeat
under the same event id, which the FIFO topic drops); a 131047 failure sends the number's fallback
template once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from chalicelib.inbound.keywords import opt_keyword
from chalicelib.inbound.language import guess_language
from chalicelib.inbound.normalize import PRODUCER, InboundEvent, event_id
from chalicelib.inbound.ports import (
    EventPublisher,
    EventSender,
    InboundStore,
    MessageInProgress,
    RateLimiter,
)
from parley.errors import DependencyError
from parley.events import (
    MessageReceivedEvent,
    MessageStatusEvent,
    ReplyRequestedEvent,
    split_conversation_key,
)
from parley.logs import conversation_ref, message_ref
from parley.payloads import MessageReceived, ReplyRequested, TemplateMessage
from parley.settings import BusinessNumber

if TYPE_CHECKING:
    from parley.business_profile import BusinessProfile

MEDIA_KINDS = frozenset({"image", "audio", "video", "document", "sticker"})
REENGAGEMENT_REQUIRED = 131047  # outside the 24 h window: only a template gets through
# A message over the inbound rate limit is answered this long after it was sent (the bucket
# refills meanwhile), together with whatever else the customer sent.
RATE_LIMIT_HOLD_SECONDS = 60
Feedback = Literal["typing", "read"]


class InboundNotProcessed(DependencyError):
    """Processing failed after the message was claimed; the claim was released. HTTP 500 makes
    Meta deliver the webhook again."""

    code = "inbound_not_processed"
    http_status = 500


@dataclass
class Outcome:
    """Counts for the webhook's answer and log line."""

    received: int = 0
    duplicates: int = 0
    rate_limited: int = 0
    keywords: int = 0
    statuses: int = 0
    stale_statuses: int = 0
    fallbacks: int = 0
    ignored: int = 0  # for a business number this deployment does not serve

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass
class InboundProcessor:
    """Applies inbound events; every dependency is passed in (tests and the benchmark use fakes).
    `profile` holds what the customer is told (opt-out confirmations, the rate-limit notice)."""

    store: InboundStore
    publisher: EventPublisher
    media_jobs: EventSender
    outbound: EventSender
    limiter: RateLimiter
    number: Callable[[str], BusinessNumber]
    is_ours: Callable[[str], bool]
    logger: Any
    profile: BusinessProfile

    def process(self, events: Iterable[InboundEvent]) -> Outcome:
        """Apply every event; raises InboundNotProcessed when one could not be. Events for a
        business number that is not configured are logged and ignored: nothing stored, published
        or sent (not even a read receipt) from a number this deployment does not serve."""
        outcome = Outcome()
        for event in events:
            phone_number_id, _ = split_conversation_key(event.conversation)
            if not self.is_ours(phone_number_id):
                outcome.ignored += 1
                self.logger.warning(
                    "inbound event for a business number that is not configured, ignored",
                    extra=_log_extra(event, phone_number_id=phone_number_id[:40]),
                )
                continue
            try:
                if isinstance(event, MessageReceivedEvent):
                    self._receive_once(event, outcome)
                else:
                    self._track(event, outcome)
            except MessageInProgress:
                self.logger.warning("message claimed by a running invocation; retry asked")
                raise
            except Exception as error:
                self._log_failure(event, error)
                raise InboundNotProcessed(f"{event.type} not processed: {error}") from error
        return outcome

    def _receive_once(self, event: MessageReceivedEvent, out: Outcome) -> None:
        wamid = event.payload.message_id
        if not self.store.claim_message(wamid):
            out.duplicates += 1
            return
        try:
            self._receive(event, out)
        except Exception:
            self._release(wamid)
            raise
        self._complete(wamid)

    def _receive(self, event: MessageReceivedEvent, out: Outcome) -> None:
        p = event.payload
        if p.kind != "system":  # a number change is not the customer writing
            at = p.sent_at.timestamp()
            self.store.record_inbound(p.business_phone_number_id, p.wa_id, at, p.profile_name)
        keyword = opt_keyword(p.text) if p.kind == "text" else None
        if keyword is not None:
            self.store.set_opt_out(p.business_phone_number_id, p.wa_id, keyword.opted_out)
        verdict = self.limiter.check(event.conversation)
        if not verdict.allowed:
            out.rate_limited += 1
            self._refuse(event, notify=verdict.notify)
        elif keyword is not None:
            out.keywords += 1
            self._feedback(event, "read")
            text = self.profile.say(keyword.confirmation_key, keyword.language)
            self._reply(event, "optout" if keyword.opted_out else "optin", text)
        else:
            out.received += 1
            self._forward(event)

    def _forward(self, event: MessageReceivedEvent) -> None:
        kind = event.payload.kind
        if kind != "system":
            self._feedback(event, "read" if kind == "reaction" else "typing")
        self.publisher.publish(event)
        if kind in MEDIA_KINDS:
            self.media_jobs.send(event)

    def _refuse(self, event: MessageReceivedEvent, *, notify: bool) -> None:
        """Over the limit: the message is recorded (context keeps it) but answered only after
        the hold, with whatever else came meanwhile, as the notice says."""
        self.logger.warning(
            "inbound rate limit exceeded, message held",
            extra=_log_extra(event, notice_sent=notify),
        )
        self._feedback(event, "read")
        hold = event.payload.sent_at.timestamp() + RATE_LIMIT_HOLD_SECONDS
        until = datetime.fromtimestamp(max(hold, time.time() + RATE_LIMIT_HOLD_SECONDS), UTC)
        held = event.payload.model_copy(update={"hold_until": until})
        self.publisher.publish(event.model_copy(update={"payload": held}))
        if event.payload.kind in MEDIA_KINDS:
            self.media_jobs.send(event)
        if notify:
            p = event.payload
            language = guess_language(p.text or (p.media.caption if p.media else None))
            self._reply(event, "ratelimit", self.profile.say("ingestion.rate_limited", language))

    def _feedback(self, event: MessageReceivedEvent, kind: Feedback) -> None:
        """Typing (which also marks read) when a reply will follow, a read receipt otherwise."""
        self._send_reply(event.conversation, f"{kind}:{event.payload.message_id}", kind, event)

    def _reply(self, event: MessageReceivedEvent, purpose: str, text: str) -> None:
        self._send_reply(
            event.conversation, f"{purpose}:{event.payload.message_id}", "text", event, text=text
        )

    def _send_reply(
        self,
        conversation: str,
        key: str,
        kind: Literal["typing", "read", "text"],
        event: MessageReceivedEvent,
        text: str | None = None,
    ) -> None:
        p: MessageReceived = event.payload
        request_id = event_id("reply.requested", key)
        reply = ReplyRequested(
            request_id=request_id,
            to=p.wa_id,
            kind=kind,
            text=text,
            reply_to=p.message_id,
            origin="system",
        )
        self.outbound.send(_reply_event(conversation, reply))

    def _track(self, event: MessageStatusEvent, out: Outcome) -> None:
        """One delivery receipt, never moving the tracked message backwards. A repeated status
        (a duplicate, or Meta's retry after a failed publish) is published again under the same
        event id: the FIFO topic drops the copy, and consumers apply statuses idempotently."""
        p = event.payload
        tracked = self.store.advance_status(p.message_id, p.status, p.at.timestamp())
        if (
            tracked is None
            and p.request_id
            and self.store.reconcile_send(
                p.request_id, p.message_id, event.conversation, p.recipient
            )
        ):  # a send whose answer was lost: this status confirms it went out
            tracked = self.store.advance_status(p.message_id, p.status, p.at.timestamp())
        conversation = tracked.conversation if tracked else event.conversation
        if tracked is None:
            out.stale_statuses += 1  # older than what we know, or not a message we sent
        else:
            if tracked.repeated:
                out.duplicates += 1
            else:
                out.statuses += 1
            payload = p.model_copy(update={"request_id": tracked.request_id})
            update = {"conversation": conversation, "payload": payload}
            self.publisher.publish(event.model_copy(update=update))
        if p.status == "failed" and any(e.code == REENGAGEMENT_REQUIRED for e in p.errors):
            self._fallback(p.message_id, conversation, p.recipient, out)

    def _fallback(self, wamid: str, conversation: str, to: str, out: Outcome) -> None:
        """Outside the 24 h window: the number's approved template, once per failed message."""
        if not self.store.mark_template_fallback(wamid):
            return
        try:
            self._queue_fallback(wamid, conversation, to, out)
        except Exception:
            self.store.clear_template_fallback(wamid)
            raise

    def _queue_fallback(self, wamid: str, conversation: str, to: str, out: Outcome) -> None:
        phone_number_id, _ = split_conversation_key(conversation)
        number = self.number(phone_number_id)
        reply = ReplyRequested(
            request_id=event_id("reply.requested", "fallback", wamid),
            to=to,
            kind="template",
            template=TemplateMessage(
                name=number.fallback_template, language=number.fallback_template_language
            ),
            origin="system",
        )
        self.outbound.send(_reply_event(conversation, reply))
        out.fallbacks += 1

    def _complete(self, wamid: str) -> None:
        try:
            self.store.complete_message(wamid)
        except Exception as error:  # published already: answer 200; the lease keeps the claim
            self.logger.error(
                "claim not completed; a retry after its lease would be taken again",
                extra={
                    "message_ref": message_ref(wamid),
                    "reason": f"{type(error).__name__}: {error}",
                },
            )

    def _release(self, wamid: str) -> None:
        try:
            self.store.release_message(wamid)
        except Exception as error:  # the retry then finds it claimed: log loudly
            self.logger.error(
                "claim not released, the message may be lost",
                extra={
                    "message_ref": message_ref(wamid),
                    "reason": f"{type(error).__name__}: {error}",
                },
            )

    def _log_failure(self, event: InboundEvent, error: Exception) -> None:
        self.logger.error(
            "inbound event not processed",
            extra={**_log_extra(event), "reason": f"{type(error).__name__}: {error}"},
        )


def _reply_event(conversation: str, reply: ReplyRequested) -> ReplyRequestedEvent:
    return ReplyRequestedEvent(
        event_id=reply.request_id, conversation=conversation, producer=PRODUCER, payload=reply
    )


def _log_extra(event: InboundEvent, **more: object) -> dict[str, object]:
    return {
        "event_id": event.event_id,
        "event_type": event.type,
        "conversation_ref": conversation_ref(event.conversation),
        "kind": getattr(event.payload, "kind", None) or getattr(event.payload, "status", None),
        **more,
    }

"""A media job: fetch and keep the file, understand it, publish `media.processed` so the turn goes
out at once; bad media gets an honest answer instead.

Customer mistakes (too large, wrong or unsupported type, corrupt, expired) and media no engine can
read are answered to the customer and published as `rejected`/`unavailable` with the reason: never
the DLQ. Our own failures (a download or an engine that is down) raise a retryable error: SQS
tries again, then parks the job with the reason.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from parley.events import MediaProcessedEvent, MessageReceivedEvent, ReplyRequestedEvent
from parley.logs import conversation_ref
from parley.payloads import MediaAnalysis, MediaProcessed, ReplyRequested

if TYPE_CHECKING:
    from parley.business_profile import BusinessProfile

PRODUCER = "media"
# What the customer is told about media we refuse: the profile's text per fetcher
# `customer_reason`. The session's language is not known here, so both languages go in one message.
REJECTED_TEXTS: dict[str, str] = {
    "too_large": "media.rejected.too_large",
    "unsupported_type": "media.rejected.unsupported_type",
    "type_mismatch": "media.rejected.type_mismatch",
    "corrupt": "media.rejected.corrupt",
    "expired": "media.rejected.expired",
}
OTHER_REJECTED = "media.rejected.other"
Status = Literal["ok", "unavailable", "rejected"]


@dataclass
class MediaProcessor:
    fetch: Callable[[Any], Any]  # fetch_and_keep bound to the sources and the store -> StoredMedia
    read: Callable[[Any], bytes]  # the stored object's bytes
    understand: Callable[..., Any]  # chalicelib.engines.understand bound to the engines
    events: Any  # topic publisher
    outbound: Any  # outbound.fifo sender
    logger: Any
    profile: BusinessProfile  # what the customer is told

    def handle(self, event: MessageReceivedEvent) -> None:
        from chalicelib.fetch import MediaRejected

        p = event.payload
        try:
            stored = self.fetch(p)
        except MediaRejected as error:
            reason = error.customer_reason
            self._tell(event, self.rejected_text(reason), "rejected")
            self._publish(event, "rejected", reason=f"{reason}: {error.message}"[:500], told=True)
            return
        mime = stored.mime_type or (p.media.mime_type if p.media else None) or ""
        filename = (p.media.filename if p.media else None) or ""
        result = self.understand(self.read(stored), mime, p.kind, filename=filename)
        common: dict[str, Any] = {"s3_key": stored.key, "mime_type": mime, "size": stored.size}
        if result.status != "understood":
            if result.reply:
                self._tell(event, result.reply, "unreadable")
            reason = result.reason or result.status
            self._publish(event, "unavailable", reason=reason, told=bool(result.reply), **common)
            return
        if result.confirmation:
            self._tell(event, result.confirmation, "confirm")
        self._publish(event, "ok", analysis=analysis_of(result), **common)

    def rejected_text(self, reason: str) -> str:
        """The answer to a refused file, English then Spanish (the language is not known)."""
        key = REJECTED_TEXTS.get(reason, OTHER_REJECTED)
        return " / ".join(self.profile.say(key, language) for language in ("en", "es"))

    def _publish(
        self,
        event: MessageReceivedEvent,
        status: Status,
        *,
        reason: str | None = None,
        analysis: MediaAnalysis | None = None,
        s3_key: str | None = None,
        mime_type: str | None = None,
        size: int | None = None,
        told: bool = False,
    ) -> None:
        payload = MediaProcessed(
            message_id=event.payload.message_id,
            kind=event.payload.kind,
            status=status,
            reason=reason,
            s3_key=s3_key,
            mime_type=mime_type,
            size_bytes=size,
            analysis=analysis,
            customer_told=told,
        )
        self.events.publish(
            MediaProcessedEvent(
                event_id=f"{event.event_id}.media",
                conversation=event.conversation,
                producer=PRODUCER,
                trace=event.trace,
                payload=payload,
            )
        )
        self.logger.info(
            "media processed",
            extra={
                "conversation_ref": conversation_ref(event.conversation),
                "kind": event.payload.kind,
                "status": status,
                "reason": reason,
            },
        )

    def _tell(self, event: MessageReceivedEvent, text: str, purpose: str) -> None:
        reply = ReplyRequested(
            request_id=f"media-{purpose}:{event.payload.message_id}",
            to=event.payload.wa_id,
            kind="text",
            text=text,
            reply_to=event.payload.message_id,
            origin="system",
        )
        self.outbound.send(
            ReplyRequestedEvent(
                event_id=reply.request_id,
                conversation=event.conversation,
                producer=PRODUCER,
                payload=reply,
            )
        )


def analysis_of(result: Any) -> MediaAnalysis:
    """What the AI reads of understood media."""
    transcript = result.transcript.text if result.transcript is not None else None
    image = result.image
    return MediaAnalysis(
        transcript=transcript,
        text=None if transcript else (result.text or None),
        labels=list(image.labels) if image is not None else [],
        moderation=list(image.moderation) if image is not None else [],
        language=result.transcript.language if result.transcript is not None else None,
    )


def eum_ids(numbers: Mapping[str, Any]) -> dict[str, str]:
    """Meta phone_number_id -> EUM phone-number-id, for the numbers that use EUM."""
    return {
        key: str(number.eum_phone_number_id)
        for key, number in numbers.items()
        if getattr(number, "eum_phone_number_id", None)
    }

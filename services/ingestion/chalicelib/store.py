"""The ingestion service's table, `wa-messages` (single-table layout, `pk`/`sk`, TTL `expires_at`).

| item | pk | sk | what |
|---|---|---|---|
| inbound claim | `msg#<wamid>` | `dedupe` | `in_progress` under a lease, then `done` (7 days) |
| contact | `contact#<phone_number_id>#<wa_id>` | `profile` | last inbound time, name, opt-out |
| outbox | `req#<request_id>` | `request` | `sending` before the call, then `sent` + wamid |
| outbound message | `out#<wamid>` | `tracking` | request id, conversation, kind, status |

`gsi1pk = wa#<wa_id>` on contacts and outbound items lets `customer.erased` find them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from chalicelib.inbound.ports import MessageInProgress
from parley import aws
from parley.errors import StorageError

DEDUPE_TTL_SECONDS = 7 * 24 * 3600  # Meta retries a webhook for up to 7 days
# A claim is held "in progress" this long: longer than the webhook function may run (10 s), so a
# live invocation is never overtaken; short enough that Meta's retry of a message whose invocation
# died between the claim and the publish takes it over instead of dropping it as a duplicate.
CLAIM_LEASE_SECONDS = 30
TRACKING_TTL_SECONDS = 30 * 24 * 3600
STATUS_RANK = {"accepted": 0, "sent": 1, "delivered": 2, "read": 3, "played": 4, "failed": 9}


@dataclass(frozen=True)
class Contact:
    phone_number_id: str
    wa_id: str
    last_inbound_at: float | None
    profile_name: str | None
    opted_out: bool
    # While people have the conversation (a hand-off started and has not ended) the bot's
    # replies are not sent, even one already in flight when the hand-off began.
    bot_paused: bool = False

    def window_open(self, now: float | None = None) -> bool:
        """Inside WhatsApp's 24-hour customer service window."""
        if self.last_inbound_at is None:
            return False
        return (now or time.time()) - self.last_inbound_at < 24 * 3600


@dataclass(frozen=True)
class OutboxEntry:
    """What the outbox knows of one outbound request (one part of a reply)."""

    state: str  # "sending" (attempted, outcome unknown) or "sent"
    wamid: str | None
    attempt_at: float


@dataclass(frozen=True)
class TrackedMessage:
    wamid: str
    request_id: str
    conversation: str
    kind: str
    status: str
    template_fallback_sent: bool
    repeated: bool = False  # the status was already this one (a duplicate, or Meta's retry)


def _conditional_failed(error: Exception) -> bool:
    code = getattr(error, "response", {}).get("Error", {}).get("Code")
    return code == "ConditionalCheckFailedException"


class WaMessagesStore:
    """DynamoDB access for the `wa-messages` table; every write is conditional where it matters."""

    def __init__(
        self, table: str, client: Any = None, clock: Callable[[], float] = time.time
    ) -> None:
        self._table = table
        self._client = client
        self._clock = clock

    @property
    def _ddb(self) -> Any:
        return self._client or aws.client("dynamodb")

    def claim_message(self, wamid: str) -> bool:
        """True when this invocation may process the message: never seen, or its earlier claim's
        lease ran out before it was completed (that invocation died). False for a message already
        processed. Raises MessageInProgress while another invocation's lease is running."""
        now = int(self._clock())
        try:
            self._ddb.put_item(
                TableName=self._table,
                Item={
                    "pk": {"S": f"msg#{wamid}"},
                    "sk": {"S": "dedupe"},
                    "state": {"S": "in_progress"},
                    "lease_until": {"N": str(now + CLAIM_LEASE_SECONDS)},
                    "expires_at": {"N": str(now + DEDUPE_TTL_SECONDS)},
                },
                ConditionExpression="attribute_not_exists(pk) OR "
                "(#state = :progress AND lease_until < :now)",
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues={
                    ":progress": {"S": "in_progress"},
                    ":now": {"N": str(now)},
                },
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
            return True
        except Exception as error:
            if not _conditional_failed(error):
                raise StorageError(f"dedupe write failed: {error}") from error
            held = getattr(error, "response", {}).get("Item", {})
            if held.get("state", {}).get("S") == "in_progress":
                raise MessageInProgress("the message is being processed; retry later") from error
            return False

    def complete_message(self, wamid: str) -> None:
        """The message was processed: a redelivery within 7 days is a duplicate."""
        try:
            self._ddb.update_item(
                TableName=self._table,
                Key={"pk": {"S": f"msg#{wamid}"}, "sk": {"S": "dedupe"}},
                UpdateExpression="SET #state = :done REMOVE lease_until",
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues={":done": {"S": "done"}},
            )
        except Exception as error:
            raise StorageError(f"dedupe completion failed: {error}") from error

    def release_message(self, wamid: str) -> None:
        """Undo a claim whose processing failed, so Meta's retry is processed."""
        self._ddb.delete_item(
            TableName=self._table, Key={"pk": {"S": f"msg#{wamid}"}, "sk": {"S": "dedupe"}}
        )

    def record_inbound(
        self, phone_number_id: str, wa_id: str, at: float, profile_name: str | None
    ) -> None:
        """Move the contact's last inbound time forward (never backward) and keep its name."""
        names = {"#at": "last_inbound_at"}
        values: dict[str, Any] = {
            ":at": {"N": str(at)},
            ":g": {"S": f"wa#{wa_id}"},
            ":s": {"S": "contact"},
        }
        sets = ["#at = :at", "gsi1pk = :g", "gsi1sk = :s"]
        if profile_name:
            sets.append("profile_name = :n")
            values[":n"] = {"S": profile_name}
        try:
            self._ddb.update_item(
                TableName=self._table,
                Key=self._contact_key(phone_number_id, wa_id),
                UpdateExpression="SET " + ", ".join(sets),
                ConditionExpression="attribute_not_exists(#at) OR #at < :at",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except Exception as error:
            if not _conditional_failed(error):  # an older message arriving late changes nothing
                raise StorageError(f"contact update failed: {error}") from error

    def set_opt_out(self, phone_number_id: str, wa_id: str, opted_out: bool) -> None:
        self._ddb.update_item(
            TableName=self._table,
            Key=self._contact_key(phone_number_id, wa_id),
            UpdateExpression="SET opted_out = :o, gsi1pk = :g, gsi1sk = :s",
            ExpressionAttributeValues={
                ":o": {"BOOL": opted_out},
                ":g": {"S": f"wa#{wa_id}"},
                ":s": {"S": "contact"},
            },
        )

    def get_contact(self, phone_number_id: str, wa_id: str) -> Contact | None:
        item = self._ddb.get_item(
            TableName=self._table,
            Key=self._contact_key(phone_number_id, wa_id),
            ConsistentRead=True,
        ).get("Item")
        if item is None:
            return None
        at = item.get("last_inbound_at", {}).get("N")
        return Contact(
            phone_number_id=phone_number_id,
            wa_id=wa_id,
            last_inbound_at=float(at) if at else None,
            profile_name=item.get("profile_name", {}).get("S"),
            opted_out=bool(item.get("opted_out", {}).get("BOOL", False)),
            bot_paused="paused_at" in item,
        )

    def set_bot_paused(self, phone_number_id: str, wa_id: str, paused: bool, at: float) -> None:
        """Pause or resume the bot's replies; an older event never undoes a newer one."""
        key = self._contact_key(phone_number_id, wa_id)
        values: dict[str, Any] = {
            ":at": {"N": str(at)},
            ":g": {"S": f"wa#{wa_id}"},
            ":s": {"S": "contact"},
        }
        newer = "attribute_not_exists(changed_at) OR changed_at <= :at"
        if paused:
            expression = "SET paused_at = :at, changed_at = :at, gsi1pk = :g, gsi1sk = :s"
        else:
            expression = "SET changed_at = :at, gsi1pk = :g, gsi1sk = :s REMOVE paused_at"
        try:
            self._ddb.update_item(
                TableName=self._table,
                Key=key,
                UpdateExpression=expression,
                ConditionExpression=newer,
                ExpressionAttributeValues=values,
            )
        except Exception as error:
            if _conditional_failed(error):
                return  # a later hand-off event already decided
            raise

    @staticmethod
    def _contact_key(phone_number_id: str, wa_id: str) -> dict[str, Any]:
        return {"pk": {"S": f"contact#{phone_number_id}#{wa_id}"}, "sk": {"S": "profile"}}

    def begin_send(self, request_id: str) -> OutboxEntry | None:
        """Record an attempt to send `request_id` BEFORE calling the channel. None: this caller
        holds the attempt now; otherwise the entry already there (sent, or an earlier attempt
        whose outcome is unknown)."""
        now = self._clock()
        try:
            self._ddb.put_item(
                TableName=self._table,
                Item={
                    "pk": {"S": f"req#{request_id}"},
                    "sk": {"S": "request"},
                    "state": {"S": "sending"},
                    "attempt_at": {"N": str(now)},
                    "expires_at": {"N": str(int(now) + TRACKING_TTL_SECONDS)},
                },
                ConditionExpression="attribute_not_exists(pk)",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
            return None
        except Exception as error:
            if not _conditional_failed(error):
                raise StorageError(f"outbox write failed: {error}") from error
            item = getattr(error, "response", {}).get("Item", {})
            wamid = item.get("wamid", {}).get("S")
            return OutboxEntry(
                state="sent" if wamid else item.get("state", {}).get("S", "sending"),
                wamid=wamid,
                attempt_at=float(item.get("attempt_at", {}).get("N", "0")),
            )

    def retake_send(self, request_id: str, attempt_at: float) -> bool:
        """Take over an earlier attempt that stayed unconfirmed (compare-and-set on its time)."""
        try:
            self._ddb.update_item(
                TableName=self._table,
                Key={"pk": {"S": f"req#{request_id}"}, "sk": {"S": "request"}},
                UpdateExpression="SET attempt_at = :now",
                ConditionExpression="#state = :sending AND attempt_at = :was",
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues={
                    ":now": {"N": str(self._clock())},
                    ":sending": {"S": "sending"},
                    ":was": {"N": str(attempt_at)},
                },
            )
            return True
        except Exception as error:
            if _conditional_failed(error):
                return False
            raise StorageError(f"outbox write failed: {error}") from error

    def abandon_send(self, request_id: str) -> None:
        """The attempt surely did not send (the channel refused it): a later delivery may."""
        try:
            self._ddb.delete_item(
                TableName=self._table,
                Key={"pk": {"S": f"req#{request_id}"}, "sk": {"S": "request"}},
                ConditionExpression="#state = :sending",
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues={":sending": {"S": "sending"}},
            )
        except Exception as error:
            if not _conditional_failed(error):
                raise StorageError(f"outbox write failed: {error}") from error

    def reconcile_send(self, request_id: str, wamid: str, conversation: str, wa_id: str) -> bool:
        """A status webhook named the request (biz_opaque_callback_data) of a message whose send
        was never confirmed: record it as sent with that wamid. False when nothing was pending."""
        item = self._ddb.get_item(
            TableName=self._table,
            Key={"pk": {"S": f"req#{request_id}"}, "sk": {"S": "request"}},
            ConsistentRead=True,
        ).get("Item")
        if not item or item.get("state", {}).get("S") != "sending":
            return False
        self.track_outbound(request_id, wamid, conversation, "reconciled", wa_id)
        return True

    def sent_wamid(self, request_id: str) -> str | None:
        """The wamid of a request already sent (a redelivered job must not send twice)."""
        item = self._ddb.get_item(
            TableName=self._table,
            Key={"pk": {"S": f"req#{request_id}"}, "sk": {"S": "request"}},
            ConsistentRead=True,
        ).get("Item")
        return item["wamid"]["S"] if item else None

    def track_outbound(
        self, request_id: str, wamid: str, conversation: str, kind: str, wa_id: str
    ) -> None:
        """Record a sent message: request -> wamid, and wamid -> request with status `accepted`."""
        expires = {"N": str(int(time.time()) + TRACKING_TTL_SECONDS)}
        gsi = {"gsi1pk": {"S": f"wa#{wa_id}"}, "gsi1sk": {"S": f"out#{wamid}"}}
        self._ddb.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": {
                            "pk": {"S": f"req#{request_id}"},
                            "sk": {"S": "request"},
                            "state": {"S": "sent"},
                            "wamid": {"S": wamid},
                            "expires_at": expires,
                            **gsi,
                        },
                    }
                },
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": {
                            "pk": {"S": f"out#{wamid}"},
                            "sk": {"S": "tracking"},
                            "request_id": {"S": request_id},
                            "conversation": {"S": conversation},
                            "kind": {"S": kind},
                            "status": {"S": "accepted"},
                            "status_rank": {"N": "0"},
                            "expires_at": expires,
                            **gsi,
                        },
                    }
                },
            ]
        )

    def advance_status(self, wamid: str, status: str, at: float) -> TrackedMessage | None:
        """Move a tracked message's status forward only (sent < delivered < read; failed is
        terminal). Returns the updated message, or None when the update would go backwards or
        the message is not ours. Re-applying the current status is allowed (`repeated`): that is
        how a status whose publishing failed is published on Meta's retry."""
        rank = STATUS_RANK.get(status)
        if rank is None:
            return None
        try:
            item = self._ddb.update_item(
                TableName=self._table,
                Key={"pk": {"S": f"out#{wamid}"}, "sk": {"S": "tracking"}},
                UpdateExpression="SET #s = :s, status_rank = :r, status_at = :at",
                ConditionExpression=(
                    "attribute_exists(pk) AND status_rank <= :r AND (#s <> :f OR #s = :s)"
                ),
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={
                    ":s": {"S": status},
                    ":r": {"N": str(rank)},
                    ":at": {"N": str(at)},
                    ":f": {"S": "failed"},
                },
                ReturnValues="ALL_OLD",
            )["Attributes"]
        except Exception as error:
            if _conditional_failed(error):
                return None
            raise StorageError(f"status update failed: {error}") from error
        before = _tracked(wamid, item)
        return replace(before, status=status, repeated=before.status == status)

    def mark_template_fallback(self, wamid: str) -> bool:
        """True once per wamid: the template fallback for a 131047 failure is sent only once."""
        try:
            self._ddb.update_item(
                TableName=self._table,
                Key={"pk": {"S": f"out#{wamid}"}, "sk": {"S": "tracking"}},
                UpdateExpression="SET template_fallback_sent = :t",
                ConditionExpression="attribute_exists(pk) AND attribute_not_exists("
                "template_fallback_sent)",
                ExpressionAttributeValues={":t": {"BOOL": True}},
            )
            return True
        except Exception as error:
            if _conditional_failed(error):
                return False
            raise StorageError(f"fallback mark failed: {error}") from error

    def clear_template_fallback(self, wamid: str) -> None:
        """Undo `mark_template_fallback` when the fallback could not be queued."""
        self._ddb.update_item(
            TableName=self._table,
            Key={"pk": {"S": f"out#{wamid}"}, "sk": {"S": "tracking"}},
            UpdateExpression="REMOVE template_fallback_sent",
        )

    def erase_customer(self, wa_id: str) -> int:
        """Delete the customer's contact and outbound items; returns how many were deleted."""
        deleted = 0
        pages = self._ddb.get_paginator("query").paginate(
            TableName=self._table,
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :g",
            ExpressionAttributeValues={":g": {"S": f"wa#{wa_id}"}},
        )
        for page in pages:
            for item in page.get("Items", []):
                key = {"pk": item["pk"], "sk": item["sk"]}
                if item.get("opted_out", {}).get("BOOL"):
                    # The opt-out outlives the erasure: it is what stops us writing to the number
                    # again. Only the flag stays (no name, no times, not indexed by the customer).
                    self._ddb.put_item(
                        TableName=self._table, Item={**key, "opted_out": {"BOOL": True}}
                    )
                else:
                    self._ddb.delete_item(TableName=self._table, Key=key)
                deleted += 1
        return deleted


def _tracked(wamid: str, item: dict[str, Any]) -> TrackedMessage:
    return TrackedMessage(
        wamid=wamid,
        request_id=item["request_id"]["S"],
        conversation=item["conversation"]["S"],
        kind=item["kind"]["S"],
        status=item["status"]["S"],
        template_fallback_sent=bool(item.get("template_fallback_sent", {}).get("BOOL", False)),
    )

"""`DynamoHandoffStore`: the `handoffs` table, written by this service only.

Items:
- `handoff#<id> / handoff`: the hand-off as JSON in `doc`, its `version` (optimistic writes) and,
  while it is open, `gsi1pk = queue#open`, `gsi1sk = <requested_at>#<id>` (the queue, longest
  waiting first);
- `conv#<conversation> / open`: the lock that keeps one open hand-off per conversation;
- `wa#<wa_id> / handoff#<id>`: what erasure needs to find a customer's hand-offs.
Creating writes the three in one transaction; ending a hand-off deletes its lock in the same
transaction as the final state, so a new hand-off can start only after the old one is closed.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from chalicelib.handoffs.models import Handoff
from parley import aws
from parley.dynamo import query_all
from parley.errors import Conflict, StorageError

HANDOFF_SK = "handoff"
LOCK_SK = "open"
QUEUE_OPEN = "queue#open"
CLOSED_TTL_DAYS = 400  # kept for reporting a year back, then removed by DynamoDB's TTL


def _code(error: Exception) -> str:
    response = getattr(error, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def _cancel_reasons(error: Exception) -> list[str]:
    response = getattr(error, "response", None) or {}
    return [str(r.get("Code", "None")) for r in response.get("CancellationReasons", [])]


def handoff_key(handoff_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"handoff#{handoff_id}"}, "sk": {"S": HANDOFF_SK}}


def lock_key(conversation: str) -> dict[str, Any]:
    return {"pk": {"S": f"conv#{conversation}"}, "sk": {"S": LOCK_SK}}


def to_item(handoff: Handoff) -> dict[str, Any]:
    item: dict[str, Any] = {
        **handoff_key(handoff.handoff_id),
        "doc": {"S": handoff.model_dump_json()},
        "version": {"N": str(handoff.version)},
        "state": {"S": handoff.state},
        "conversation": {"S": handoff.conversation},
        "wa_id": {"S": handoff.wa_id},
    }
    if handoff.is_open:
        requested = handoff.requested_at.astimezone(UTC).isoformat()
        item["gsi1pk"] = {"S": QUEUE_OPEN}
        item["gsi1sk"] = {"S": f"{requested}#{handoff.handoff_id}"}
    elif handoff.ended_at is not None:
        expires = int(handoff.ended_at.timestamp()) + CLOSED_TTL_DAYS * 86400
        item["expires_at"] = {"N": str(expires)}
    return item


def from_item(item: dict[str, Any]) -> Handoff:
    handoff = Handoff.model_validate_json(item["doc"]["S"])
    handoff.version = int(item["version"]["N"])
    return handoff


class DynamoHandoffStore:
    """`HandoffStore` on DynamoDB; `client` defaults to the shared boto3 client (lazy)."""

    def __init__(self, table: str, *, client: Any = None) -> None:
        self._table = table
        self._client = client

    @property
    def _ddb(self) -> Any:
        return self._client or aws.client("dynamodb")

    def create(self, handoff: Handoff) -> tuple[Handoff, bool]:
        """Store a new hand-off: (it, True); or the conversation's open one: (that, False)."""
        handoff.version = 1
        index = {
            "pk": {"S": f"wa#{handoff.wa_id}"},
            "sk": {"S": f"handoff#{handoff.handoff_id}"},
            "conversation": {"S": handoff.conversation},
        }
        lock = {**lock_key(handoff.conversation), "handoff_id": {"S": handoff.handoff_id}}
        new = "attribute_not_exists(pk)"
        try:
            self._ddb.transact_write_items(
                TransactItems=[
                    {"Put": {"TableName": self._table, "Item": lock, "ConditionExpression": new}},
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": to_item(handoff),
                            "ConditionExpression": new,
                        }
                    },
                    {"Put": {"TableName": self._table, "Item": index}},
                ]
            )
        except Exception as error:
            if _code(error) != "TransactionCanceledException":
                raise StorageError(f"hand-off create failed: {error}") from error
            return self._existing(handoff, _cancel_reasons(error)), False
        return handoff, True

    def _existing(self, handoff: Handoff, reasons: list[str]) -> Handoff:
        if len(reasons) > 1 and reasons[1] == "ConditionalCheckFailed":
            found = self.get(handoff.handoff_id)  # a replay of the same request
        else:
            found = self.open_for(handoff.conversation)
        if found is None:  # closed between the write and the read: retry the event
            raise Conflict(f"hand-off for {handoff.handoff_id} changed while being created")
        return found

    def get(self, handoff_id: str) -> Handoff | None:
        try:
            got = self._ddb.get_item(
                TableName=self._table, Key=handoff_key(handoff_id), ConsistentRead=True
            )
        except Exception as error:
            raise StorageError(f"hand-off read failed: {error}") from error
        item = got.get("Item")
        return from_item(item) if item else None

    def open_for(self, conversation: str) -> Handoff | None:
        try:
            got = self._ddb.get_item(
                TableName=self._table, Key=lock_key(conversation), ConsistentRead=True
            )
        except Exception as error:
            raise StorageError(f"hand-off lock read failed: {error}") from error
        item = got.get("Item")
        return self.get(item["handoff_id"]["S"]) if item else None

    def save(self, handoff: Handoff) -> None:
        """Write if the stored version is still `handoff.version` (Conflict otherwise); an ended
        hand-off releases its conversation's lock in the same transaction."""
        read = handoff.version
        handoff.version = read + 1
        put = {
            "TableName": self._table,
            "Item": to_item(handoff),
            "ConditionExpression": "version = :v",
            "ExpressionAttributeValues": {":v": {"N": str(read)}},
        }
        try:
            if handoff.is_open:
                self._ddb.put_item(**put)
            else:
                self._ddb.transact_write_items(TransactItems=[{"Put": put}, self._unlock(handoff)])
        except Exception as error:
            handoff.version = read
            code = _code(error)
            if code in ("ConditionalCheckFailedException", "TransactionCanceledException"):
                raise Conflict(
                    f"hand-off {handoff.handoff_id} changed since it was read"
                ) from error
            raise StorageError(f"hand-off write failed: {error}") from error

    def _unlock(self, handoff: Handoff) -> dict[str, Any]:
        return {
            "Delete": {
                "TableName": self._table,
                "Key": lock_key(handoff.conversation),
                "ConditionExpression": "attribute_not_exists(pk) OR handoff_id = :id",
                "ExpressionAttributeValues": {":id": {"S": handoff.handoff_id}},
            }
        }

    def open_handoffs(self) -> list[Handoff]:
        """Every open hand-off, longest waiting first (from the index: eventually consistent;
        callers that act on one read it again with `get`)."""
        params: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": "gsi1",
            "KeyConditionExpression": "gsi1pk = :q",
            "ExpressionAttributeValues": {":q": {"S": QUEUE_OPEN}},
        }
        return [from_item(item) for item in self._query_all(params, "open hand-offs")]

    def for_customer(self, wa_id: str) -> list[str]:
        """Ids of every hand-off of the customer."""
        params: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :p AND begins_with(sk, :h)",
            "ExpressionAttributeValues": {":p": {"S": f"wa#{wa_id}"}, ":h": {"S": "handoff#"}},
        }
        items = self._query_all(params, "hand-offs by customer")
        return [item["sk"]["S"].removeprefix("handoff#") for item in items]

    def erase_customer(self, wa_id: str) -> int:
        """Delete every hand-off of the customer, their locks and index items."""
        erased = 0
        for handoff_id in self.for_customer(wa_id):
            found = self.get(handoff_id)
            keys = [
                handoff_key(handoff_id),
                {"pk": {"S": f"wa#{wa_id}"}, "sk": {"S": f"handoff#{handoff_id}"}},
            ]
            if found is not None and found.is_open:
                keys.append(lock_key(found.conversation))
            for key in keys:
                self._delete(key)
            erased += 1
        return erased

    def _delete(self, key: dict[str, Any]) -> None:
        try:
            self._ddb.delete_item(TableName=self._table, Key=key)
        except Exception as error:
            raise StorageError(f"hand-off delete failed: {error}") from error

    def _query_all(self, params: dict[str, Any], what: str) -> list[dict[str, Any]]:
        return query_all(self._ddb, params, what)

"""`DynamoHistoryStore`: the `conversations` table (layout in chalicelib/models.py).

Besides the message items (`sk = m#<ISO time>#<message id>`), each message has a pointer item
`sk = id#<message id>` holding the message's sort key. Both are written conditionally (pointer
first), so a message is stored once however often it is delivered, and `update` finds a message
by its id alone. (Two conditional puts rather than a transaction: half the write cost, and a
retry after a failure between them completes the pair.) Pointer items sort before
`m#`, so history queries never see them; they carry `gsi1pk` too, so erasure removes them.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

from chalicelib.models import StoredMessage
from parley import aws
from parley.dynamo import query_all
from parley.errors import InvalidInput, StorageError

MESSAGE_PREFIX = "m#"
POINTER_PREFIX = "id#"
_JSON_FIELDS = frozenset({"media", "sources"})
_KEY_FIELDS = frozenset({"conversation", "message_id", "at"})
DELIVERY_RANK = {"accepted": 0, "sent": 1, "delivered": 2, "read": 3, "played": 4, "failed": 9}


def as_utc(at: datetime) -> datetime:
    """Naive times are taken as UTC; every stored time is UTC, so sort keys compare as times."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def message_sort_key(message: StoredMessage) -> str:
    at = as_utc(message.at).isoformat(timespec="microseconds")
    return f"{MESSAGE_PREFIX}{at}#{message.message_id}"


def wa_id_of(conversation: str) -> str:
    return conversation.partition(":")[2]


def _error_code(error: Exception) -> str | None:
    response = getattr(error, "response", None) or {}
    return response.get("Error", {}).get("Code")


def _condition_failed(error: Exception) -> bool:
    if _error_code(error) == "ConditionalCheckFailedException":
        return True
    reasons = (getattr(error, "response", None) or {}).get("CancellationReasons") or []
    return any(r.get("Code") == "ConditionalCheckFailed" for r in reasons)


def _attribute(name: str, value: Any) -> dict[str, Any]:
    if name in _JSON_FIELDS:
        return {"S": json.dumps(value, separators=(",", ":"))}
    if isinstance(value, datetime):
        return {"S": value.isoformat()}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int | float):
        return {"N": str(value)}
    return {"S": str(value)}


def to_item(message: StoredMessage, ttl_days: int) -> dict[str, Any]:
    sk = message_sort_key(message)
    item: dict[str, Any] = {
        "pk": {"S": message.conversation},
        "sk": {"S": sk},
        "gsi1pk": {"S": f"wa#{wa_id_of(message.conversation)}"},
        "gsi1sk": {"S": f"{message.conversation}#{sk}"},
        "expires_at": {"N": str(int(time.time()) + ttl_days * 86400)},
    }
    for name, value in message.model_dump(mode="json", exclude_none=True).items():
        if name in _JSON_FIELDS and not value:
            continue
        item[name] = _attribute(name, value)
    return item


def from_item(item: dict[str, Any]) -> StoredMessage:
    data: dict[str, Any] = {}
    for name in StoredMessage.model_fields:
        raw = item.get(name)
        if raw is None:
            continue
        if "S" in raw:
            data[name] = json.loads(raw["S"]) if name in _JSON_FIELDS else raw["S"]
        elif "BOOL" in raw:
            data[name] = raw["BOOL"]
        elif "N" in raw:
            data[name] = raw["N"]
    return StoredMessage.model_validate(data)


class DynamoHistoryStore:
    """`HistoryStore` on DynamoDB. `client` defaults to the shared boto3 client (lazy)."""

    def __init__(self, table: str, *, ttl_days: int = 90, client: Any = None) -> None:
        self._table = table
        self._ttl_days = ttl_days
        self._client = client

    @property
    def _ddb(self) -> Any:
        return self._client or aws.client("dynamodb")

    def append(self, message: StoredMessage) -> bool:
        """Two conditional writes: the id's pointer (new, or already pointing at this sort key:
        a retry after a failure between the writes), then the message (new). A message id
        already stored under another time, or the message itself, makes it a duplicate."""
        item = to_item(message, self._ttl_days)
        pointer = {
            "pk": item["pk"],
            "sk": {"S": f"{POINTER_PREFIX}{message.message_id}"},
            "msk": item["sk"],
            "gsi1pk": item["gsi1pk"],
            "gsi1sk": {"S": f"{message.conversation}#{POINTER_PREFIX}{message.message_id}"},
            "expires_at": item["expires_at"],
        }
        return self._put_new(
            pointer, "attribute_not_exists(pk) OR msk = :msk", {":msk": item["sk"]}
        ) and self._put_new(item, "attribute_not_exists(pk)", None)

    def _put_new(self, item: dict[str, Any], condition: str, values: dict[str, Any] | None) -> bool:
        params: dict[str, Any] = {
            "TableName": self._table,
            "Item": item,
            "ConditionExpression": condition,
        }
        if values:
            params["ExpressionAttributeValues"] = values
        try:
            self._ddb.put_item(**params)
        except Exception as error:
            if _condition_failed(error):
                return False
            raise StorageError(f"history append failed: {error}") from error
        return True

    def sort_key_of(self, conversation: str, message_id: str) -> str | None:
        """The message's sort key, or None when no such message is stored."""
        try:
            got = self._ddb.get_item(
                TableName=self._table,
                Key={"pk": {"S": conversation}, "sk": {"S": f"{POINTER_PREFIX}{message_id}"}},
                ConsistentRead=True,
            )
        except Exception as error:
            raise StorageError(f"history lookup failed: {error}") from error
        item = got.get("Item")
        return str(item["msk"]["S"]) if item else None

    def update(
        self,
        conversation: str,
        message_id: str,
        *,
        sort_key: str | None = None,
        **fields: object,
    ) -> None:
        """Set fields of a stored message; a message never stored is ignored. A delivery status
        never moves backwards (`read` then a late `delivered` keeps `read`; `failed` wins).
        `sort_key`, when the caller knows it (the cached window), saves reading the pointer."""
        unknown = set(fields) - set(StoredMessage.model_fields) or set(fields) & _KEY_FIELDS
        if unknown:
            raise InvalidInput(f"cannot update message fields {sorted(unknown)}")
        sk = sort_key or self.sort_key_of(conversation, message_id)
        if sk is None or not fields:
            return
        params = self._update_params(fields)
        try:
            self._ddb.update_item(
                TableName=self._table,
                Key={"pk": {"S": conversation}, "sk": {"S": sk}},
                **params,
            )
        except Exception as error:
            if not _condition_failed(error):  # a stale status changes nothing
                raise StorageError(f"history update failed: {error}") from error

    @staticmethod
    def _update_params(fields: dict[str, object]) -> dict[str, Any]:
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        sets: list[str] = []
        removes: list[str] = []
        for i, (name, value) in enumerate(sorted(fields.items())):
            names[f"#f{i}"] = name
            if value is None:
                removes.append(f"#f{i}")
                continue
            plain = value.model_dump(mode="json") if hasattr(value, "model_dump") else value
            values[f":v{i}"] = _attribute(name, plain)
            sets.append(f"#f{i} = :v{i}")
        condition = "attribute_exists(pk)"
        status = fields.get("delivery_status")
        if isinstance(status, str):
            names["#rank"] = "delivery_rank"
            values[":rank"] = {"N": str(DELIVERY_RANK.get(status, 0))}
            sets.append("#rank = :rank")
            condition += " AND (attribute_not_exists(#rank) OR #rank < :rank)"
        expression = ("SET " + ", ".join(sets)) if sets else ""
        if removes:
            expression += " REMOVE " + ", ".join(removes)
        params: dict[str, Any] = {
            "UpdateExpression": expression.strip(),
            "ConditionExpression": condition,
            "ExpressionAttributeNames": names,
        }
        if values:
            params["ExpressionAttributeValues"] = values
        return params

    def recent(self, conversation: str, limit: int) -> list[StoredMessage]:
        items, _ = self._query(conversation, limit, before=None)
        return [from_item(i) for i in reversed(items)]

    def page(
        self, conversation: str, limit: int, before: str | None
    ) -> tuple[list[StoredMessage], str | None]:
        """Newest first; `before` is the cursor returned by the previous page (a sort key)."""
        if before is not None and not before.startswith(MESSAGE_PREFIX):
            raise InvalidInput("before: not a cursor of this conversation's history")
        items, more = self._query(conversation, limit, before=before)
        cursor = items[-1]["sk"]["S"] if more and items else None
        return [from_item(i) for i in items], cursor

    def _query(
        self, conversation: str, limit: int, *, before: str | None
    ) -> tuple[list[dict[str, Any]], bool]:
        """Newest first, up to `limit` message items, and whether older ones exist."""
        if limit <= 0:
            return [], False
        upper = before or MESSAGE_PREFIX + "\uffff"
        params: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :lo AND :hi",
            "ExpressionAttributeValues": {
                ":pk": {"S": conversation},
                ":lo": {"S": MESSAGE_PREFIX},
                ":hi": {"S": upper},
            },
            "ScanIndexForward": False,
            "ConsistentRead": True,
        }
        items: list[dict[str, Any]] = []
        try:
            while len(items) < limit + 1:
                got = self._ddb.query(**params, Limit=limit + 1 - len(items))
                items.extend(i for i in got.get("Items", []) if i["sk"]["S"] != before)
                if "LastEvaluatedKey" not in got:
                    break
                params["ExclusiveStartKey"] = got["LastEvaluatedKey"]
        except Exception as error:
            raise StorageError(f"history query failed: {error}") from error
        return items[:limit], len(items) > limit

    def _customer_items(self, wa_id: str) -> list[dict[str, Any]]:
        params: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": "gsi1",
            "KeyConditionExpression": "gsi1pk = :g",
            "ExpressionAttributeValues": {":g": {"S": f"wa#{wa_id}"}},
        }
        return query_all(self._ddb, params, "history by customer")

    def for_customer(self, wa_id: str) -> list[StoredMessage]:
        """Every stored message of the customer, by conversation then time."""
        items = [i for i in self._customer_items(wa_id) if i["sk"]["S"].startswith(MESSAGE_PREFIX)]
        items.sort(key=lambda i: (i["pk"]["S"], i["sk"]["S"]))
        return [from_item(i) for i in items]

    def erase_customer(self, wa_id: str) -> int:
        """Delete every item of the customer (messages and pointers); returns messages deleted."""
        items = self._customer_items(wa_id)
        keys = [{"pk": i["pk"], "sk": i["sk"]} for i in items]
        try:
            for start in range(0, len(keys), 25):
                self._delete_batch(keys[start : start + 25])
        except Exception as error:
            raise StorageError(f"history erasure failed: {error}") from error
        return sum(1 for i in items if i["sk"]["S"].startswith(MESSAGE_PREFIX))

    def _delete_batch(self, keys: list[dict[str, Any]]) -> None:
        requests: list[dict[str, Any]] = [{"DeleteRequest": {"Key": k}} for k in keys]
        for _ in range(8):
            got = self._ddb.batch_write_item(RequestItems={self._table: requests})
            requests = got.get("UnprocessedItems", {}).get(self._table, [])
            if not requests:
                return
            time.sleep(0.05)
        raise StorageError("history erasure: DynamoDB left items unprocessed")

    def conversations_of(self, wa_id: str) -> list[str]:
        """The conversation keys the customer has history in."""
        return sorted({i["pk"]["S"] for i in self._customer_items(wa_id)})

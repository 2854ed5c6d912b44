"""`DynamoSessionStore`: the `sessions` table (layout in chalicelib/models.py).

One item per conversation (`sk = session`), the session as JSON in `doc`, plus the key attributes
the indexes need. `save` is optimistic: it writes only if the stored `version` is the one read,
and raises `Conflict` (retryable) otherwise. An open session is in the sweeper's index
(`gsi2pk = open`, `gsi2sk = last activity`); closing it removes it from there.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from chalicelib.models import Session
from parley import aws
from parley.dynamo import query_all
from parley.errors import Conflict, StorageError

SESSION_SK = "session"
OPEN = "open"


def _condition_failed(error: Exception) -> bool:
    response = getattr(error, "response", None) or {}
    return response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def _activity(session: Session) -> str:
    at = session.last_activity_at or datetime.now(UTC)
    return at.astimezone(UTC).isoformat()


def to_item(session: Session, version: int, ttl_days: int) -> dict[str, Any]:
    doc = session.model_copy(update={"version": version}).model_dump_json()
    activity = _activity(session)
    expires = int(datetime.fromisoformat(activity).timestamp()) + ttl_days * 86400
    item: dict[str, Any] = {
        "pk": {"S": session.conversation},
        "sk": {"S": SESSION_SK},
        "gsi1pk": {"S": f"wa#{session.wa_id}"},
        "gsi1sk": {"S": session.conversation},
        "version": {"N": str(version)},
        "doc": {"S": doc},
        "mode": {"S": session.mode},
        "last_activity_at": {"S": activity},
        "expires_at": {"N": str(expires)},
    }
    if not session.closed:
        item["gsi2pk"] = {"S": OPEN}
        item["gsi2sk"] = {"S": activity}
    return item


def from_item(item: dict[str, Any]) -> Session:
    session = Session.model_validate_json(item["doc"]["S"])
    session.version = int(item["version"]["N"])
    return session


class DynamoSessionStore:
    """`SessionStore` on DynamoDB. `client` defaults to the shared boto3 client (lazy)."""

    def __init__(self, table: str, *, ttl_days: int = 90, client: Any = None) -> None:
        self._table = table
        self._ttl_days = ttl_days
        self._client = client

    @property
    def _ddb(self) -> Any:
        return self._client or aws.client("dynamodb")

    def get(self, conversation: str) -> Session | None:
        try:
            got = self._ddb.get_item(
                TableName=self._table,
                Key={"pk": {"S": conversation}, "sk": {"S": SESSION_SK}},
                ConsistentRead=True,
            )
        except Exception as error:
            raise StorageError(f"session read failed: {error}") from error
        item = got.get("Item")
        return from_item(item) if item else None

    def save(self, session: Session) -> None:
        """Write if the stored version is still `session.version`; then bump it in place."""
        new_version = session.version + 1
        params: dict[str, Any] = {
            "TableName": self._table,
            "Item": to_item(session, new_version, self._ttl_days),
        }
        if session.version == 0:
            params["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            params["ConditionExpression"] = "version = :v"
            params["ExpressionAttributeValues"] = {":v": {"N": str(session.version)}}
        try:
            self._ddb.put_item(**params)
        except Exception as error:
            if _condition_failed(error):
                raise Conflict(
                    "session changed since it was read", detail={"version": session.version}
                ) from error
            raise StorageError(f"session write failed: {error}") from error
        session.version = new_version

    def open_sessions(self, idle_before: datetime | None = None) -> list[Session]:
        """Open sessions, least recently active first; only those idle since before
        `idle_before` when given. Read from the index (eventually consistent): callers that act
        on a session read it again and save it with its version."""
        params: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": "gsi2",
            "KeyConditionExpression": "gsi2pk = :open",
            "ExpressionAttributeValues": {":open": {"S": OPEN}},
        }
        if idle_before is not None:
            params["KeyConditionExpression"] += " AND gsi2sk < :before"
            params["ExpressionAttributeValues"][":before"] = {
                "S": idle_before.astimezone(UTC).isoformat()
            }
        return [from_item(i) for i in self._query_all(params, "open sessions")]

    def for_customer(self, wa_id: str) -> list[Session]:
        params = {
            "TableName": self._table,
            "IndexName": "gsi1",
            "KeyConditionExpression": "gsi1pk = :g",
            "ExpressionAttributeValues": {":g": {"S": f"wa#{wa_id}"}},
        }
        return [from_item(i) for i in self._query_all(params, "sessions by customer")]

    def erase_customer(self, wa_id: str) -> int:
        deleted = 0
        for session in self.for_customer(wa_id):
            self.delete(session.conversation)
            deleted += 1
        return deleted

    def delete(self, conversation: str) -> None:
        try:
            self._ddb.delete_item(
                TableName=self._table,
                Key={"pk": {"S": conversation}, "sk": {"S": SESSION_SK}},
            )
        except Exception as error:
            raise StorageError(f"session delete failed: {error}") from error

    def _query_all(self, params: dict[str, Any], what: str) -> list[dict[str, Any]]:
        return query_all(self._ddb, params, what)


def now_utc() -> datetime:
    return datetime.fromtimestamp(time.time(), UTC)

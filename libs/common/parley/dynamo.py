"""DynamoDB helpers every store shares."""

from __future__ import annotations

from typing import Any

from parley.errors import StorageError


def query_all(client: Any, params: dict[str, Any], what: str) -> list[dict[str, Any]]:
    """Every item a Query returns, following `LastEvaluatedKey`; StorageError (retryable) naming
    `what` when DynamoDB fails."""
    items: list[dict[str, Any]] = []
    page = dict(params)
    try:
        while True:
            got = client.query(**page)
            items.extend(got.get("Items", []))
            if "LastEvaluatedKey" not in got:
                return items
            page["ExclusiveStartKey"] = got["LastEvaluatedKey"]
    except Exception as error:
        raise StorageError(f"{what} query failed: {error}") from error

"""What every adapter shares: checking the model's tool calls against the offered tools, and the
JSON that carries retrieved passages in a `search_knowledge` tool result."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from chalicelib.providers.exceptions import MalformedToolCall
from parley.chat import ToolCall, ToolSpec
from parley.retrieval import Passage

SEARCH_TOOL = "search_knowledge"
HANDOFF_TOOL = "handoff_to_human"


def parse_arguments(raw: Any, tool: str) -> dict[str, Any]:
    """A tool call's arguments (a JSON object, or its text) as a dict; MalformedToolCall if not."""
    if isinstance(raw, dict):
        return raw
    if raw is None or raw == "":
        return {}
    try:
        value = json.loads(raw) if isinstance(raw, str) else raw
    except json.JSONDecodeError as exc:
        raise MalformedToolCall(
            f"the model called {tool!r} with arguments that are not JSON",
            detail={"tool": tool, "reason": "invalid_json"},
        ) from exc
    if not isinstance(value, dict):
        raise MalformedToolCall(
            f"the model called {tool!r} with arguments that are not an object",
            detail={"tool": tool, "reason": "not_an_object"},
        )
    return value


def check_tool_calls(calls: Iterable[ToolCall], tools: Sequence[ToolSpec]) -> list[ToolCall]:
    """The calls, if every one names an offered tool; MalformedToolCall otherwise."""
    offered = {tool.name for tool in tools}
    checked = list(calls)
    for call in checked:
        if call.name not in offered:
            raise MalformedToolCall(
                f"the model called a tool it was not offered: {call.name!r}",
                detail={"tool": call.name, "reason": "unknown_tool"},
            )
    return checked


def format_passages(passages: Sequence[Passage]) -> str:
    """The `search_knowledge` tool result: passages as JSON, best first (every provider reads it;
    the local engine needs the document names to cite)."""
    items = [
        {
            "document": p.document,
            "title": p.title,
            "section": p.section,
            "text": p.text,
            "score": round(p.score, 4),
            **({"ordinal": p.ordinal} if p.ordinal is not None else {}),
        }
        for p in passages
    ]
    return json.dumps({"passages": items}, ensure_ascii=False)


def parse_passages(content: str) -> list[Passage] | None:
    """Passages from a tool result written by `format_passages` (None: not a passage result)."""
    try:
        value = json.loads(content)
    except (json.JSONDecodeError, TypeError):
        return None
    items = value.get("passages") if isinstance(value, dict) else value
    if not isinstance(items, list):
        return None
    passages = []
    for rank, item in enumerate(items):
        if isinstance(item, dict) and item.get("text"):
            passages.append(
                Passage(
                    document=str(item.get("document") or ""),
                    title=str(item.get("title") or ""),
                    section=str(item.get("section") or ""),
                    text=str(item["text"]),
                    score=float(item.get("score", -rank)),
                    ordinal=_ordinal(item.get("ordinal")),
                )
            )
    return passages


def _ordinal(value: Any) -> int | None:
    return value if isinstance(value, int) and value >= 0 else None


def query_argument(tool: ToolSpec) -> str:
    """The name of the tool's text argument: `query` if declared, else its first string one."""
    properties: dict[str, Any] = tool.input_schema.get("properties") or {}
    if "query" in properties or not properties:
        return "query"
    required = list(tool.input_schema.get("required") or [])
    for name in required + list(properties):
        if (properties.get(name) or {}).get("type") == "string":
            return str(name)
    return "query"

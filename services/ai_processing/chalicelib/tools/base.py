"""What every tool shares: its context, its result, its errors and the registry that runs calls."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, Protocol

from pydantic import BaseModel, ValidationError

from parley.chat import ToolCall, ToolSpec
from parley.errors import InvalidInput, PermanentDependencyError
from parley.events import split_conversation_key
from parley.retrieval import Passage, Retriever


class MalformedToolCall(InvalidInput):
    """The model called an unknown or forbidden tool, or with arguments that break its schema."""

    code = "malformed_tool_call"


class ToolFailed(PermanentDependencyError):
    """A tool's own dependency failed (HTTP endpoint, retriever)."""

    code = "tool_failed"


@dataclass(frozen=True)
class ToolContext:
    """What a tool may use during one turn."""

    conversation: str
    language: str
    retriever: Retriever
    collections: Sequence[str] | None = None
    passages: int = 4
    passage_chars: int = 900
    now: Callable[[], datetime] = lambda: datetime.now(UTC)

    @property
    def sender(self) -> str:
        """The customer's WhatsApp id, from the conversation the turn belongs to: verified by the
        channel, never taken from what the model says."""
        return split_conversation_key(self.conversation)[1]


@dataclass
class ToolResult:
    """The JSON text the model reads, plus what the turn handler needs to know. `reply`, when set,
    is the turn's answer as it stands: the model is not asked to word it."""

    content: dict[str, Any]
    sources: list[Passage] = field(default_factory=list)
    handoff_reason: str | None = None
    reply: str | None = None

    def text(self) -> str:
        return json.dumps(self.content, ensure_ascii=False)


class Tool(Protocol):
    """`personal_data`: the tool works with the customer's own data, so placeholders in its
    arguments are replaced by the real values and its results count as personal."""

    name: ClassVar[str]
    description: ClassVar[str]
    arguments: ClassVar[type[BaseModel]]
    personal_data: ClassVar[bool]

    def run(self, args: Any, ctx: ToolContext) -> ToolResult: ...


def spec_of(tool: Tool) -> ToolSpec:
    return ToolSpec(
        name=tool.name,
        description=tool.description,
        input_schema=tool.arguments.model_json_schema(),
    )


class ToolRegistry:
    """The tools of the service; an agent sees only the ones its configuration allows."""

    def __init__(self, tools: Iterable[Tool]) -> None:
        self._tools = {tool.name: tool for tool in tools}

    def specs(self, allowed: Sequence[str]) -> list[ToolSpec]:
        return [spec_of(self._tools[name]) for name in allowed if name in self._tools]

    def personal_data(self, name: str) -> bool:
        tool = self._tools.get(name)
        return tool is not None and tool.personal_data

    def run(
        self,
        call: ToolCall,
        allowed: Sequence[str],
        ctx: ToolContext,
        resolve: Callable[[Any], Any] | None = None,
    ) -> ToolResult:
        """Validate and run one call; MalformedToolCall or ToolFailed when it cannot. `resolve`
        turns placeholders back into values, for the tools that work with personal data."""
        tool = self._tools.get(call.name)
        if tool is None or call.name not in allowed:
            raise MalformedToolCall(f"tool {call.name!r} is not available to this agent")
        arguments = resolve(call.arguments) if resolve and tool.personal_data else call.arguments
        try:
            args = tool.arguments.model_validate(arguments)
        except ValidationError as exc:
            fields = ", ".join(str(e["loc"][0]) for e in exc.errors() if e["loc"]) or "input"
            raise MalformedToolCall(f"bad arguments for {call.name}: {fields}") from exc
        return tool.run(args, ctx)

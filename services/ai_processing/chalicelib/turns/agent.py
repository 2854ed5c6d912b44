"""The agent loop: ask the model, run the tools it calls, until it answers — bounded in iterations,
time and request size."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from chalicelib.agents.schema import AgentConfig, Limits
from chalicelib.tools import ToolContext, ToolRegistry
from parley.chat import ChatMessage, ChatModel, ChatRequest, ChatResponse, ToolSpec
from parley.errors import DependencyError
from parley.retrieval import Passage

LANGUAGE_NAMES = {"en": "English", "es": "Spanish (español)"}
MIN_CONTENT_CHARS = 200


class TurnBudgetExceeded(DependencyError):
    """The agent ran out of iterations or time before answering."""

    code = "turn_budget_exceeded"
    retryable = False


@dataclass
class AgentOutcome:
    text: str = ""
    sources: list[Passage] = field(default_factory=list)
    searched: bool = False
    handoff_reason: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    iterations: int = 0
    largest_request: int = 0


@dataclass(frozen=True)
class Conversation:
    """The redacted conversation the agent sees: summary, earlier messages, this turn's text."""

    summary: str
    history: list[ChatMessage]
    text: str
    language: str


def request_size(request: ChatRequest) -> int:
    return len(request.model_dump_json())


class AgentRunner:
    def __init__(
        self,
        model: ChatModel,
        tools: ToolRegistry,
        limits: Limits,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.model = model
        self.tools = tools
        self.limits = limits
        self.clock = clock

    def run(
        self, agent: AgentConfig, convo: Conversation, ctx: ToolContext, budget_s: float
    ) -> AgentOutcome:
        """Raises ModelError, MalformedToolCall, ToolFailed or TurnBudgetExceeded."""
        deadline = self.clock() + budget_s
        outcome = AgentOutcome()
        specs = self.tools.specs(agent.tools)
        loop: list[ChatMessage] = []
        for _ in range(self.limits.max_iterations):
            if self.clock() > deadline:
                raise TurnBudgetExceeded("the turn's time budget ran out")
            request = self._request(agent, convo, loop, specs)
            outcome.largest_request = max(outcome.largest_request, request_size(request))
            response = self.model.complete(request)
            outcome.iterations += 1
            outcome.input_tokens += response.input_tokens
            outcome.output_tokens += response.output_tokens
            if not response.tool_calls:
                outcome.text = (response.text or "").strip()
                return outcome
            loop += self._call_tools(response, agent, ctx, outcome)
            if outcome.handoff_reason:
                return outcome
        raise TurnBudgetExceeded("the agent did not answer within its iterations")

    def _call_tools(
        self, response: ChatResponse, agent: AgentConfig, ctx: ToolContext, outcome: AgentOutcome
    ) -> list[ChatMessage]:
        added = [
            ChatMessage(
                role="assistant", content=response.text or "", tool_calls=response.tool_calls
            )
        ]
        for call in response.tool_calls:
            result = self.tools.run(call, agent.tools, ctx)
            outcome.searched |= call.name == "search_knowledge"
            outcome.sources += [p for p in result.sources if p not in outcome.sources]
            outcome.handoff_reason = outcome.handoff_reason or result.handoff_reason
            added.append(ChatMessage(role="tool", content=result.text(), tool_call_id=call.id))
        return added

    def _request(
        self,
        agent: AgentConfig,
        convo: Conversation,
        loop: list[ChatMessage],
        specs: list[ToolSpec],
    ) -> ChatRequest:
        system = system_prompt(agent, convo)
        history = list(convo.history)
        current = ChatMessage(role="user", content=convo.text)
        request = self._build(system, agent, convo, history, current, loop, specs)
        while request_size(request) > self.limits.max_request_chars and history:
            history = _drop_oldest(history)
            request = self._build(system, agent, convo, history, current, loop, specs)
        while request_size(request) > self.limits.max_request_chars:
            shrunk = _shrink(loop, current)
            if shrunk is None:
                break
            loop, current = shrunk
            request = self._build(system, agent, convo, history, current, loop, specs)
        return request

    def _build(
        self,
        system: str,
        agent: AgentConfig,
        convo: Conversation,
        history: list[ChatMessage],
        current: ChatMessage,
        loop: list[ChatMessage],
        specs: list[ToolSpec],
    ) -> ChatRequest:
        return ChatRequest(
            system=system,
            messages=_alternating([*history, current]) + loop,
            tools=specs,
            tier=agent.tier,
            language=convo.language,
        )


def system_prompt(agent: AgentConfig, convo: Conversation) -> str:
    parts = [agent.system_prompt, f"Answer in {LANGUAGE_NAMES.get(convo.language, 'English')}."]
    if convo.summary:
        parts.append(f"Summary of the conversation so far: {convo.summary[:1500]}")
    return "\n\n".join(parts)


def _drop_oldest(history: Sequence[ChatMessage]) -> list[ChatMessage]:
    rest = list(history[1:])
    while rest and rest[0].role != "user":
        rest.pop(0)
    return rest


def _alternating(messages: list[ChatMessage]) -> list[ChatMessage]:
    """Consecutive messages of one role merged (Converse needs user/assistant alternation)."""
    merged: list[ChatMessage] = []
    for message in messages:
        if merged and merged[-1].role == message.role:
            joined = f"{merged[-1].content}\n{message.content}"
            merged[-1] = ChatMessage(role=message.role, content=joined)
        else:
            merged.append(message)
    while merged and merged[0].role != "user":
        merged.pop(0)
    return merged


def _shrink(
    loop: list[ChatMessage], current: ChatMessage
) -> tuple[list[ChatMessage], ChatMessage] | None:
    """Halve the longest tool result, else the customer's text; None when nothing can shrink."""
    results = [m for m in loop if m.role == "tool" and len(m.content) > MIN_CONTENT_CHARS]
    if results:
        longest = max(results, key=lambda m: len(m.content))
        cut = longest.model_copy(update={"content": _halve(longest.content)})
        return [cut if m is longest else m for m in loop], current
    if len(current.content) > MIN_CONTENT_CHARS:
        half = current.content[: len(current.content) // 2]
        return loop, current.model_copy(update={"content": half})
    return None


def _halve(content: str) -> str:
    """Half a tool result, keeping its JSON valid (passage texts halved) when it is JSON."""
    try:
        data = json.loads(content)
    except ValueError:
        return content[: len(content) // 2]
    passages = data.get("passages") if isinstance(data, dict) else None
    if not passages:
        return content[: len(content) // 2]
    for passage in passages:
        passage["text"] = passage.get("text", "")[: len(passage.get("text", "")) // 2]
    return json.dumps(data, ensure_ascii=False)

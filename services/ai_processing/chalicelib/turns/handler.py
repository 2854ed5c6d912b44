"""The turn handler (consumer of `turn.requested`): guardrails in, language, supervisor routing,
the agent loop, guardrails out; then `reply.requested`, `handoff.requested` and `turn.completed`.

The customer always gets a reply: when the model or a tool fails, an honest holding message and a
handoff to a person.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from chalicelib.agents.schema import AgentConfig, AgentsConfig
from chalicelib.providers import dialogue
from chalicelib.response_cache import CachedAnswer, ResponseCache, cache_key
from chalicelib.tools import MalformedToolCall, ToolContext, ToolFailed, ToolRegistry
from chalicelib.turns.agent import AgentOutcome, AgentRunner, Conversation
from chalicelib.turns.guardrails import (
    asks_for_instructions,
    check_output,
    choices,
    redact,
    turn_vault,
    used_sources,
)
from chalicelib.turns.language import detect_language
from chalicelib.turns.messages import offer_buttons, say
from chalicelib.turns.outcome import (
    Stopwatch,
    TurnOutcome,
    completed_event,
    handoff_event,
    reply_event,
)
from chalicelib.turns.routing import Route, Supervisor
from parley.chat import ChatMessage, ChatModel
from parley.errors import DependencyError, ParleyError
from parley.events import EventBase, TurnRequestedEvent
from parley.logs import conversation_ref
from parley.payloads import ContextMessage, TurnRequested
from parley.redaction import PiiVault
from parley.retrieval import Retriever


@dataclass
class TurnDeps:
    config: AgentsConfig
    model: ChatModel
    retriever: Retriever
    tools: ToolRegistry
    send_reply: Callable[[EventBase], object]
    publish: Callable[[EventBase], object]
    cache: ResponseCache | None = None
    logger: Any = None
    use_model_routing: bool = False
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))


# Context tags what media said with its kind ("[audio] where is ..."): the question is what
# follows the tag (a tag in the search words finds nothing in the knowledge base).
_MEDIA_TAG = re.compile(r"^\[(?:image|audio|video|document|sticker|voice)\]\s*")


# A question printed in a file or a picture ("Questions / Question: How much is tuition?"): the
# sheet's and column's names around it are not part of what the customer asks.
_PRINTED_QUESTION = re.compile(r"[^.?!\n:/]*\?")  # OCR reads a lone "I" as "|"


def _said(messages: list[ContextMessage]) -> list[str]:
    parts = [m.text or _media_said(m.media_note or "") for m in messages if m.role == "customer"]
    return [p.strip() for p in parts if p and p.strip()]


def _media_said(note: str) -> str:
    """What a media message says: its questions when it holds some, else all its text."""
    text = _MEDIA_TAG.sub("", note)
    questions = [q.strip() for q in _PRINTED_QUESTION.findall(text) if len(q.split()) >= 2]
    return " ".join(questions) if questions else text


def _texts(messages: list[ContextMessage]) -> str:
    return "\n".join(_said(messages))


def _question(turn: TurnRequested) -> str:
    """What the turn asks: the burst's question (greetings and fillers dropped), a follow-up
    completed with the customer's earlier question."""
    # A voice note or a document asked the earlier question as much as a text did.
    return dialogue.resolve(dialogue.question_of(_said(turn.messages)), _said(turn.history))


def _history(messages: list[ContextMessage], keep: int, vault: PiiVault) -> list[ChatMessage]:
    recent = messages[-keep:] if keep else []
    return [
        ChatMessage(
            role="user" if m.role == "customer" else "assistant",
            content=redact(m.text or _MEDIA_TAG.sub("", m.media_note or ""), vault),
        )
        for m in recent
        if m.text or m.media_note
    ]


def _failure_reason(error: BaseException) -> str:
    if isinstance(error, MalformedToolCall | ToolFailed):
        return "tool"
    if isinstance(error, DependencyError):  # model errors, throttling, breaker open, budget
        return "model_unavailable"
    return "other"


class TurnHandler:
    def __init__(self, deps: TurnDeps) -> None:
        self.deps = deps
        self.supervisor = Supervisor(
            deps.config, deps.model, deps.use_model_routing, retriever=deps.retriever
        )
        self.runner = AgentRunner(deps.model, deps.tools, deps.config.limits)

    def __call__(self, event: TurnRequestedEvent) -> None:
        watch = Stopwatch()
        outcome = self.decide(event, watch)
        outcome.latency_ms = watch.total()
        with watch.stage("publish"):
            self.deps.send_reply(reply_event(event, outcome))
            if outcome.handoff is not None:
                self.deps.publish(handoff_event(event, outcome))
        outcome.latency_ms = watch.total()
        self.deps.publish(completed_event(event, outcome))
        self._log(event, outcome)

    def decide(self, event: TurnRequestedEvent, watch: Stopwatch) -> TurnOutcome:
        turn = event.payload
        vault = turn_vault(event.conversation)  # this turn's placeholders and their values
        with watch.stage("guard_in"):
            text = redact(_texts(turn.messages), vault)
            question = redact(_question(turn), vault) if text else ""
            language = detect_language(question or text, turn.session.language)
        if not text:
            return TurnOutcome(say("withheld", language), language, intent="empty")
        with watch.stage("route"):
            route = self.supervisor.route(question, language)
        early = self._early_exit(route, turn.session.low_confidence_streak, language, text)
        if early is not None:
            return early
        agent = self.deps.config.agent(route.agent)
        convo = Conversation(
            summary=redact(turn.summary, vault),
            history=_history(turn.history, self.deps.config.limits.history_messages, vault),
            text=text,
            language=language,
            vault=vault,
        )
        with watch.stage("answer"):
            outcome = self._answer(agent, route, convo, question, event)
        return outcome

    def _low(self, route: Route) -> bool:
        return route.confidence < self.deps.config.supervisor.min_confidence

    def _early_exit(
        self, route: Route, streak: int, language: str, text: str
    ) -> TurnOutcome | None:
        sup = self.deps.config.supervisor
        low = self._low(route)
        base = TurnOutcome(
            "",
            language,
            intent=route.intent,
            agent=route.agent,
            confidence=route.confidence,
            low_confidence=low,
        )
        if route.intent == sup.human_intent and not low:  # a guess is no request for a person
            return replace(base, text=say("handoff", language), handoff="customer_request")
        if low and streak >= 1:
            detail = f"low confidence {streak + 1} turns in a row"
            text = say("low_confidence", language)
            return replace(base, text=text, handoff="low_confidence", handoff_detail=detail)
        if route.intent == sup.out_of_scope_intent and not asks_for_instructions(text):
            return replace(base, text=say("out_of_scope", language))  # what we help with
        return None

    def _answer(
        self,
        agent: AgentConfig,
        route: Route,
        convo: Conversation,
        question: str,
        event: TurnRequestedEvent,
    ) -> TurnOutcome:
        key = self._cache_key(agent, route, convo, question)
        cached = self.deps.cache.get(key) if key and self.deps.cache else None
        if cached is not None:
            return self._from_cache(cached, route, convo.language)
        try:
            result = self.runner.run(
                agent, convo, self._tool_context(event, agent, convo), self._budget(event)
            )
        except Exception as error:
            return self._holding(route, convo.language, error)
        outcome = self._from_agent(result, agent, route, convo.language)
        if key and self.deps.cache and result.kb_only and outcome.sources and not outcome.handoff:
            self.deps.cache.put(
                key,
                CachedAnswer(
                    text=outcome.text,
                    buttons=outcome.buttons,
                    sources=outcome.sources,
                    intent=route.intent,
                ),
            )
        return outcome

    def _from_agent(
        self, result: AgentOutcome, agent: AgentConfig, route: Route, language: str
    ) -> TurnOutcome:
        base = TurnOutcome(
            "",
            language,
            intent=route.intent,
            agent=agent.name,
            confidence=route.confidence,
            low_confidence=self._low(route),
            input_tokens=result.input_tokens,
            output_tokens=result.output_tokens,
        )
        if result.handoff_reason:
            reason = "customer_request" if "customer" in result.handoff_reason else "tool"
            return replace(
                base,
                text=say("handoff", language),
                handoff=reason,
                handoff_detail=redact(result.handoff_reason)[:200],
            )
        if result.searched and not result.sources:
            return replace(
                base,
                text=say("no_information", language),
                buttons=offer_buttons(language),
            )
        if not result.text:
            return replace(
                base,
                text=say("holding", language),
                handoff="model_unavailable",
                handoff_detail="empty answer",
            )
        body, buttons = choices(result.text)
        sources = used_sources(body, result.sources)
        if result.searched and not sources and not buttons and body.endswith("?"):
            buttons = offer_buttons(language)  # an honest "not found" offering a person
        checked = check_output(
            body,
            system_prompt=agent.system_prompt,
            sources=sources,
            language=language,
            max_chars=self.deps.config.limits.max_reply_chars,
            allowed=result.own_values,
        )
        return replace(
            base,
            text=checked.text,
            buttons=buttons,
            sources=sources,
            problems=[*result.problems, *checked.problems],
        )

    def _holding(self, route: Route, language: str, error: BaseException) -> TurnOutcome:
        code = error.code if isinstance(error, ParleyError) else type(error).__name__
        if self.deps.logger is not None:
            self.deps.logger.warning("agent failed; handing off", extra={"error_code": code})
        return TurnOutcome(
            say("holding", language),
            language,
            intent=route.intent,
            agent=route.agent,
            confidence=route.confidence,
            low_confidence=self._low(route),
            handoff=_failure_reason(error),
            handoff_detail=code,
        )

    def _from_cache(self, cached: CachedAnswer, route: Route, language: str) -> TurnOutcome:
        return TurnOutcome(
            cached.text,
            language,
            buttons=list(cached.buttons),
            intent=route.intent,
            agent=route.agent,
            confidence=route.confidence,
            low_confidence=self._low(route),
            sources=list(cached.sources),
            cached=True,
        )

    def _cache_key(
        self, agent: AgentConfig, route: Route, convo: Conversation, question: str
    ) -> str | None:
        """Keyed on the question the turn asks (a follow-up's completed question)."""
        version = getattr(self.deps.retriever, "version", None)
        greeting = route.intent in self.deps.config.supervisor.greeting_intents
        if not version or greeting or "search_knowledge" not in agent.tools:
            return None
        if not convo.cacheable:  # personal data, or a follow-up of the conversation
            return None
        return cache_key(question, str(version), agent.name, convo.language)

    def _tool_context(
        self, event: TurnRequestedEvent, agent: AgentConfig, convo: Conversation
    ) -> ToolContext:
        limits = self.deps.config.limits
        return ToolContext(
            conversation=event.conversation,
            language=convo.language,
            retriever=self.deps.retriever,
            collections=agent.collections,
            passages=limits.passages,
            passage_chars=limits.passage_chars,
            now=self.deps.now,
        )

    def _budget(self, event: TurnRequestedEvent) -> float:
        left = (event.payload.deadline - self.deps.now()).total_seconds()
        return max(1.0, min(self.deps.config.limits.time_budget_seconds, left))

    def _log(self, event: TurnRequestedEvent, outcome: TurnOutcome) -> None:
        if self.deps.logger is None:
            return
        self.deps.logger.info(
            "turn answered",
            extra={
                "conversation_ref": conversation_ref(event.conversation),
                "event_id": event.event_id,
                "intent": outcome.intent,
                "agent": outcome.agent,
                "confidence": outcome.confidence,
                "language": outcome.language,
                "handoff": outcome.handoff,
                "cached": outcome.cached,
                "sources": [p.document for p in outcome.sources],
                "problems": outcome.problems,
                "latency_ms": outcome.latency_ms,
            },
        )

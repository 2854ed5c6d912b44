"""`LocalChatModel`: the offline default. A deterministic retrieval-and-rules engine that plays the
model's part in the agent loop without a network:

1. a new customer message (or a burst of them): small talk gets a reply; a request for a person
   calls `handoff_to_human` (when offered); anything else calls `search_knowledge` with the
   question the turn asks (greetings and fillers dropped, a follow-up completed with the earlier
   question's topic) or, with no search tool, gets the out-of-scope reply;
2. tool results present: the question is analysed (what kind of answer it wants), the passages'
   units scored (extractive.py) and a decision taken (decision.py): an answer quoting the best
   units in the customer's language (with a lead sentence in that language when the passage is in
   the other one), one clarifying question with the cases as reply buttons, or an honest "I could
   not find that" with the offer of a person.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from chalicelib.knowledge.language import Language, detect_language
from chalicelib.providers import compose, decision, dialogue, extractive, phrases
from chalicelib.providers.question import analyse
from chalicelib.providers.tooling import HANDOFF_TOOL, SEARCH_TOOL, parse_passages, query_argument
from parley.chat import ChatMessage, ChatRequest, ChatResponse, ToolCall, ToolSpec
from parley.retrieval import Passage

MODEL_NAME = "parley-local"


class LocalChatModel:
    """Answers from retrieved passages (at most `max_sentences` units quoted)."""

    def __init__(self, *, max_sentences: int = 3, max_chars: int = 500) -> None:
        self._max_sentences = max_sentences
        self._max_chars = max_chars

    def complete(self, request: ChatRequest) -> ChatResponse:
        said, earlier, results = _current_turn(request.messages)
        question = dialogue.resolve(dialogue.question_of(said.splitlines()), earlier)
        language = _language(request, said)
        if results:
            return self._answer(question, results, language, request)
        return _first_step(question, language, request.tools)

    def _answer(
        self, question: str, results: list[ChatMessage], language: Language, request: ChatRequest
    ) -> ChatResponse:
        names = _called_tools(request.messages)
        last = results[-1]
        if names.get(last.tool_call_id or "") == HANDOFF_TOOL:
            return _text(phrases.reply("handoff", language), request)
        if all(r.is_error for r in results):
            return _text(phrases.reply("tool_error", language), request)
        passages = _passages(results)
        if passages is None:
            body = "\n".join(r.content for r in results if not r.is_error)
            return _text(f"{phrases.reply('tool_result', language)}\n{body}", request)
        return _text(self._compose(question, passages, language), request)

    def _compose(self, text: str, passages: Sequence[Passage], language: Language) -> str:
        question = analyse(text)
        scored = extractive.score(question, passages, language)
        chosen = decision.decide(
            question, scored, language=language, limit=self._max_sentences, chars=self._max_chars
        )
        return compose.reply_text(chosen, question, language)


def _first_step(question: str, language: Language, tools: Sequence[ToolSpec]) -> ChatResponse:
    offered = {tool.name: tool for tool in tools}
    if phrases.wants_person(question):
        if HANDOFF_TOOL in offered:
            return _call(HANDOFF_TOOL, {"reason": "customer_requested_person"}, question)
        return _plain(phrases.reply("handoff", language))
    kind = phrases.small_talk(question)
    if kind:
        return _plain(phrases.reply(kind, language))
    if phrases.is_filler(question):
        return _plain(phrases.reply("go_ahead", language))
    search = offered.get(SEARCH_TOOL)
    if search is not None and question.strip():
        query = " ".join(question.split())
        return _call(SEARCH_TOOL, {query_argument(search): query}, question)
    return _plain(phrases.reply("out_of_scope", language))


def _current_turn(messages: Sequence[ChatMessage]) -> tuple[str, list[str], list[ChatMessage]]:
    """The customer's latest message, their earlier ones (oldest first) and the tool results
    that followed the latest."""
    for index in range(len(messages) - 1, -1, -1):
        if messages[index].role == "user":
            later = messages[index + 1 :]
            earlier = [m.content for m in messages[:index] if m.role == "user"]
            return messages[index].content, earlier, [m for m in later if m.role == "tool"]
    return "", [], [m for m in messages if m.role == "tool"]


def _language(request: ChatRequest, said: str) -> Language:
    if request.language in ("en", "es"):
        return request.language
    return detect_language(said, default=phrases.small_talk_language(said) or "en")


def _called_tools(messages: Sequence[ChatMessage]) -> dict[str, str]:
    return {call.id: call.name for m in messages for call in m.tool_calls}


def _passages(results: Sequence[ChatMessage]) -> list[Passage] | None:
    """Every passage of the results, or None when no result carries passages."""
    found: list[Passage] = []
    any_passages = False
    for result in results:
        parsed = None if result.is_error else parse_passages(result.content)
        if parsed is not None:
            any_passages = True
            found.extend(parsed)
    return found if any_passages else None


def _call(name: str, arguments: dict[str, str], question: str) -> ChatResponse:
    digest = hashlib.sha256(f"{name}:{question}".encode()).hexdigest()[:16]
    call = ToolCall(id=f"local-{digest}", name=name, arguments=arguments)
    return ChatResponse(tool_calls=[call], stop_reason="tool_use", model=MODEL_NAME)


def _plain(text: str) -> ChatResponse:
    return ChatResponse(text=text, model=MODEL_NAME, output_tokens=len(text.split()))


def _text(text: str, request: ChatRequest) -> ChatResponse:
    words = sum(len(m.content.split()) for m in request.messages) + len(request.system.split())
    return ChatResponse(
        text=text, model=MODEL_NAME, input_tokens=words, output_tokens=len(text.split())
    )

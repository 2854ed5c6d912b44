"""`search_knowledge` (the retriever) and `handoff_to_human`."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.tools.base import ToolContext, ToolFailed, ToolResult
from parley.errors import DependencyError
from parley.retrieval import Passage


class SearchArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    query: str = Field(min_length=1, max_length=500, description="What to look up, in any language")


class SearchKnowledge:
    name: ClassVar[str] = "search_knowledge"
    description: ClassVar[str] = (
        "Search the admissions office's documents. Returns passages with the document each comes "
        "from; cite the document in the answer."
    )
    arguments: ClassVar[type[BaseModel]] = SearchArgs
    personal_data: ClassVar[bool] = False

    def run(self, args: SearchArgs, ctx: ToolContext) -> ToolResult:
        try:
            found = ctx.retriever.search(args.query, k=ctx.passages, collections=ctx.collections)
        except DependencyError as exc:
            raise ToolFailed(f"knowledge search failed: {exc.code}") from exc
        passages = [_shown(p, ctx.passage_chars) for p in found]
        if not passages:
            return ToolResult({"passages": [], "note": "no passage matches the query"})
        return ToolResult({"passages": passages}, sources=list(found))


def _shown(passage: Passage, limit: int) -> dict[str, str]:
    text = passage.text if len(passage.text) <= limit else passage.text[:limit].rsplit(" ", 1)[0]
    return {
        "document": passage.document,
        "title": passage.title,
        "section": passage.section,
        "text": text,
    }


class HandoffArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(default="customer_request", max_length=200)


class HandoffToHuman:
    name: ClassVar[str] = "handoff_to_human"
    description: ClassVar[str] = (
        "Hand the conversation to a human admissions counselor, with the reason. Use it when the "
        "customer asks for a person or when you cannot help."
    )
    arguments: ClassVar[type[BaseModel]] = HandoffArgs
    personal_data: ClassVar[bool] = False

    def run(self, args: HandoffArgs, ctx: ToolContext) -> ToolResult:
        return ToolResult({"status": "handoff_requested"}, handoff_reason=args.reason)

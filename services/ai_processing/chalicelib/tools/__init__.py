"""The tools agents may call, each declared with a JSON schema (its pydantic arguments model)."""

from chalicelib.tools.base import (
    MalformedToolCall,
    Tool,
    ToolContext,
    ToolFailed,
    ToolRegistry,
    ToolResult,
    spec_of,
)
from chalicelib.tools.business import BookCampusVisit, GetApplicationStatus, visit_problem
from chalicelib.tools.knowledge import HandoffToHuman, SearchKnowledge


def default_tools(application_status_url: str | None) -> ToolRegistry:
    """Every tool of the service, as configured."""
    return ToolRegistry(
        [
            SearchKnowledge(),
            HandoffToHuman(),
            GetApplicationStatus(application_status_url),
            BookCampusVisit(),
        ]
    )


__all__ = [
    "BookCampusVisit",
    "GetApplicationStatus",
    "HandoffToHuman",
    "MalformedToolCall",
    "SearchKnowledge",
    "Tool",
    "ToolContext",
    "ToolFailed",
    "ToolRegistry",
    "ToolResult",
    "default_tools",
    "spec_of",
    "visit_problem",
]

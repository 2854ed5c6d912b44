"""The agents configuration: the supervisor (intents, examples, routing rules), domain agents."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from parley.chat import Tier

Language = Literal["en", "es"]
TOOL_NAMES = frozenset(
    {"search_knowledge", "handoff_to_human", "get_application_status", "book_campus_visit"}
)


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Intent(_Strict):
    """An intent the supervisor recognises, with examples in every language, and its agent."""

    name: str = Field(pattern=r"^[a-z_]+$")
    agent: str
    description: str = ""
    examples: dict[Language, list[str]]
    # Knowledge-base documents about this intent: glob patterns on the document's file name, or
    # `file#section` to name a section (`*.md#*application status*`); retrieval's best passages
    # for a message are evidence of its intent.
    documents: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _has_examples(self) -> Intent:
        if not any(self.examples.values()):
            raise ValueError(f"intent {self.name} has no examples")
        return self


class Supervisor(_Strict):
    """Routing: the intents, how sure the supervisor must be, and the fallback agent.

    `min_confidence` is the platform's one definition of a low-confidence turn: the turn outcome
    says whether it was low, so no other service keeps a number of its own."""

    intents: list[Intent]
    min_confidence: float = Field(ge=0, le=1)
    fallback_agent: str
    human_intent: str = "human"
    out_of_scope_intent: str = "out_of_scope"  # answered with a redirect to what we can help with
    greeting_intents: list[str] = Field(default_factory=lambda: ["greeting", "goodbye"])
    tier: Tier = "fast"


class AgentConfig(_Strict):
    """A domain agent: what it knows, the tools it may call and the model tier it runs on."""

    name: str = Field(pattern=r"^[a-z_]+$")
    description: str
    system_prompt: str = Field(min_length=20)
    languages: list[Language] = Field(default_factory=lambda: list[Language](["en", "es"]))
    tools: list[str] = Field(default_factory=lambda: ["search_knowledge", "handoff_to_human"])
    collections: list[str] | None = None  # knowledge collections; None: all
    tier: Tier = "standard"

    @model_validator(mode="after")
    def _known_tools(self) -> AgentConfig:
        unknown = set(self.tools) - TOOL_NAMES
        if unknown:
            raise ValueError(f"agent {self.name}: unknown tools {sorted(unknown)}")
        return self


class Limits(_Strict):
    """Bounds of one turn: loop iterations, time, request and reply sizes."""

    max_iterations: int = Field(default=4, ge=1, le=10)
    time_budget_seconds: float = Field(default=20.0, gt=0)
    max_request_chars: int = Field(default=12_000, ge=2_000)
    max_reply_chars: int = Field(default=1_500, ge=100, le=4096)
    history_messages: int = Field(default=8, ge=0)
    passages: int = Field(default=4, ge=1, le=10)
    passage_chars: int = Field(default=900, ge=100)
    cache_ttl_seconds: int = Field(default=3600, ge=0)


class AgentsConfig(_Strict):
    """The whole file: business name, supervisor, agents, limits."""

    business: str
    supervisor: Supervisor
    agents: list[AgentConfig]
    limits: Limits = Field(default_factory=Limits)

    @model_validator(mode="after")
    def _references_resolve(self) -> AgentsConfig:
        names = {agent.name for agent in self.agents}
        if len(names) != len(self.agents):
            raise ValueError("agent names must be unique")
        wanted = {i.agent for i in self.supervisor.intents} | {self.supervisor.fallback_agent}
        missing = wanted - names
        if missing:
            raise ValueError(f"intents route to unknown agents: {sorted(missing)}")
        return self

    def agent(self, name: str) -> AgentConfig:
        for agent in self.agents:
            if agent.name == name:
                return agent
        raise KeyError(name)

    def intent(self, name: str) -> Intent | None:
        return next((i for i in self.supervisor.intents if i.name == name), None)

"""Agents as configuration: the pydantic schema and the loader (shipped YAML, S3 override)."""

from chalicelib.agents.loader import S3_KEY, load_agents, load_shipped, parse_agents
from chalicelib.agents.schema import AgentConfig, AgentsConfig, Intent, Limits, Supervisor

__all__ = [
    "S3_KEY",
    "AgentConfig",
    "AgentsConfig",
    "Intent",
    "Limits",
    "Supervisor",
    "load_agents",
    "load_shipped",
    "parse_agents",
]

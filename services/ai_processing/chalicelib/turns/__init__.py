"""The turn handler: what the customer experiences."""

from chalicelib.turns.handler import TurnDeps, TurnHandler

__all__ = ["TurnDeps", "TurnHandler"]

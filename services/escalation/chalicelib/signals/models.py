"""What the detector returns: the `Decision` and the `Signal`s it rests on."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.signals.policy import Priority, Reason

SELF_HARM_EVIDENCE = ("self_harm",)


class Signal(BaseModel):
    """One reason to involve a person, with its evidence: the matched words (normalised:
    lower case, no accents), or for self-harm only the category, never the customer's words."""

    model_config = ConfigDict(frozen=True)

    kind: Reason
    evidence: tuple[str, ...] = ()
    score: float = Field(default=1.0, ge=0, le=1)
    topic: str | None = None

    def without_quotes(self) -> Signal:
        """This signal with its evidence reduced to its kind and topic (for a self-harm case,
        where nothing the customer wrote may travel in notifications or logs)."""
        return self.model_copy(update={"evidence": (self.topic or self.kind,)})


class Decision(BaseModel):
    """Whether a person is needed now, why, how urgently, and what the hand-off must respect.

    - `reason`/`topic`/`priority`: the strongest signal (precedence: self_harm, sensitive_topic,
      customer_request, repeated_failure, sentiment, complex_case, vip); `topic` names the
      sensitive category ("billing", "legal", "harassment", "discrimination", "safety",
      "self_harm").
    - `signals`: every signal that fired, strongest first, each with its evidence.
    - `team`: who should take it, from the policy's teams.
    - `pause_automation`, `send_survey`, `quote_allowed`: what the hand-off must respect. For
      self-harm they are True/False/False: the assistant stops answering, no satisfaction survey
      is sent, and no notification, CRM case or log line may quote the customer (the evidence
      of every signal is reduced to its kind; `Notifications.fields_for` drops quoting fields).
    - `signals` is a tuple (immutable; it serialises as a JSON list).
    """

    model_config = ConfigDict(frozen=True)

    escalate: bool
    reason: Reason | None = None
    priority: Priority = "normal"
    topic: str | None = None
    signals: tuple[Signal, ...] = ()
    language: str
    self_harm: bool = False
    vip: bool = False
    team: str | None = None
    pause_automation: bool = False
    send_survey: bool = True
    quote_allowed: bool = True

    def summary(self) -> str:
        """One log-safe line: reason, topic, priority and the kinds of signals (no evidence)."""
        if not self.escalate:
            return "no escalation"
        kinds = ",".join(signal.kind for signal in self.signals)
        return (
            f"escalate reason={self.reason} topic={self.topic} priority={self.priority} [{kinds}]"
        )

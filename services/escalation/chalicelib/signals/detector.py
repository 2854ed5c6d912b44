"""`decide`: whether a customer's new messages need a person, why, and how urgently.

Order of work (cheap, offline detectors first; the sentiment analyser, which may be an AWS call,
only when nothing decisive was found):
1. self-harm (recall first; evidence is the category only);
2. sensitive topics of the policy (safety, harassment, discrimination, legal, billing);
3. an explicit request for a person; the customer saying the assistant fails or repeating an
   earlier question; a complex case (exception, several problems);
4. anger or frustration from the `SentimentAnalyser`, skipped when 1-3 already found self-harm,
   a sensitive topic or a request (the outcome cannot change);
5. VIP (policy `vip`): in `boost` mode a VIP needs another signal, but a weaker negative
   sentiment suffices (reason `vip`), and the priority is raised to at least `high`; an ordinary
   question from a VIP stays with the assistant. In `always` mode every VIP message escalates.

The strongest signal names the decision (precedence as listed in `PRECEDENCE`).
"""

from __future__ import annotations

from collections.abc import Sequence

from chalicelib.signals.complexity import detect_complex
from chalicelib.signals.failure import detect_failure
from chalicelib.signals.models import Decision, Signal
from chalicelib.signals.policy import EscalationPolicy, Priority, Reason
from chalicelib.signals.requests import detect_request
from chalicelib.signals.selfharm import detect_self_harm
from chalicelib.signals.sensitive import detect_sensitive
from chalicelib.signals.text import detect_language, normalise
from parley.sentiment import SentimentAnalyser

PRECEDENCE: tuple[Reason, ...] = (
    "self_harm",
    "sensitive_topic",
    "customer_request",
    "repeated_failure",
    "sentiment",
    "complex_case",
    "vip",
)
DECISIVE = frozenset({"self_harm", "sensitive_topic", "customer_request"})
_RANK: dict[Priority, int] = {"normal": 0, "high": 1, "urgent": 2}
VIP_SIGNAL = Signal(kind="vip", evidence=("vip list",))


def decide(
    messages: Sequence[str],
    *,
    earlier: Sequence[str] = (),
    language: str | None = None,
    wa_id: str | None = None,
    policy: EscalationPolicy,
    sentiment: SentimentAnalyser,
) -> Decision:
    """Decide from the customer's new messages (`messages`, one burst, oldest first) and their
    previous messages in the conversation (`earlier`, oldest first, for repeated questions).
    `language` ("en"/"es") is detected from the messages when None. `wa_id` is checked
    against the policy's VIP list."""
    raw = [m for m in messages if m and m.strip()]
    lang = language or detect_language(raw, policy.default_language)
    vip = bool(wa_id) and (wa_id or "").lstrip("+") in policy.vip.wa_ids
    if not raw:
        return Decision(escalate=False, language=lang, vip=vip)
    signals = _offline_signals([normalise(m) for m in raw], earlier, policy)
    if not DECISIVE & {s.kind for s in signals}:
        mood = _sentiment_signal(raw, lang, vip, policy, sentiment)
        signals += [mood] if mood else []
    if vip and (signals or policy.vip.mode == "always") and all(s.kind != "vip" for s in signals):
        signals.append(VIP_SIGNAL)
    return _decision(sorted(signals, key=lambda s: PRECEDENCE.index(s.kind)), lang, vip, policy)


def _offline_signals(
    texts: list[str], earlier: Sequence[str], policy: EscalationPolicy
) -> list[Signal]:
    found: list[Signal] = []
    self_harm = detect_self_harm(texts, policy)
    if self_harm:
        found.append(self_harm)
    found += detect_sensitive(texts, policy)
    for signal in (
        detect_request(texts, policy),
        detect_failure(texts, earlier, policy),
        detect_complex(texts, policy),
    ):
        if signal:
            found.append(signal)
    return found


def _sentiment_signal(
    raw: list[str], language: str, vip: bool, policy: EscalationPolicy, analyser: SentimentAnalyser
) -> Signal | None:
    """Anger or frustration above the threshold (the VIP one for a VIP: reason `vip`)."""
    thresholds = policy.thresholds
    result = analyser.analyse("\n".join(raw), language)
    threshold = thresholds.vip_sentiment_negative if vip else thresholds.sentiment_negative
    if result.negative < threshold:
        return None
    kind: Reason = "sentiment" if result.negative >= thresholds.sentiment_negative else "vip"
    evidence = result.cues or (f"{result.label.lower()} sentiment",)
    return Signal(kind=kind, evidence=evidence, score=round(result.negative, 3))


def _decision(
    signals: list[Signal], language: str, vip: bool, policy: EscalationPolicy
) -> Decision:
    if not signals:
        return Decision(escalate=False, language=language, vip=vip)
    top = signals[0]
    self_harm = top.kind == "self_harm"
    if self_harm:  # nothing the customer wrote may travel with a self-harm hand-off
        signals = [top, *(s.without_quotes() for s in signals[1:])]
    priority = _priority(top, policy)
    if vip and _RANK[priority] < _RANK["high"]:
        priority = "high"
    return Decision(
        escalate=True,
        reason=top.kind,
        priority=priority,
        topic=top.topic,
        signals=tuple(signals),
        language=language,
        self_harm=self_harm,
        vip=vip,
        team=policy.teams.for_decision(top.kind, top.topic),
        pause_automation=self_harm,
        send_survey=not self_harm,
        quote_allowed=not self_harm,
    )


def _priority(signal: Signal, policy: EscalationPolicy) -> Priority:
    if signal.kind == "sensitive_topic" and signal.topic:
        topic = policy.topic(signal.topic)
        return topic.priority if topic else "high"
    return policy.priority(signal.kind)

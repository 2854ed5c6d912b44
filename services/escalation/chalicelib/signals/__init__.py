"""Escalation signals: decide when a customer needs a person (issue 10).

Public API (what the hand-off calls):

    policy = load_policy(bucket, key)            # or load_shipped(); EscalationPolicy
    analyser = LexiconSentimentAnalyser()        # or ComprehendSentimentAnalyser(client)
    decision = decide(messages, earlier=..., language=..., wa_id=..., policy=policy,
                      sentiment=analyser)        # Decision
    crisis_reply(policy, decision.language, wa_id)   # fixed self-harm reply with contacts
    holding_message(policy, language, now)           # while the customer waits
"""

from chalicelib.signals.analyser import LexiconSentimentAnalyser
from chalicelib.signals.comprehend import ComprehendSentimentAnalyser
from chalicelib.signals.detector import PRECEDENCE, decide
from chalicelib.signals.loader import S3_KEY, load_policy, load_shipped, parse_policy
from chalicelib.signals.models import Decision, Signal
from chalicelib.signals.policy import EscalationPolicy, Priority, Reason
from chalicelib.signals.replies import (
    crisis_contacts,
    crisis_reply,
    holding_message,
    is_open,
    next_opening,
)

__all__ = [
    "PRECEDENCE",
    "S3_KEY",
    "ComprehendSentimentAnalyser",
    "Decision",
    "EscalationPolicy",
    "LexiconSentimentAnalyser",
    "Priority",
    "Reason",
    "Signal",
    "crisis_contacts",
    "crisis_reply",
    "decide",
    "holding_message",
    "is_open",
    "load_policy",
    "load_shipped",
    "next_opening",
    "parse_policy",
]

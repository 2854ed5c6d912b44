"""Escalation signals (issue 10): the labelled set's figures, and focused unit tests.

The labelled set (tests/data/escalation_cases.yaml) was written from how the demo business's
customers write, before the detector, and frozen. Thresholds: recall 100% on explicit requests,
sensitive topics and self-harm; overall accuracy >= 85%; false-positive rate <= 10%. The
figures are printed at the end of the pytest run (and in any failure message).

A positive case counts as caught when the decision escalates and one of its signals has an
expected reason (and, when the case names one, the expected topic); a negative case counts as
correct when the decision does not escalate.
"""

from __future__ import annotations

import re
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from chalicelib.signals import (
    S3_KEY,
    ComprehendSentimentAnalyser,
    Decision,
    EscalationPolicy,
    LexiconSentimentAnalyser,
    crisis_reply,
    decide,
    holding_message,
    is_open,
    load_policy,
    load_shipped,
    negation,
    next_opening,
    parse_policy,
)
from chalicelib.signals.loader import SHIPPED
from chalicelib.signals.replies import check_profile
from chalicelib.signals.text import normalise
from parley.business_profile import BusinessProfile, load_profile
from parley.errors import ConfigurationError, InvalidInput, Throttled
from parley.sentiment import Sentiment

CASES = Path(__file__).resolve().parent / "data" / "escalation_cases.yaml"
MUST_RECALL_ALL = ("customer_request", "sensitive_topic", "self_harm")
MIN_ACCURACY = 0.85
MAX_FALSE_POSITIVE_RATE = 0.10

POLICY = load_shipped()
ANALYSER = LexiconSentimentAnalyser()


def cases() -> list[dict[str, Any]]:
    return list(yaml.safe_load(CASES.read_text(encoding="utf-8")))


def expected_reasons(case: dict[str, Any]) -> list[str]:
    reason = case.get("reason")
    return [reason] if isinstance(reason, str) else list(reason or [])


def run(case: dict[str, Any], policy: EscalationPolicy = POLICY) -> Decision:
    return decide(
        case["messages"],
        earlier=case.get("earlier", []),
        language=case["language"],
        wa_id=case.get("wa_id"),
        policy=policy,
        sentiment=ANALYSER,
    )


def correct(case: dict[str, Any], decision: Decision) -> bool:
    if not case["escalate"]:
        return not decision.escalate
    kinds = {signal.kind for signal in decision.signals}
    topics = {signal.topic for signal in decision.signals}
    if not decision.escalate or not kinds & set(expected_reasons(case)):
        return False
    wanted = case.get("topic")
    return wanted is None or bool(set([wanted] if isinstance(wanted, str) else wanted) & topics)


# ----------------------------------------------------------------------------- the figures


@dataclass
class Figures:
    hits: dict[str, list[bool]] = field(default_factory=lambda: defaultdict(list))
    by_language: dict[str, list[bool]] = field(default_factory=lambda: defaultdict(list))
    misses: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def add(self, case: dict[str, Any], decision: Decision) -> None:
        ok = correct(case, decision)
        category = expected_reasons(case)[0] if case["escalate"] else "negatives"
        self.hits[category].append(ok)
        topic = case.get("topic")
        if topic and category == "sensitive_topic":
            first = topic if isinstance(topic, str) else topic[0]
            self.hits[f"sensitive_topic/{first}"].append(ok)
        self.by_language[case["language"]].append(ok)
        self.hits["all"].append(ok)
        if not ok:
            self.misses.append(f"{case['id']} -> {decision.summary()}")

    def rate(self, key: str) -> float:
        values = self.hits[key]
        return sum(values) / len(values) if values else 1.0

    @property
    def false_positive_rate(self) -> float:
        return 1.0 - self.rate("negatives")

    def report(self) -> str:
        lines = [f"escalation labelled set: {len(self.hits['all'])} cases, {self.seconds:.2f} s"]
        for key in sorted(k for k in self.hits if k not in ("all", "negatives")):
            values = self.hits[key]
            lines.append(f"  recall {key:<32} {self.rate(key):6.1%}  ({sum(values)}/{len(values)})")
        for language, values in sorted(self.by_language.items()):
            lines.append(
                f"  accuracy [{language}] {sum(values) / len(values):30.1%}  ({len(values)})"
            )
        negatives = self.hits["negatives"]
        lines.append(f"  overall accuracy {self.rate('all'):31.1%}")
        lines.append(
            f"  false-positive rate {self.false_positive_rate:28.1%}  "
            f"({negatives.count(False)}/{len(negatives)} negatives escalated)"
        )
        lines += [f"  miss: {miss}" for miss in self.misses]
        return "\n".join(lines)


class _FiguresPrinter:
    """A plugin registered by the fixture below: prints the figures in the terminal summary,
    so they show on a passing run without -s."""

    def __init__(self, figures: Figures) -> None:
        self.figures = figures

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        terminalreporter.write_sep("-", "escalation signals")
        terminalreporter.write_line(self.figures.report())


@pytest.fixture(scope="module")
def figures(pytestconfig: pytest.Config) -> Iterator[Figures]:
    result = Figures()
    started = time.perf_counter()
    for case in cases():
        result.add(case, run(case))
    result.seconds = time.perf_counter() - started
    pytestconfig.pluginmanager.register(_FiguresPrinter(result), "escalation-signals-figures")
    yield result


def test_the_labelled_set_is_large_bilingual_and_balanced() -> None:
    items = cases()
    ids = [case["id"] for case in items]
    assert len(items) >= 150 and len(set(ids)) == len(ids)
    assert {case["language"] for case in items} == {"en", "es"}
    negatives = [case for case in items if not case["escalate"]]
    assert len(negatives) >= 60
    assert sum(len(case["messages"]) > 1 for case in items) >= 6
    for case in items:
        assert case["escalate"] == bool(case.get("reason")), case["id"]


def test_recall_is_complete_for_requests_sensitive_topics_and_self_harm(figures: Figures) -> None:
    for category in MUST_RECALL_ALL:
        assert figures.rate(category) == 1.0, figures.report()


def test_overall_accuracy_and_false_positive_rate(figures: Figures) -> None:
    assert figures.rate("all") >= MIN_ACCURACY, figures.report()
    assert figures.false_positive_rate <= MAX_FALSE_POSITIVE_RATE, figures.report()


def test_an_ordinary_message_is_decided_quickly_and_offline(figures: Figures) -> None:
    assert figures.seconds / len(figures.hits["all"]) < 0.02, figures.report()


# ----------------------------------------------------------------------------- negation scope


def _negated(text: str, word: str) -> bool:
    normalised = normalise(text)
    return negation.is_negated(normalised.index(word), negation.scopes(normalised))


def test_a_negation_scope_covers_the_words_after_the_trigger_until_punctuation() -> None:
    assert _negated("I don't need a person, just tell me the deadline", "person")
    assert not _negated("I don't want a bot, I want a person", "person")
    assert _negated("no quiero que me llamen, prefiero whatsapp", "llamen")


def test_but_pero_and_a_restart_end_the_scope() -> None:
    assert not _negated("no es urgente pero quiero hablar con alguien", "alguien")
    assert not _negated("i dont want the bot i want a human", "human")
    assert not _negated("no quiero un robot quiero una persona", "persona")


def test_pseudo_negations_open_no_scope() -> None:
    assert not _negated("why can't I talk to a person??", "person")
    assert not _negated("no one answers, is there someone I can call", "someone")


def test_declining_a_person_is_not_a_request_and_asking_for_one_is() -> None:
    declined = decide(["no thanks, I don't need an advisor"], policy=POLICY, sentiment=ANALYSER)
    asked = decide(["I don't need the bot, I need an advisor"], policy=POLICY, sentiment=ANALYSER)
    assert not declined.escalate
    assert asked.reason == "customer_request"


def test_questions_about_the_staff_and_program_names_are_not_requests() -> None:
    for text in (
        "what hours is the admissions staff available?",
        "¿los asesores hablan inglés?",
        "Human Resources Management program",
        "Advisory board",
        "do I need to talk to an advisor before I register?",
    ):
        assert not decide([text], policy=POLICY, sentiment=ANALYSER).escalate, text


# ----------------------------------------------------------------------------- idioms, sarcasm


def test_figures_of_speech_are_neither_anger_nor_danger() -> None:
    for text in (
        "this deadline is killing me 😂",
        "me muero de ganas de empezar!!",
        "my dad's gonna kill me if I don't get in lmao",
    ):
        decision = decide([text], policy=POLICY, sentiment=ANALYSER)
        assert not decision.escalate, (text, decision.summary())
        assert ANALYSER.analyse(text, "en").negative < POLICY.thresholds.sentiment_negative


def test_a_real_threat_is_danger() -> None:
    decision = decide(["he said he is going to kill me"], policy=POLICY, sentiment=ANALYSER)
    assert (decision.reason, decision.topic, decision.priority) == (
        "sensitive_topic",
        "safety",
        "urgent",
    )


def test_sarcasm_turns_praise_into_frustration() -> None:
    sincere = ANALYSER.analyse("great, thanks! that's exactly what I needed", "en")
    sarcastic = ANALYSER.analyse("great, another useless answer 🙄", "en")
    assert sincere.label == "POSITIVE" and sincere.negative == 0
    assert sarcastic.label == "NEGATIVE" and "sarcasm" in sarcastic.cues
    assert ANALYSER.analyse("genial, otra vez lo mismo", "es").label == "NEGATIVE"


def test_negation_intensifiers_and_emoji_move_the_score() -> None:
    def negative(text: str) -> float:
        return ANALYSER.analyse(text, "en").negative

    assert negative("I'm not angry") < negative("I'm angry") < negative("I'm so angry")
    assert negative("I'm a bit annoyed") < negative("I'm annoyed")
    assert negative("this is slow 😡") > negative("this is slow")
    assert negative("ESTOY HARTA!!!") >= negative("estoy harta")


# ----------------------------------------------------------------------------- self-harm


def test_self_harm_is_never_suppressed_by_negation_or_jokes() -> None:
    for text in (
        "I'm not going to kill myself, just really stressed",
        "lol i wanna die 😂",
        "no, no me voy a matar jaja, tranqui",
    ):
        decision = decide([text], policy=POLICY, sentiment=ANALYSER)
        assert decision.self_harm and decision.reason == "self_harm", text


def test_only_an_exact_benign_idiom_exempts_a_message() -> None:
    assert not decide(
        ["me mato estudiando para el SAT"], policy=POLICY, sentiment=ANALYSER
    ).escalate
    still = decide(
        ["me mato estudiando y la verdad ya no quiero vivir"], policy=POLICY, sentiment=ANALYSER
    )
    assert still.self_harm


def test_a_self_harm_decision_carries_no_words_of_the_customer() -> None:
    decision = decide(
        ["I want a refund", "honestly I want to end it all, can someone call me"],
        policy=POLICY,
        sentiment=ANALYSER,
    )
    assert (decision.reason, decision.priority, decision.topic) == (
        "self_harm",
        "urgent",
        "self_harm",
    )
    assert decision.pause_automation and not decision.send_survey and not decision.quote_allowed
    words = " ".join(e for s in decision.signals for e in s.evidence)
    assert "refund" not in words and "call" not in words and "end it" not in words
    assert {s.kind for s in decision.signals} >= {
        "self_harm",
        "sensitive_topic",
        "customer_request",
    }
    assert "transcript" not in POLICY.notifications.fields_for(self_harm=True)


@pytest.mark.parametrize(
    ("language", "wa_id", "expected"),
    [
        ("en", "16145550100", "988"),
        ("es", "34600111222", "024"),
        ("es", "5215512345678", "800 911 2000"),
        ("es", "573001234567", "emergencias"),
    ],
)
def test_the_crisis_reply_is_fixed_and_local(language: str, wa_id: str, expected: str) -> None:
    reply = crisis_reply(POLICY, language, wa_id)
    assert expected in reply
    reviewed = load_profile().texts["escalation.self_harm"].get(language)
    assert reply.startswith(reviewed.split("{contacts}")[0])


# ----------------------------------------------------------------------------- VIP, burst, AWS use


def test_a_vip_needs_another_signal_and_is_served_first() -> None:
    vip = "14155550123"
    ordinary = decide(["what's the MBA deadline?"], wa_id=vip, policy=POLICY, sentiment=ANALYSER)
    request = decide(["can someone call me?"], wa_id=vip, policy=POLICY, sentiment=ANALYSER)
    assert not ordinary.escalate and ordinary.vip
    assert request.reason == "customer_request" and request.priority == "high"
    always = POLICY.model_copy(update={"vip": POLICY.vip.model_copy(update={"mode": "always"})})
    assert decide(["hola"], wa_id=vip, policy=always, sentiment=ANALYSER).reason == "vip"


def test_a_request_in_the_second_message_of_a_burst_counts() -> None:
    decision = decide(["hola", "quiero hablar con alguien"], policy=POLICY, sentiment=ANALYSER)
    assert decision.reason == "customer_request" and decision.language == "es"


def test_a_repeated_question_is_a_failure_but_a_follow_up_is_not() -> None:
    earlier = ["what's the deadline for the MBA?"]
    again = decide(
        ["what is the deadline for the MBA"], earlier=earlier, policy=POLICY, sentiment=ANALYSER
    )
    follow = decide(["and for spring?"], earlier=earlier, policy=POLICY, sentiment=ANALYSER)
    assert again.reason == "repeated_failure" and not follow.escalate


class CountingAnalyser:
    def __init__(self) -> None:
        self.calls = 0

    def analyse(self, text: str, language: str) -> Sentiment:
        self.calls += 1
        return Sentiment(label="NEUTRAL")


def test_the_sentiment_analyser_is_skipped_when_the_outcome_is_already_known() -> None:
    counting = CountingAnalyser()
    decide(["can someone call me back?"], policy=POLICY, sentiment=counting)
    decide(["me cobraron dos veces"], policy=POLICY, sentiment=counting)
    assert counting.calls == 0
    decide(["what's the deadline?"], policy=POLICY, sentiment=counting)
    assert counting.calls == 1


# ----------------------------------------------------------------------------- business hours


def test_holding_messages_follow_business_hours() -> None:
    tuesday_morning = datetime(2027, 3, 2, 15, 0, tzinfo=UTC)  # 10:00 Eastern
    saturday = datetime(2027, 3, 6, 15, 0, tzinfo=UTC)
    thanksgiving = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
    assert is_open(POLICY, tuesday_morning) and not is_open(POLICY, saturday)
    assert "5 minutes" in holding_message(POLICY, "en", tuesday_morning)
    weekend = holding_message(POLICY, "es", saturday)
    assert "lunes 8:30 (hora del Este)" in weekend and POLICY.holding_messages.phone in weekend
    opening = next_opening(POLICY, thanksgiving)
    assert opening is not None and (opening.month, opening.day, opening.hour) == (11, 30, 8)


# ----------------------------------------------------------------------------- policy loading


def _raw_policy() -> dict[str, Any]:
    return dict(yaml.safe_load(SHIPPED.read_text(encoding="utf-8")))


@pytest.mark.parametrize(
    ("breakage", "named"),
    [
        (
            lambda d: d["sensitive_topics"][0]["patterns"].update(en=["(unclosed"]),
            "does not compile",
        ),
        (lambda d: d["priorities"].update(self_harm="normal"), "self_harm"),
        (lambda d: d["self_harm"].update(reply={"en": "Call.", "es": "Llama."}), "{contacts}"),
        (lambda d: d["desk"].update(expired_message={"en": "Sorry."}), "lacks languages"),
        (lambda d: d["business_hours"].update(timezone="Mars/Olympus"), "timezone"),
        (lambda d: d["crisis"].update(default_country="FR"), "default_country"),
        (lambda d: d.update(surprise=True), "surprise"),
    ],
)
def test_a_broken_policy_is_refused_with_the_reason(breakage: Any, named: str) -> None:
    data = _raw_policy()
    breakage(data)
    with pytest.raises(ConfigurationError, match=re.escape(named)):
        parse_policy(yaml.safe_dump(data, allow_unicode=True))


@pytest.fixture
def s3_bucket(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from moto import mock_aws

    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        import boto3

        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="policies")
        yield s3


def test_the_profile_words_what_the_policy_does_not_and_a_policy_text_wins() -> None:
    saturday = datetime(2027, 3, 6, 15, 0, tzinfo=UTC)
    profile = load_profile()
    waiting = holding_message(POLICY, "es", saturday, profile=profile)
    wording = profile.texts["escalation.holding.out_of_hours"].get("es")
    assert waiting.startswith(wording.split("{")[0])
    assert POLICY.holding_messages.email in waiting  # the policy's numbers fill the profile's text
    data = _raw_policy()
    data["business"] = "Overridden Office"
    data["holding_messages"]["out_of_hours"] = {
        "en": "Closed. Call {phone}.",
        "es": "Cerrado, {business}. Llama al {phone}.",
    }
    own = parse_policy(yaml.safe_dump(data, allow_unicode=True))
    phone = POLICY.holding_messages.phone
    assert holding_message(own, "es", saturday) == f"Cerrado, Overridden Office. Llama al {phone}."


def test_a_profile_without_a_desk_text_or_with_a_loose_crisis_reply_is_refused() -> None:
    check_profile(load_profile())
    texts = load_profile().model_dump()
    del texts["texts"]["escalation.expired"]
    with pytest.raises(ConfigurationError, match=r"escalation\.expired"):
        check_profile(BusinessProfile.model_validate(texts))
    texts = load_profile().model_dump()
    texts["texts"]["escalation.self_harm"]["es"] = "Llama a {name}."
    with pytest.raises(ConfigurationError, match="contacts"):
        check_profile(BusinessProfile.model_validate(texts))


def test_an_s3_override_wins_and_no_override_keeps_the_shipped_policy(s3_bucket: Any) -> None:
    assert load_policy("policies", s3=s3_bucket).business == POLICY.business
    data = _raw_policy()
    data["business"] = "Overridden Admissions"
    body = yaml.safe_dump(data, allow_unicode=True).encode()
    s3_bucket.put_object(Bucket="policies", Key=S3_KEY, Body=body)
    assert load_policy("policies", s3=s3_bucket).business == "Overridden Admissions"
    assert load_policy(None).business == POLICY.business


def test_a_broken_s3_override_fails_naming_the_problem(s3_bucket: Any) -> None:
    data = _raw_policy()
    data["thresholds"]["sentiment_negative"] = 7
    s3_bucket.put_object(Bucket="policies", Key=S3_KEY, Body=yaml.safe_dump(data).encode())
    with pytest.raises(ConfigurationError, match=r"s3://policies/.*thresholds\.sentiment_negative"):
        load_policy("policies", s3=s3_bucket)
    with pytest.raises(ConfigurationError, match="unreadable"):
        load_policy("no-such-bucket", s3=s3_bucket)


# ----------------------------------------------------------------------------- Comprehend


def _stubbed_comprehend() -> tuple[Any, Any]:
    import boto3
    from botocore.stub import Stubber

    client = boto3.client(
        "comprehend",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    return client, Stubber(client)


def test_comprehend_detect_sentiment_is_called_as_the_service_model_says() -> None:
    client, stubber = _stubbed_comprehend()
    stubber.add_response(
        "detect_sentiment",
        {
            "Sentiment": "NEGATIVE",
            "SentimentScore": {"Positive": 0.01, "Negative": 0.93, "Neutral": 0.04, "Mixed": 0.02},
        },
        {"Text": "estoy harta, nadie me responde", "LanguageCode": "es"},
    )
    with stubber:
        result = ComprehendSentimentAnalyser(client).analyse("estoy harta, nadie me responde", "es")
    stubber.assert_no_pending_responses()
    assert result.label == "NEGATIVE" and result.negative == pytest.approx(0.93)


def test_comprehend_errors_become_parley_errors_or_fall_back() -> None:
    client, stubber = _stubbed_comprehend()
    stubber.add_client_error("detect_sentiment", "ThrottlingException", http_status_code=400)
    stubber.add_client_error("detect_sentiment", "TextSizeLimitExceededException")
    stubber.add_client_error("detect_sentiment", "InternalServerException", http_status_code=500)
    with stubber:
        analyser = ComprehendSentimentAnalyser(client)
        with pytest.raises(Throttled):
            analyser.analyse("hello", "en")
        with pytest.raises(InvalidInput):
            analyser.analyse("hello", "fr")
        fallback = ComprehendSentimentAnalyser(client, fallback=ANALYSER)
        assert fallback.analyse("this is ridiculous", "en").label == "NEGATIVE"


def test_comprehend_gets_at_most_its_byte_limit_and_never_an_empty_text() -> None:
    client, stubber = _stubbed_comprehend()
    long_text = "ñ" * 4000  # 8,000 bytes
    stubber.add_response(
        "detect_sentiment",
        {
            "Sentiment": "NEUTRAL",
            "SentimentScore": {"Positive": 0, "Negative": 0, "Neutral": 1, "Mixed": 0},
        },
        {"Text": "ñ" * 2450, "LanguageCode": "en"},
    )
    with stubber:
        analyser = ComprehendSentimentAnalyser(client)
        assert analyser.analyse(long_text, "xx").label == "NEUTRAL"
        assert analyser.analyse("   ", "en").label == "NEUTRAL"
    stubber.assert_no_pending_responses()

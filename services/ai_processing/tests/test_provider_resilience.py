"""ResilientChatModel and CircuitBreaker with an injected clock and sleep (no real waiting), and
the factory's choice of provider."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from chalicelib.providers import (
    CircuitBreaker,
    LocalChatModel,
    MalformedToolCall,
    ModelRequestRejected,
    ModelThrottled,
    ModelTimeout,
    ModelUnavailable,
    ResilientChatModel,
    build_chat_model,
)
from parley.chat import ChatMessage, ChatRequest, ChatResponse
from parley.errors import ModelError

REQUEST = ChatRequest(system="s", messages=[ChatMessage(role="user", content="hello")])
OK = ChatResponse(text="fine")


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class ScriptedModel:
    """Raises or answers from a script, one step per call (the last step repeats)."""

    def __init__(self, *steps: Exception | ChatResponse, clock: FakeClock | None = None) -> None:
        self.steps = list(steps)
        self.calls = 0
        self.clock = clock

    def complete(self, request: ChatRequest) -> ChatResponse:
        step = self.steps[min(self.calls, len(self.steps) - 1)]
        self.calls += 1
        if self.clock is not None:
            self.clock.now += 1.0  # every call takes a second
        if isinstance(step, Exception):
            raise step
        return step


def _resilient(
    inner: ScriptedModel, clock: FakeClock, *, budget: float = 30.0, failures: int = 5
) -> ResilientChatModel:
    breaker = CircuitBreaker(failures, 60.0, clock=clock)
    return ResilientChatModel(inner, budget, breaker, sleep=clock.sleep, clock=clock)


def test_retryable_errors_are_retried_then_the_answer_returned() -> None:
    clock = FakeClock()
    inner = ScriptedModel(ModelThrottled("slow down"), ModelTimeout("timeout"), OK, clock=clock)
    assert _resilient(inner, clock).complete(REQUEST) == OK
    assert inner.calls == 3
    assert len(clock.sleeps) == 2 and all(0 < s <= 4.5 for s in clock.sleeps)


def test_a_permanent_error_is_raised_at_once() -> None:
    clock = FakeClock()
    inner = ScriptedModel(ModelRequestRejected("too long"), OK, clock=clock)
    with pytest.raises(ModelRequestRejected):
        _resilient(inner, clock).complete(REQUEST)
    assert inner.calls == 1


def test_a_spent_budget_raises_model_unavailable_with_the_last_error() -> None:
    clock = FakeClock()
    inner = ScriptedModel(ModelError("503"), clock=clock)
    with pytest.raises(ModelUnavailable) as caught:
        _resilient(inner, clock, budget=5.0, failures=100).complete(REQUEST)
    assert caught.value.retryable and isinstance(caught.value, ModelError)
    assert caught.value.detail["last_error"] == "model_error"
    assert 2 <= inner.calls <= 4
    assert clock.now - 1000.0 <= 5.0 + 1.0  # the budget, overrun by at most one call


def test_a_persistent_malformed_tool_call_does_not_open_the_breaker() -> None:
    clock = FakeClock()
    inner = ScriptedModel(MalformedToolCall("bad json"), clock=clock)
    model = _resilient(inner, clock, budget=10.0, failures=2)
    with pytest.raises(ModelUnavailable) as caught:
        model.complete(REQUEST)
    assert caught.value.detail["last_error"] == "malformed_tool_call"
    assert model.breaker.state == "closed"


def test_the_breaker_opens_fails_fast_and_half_opens_after_the_reset() -> None:
    clock = FakeClock()
    inner = ScriptedModel(ModelError("down"), ModelError("down"), OK, clock=clock)
    breaker = CircuitBreaker(2, 60.0, clock=clock)
    model = ResilientChatModel(inner, 30.0, breaker, sleep=clock.sleep, clock=clock)
    with pytest.raises(ModelUnavailable):
        model.complete(REQUEST)
    assert breaker.state == "open" and inner.calls == 2
    with pytest.raises(ModelUnavailable) as caught:
        model.complete(REQUEST)
    assert caught.value.detail == {"circuit": "open"} and inner.calls == 2  # no call made
    clock.now += 60.0
    assert breaker.state == "half_open"
    assert model.complete(REQUEST) == OK  # the probe succeeds and closes it
    assert breaker.state == "closed"


def test_a_failed_probe_reopens_the_breaker() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(1, 10.0, clock=clock)
    breaker.record_failure()
    assert breaker.state == "open" and not breaker.allow()
    clock.now += 10.0
    assert breaker.allow()  # the one probe
    assert not breaker.allow()  # others wait for it
    breaker.record_failure()
    assert breaker.state == "open"


def test_real_sleeps_stay_short() -> None:
    """The default sleep and clock: a real backoff of at most ~0.1 s."""
    inner = ScriptedModel(ModelThrottled("slow"), OK)
    model = ResilientChatModel(
        inner, 1.0, CircuitBreaker(5, 1.0), initial_backoff=0.01, max_backoff=0.05
    )
    assert model.complete(REQUEST) == OK and inner.calls == 2


def _settings(**values: object) -> object:
    from parley.settings import AiProcessingSettings

    base: dict[str, object] = {
        "PARLEY_STAGE": "test",
        "events_topic": "t",
        "idempotency_table": "i",
        "payloads_bucket": "p",
        "turns_queue": "q",
        "outbound_queue": "o",
        "kb_events_queue": "k",
        "kb_bucket": "b",
    }
    return AiProcessingSettings(**{**base, **values})


@pytest.mark.parametrize(
    ("values", "check"),
    [
        ({}, lambda m: isinstance(m, LocalChatModel)),
        (
            {"llm_provider": "bedrock", "bedrock_guardrail_id": "gr-1"},
            lambda m: type(m.inner).__name__ == "BedrockChatModel",
        ),
        (
            {"llm_provider": "openai", "openai_base_url": "http://127.0.0.1:9/v1"},
            lambda m: type(m.inner).__name__ == "OpenAIChatModel",
        ),
    ],
)
def test_the_factory_builds_the_configured_provider(
    values: dict[str, object], check: Callable[[object], bool]
) -> None:
    model = build_chat_model(_settings(**values))
    assert check(model)

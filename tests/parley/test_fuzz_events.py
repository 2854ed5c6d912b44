"""Property tests of the event models (parley.events, parley.payloads): for every event type, a
valid event survives JSON unchanged, an unknown field is refused or tolerated exactly as its model
declares, and whatever a queue delivers, `parse_event` fails only with InvalidInput.

Events are generated from the models' own fields and constraints, so a field added later is
covered without touching this file. Fixed budget: derandomised, bounded examples."""

from __future__ import annotations

import json
import types
from datetime import UTC, datetime
from typing import Any, Literal, Union, get_args, get_origin

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from parley.errors import InvalidInput
from parley.events import EventBase, EventType, parse_event
from parley.routing import TOPIC_SUBSCRIPTIONS

BUDGET = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
EVENT_MODELS: dict[str, type[EventBase]] = {
    model.model_fields["type"].default: model for model in EventBase.__subclasses__()
}
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


def _constraints(metadata: list[Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for item in metadata:
        for name in ("min_length", "max_length", "pattern", "ge", "le"):
            if getattr(item, name, None) is not None:
                found[name] = getattr(item, name)
    return found


def _text(limits: dict[str, Any]) -> st.SearchStrategy[str]:
    low, high = limits.get("min_length", 0), limits.get("max_length", 30)
    if "pattern" in limits:
        raw = st.from_regex(limits["pattern"], fullmatch=True)
        return raw.filter(lambda s: low <= len(s) <= high)
    return st.text(min_size=low, max_size=min(high, low + 30))


def for_type(tp: Any, metadata: list[Any] | None = None) -> st.SearchStrategy[Any]:
    """Values of `tp` that its field's constraints accept."""
    limits = _constraints(metadata or [])
    origin, args = get_origin(tp), get_args(tp)
    if tp is type(None):
        return st.none()
    if origin in (Union, types.UnionType):
        return st.one_of(*(for_type(a, metadata) for a in args))
    if origin is Literal:
        return st.sampled_from(args)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return model_values(tp)
    if origin is list:
        return st.lists(for_type(args[0]), max_size=3)
    if origin is dict:
        values = json_values if args[1] is object else for_type(args[1])
        return st.dictionaries(st.text(max_size=8), values, max_size=3)
    return _scalar(tp, limits)


def _scalar(tp: Any, limits: dict[str, Any]) -> st.SearchStrategy[Any]:
    scalars: dict[Any, st.SearchStrategy[Any]] = {
        bool: st.booleans(),
        int: st.integers(limits.get("ge", -(2**40)), limits.get("le", 2**40)),
        float: st.floats(allow_nan=False, allow_infinity=False),  # JSON has neither
        datetime: st.datetimes(timezones=st.just(UTC)),
    }
    if tp is str:
        return _text(limits)
    assert tp in scalars, f"no strategy for {tp!r}: teach this test the new field type"
    return scalars[tp]


def model_values(model: type[BaseModel]) -> st.SearchStrategy[BaseModel]:
    fields = {
        name: for_type(info.annotation, info.metadata) for name, info in model.model_fields.items()
    }
    return st.fixed_dictionaries(fields).map(lambda values: model(**values))


def unknown_field_policy(model: type[BaseModel]) -> str:
    return str(model.model_config.get("extra") or "ignore")


def test_every_routed_event_type_has_a_model() -> None:
    routed = {t for types_ in TOPIC_SUBSCRIPTIONS.values() for t in types_}
    assert routed <= set(EVENT_MODELS) == set(get_args(EventType))


@pytest.mark.parametrize("event_type", sorted(EVENT_MODELS))
def test_every_event_survives_json_unchanged(event_type: str) -> None:
    @BUDGET
    @given(model_values(EVENT_MODELS[event_type]))
    def check(event: BaseModel) -> None:
        raw = event.model_dump_json()
        assert parse_event(raw) == event
        assert parse_event(json.loads(raw)) == event
        assert type(event).model_validate_json(raw) == event

    check()


@pytest.mark.parametrize("event_type", sorted(EVENT_MODELS))
def test_unknown_fields_are_handled_as_the_models_declare(event_type: str) -> None:
    model = EVENT_MODELS[event_type]
    payload_model = model.model_fields["payload"].annotation
    assert isinstance(payload_model, type) and issubclass(payload_model, BaseModel)

    @BUDGET
    @given(model_values(model), st.text(min_size=1, max_size=12), json_values, st.booleans())
    def check(event: BaseModel, name: str, value: Any, in_payload: bool) -> None:
        data = json.loads(event.model_dump_json())
        target, owner = (data["payload"], payload_model) if in_payload else (data, model)
        if name in target:
            return
        target[name] = value
        if unknown_field_policy(owner) == "forbid":
            with pytest.raises(InvalidInput, match="invalid event"):
                parse_event(data)
        else:
            parsed = parse_event(data)
            kept = name in ((parsed.payload if in_payload else parsed).model_extra or {})
            assert kept == (unknown_field_policy(owner) == "allow")

    check()


@BUDGET
@given(
    st.sampled_from(sorted(EVENT_MODELS)).flatmap(lambda t: model_values(EVENT_MODELS[t])),
    st.data(),
)
def test_a_damaged_event_is_refused_with_invalid_input_only(
    event: BaseModel, data: st.DataObject
) -> None:
    raw = json.loads(event.model_dump_json())
    key = data.draw(st.sampled_from(sorted(raw)))
    action = data.draw(st.sampled_from(["drop", "junk"]))
    if action == "drop":
        raw.pop(key)
    else:
        raw[key] = data.draw(json_values)
    try:
        parsed = parse_event(raw)
    except InvalidInput as error:
        assert error.http_status == 400 and not error.retryable
        return
    assert parsed.type == raw.get("type", parsed.type)  # a default or a still-valid value


@BUDGET
@given(st.binary(max_size=200) | json_values.map(json.dumps) | st.text(max_size=100))
def test_anything_on_a_queue_parses_or_is_invalid_input(raw: bytes | str) -> None:
    try:
        parsed = parse_event(raw)
    except InvalidInput:
        return
    assert isinstance(parsed, EventBase)

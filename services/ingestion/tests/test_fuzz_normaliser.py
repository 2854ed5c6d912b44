"""Property tests of the inbound normalisers: Meta webhook values, the Meta POST route's logic,
Twilio forms and EUM notifications, valid and broken. Whatever arrives, the only errors are the
documented 4xx ones (InvalidInput and its kin), every event is a valid event that survives JSON,
and its ids are the payload's. Fixed budget: derandomised, a bounded number of examples per test."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from inbound_support import APP_SECRET, encode, sign

from chalicelib.channels.eum import eum_events
from chalicelib.channels.twilio import decode_form, parse_twilio_form
from chalicelib.inbound.meta import MetaWebhook
from chalicelib.inbound.normalize import normalize_change_value
from chalicelib.inbound.processor import Outcome
from parley.errors import InvalidInput, ParleyError
from parley.events import parse_event
from parley.settings import BusinessNumber

BUDGET = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
PHONE = "100000000000001"
MESSAGE_TYPES = (
    "text",
    "image",
    "audio",
    "document",
    "sticker",
    "video",
    "location",
    "contacts",
    "interactive",
    "button",
    "reaction",
    "order",
    "system",
    "unsupported",
)
STATUSES = ("sent", "delivered", "read", "played", "failed")

texts = st.text(max_size=40) | st.text(min_size=2000, max_size=5000, alphabet="ab\u00e9\U0001f600")
ids = st.text(alphabet="abcdefABCDEF0123456789._=-", min_size=1, max_size=40).map(
    lambda s: "wamid." + s
)
wa_ids = st.from_regex(r"\A[1-9]\d{6,14}\Z")
timestamps = st.integers(min_value=0, max_value=4_000_000_000).map(str)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
media = st.fixed_dictionaries(
    {
        "id": ids,
        "mime_type": st.sampled_from(["image/jpeg", "audio/ogg; codecs=opus", "video/mp4"]),
    },
    optional={"caption": texts, "sha256": st.text(max_size=64), "voice": st.booleans()},
)
option = st.fixed_dictionaries({"id": texts, "title": texts}, optional={"description": texts})
CONTENT = {
    "text": st.fixed_dictionaries({"body": texts}),
    "image": media,
    "audio": media,
    "document": media,
    "sticker": media,
    "video": media,
    "location": st.fixed_dictionaries(
        {"latitude": st.floats(-90, 90), "longitude": st.floats(-180, 180)},
        optional={"name": texts, "address": texts},
    ),
    "contacts": st.lists(
        st.fixed_dictionaries({"name": st.fixed_dictionaries({"formatted_name": texts})}),
        max_size=2,
    ),
    "interactive": st.one_of(
        st.fixed_dictionaries({"type": st.just("button_reply"), "button_reply": option}),
        st.fixed_dictionaries({"type": st.just("list_reply"), "list_reply": option}),
    ),
    "button": st.fixed_dictionaries({"payload": texts, "text": texts}),
    "reaction": st.fixed_dictionaries(
        {"message_id": ids, "emoji": st.sampled_from(["", "\U0001f44d"])}
    ),
    "order": st.fixed_dictionaries(
        {"catalog_id": texts, "text": texts, "product_items": st.just([])}
    ),
    "system": st.fixed_dictionaries({"body": texts, "type": st.just("user_changed_number")}),
    "unsupported": st.fixed_dictionaries({"type": st.just("unknown")}),
}


@st.composite
def messages(draw: st.DrawFn, kind: str | None = None) -> dict[str, Any]:
    kind = kind or draw(st.sampled_from(MESSAGE_TYPES))
    message = {"id": draw(ids), "from": draw(wa_ids), "timestamp": draw(timestamps), "type": kind}
    message[kind] = draw(CONTENT[kind])
    return message


statuses = st.fixed_dictionaries(
    {
        "id": ids,
        "status": st.sampled_from(STATUSES),
        "timestamp": timestamps,
        "recipient_id": wa_ids,
    },
    optional={
        "errors": st.lists(st.fixed_dictionaries({"code": st.integers(0, 200_000)}), max_size=2)
    },
)


def value_of(msgs: list[dict[str, Any]], stats: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550000000", "phone_number_id": PHONE},
        "messages": msgs,
        "statuses": stats,
    }


@st.composite
def broken(draw: st.DrawFn, base: Any) -> Any:
    """`base` with parts removed, replaced by junk of any type, or added; recursively."""
    if isinstance(base, dict) and base:
        out = dict(base)
        for key in draw(st.lists(st.sampled_from(sorted(out)), max_size=3, unique=True)):
            action = draw(st.sampled_from(["drop", "junk", "recurse"]))
            if action == "drop":
                out.pop(key)
            elif action == "junk":
                out[key] = draw(json_values)
            else:
                out[key] = draw(broken(out[key]))
        out.update(draw(st.dictionaries(st.text(max_size=10), json_values, max_size=2)))
        return out
    if isinstance(base, list) and base:
        return [draw(broken(item)) for item in base] + draw(st.lists(json_values, max_size=1))
    return draw(st.one_of(st.just(base), json_values))


def assert_valid_events(events: list[Any], msgs: list[Any], stats: list[Any]) -> None:
    """Each event is a valid event that survives JSON, made of this payload's ids."""
    message_ids = {m.get("id") for m in msgs if isinstance(m, dict)}
    status_ids = {s.get("id") for s in stats if isinstance(s, dict)}
    for event in events:
        again = parse_event(event.model_dump_json())
        assert again == event
        assert again.model_dump(mode="json") == json.loads(event.model_dump_json())
        assert event.payload.message_id in (
            message_ids if event.type == "message.received" else status_ids
        )


@BUDGET
@given(st.lists(messages(), min_size=1, max_size=3), st.lists(statuses, max_size=2))
def test_every_valid_message_and_status_becomes_its_event(
    msgs: list[dict[str, Any]], stats: list[dict[str, Any]]
) -> None:
    events = normalize_change_value(value_of(msgs, stats), "meta")
    received = [e for e in events if e.type == "message.received"]
    assert [(e.payload.message_id, e.payload.wa_id, e.payload.kind) for e in received] == [
        (m["id"], m["from"], m["type"]) for m in msgs
    ]
    sent = [e for e in events if e.type == "message.status"]
    assert [(e.payload.message_id, e.payload.recipient, e.payload.status) for e in sent] == [
        (s["id"], s["recipient_id"], s["status"]) for s in stats
    ]
    assert all(e.conversation == f"{PHONE}:{e.payload.wa_id}" for e in received)
    assert_valid_events(events, msgs, stats)


@BUDGET
@given(messages(), st.text(min_size=1, max_size=20).filter(lambda t: t not in MESSAGE_TYPES))
def test_an_unknown_message_type_becomes_unsupported(message: dict[str, Any], kind: str) -> None:
    message = {**message, "type": kind, kind: {"anything": 1}}
    [event] = normalize_change_value(value_of([message], []), "meta")
    assert (event.payload.kind, event.payload.message_id) == ("unsupported", message["id"])


@BUDGET
@given(st.data())
def test_broken_values_never_raise_and_give_only_valid_events(data: st.DataObject) -> None:
    msgs = data.draw(st.lists(messages(), max_size=3))
    stats = data.draw(st.lists(statuses, max_size=2))
    value = data.draw(broken(value_of(msgs, stats)))
    events = normalize_change_value(value, "eum")
    raw = value if isinstance(value, dict) else {}
    found_msgs = raw.get("messages") if isinstance(raw.get("messages"), list) else []
    found_stats = raw.get("statuses") if isinstance(raw.get("statuses"), list) else []
    assert_valid_events(events, found_msgs, found_stats)
    assert all(e.payload.channel == "eum" for e in events if e.type == "message.received")


class Recorder:
    """The processor's place: keeps the events, stores nothing."""

    def __init__(self) -> None:
        self.events: list[Any] = []

    def process(self, events: list[Any]) -> Outcome:
        self.events.extend(events)
        return Outcome(received=len(events))


class Quiet:
    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: None


def webhook(recorder: Recorder) -> MetaWebhook:
    secrets = {"app_secret": APP_SECRET, "verify_token": "x" * 32}
    return MetaWebhook(recorder, lambda: secrets, max_bytes=1_048_576, logger=Quiet())  # type: ignore[arg-type]


notifications = st.fixed_dictionaries(
    {
        "object": st.just("whatsapp_business_account"),
        "entry": st.lists(
            st.fixed_dictionaries(
                {
                    "id": st.just("WABA"),
                    "changes": st.lists(
                        st.builds(
                            lambda m, s: {"field": "messages", "value": value_of(m, s)},
                            st.lists(messages(), max_size=2),
                            st.lists(statuses, max_size=2),
                        ),
                        max_size=2,
                    ),
                }
            ),
            max_size=2,
        ),
    }
)


@BUDGET
@example(
    b'{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":'
    b'{"metadata":{"phone_number_id":"1"},"messages":[{"id":"w","from":"1","type":"location",'
    b'"location":{"latitude":NaN,"longitude":Infinity}}]}}]}]}'
)
@given(
    st.one_of(notifications, notifications.flatmap(broken), json_values).map(encode)
    | st.binary(max_size=300)
)
def test_a_signed_post_is_answered_or_refused_with_a_client_error_only(raw: bytes) -> None:
    recorder = Recorder()
    try:
        answer = webhook(recorder).receive(raw, sign(raw))
    except InvalidInput as error:  # not JSON
        assert error.http_status == 400
        return
    assert answer["status"] in ("processed", "ignored")
    assert_valid_events(recorder.events, *_parts(json.loads(raw)))


def _parts(payload: Any) -> tuple[list[Any], list[Any]]:
    msgs: list[Any] = []
    stats: list[Any] = []
    entries = payload.get("entry") if isinstance(payload, dict) else None
    for entry in entries if isinstance(entries, list) else []:
        changes = entry.get("changes") if isinstance(entry, dict) else None
        for change in changes if isinstance(changes, list) else []:
            value = change.get("value") if isinstance(change, dict) else None
            if isinstance(value, dict):
                msgs += value.get("messages") if isinstance(value.get("messages"), list) else []
                stats += value.get("statuses") if isinstance(value.get("statuses"), list) else []
    return msgs, stats


NUMBERS = {PHONE: BusinessNumber(channel="twilio", twilio_from="whatsapp:+14155238886")}
twilio_fields = st.fixed_dictionaries(
    {
        "MessageSid": st.from_regex(r"\ASM[0-9a-f]{32}\Z"),
        "From": wa_ids.map("whatsapp:+{}".format),
        "To": st.just("whatsapp:+14155238886"),
    },
    optional={
        "Body": texts,
        "NumMedia": st.sampled_from(["0", "1"]),
        "MediaUrl0": st.just("https://api.twilio.com/media/ME1"),
        "MediaContentType0": st.sampled_from(
            ["image/jpeg", "audio/ogg", "text/vcard", "image/webp"]
        ),
        "Latitude": st.floats(-90, 90).map(str),
        "Longitude": st.floats(-180, 180).map(str),
        "ButtonPayload": texts,
        "ListId": texts,
        "MessageStatus": st.sampled_from(
            ["received", "sent", "delivered", "read", "failed", "queued"]
        ),
        "ErrorCode": st.sampled_from(["63016", "30008"]),
        "ProfileName": texts,
    },
)


@BUDGET
@given(twilio_fields)
def test_a_twilio_form_becomes_the_event_of_its_message_sid(fields: dict[str, str]) -> None:
    events = parse_twilio_form(fields, NUMBERS)
    for event in events:
        assert parse_event(event.model_dump_json()) == event
        assert event.payload.message_id == fields["MessageSid"]
        if event.type == "message.received":
            assert (event.payload.wa_id, event.payload.business_phone_number_id) == (
                fields["From"].removeprefix("whatsapp:+"),
                PHONE,
            )


@BUDGET
@given(
    twilio_fields.flatmap(broken).map(lambda f: {str(k): str(v) for k, v in f.items()})
    | st.dictionaries(st.text(max_size=12), st.text(max_size=30), max_size=6)
)
def test_a_broken_twilio_form_is_refused_as_invalid_input_only(fields: dict[str, str]) -> None:
    try:
        events = parse_twilio_form(fields, NUMBERS)
    except InvalidInput:
        return
    for event in events:
        assert parse_event(event.model_dump_json()) == event
        assert event.payload.message_id == fields["MessageSid"]


@BUDGET
@given(st.binary(max_size=200) | st.text(max_size=200))
def test_any_form_body_decodes_or_is_refused_as_invalid_input(raw: bytes | str) -> None:
    try:
        form = decode_form(raw)
    except InvalidInput:  # e.g. not UTF-8: a 400, where a UnicodeDecodeError would be a 500
        return
    assert all(isinstance(v, list) and v for v in form.values())


def eum_message(entry: Any) -> str:
    return json.dumps(
        {
            "context": {"MetaWabaIds": [], "MetaPhoneNumberIds": []},
            "whatsAppWebhookEntry": json.dumps(entry),
        }
    )


@BUDGET
@given(
    st.one_of(
        notifications.map(lambda n: eum_message(n["entry"][0]) if n["entry"] else "{}"),
        notifications.flatmap(broken).map(lambda n: eum_message(n.get("entry"))),
        json_values.map(json.dumps),
        st.text(max_size=50),
    )
)
def test_an_eum_notification_gives_valid_events_or_invalid_input_only(message: str) -> None:
    try:
        events = eum_events(message)
    except ParleyError as error:
        assert isinstance(error, InvalidInput), error
        return
    entry = json.loads(json.loads(message)["whatsAppWebhookEntry"])
    assert_valid_events(events, *_parts({"entry": [entry]}))
    assert all(e.payload.channel == "eum" for e in events if e.type == "message.received")

"""parley.redaction / parley.pii: what must pass intact (application ids, dates, times, amounts,
years) is never altered, and personal data (phones, cards, e-mails, NIE/DNI, IBANs) written in
many formats never survives; the turn vault gives placeholders back their values."""

from __future__ import annotations

import string
from datetime import date, time

import phonenumbers
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from parley.pii import dni_letter, find, luhn_valid, regions_for
from parley.redaction import PiiVault, redact_except, redact_text

# No example database: the runs leave nothing in the tree.
RUNS = settings(deadline=None, database=None)

# Words around the data: letters and punctuation only, so no digit of the output comes from them.
WORDS = st.lists(
    st.sampled_from(
        ["my", "is", "please", "call", "the", "mi", "es", "por", "favor", "número", "and", "ok"]
    ),
    max_size=4,
).map(" ".join)
AROUND = st.sampled_from(["{}", "{}.", "({})", "{},", "«{}»", "{}?", "{}!"])
SEPARATORS = [" ", "-", ".", "\u00a0", "\u2013", "/", ""]


def in_text(value: str, before: str, after: str, frame: str) -> str:
    return f"{before} {frame.format(value)} {after}".strip()


def digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


# -- What must pass intact ---------------------------------------------------------------------

MONTHS_EN = ["January", "February", "March", "April", "May", "June", "July", "August"]
MONTHS_ES = ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto"]

application_ids = st.from_regex(r"NB-\d{4}-\d{4}", fullmatch=True)
days = st.dates(min_value=date(1990, 1, 1), max_value=date(2040, 12, 31))
dates = st.one_of(
    days.map(lambda d: d.isoformat()),
    days.map(lambda d: d.strftime("%d/%m/%Y")),
    days.map(lambda d: d.strftime("%m/%d/%Y")),
    days.map(lambda d: d.strftime("%d.%m.%Y")),
    days.map(lambda d: d.strftime("%d-%m-%Y")),
    days.map(lambda d: d.strftime("%d/%m/%y")),
    days.map(lambda d: f"{MONTHS_EN[d.month % 8]} {d.day}"),
    days.map(lambda d: f"{MONTHS_EN[d.month % 8]} {d.day}, {d.year}"),
    days.map(lambda d: f"{d.day} de {MONTHS_ES[d.month % 8]} de {d.year}"),
)
times = st.times().map(lambda t: t.replace(second=0, microsecond=0))
clock = st.one_of(
    times.map(lambda t: t.strftime("%H:%M")),
    times.map(lambda t: t.strftime("%I:%M %p").lstrip("0")),
    times.map(lambda t: t.strftime("%I:%M%p").lower()),
    times.map(lambda t: t.strftime("%Hh%M")),
)
figures = st.integers(min_value=0, max_value=9_999_999)
amounts = st.one_of(
    figures.map(lambda n: f"${n:,}"),
    figures.map(lambda n: f"${n:,}.{n % 100:02d}"),
    figures.map(lambda n: f"{n:,}".replace(",", ".") + " €"),
    figures.map(lambda n: f"USD {n:,}"),
    figures.map(lambda n: f"{n} dollars"),
    figures.map(lambda n: f"{n:,} dólares"),
    figures.map(lambda n: f"€{n}"),
    st.integers(min_value=0, max_value=999_999).map(str),  # a bare figure, up to six digits
)
years = st.integers(min_value=1900, max_value=2099).map(str)
intact = st.one_of(application_ids, dates, clock, amounts, years)


@settings(RUNS, max_examples=300)
@given(value=intact, before=WORDS, after=WORDS, frame=AROUND)
@example(value="NB-2027-0001", before="status of", after="please", frame="{}?")
@example(value="2027-03-15", before="visit on", after="", frame="{}")
@example(value="15/03/2027", before="el", after="", frame="{}")
def test_ids_dates_times_amounts_and_years_pass_intact(
    value: str, before: str, after: str, frame: str
) -> None:
    text = in_text(value, before, after, frame)
    assert redact_text(text) == text
    assert PiiVault().redact(text) == text


@settings(RUNS, max_examples=100)
@given(parts=st.lists(intact, min_size=2, max_size=5))
@example(parts=["2000-01-01", "13/10/2000"])  # a date before the sentence's full stop
def test_several_of_them_in_one_message_pass_intact(parts: list[str]) -> None:
    text = "Application " + ", then ".join(parts) + "."
    assert redact_text(text) == text


@pytest.mark.parametrize("sender", ["4512345678", "4915123456789", "5215512345678"])
def test_intact_values_stay_intact_for_senders_of_other_countries(sender: str) -> None:
    """Danish, German and Mexican senders: their national formats are read as phones too."""
    text = "NB-2027-0001 on 2027-03-15 or 15.03.2027 at 14:00, $12,500 by 2027"
    assert PiiVault.for_sender(sender).redact(text) == text


# -- What must never survive ---------------------------------------------------------------------

INTERNATIONAL = ["US", "ES", "GB", "MX", "DE", "FR", "CO", "AR", "IT", "BR", "IN", "NG"]
NATIONAL = ["US", "ES"]  # the default regions: numbers without a country code


@st.composite
def phone_numbers(draw: st.DrawFn, regions: list[str]) -> phonenumbers.PhoneNumber:
    region = draw(st.sampled_from(regions))
    kind = draw(st.sampled_from([phonenumbers.PhoneNumberType.MOBILE, None]))
    template = (
        phonenumbers.example_number_for_type(region, kind)
        if kind is not None
        else phonenumbers.example_number(region)
    )
    national = str(template.national_number)
    tail = draw(st.text(alphabet=string.digits, min_size=4, max_size=4))
    number = phonenumbers.parse(f"+{template.country_code}{national[:-4]}{tail}")
    assume(phonenumbers.is_valid_number(number))
    return number


def spelled(number: phonenumbers.PhoneNumber, style: str, separator: str) -> str:
    formats = {
        "international": phonenumbers.PhoneNumberFormat.INTERNATIONAL,
        "national": phonenumbers.PhoneNumberFormat.NATIONAL,
    }
    if style in ("e164", "whatsapp"):  # a WhatsApp id is E.164 without its "+"
        e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        return e164 if style == "e164" else e164[1:]
    text = phonenumbers.format_number(number, formats[style])
    return text.replace("-", " ").replace(" ", separator) if separator != " " else text


@settings(RUNS, max_examples=300)
@given(
    number=phone_numbers(INTERNATIONAL),
    style=st.sampled_from(["international", "e164", "whatsapp"]),
    separator=st.sampled_from(SEPARATORS),
    before=WORDS,
    after=WORDS,
    frame=AROUND,
)
def test_phone_numbers_with_a_country_code_never_survive(
    number: phonenumbers.PhoneNumber,
    style: str,
    separator: str,
    before: str,
    after: str,
    frame: str,
) -> None:
    text = in_text(spelled(number, style, separator), before, after, frame)
    national = str(number.national_number)
    assert national not in digits(redact_text(text))
    assert national not in digits(PiiVault().redact(text))


@settings(RUNS, max_examples=300)
@given(
    number=phone_numbers(NATIONAL),
    separator=st.sampled_from(SEPARATORS),
    before=WORDS,
    after=WORDS,
    frame=AROUND,
)
def test_national_phone_numbers_of_the_default_regions_never_survive(
    number: phonenumbers.PhoneNumber, separator: str, before: str, after: str, frame: str
) -> None:
    text = in_text(spelled(number, "national", separator), before, after, frame)
    assert str(number.national_number) not in digits(redact_text(text))


@settings(RUNS, max_examples=100)
@given(number=phone_numbers(["DE", "MX", "GB", "FR"]), separator=st.sampled_from(SEPARATORS))
def test_the_senders_national_format_never_survives(
    number: phonenumbers.PhoneNumber, separator: str
) -> None:
    sender = f"{number.country_code}{number.national_number}"
    text = f"mi número: {spelled(number, 'national', separator)}"
    assert str(number.national_number) not in digits(PiiVault.for_sender(sender).redact(text))


@st.composite
def card_numbers(draw: st.DrawFn) -> str:
    prefix, length = draw(st.sampled_from([("4", 16), ("51", 16), ("37", 15), ("6011", 16)]))
    body = prefix + draw(
        st.text(string.digits, min_size=length - len(prefix) - 1, max_size=length - len(prefix) - 1)
    )
    check = next(d for d in string.digits if luhn_valid(body + d))
    return body + check


def grouped(number: str, separator: str) -> str:
    sizes = [4, 6, 5] if len(number) == 15 else [4, 4, 4, 4]
    groups, at = [], 0
    for size in sizes:
        groups.append(number[at : at + size])
        at += size
    return separator.join(groups)


@settings(RUNS, max_examples=300)
@given(
    number=card_numbers(),
    separator=st.sampled_from(SEPARATORS),
    before=WORDS,
    after=st.sampled_from(["", "exp 12/28", "cvv 123", "caduca 03/29"]),
)
@example(number="4111111111111111", separator="/", before="card", after="")
def test_card_numbers_never_survive(number: str, separator: str, before: str, after: str) -> None:
    text = f"{before} {grouped(number, separator)} {after}"
    assert number not in digits(redact_text(text))
    assert "[CARD_1]" in PiiVault().redact(text)


@st.composite
def spanish_ids(draw: st.DrawFn) -> tuple[str, str]:
    """(how it is written, its canonical form): DNI 12345678Z or NIE X1234567L."""
    case = draw(st.sampled_from([str.upper, str.lower]))
    sep = draw(st.sampled_from(["", "-", " ", "."]))
    if draw(st.booleans()):
        number = draw(st.integers(min_value=0, max_value=99_999_999))
        text = f"{number:08d}"
        letter = dni_letter(number)
        spaced = draw(st.booleans())
        shown = f"{text[:2]} {text[2:5]} {text[5:]}" if spaced else text
        if sep == ".":
            shown = f"{text[:2]}.{text[2:5]}.{text[5:]}"
        return f"{shown}{sep}{case(letter)}", text + letter
    prefix = draw(st.sampled_from("XYZ"))
    number = draw(st.integers(min_value=0, max_value=9_999_999))
    letter = dni_letter(int(f"{'XYZ'.index(prefix)}{number:07d}"))
    return case(f"{prefix}{sep}{number:07d}{sep}{letter}"), f"{prefix}{number:07d}{letter}"


@settings(RUNS, max_examples=300)
@given(document=spanish_ids(), before=WORDS, frame=AROUND)
@example(document=("x1234567l", "X1234567L"), before="mi nie", frame="{}")
@example(document=("12 345 678-Z", "12345678Z"), before="DNI", frame="{}")
def test_nie_and_dni_never_survive(document: tuple[str, str], before: str, frame: str) -> None:
    written, canonical = document
    text = in_text(written, before, "gracias", frame)
    redacted = PiiVault().redact(text)
    assert "[ID_DOC_1]" in redacted
    assert canonical[-8:-1] not in digits(redacted)


@settings(RUNS, max_examples=200)
@given(
    local=st.from_regex(r"[a-z][a-z0-9._+-]{0,15}[a-z0-9]", fullmatch=True),
    domain=st.from_regex(r"[a-z][a-z0-9-]{0,10}[a-z]\.(com|es|edu|co\.uk|org)", fullmatch=True),
    frame=AROUND,
)
def test_emails_never_survive(local: str, domain: str, frame: str) -> None:
    assume(".." not in local)
    address = f"{local}@{domain}"
    redacted = redact_text(in_text(address, "write to", "thanks", frame))
    assert address not in redacted and "@" not in redacted


def iban(country: str, bban: str) -> str:
    numeric = "".join(str(int(c, 36)) for c in bban + country + "00")
    return f"{country}{98 - int(numeric) % 97:02d}{bban}"


@settings(RUNS, max_examples=100)
@given(
    bban=st.text(string.digits, min_size=20, max_size=20),
    spaced=st.booleans(),
    lower=st.booleans(),
)
def test_spanish_ibans_never_survive(bban: str, spaced: bool, lower: bool) -> None:
    account = iban("ES", bban)
    shown = " ".join(account[i : i + 4] for i in range(0, 24, 4)) if spaced else account
    text = f"IBAN {shown.lower() if lower else shown} por favor"
    assert "[IBAN]" in redact_text(text) and bban[-10:] not in digits(redact_text(text))


# -- The vault: numbered placeholders, given back to tools ------------------------------------


def test_a_value_keeps_one_placeholder_however_it_is_spelled() -> None:
    vault = PiiVault()
    text = vault.redact("call +34 612 345 678 or 612345678; mail Ana@Example.com, ana@example.com")
    assert text == "call [PHONE_1] or [PHONE_1]; mail [EMAIL_1], [EMAIL_1]"
    assert vault.redact("other: +34 699 111 222") == "other: [PHONE_2]"


def test_placeholders_resolve_back_in_tool_arguments() -> None:
    vault = PiiVault()
    vault.redact("my phone is 612 345 678 and my DNI 12345678Z")
    arguments = {"contact_phone": "[PHONE_1]", "notes": ["id [ID_DOC_1]"], "guests": 2}
    assert vault.restore_data(arguments) == {
        "contact_phone": "612 345 678",
        "notes": ["id 12345678Z"],
        "guests": 2,
    }
    assert vault.restore("[PHONE_7] is not ours") == "[PHONE_7] is not ours"


def test_tool_results_are_redacted_with_the_same_placeholders() -> None:
    vault = PiiVault()
    vault.redact("text me at +34 612 345 678")
    result = {"booked": True, "reminders_to": "+34612345678", "campus": "riverside"}
    assert vault.redact_data(result) == {
        "booked": True,
        "reminders_to": "[PHONE_1]",
        "campus": "riverside",
    }


def test_published_data_does_not_make_the_turn_personal() -> None:
    vault = PiiVault()
    assert vault.redact("Call admissions at +1 (614) 555-0139.", personal=False) == (
        "Call admissions at [PHONE_1]."
    )
    assert not vault.personal and vault.personal_values() == []
    vault.redact("my mail is ana@example.com")
    assert vault.personal and vault.personal_values() == ["ana@example.com"]


def test_the_sender_region_comes_from_the_whatsapp_id() -> None:
    assert regions_for("34612345678") == ("US", "ES")
    assert regions_for("4915123456789") == ("US", "ES", "DE")
    assert regions_for(None) == ("US", "ES") and regions_for("not a number") == ("US", "ES")


def test_one_way_redaction_keeps_allowed_values() -> None:
    text = "Call +1 (614) 555-0139 or tell ana@example.com; your number +34 612 345 678"
    kept = redact_except(text, ["Admissions: +1 (614) 555-0139", "+34612345678"])
    assert kept == "Call +1 (614) 555-0139 or tell [EMAIL]; your number +34 612 345 678"


def test_found_spans_name_their_kind_in_order() -> None:
    text = "ES91 2100 0418 4502 0005 1332, 4111-1111-1111-1111, X-1234567-L, +44 20 7946 0958"
    assert [span.kind for span in find(text)] == ["IBAN", "CARD", "ID_DOC", "PHONE"]


def test_a_time_after_a_phone_number_is_kept() -> None:
    assert redact_text("+1 555 123 4567 at 14:00") == "[PHONE] at 14:00"
    assert redact_text(f"{date(2027, 3, 15)} at {time(14)}") == "2027-03-15 at 14:00:00"


def test_crm_cases_and_their_resolution_lose_personal_data_one_way() -> None:
    from parley.crm import CrmCase, CrmCaseUpdate

    case = CrmCase(
        handoff_id="h-1",
        conversation="1:2",
        subject="WhatsApp: customer request",
        description="Summary: Ana (ana@example.com, +34 612 345 678) asked about NB-2027-0001",
    )
    assert case.description == "Summary: Ana ([EMAIL], [PHONE]) asked about NB-2027-0001"
    update = CrmCaseUpdate(handoff_id="h-1", outcome="done", summary="DNI 12345678Z verified")
    assert update.summary == "DNI [ID_DOC] verified"

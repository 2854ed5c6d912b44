"""The demo business tools: `get_application_status` (HTTP) and `book_campus_visit` (rules of the
campus-visits document)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import urllib.error
import urllib.request
from datetime import date, datetime, time, timedelta
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from chalicelib.tools.base import ToolContext, ToolFailed, ToolResult
from parley import business_profile
from parley.pii import e164, regions_for

APPLICATION_ID = r"^NB-\d{4}-\d{4}$"
# The header that tells the business API who is asking: the sender's WhatsApp id.
CUSTOMER_HEADER = "X-Customer-Wa-Id"
# What the business API answers when the application is not the sender's (or does not exist).
_NOT_THE_SENDERS = frozenset({401, 403, 404})


class StatusArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    application_id: str = Field(pattern=APPLICATION_ID, description="Like NB-2027-0001")


class GetApplicationStatus:
    """Asks the business API for the status, naming the sender: the API answers only about the
    sender's own applications; for any other the customer is asked to verify who they are."""

    name: ClassVar[str] = "get_application_status"
    description: ClassVar[str] = (
        "The status of an application by its id (NB-YYYY-NNNN): stage, missing documents, "
        "last update. Only the applicant's own applications are shown."
    )
    arguments: ClassVar[type[BaseModel]] = StatusArgs
    personal_data: ClassVar[bool] = True

    def __init__(self, base_url: str | None, timeout: float = 3.0) -> None:
        self.base_url = base_url.rstrip("/") if base_url else None
        self.timeout = timeout

    def run(self, args: StatusArgs, ctx: ToolContext) -> ToolResult:
        if not self.base_url:
            raise ToolFailed("application status endpoint not configured")
        request = urllib.request.Request(
            f"{self.base_url}/{args.application_id}", headers={CUSTOMER_HEADER: ctx.sender}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                body = json.loads(response.read().decode())
        except urllib.error.HTTPError as exc:
            if exc.code in _NOT_THE_SENDERS:
                return _verification_needed(args.application_id, ctx.language)
            raise ToolFailed(f"application status answered {exc.code}") from exc
        except (urllib.error.URLError, TimeoutError, ValueError) as exc:
            raise ToolFailed(f"application status unreachable: {type(exc).__name__}") from exc
        return ToolResult({"found": True, **body})


def _verification_needed(application_id: str, language: str) -> ToolResult:
    """Nothing about the application: the customer is asked to write from the number on it."""
    return ToolResult(
        {"found": False, "application_id": application_id, "verification_required": True},
        reply=business_profile.say("ai.verify_application", language, id=application_id),
    )


# Rules of infra/local/demo/kb/campus-visits.md.
RIVERSIDE_WEEKDAY = (time(10), time(14))
RIVERSIDE_SATURDAY = (time(10),)
SATURDAY_MONTHS = frozenset({9, 10, 11, 12, 1, 2, 3, 4})
HARBORVIEW_WEDNESDAY = (time(13),)
PREVIEW_DAYS = frozenset({date(2026, 10, 17), date(2026, 11, 14), date(2027, 4, 10)})
CLOSURES = (
    (date(2026, 11, 25), date(2026, 11, 27)),
    (date(2026, 12, 21), date(2027, 1, 4)),
    (date(2027, 1, 18), date(2027, 1, 18)),
)
MAX_GUESTS = 4
NOTICE = timedelta(hours=48)


class VisitArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    date: dt.date
    time: dt.time = Field(description="Start time, HH:MM (24 h)")
    campus: Literal["riverside", "harborview"] = "riverside"
    guests: int = Field(default=0, ge=0, le=20, description="Guests besides the student")
    contact_phone: str | None = Field(
        default=None,
        max_length=40,
        description="A phone number for the visit's reminders, only if the customer gave one",
    )

    @field_validator("contact_phone")
    @classmethod
    def _a_phone_number(cls, value: str | None) -> str | None:
        if value is None:
            return None
        number = e164(value, regions_for(None), possible=True)
        if number is None:
            raise ValueError("not a phone number")
        return number


def visit_problem(args: VisitArgs, now: datetime) -> str | None:
    """Why the visit cannot be booked, or None when it can."""
    start = datetime.combine(args.date, args.time, tzinfo=now.tzinfo)
    if start - now < NOTICE:
        return "tours must be booked at least 48 hours in advance"
    if args.guests > MAX_GUESTS:
        return "each student may bring up to 4 guests"
    if any(first <= args.date <= last for first, last in CLOSURES):
        return "no tours run on that date (university closure)"
    allowed = _start_times(args.campus, args.date)
    if not allowed:
        return "no tours run on that day"
    if args.time not in allowed:
        times = ", ".join(t.strftime("%H:%M") for t in allowed)
        return f"tours on that day start at {times}"
    return None


def _start_times(campus: str, day: date) -> tuple[time, ...]:
    weekday = day.weekday()
    if campus == "harborview":
        return HARBORVIEW_WEDNESDAY if weekday == 2 else ()
    if weekday < 5:
        return RIVERSIDE_WEEKDAY
    if weekday == 5 and day.month in SATURDAY_MONTHS and day not in PREVIEW_DAYS:
        return RIVERSIDE_SATURDAY
    return ()


class BookCampusVisit:
    name: ClassVar[str] = "book_campus_visit"
    description: ClassVar[str] = (
        "Book a campus tour: date (YYYY-MM-DD), time (HH:MM), campus (riverside or harborview), "
        "guests (0-4), contact_phone if the customer gave a number for reminders. Returns a "
        "confirmation code, or why the visit cannot be booked."
    )
    arguments: ClassVar[type[BaseModel]] = VisitArgs
    personal_data: ClassVar[bool] = True

    def run(self, args: VisitArgs, ctx: ToolContext) -> ToolResult:
        problem = visit_problem(args, ctx.now())
        if problem:
            return ToolResult({"booked": False, "reason": problem})
        seed = f"{ctx.conversation}|{args.date}|{args.time}|{args.campus}"
        code = "NBV-" + hashlib.sha256(seed.encode()).hexdigest()[:6].upper()
        details = {
            "date": args.date.isoformat(),
            "time": args.time.strftime("%H:%M"),
            "campus": args.campus,
            "guests": args.guests,
        }
        if args.contact_phone:
            details["reminders_to"] = args.contact_phone
        return ToolResult({"booked": True, "confirmation_code": code, **details})

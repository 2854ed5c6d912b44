"""`@app.schedule`: EventBridge `rate(...)` and `cron(...)` expressions, with a time scale.

With `time_scale` N the runner's clock for schedules runs N times faster than the wall clock (it
starts at the real time), so `rate(1 minute)` fires every second with N = 60.
"""

from __future__ import annotations

import calendar
import re
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

_RATE = re.compile(r"^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$")
_CRON = re.compile(r"^cron\((.+)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
_MONTHS = {name: i for i, name in enumerate(calendar.month_abbr) if name}
_DAYS = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
# field: (low, high, names)
_FIELDS: tuple[tuple[int, int, dict[str, int]], ...] = (
    (0, 59, {}),
    (0, 23, {}),
    (1, 31, {}),
    (1, 12, {k.upper(): v for k, v in _MONTHS.items()}),
    (1, 7, _DAYS),
    (1970, 2199, {}),
)


class RateSchedule:
    def __init__(self, seconds: int) -> None:
        if seconds <= 0:
            raise ValueError("a rate must be positive")
        self.seconds = seconds

    def next_after(self, moment: datetime) -> datetime:
        return moment + timedelta(seconds=self.seconds)


class CronSchedule:
    """AWS's six-field cron (minutes hours day-of-month month day-of-week year), in UTC.

    Supports `*`, `?`, values and names, ranges, steps, lists and `L` as day of month;
    `W` and `#` are rejected.
    """

    def __init__(self, expression: str) -> None:
        parts = expression.split()
        if len(parts) != 6:
            raise ValueError(f"cron needs 6 fields, got {expression!r}")
        self.last_day = parts[2].upper() == "L"
        self.sets = [_parse_field(part, *spec) for part, spec in zip(parts, _FIELDS, strict=True)]

    def next_after(self, moment: datetime) -> datetime:
        start = moment.replace(second=0, microsecond=0) + timedelta(minutes=1)
        day = start.replace(hour=0, minute=0)
        for _ in range(366 * 5):
            if self._day_matches(day):
                found = self._time_on(day, start)
                if found is not None:
                    return found
            day += timedelta(days=1)
        raise ValueError("cron expression never fires in the next five years")

    def _day_matches(self, day: datetime) -> bool:
        _, _, dom, month, dow, year = self.sets
        if day.year not in year or day.month not in month:
            return False
        weekday = (day.isoweekday() % 7) + 1  # SUN=1 .. SAT=7
        if self.last_day:
            return day.day == calendar.monthrange(day.year, day.month)[1] and weekday in dow
        return day.day in dom and weekday in dow

    def _time_on(self, day: datetime, start: datetime) -> datetime | None:
        for hour in sorted(self.sets[1]):
            for minute in sorted(self.sets[0]):
                candidate = day.replace(hour=hour, minute=minute)
                if candidate >= start:
                    return candidate
        return None


def _parse_field(text: str, low: int, high: int, names: dict[str, int]) -> set[int]:
    if text in ("*", "?", "L"):
        return set(range(low, high + 1))
    if "W" in text.upper() or "#" in text:
        raise ValueError(f"unsupported cron field {text!r}")
    values: set[int] = set()
    for part in text.split(","):
        values |= _parse_part(part, low, high, names)
    return values


def _parse_part(part: str, low: int, high: int, names: dict[str, int]) -> set[int]:
    base, _, step_text = part.partition("/")
    step = int(step_text) if step_text else 1
    if base in ("*", "?"):
        first, last = low, high
    elif "-" in base:
        first_text, last_text = base.split("-", 1)
        first, last = _value(first_text, names), _value(last_text, names)
    else:
        first = _value(base, names)
        last = high if step_text else first
    if not low <= first <= last <= high:
        raise ValueError(f"cron value out of range: {part!r}")
    return set(range(first, last + 1, step))


def _value(text: str, names: dict[str, int]) -> int:
    return names[text.upper()] if text.upper() in names else int(text)


def parse_schedule(expression: str) -> RateSchedule | CronSchedule:
    """A schedule from `rate(5 minutes)` or `cron(0 12 * * ? *)`."""
    text = expression.strip()
    rate = _RATE.match(text)
    if rate:
        unit = rate.group(2).rstrip("s")
        return RateSchedule(int(rate.group(1)) * _UNIT_SECONDS[unit])
    cron = _CRON.match(text)
    if cron:
        return CronSchedule(cron.group(1))
    raise ValueError(f"not a schedule expression: {expression!r}")


def scheduled_event(rule_arn: str, account: str, region: str, moment: datetime) -> dict[str, Any]:
    """The event EventBridge sends a scheduled rule's target."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account,
        "time": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [rule_arn],
        "detail": {},
    }


class ScaledClock:
    """Wall-clock time that runs `scale` times faster from the moment it is created."""

    def __init__(self, scale: float = 1.0) -> None:
        if scale <= 0:
            raise ValueError("time scale must be positive")
        self.scale = scale
        self._origin = datetime.now(UTC)
        self._mono = time.monotonic()

    def now(self) -> datetime:
        return self._origin + timedelta(seconds=(time.monotonic() - self._mono) * self.scale)

    def real_seconds_until(self, moment: datetime) -> float:
        return max(0.0, (moment - self.now()).total_seconds() / self.scale)


class ScheduleThread:
    """Calls `fire(moment)` at each time of the schedule until stopped; missed times are skipped."""

    def __init__(
        self,
        schedule: RateSchedule | CronSchedule,
        clock: ScaledClock,
        fire: Callable[[datetime], None],
        name: str,
    ) -> None:
        self._schedule = schedule
        self._clock = clock
        self._fire = fire
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"schedule-{name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def join(self, deadline: float) -> bool:
        self._thread.join(max(0.0, deadline - time.monotonic()))
        return not self._thread.is_alive()

    def _loop(self) -> None:
        due = self._schedule.next_after(self._clock.now())
        while not self._stop.wait(self._clock.real_seconds_until(due)):
            self._fire(due)
            now = self._clock.now()
            due = self._schedule.next_after(due)
            while due <= now:  # the handler took longer than the period: skip, as a late rule
                due = self._schedule.next_after(due)

"""The sweeper, run by a schedule every minute: nothing waits forever.

For each open session (the sessions table's `gsi2`: `gsi2pk = open`, by last activity):
- a turn in flight past its deadline is requested again once (attempt 2, same turn id); past the
  second deadline it is released and handed off: `handoff.requested` (reason `turn_timeout`) is
  published and the session goes to `pending_human`;
- media still pending after the media wait is marked unavailable, and the turn goes out;
- a session idle for longer than the idle time (and no turn in flight) is closed with a
  `session.closed` event.
The index copy only selects candidates; each is read again and saved with its version, so a
session the consumer changed meanwhile is left for the next run (counted as a conflict).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime

from chalicelib.models import Session
from chalicelib.sequencer import PRODUCER, Sequencer, derived_id
from parley.errors import Conflict
from parley.events import EventBase, HandoffRequestedEvent, SessionClosedEvent
from parley.payloads import HandoffRequested, SessionClosed

MAX_ATTEMPTS = 2


@dataclass
class SweepReport:
    examined: int = 0
    re_requested: int = 0
    handed_off: int = 0
    media_released: int = 0
    turns_requested: int = 0
    closed: int = 0
    conflicts: int = 0

    def as_dict(self) -> dict[str, int]:
        return {f.name: int(getattr(self, f.name)) for f in fields(self)}


@dataclass
class _Outbox:
    turns: list[EventBase]
    published: list[EventBase]


class Sweeper:
    def __init__(self, sequencer: Sequencer) -> None:
        self.sequencer = sequencer
        self.deps = sequencer.deps

    def sweep(self, now: datetime) -> SweepReport:
        report = SweepReport()
        for candidate in self.deps.sessions.open_sessions():
            report.examined += 1
            if not self._due(candidate, now):
                continue
            try:
                self._sweep_one(candidate.conversation, now, report)
            except Conflict:
                report.conflicts += 1
        if report.examined:
            self.deps.logger.info("sweep done", extra=report.as_dict())
        return report

    def _due(self, s: Session, now: datetime) -> bool:
        policy = self.deps.policy
        late_turn = s.turn is not None and s.turn.deadline <= now
        late_media = any(now - at >= policy.media_wait for at in s.pending_media.values())
        idle = s.last_activity_at is not None and now - s.last_activity_at >= policy.idle
        held = s.hold_until is not None and s.hold_until <= now and bool(s.unanswered)
        return late_turn or late_media or idle or held

    def _sweep_one(self, conversation: str, now: datetime, report: SweepReport) -> None:
        session = self.deps.sessions.get(conversation)
        if session is None or session.closed:
            return
        out = _Outbox(turns=[], published=[])
        changed = self._expire_turn(session, now, out, report)
        if self.sequencer.release_expired_media(session, now):
            report.media_released += 1
            changed = True
        turn = self.sequencer.next_turn(
            session, now, derived_id("sweep", conversation, str(session.version))
        )
        if turn is not None:
            out.turns.append(turn)
            report.turns_requested += 1
        changed = self._close_if_idle(session, now, out, report) or changed
        if changed or turn is not None:
            self.deps.sessions.save(session)
        for event in out.turns:
            self.deps.turns.send(event)
        for event in out.published:
            self.deps.publisher.publish(event)

    def _expire_turn(
        self, session: Session, now: datetime, out: _Outbox, report: SweepReport
    ) -> bool:
        turn = session.turn
        if turn is None or turn.deadline > now:
            return False
        if turn.attempt < MAX_ATTEMPTS:
            session.turn = turn.model_copy(
                update={
                    "attempt": turn.attempt + 1,
                    "deadline": now + self.deps.policy.turn_timeout,
                }
            )
            out.turns.append(self.sequencer.turn_event(session, now))
            report.re_requested += 1
            return True
        session.turn = None
        if session.mode == "bot":
            session.mode = "pending_human"
        out.published.append(
            HandoffRequestedEvent(
                event_id=derived_id("handoff", turn.turn_id),
                conversation=session.conversation,
                producer=PRODUCER,
                payload=HandoffRequested(
                    reason="turn_timeout",
                    detail=f"no answer after {turn.attempt} attempts",
                    turn_id=turn.turn_id,
                    summary=session.summary,
                    language=session.language,
                ),
            )
        )
        report.handed_off += 1
        return True

    def _close_if_idle(
        self, session: Session, now: datetime, out: _Outbox, report: SweepReport
    ) -> bool:
        last = session.last_activity_at
        if session.turn is not None or last is None or now - last < self.deps.policy.idle:
            return False
        session.closed = True
        out.published.append(
            SessionClosedEvent(
                event_id=derived_id("closed", session.conversation, last.isoformat()),
                conversation=session.conversation,
                producer=PRODUCER,
                payload=SessionClosed(reason="idle", last_activity_at=last),
            )
        )
        report.closed += 1
        return True


def sweep(now: datetime, sweeper: Sweeper | None = None) -> SweepReport:
    """One sweep at `now` (the schedule's entry point); the service's own sweeper by default."""
    if sweeper is None:
        from chalicelib.wiring import runtime

        sweeper = runtime.sweeper
    return sweeper.sweep(now)

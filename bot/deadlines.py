"""Deadlines of a case in working time: office hours, weekends, and Indonesia's holidays and joint leave days."""

from __future__ import annotations

import bisect
import datetime as dt
from dataclasses import dataclass

import holidays

from bot.config import RISKS, DeadlineSettings, Span, in_quiet_hours

ACKNOWLEDGE = "tanggap"    # the deadline to acknowledge ("Tangani") a new case
CLOSE = "tutup"            # the deadline to close it
STEPS = (1, 2, 3)          # reminder to the office, then the head of office, then the Kantor Wilayah
_MAX_YEARS = 200           # working days are listed for at most this many years


class WorkingCalendar:
    """Working hours on working days in one time zone, less public holidays and joint leave days.

    Holidays come from the `holidays` package: Indonesia's public holidays ("public") and the
    government's joint leave days, cuti bersama ("government"), which offices also close for.
    Working days are kept as a sorted list, a year at a time, so adding 14 working days is one
    jump in the list rather than a walk through the calendar (bench/deadlines.py).
    """

    def __init__(self, settings: DeadlineSettings) -> None:
        self.zone = settings.zone
        self.start = settings.day_start
        self.end = settings.day_end
        self.weekdays = frozenset(settings.working_days)
        self.day_length = (dt.datetime.combine(dt.date(2000, 1, 1), self.end)
                           - dt.datetime.combine(dt.date(2000, 1, 1), self.start))
        self._holidays = holidays.country_holidays("ID", categories=("public", "government"), language="id")
        self._years: set[int] = set()
        self._days: list[int] = []          # ordinals of the working days of the years in _years, sorted

    def holiday(self, day: dt.date) -> str | None:
        """The holiday's name in Indonesian, or None on an ordinary day."""
        name = self._holidays.get(day)
        return str(name) if name else None

    def _cover(self, first: int, last: int) -> None:
        if first in self._years and last in self._years and last - first < 3:
            return   # the usual call: this year and its neighbours, listed long ago
        missing = [y for y in range(first, last + 1) if y not in self._years]
        if not missing:
            return
        if len(self._years) + len(missing) > _MAX_YEARS:
            raise ValueError("a deadline beyond the years a case can live: check deadlines.working_days")
        for year in missing:
            day = dt.date(year, 1, 1)
            while day.year == year:
                if day.weekday() in self.weekdays and day not in self._holidays:
                    self._days.append(day.toordinal())
                day += dt.timedelta(days=1)
            self._years.add(year)
        self._days.sort()

    def is_working_day(self, day: dt.date) -> bool:
        self._cover(day.year, day.year)
        i = bisect.bisect_left(self._days, day.toordinal())
        return i < len(self._days) and self._days[i] == day.toordinal()

    def _nth(self, index: int) -> dt.date:
        """The working day at `index` of the list, covering more years until it exists."""
        if 0 <= index < len(self._days):
            return dt.date.fromordinal(self._days[index])
        lo, hi = min(self._years), max(self._years)
        while index >= len(self._days) or index < 0:
            before = self._days[0]
            if index < 0:
                lo -= 1
            else:
                hi += 1
            self._cover(lo, hi)
            index += bisect.bisect_left(self._days, before)   # days added in front shift the index
        return dt.date.fromordinal(self._days[index])

    def _opens(self, day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, self.start, self.zone)

    def _position(self, moment: dt.datetime, *, forward: bool) -> tuple[int, dt.timedelta]:
        """(index of a working day, working time into it) for `moment`; outside hours, the nearest edge."""
        local = moment.astimezone(self.zone)
        day = local.date()
        self._cover(day.year - 1, day.year + 1)
        ordinal = day.toordinal()
        i = bisect.bisect_left(self._days, ordinal)
        if i < len(self._days) and self._days[i] == ordinal:
            offset = local - self._opens(day)
            if dt.timedelta(0) < offset < self.day_length:
                return i, offset
            if offset <= dt.timedelta(0):
                return (i, dt.timedelta(0)) if forward else (i - 1, self.day_length)
            return (i + 1, dt.timedelta(0)) if forward else (i, self.day_length)
        # Not a working day: `i` is the next working day.
        return (i, dt.timedelta(0)) if forward else (i - 1, self.day_length)

    def add(self, start: dt.datetime, span: dt.timedelta) -> dt.datetime:
        """The earliest moment by which `span` of working time has passed since `start`."""
        if span <= dt.timedelta(0):
            return start
        i, offset = self._position(start, forward=True)
        total = offset + span
        whole, part = divmod(total, self.day_length)
        k = whole - 1 if not part else whole      # the earliest moment: at closing, not next opening
        into = total - k * self.day_length
        return (self._opens(self._nth(i + k)) + into).astimezone(dt.UTC)

    def latest_start(self, end: dt.datetime, span: dt.timedelta) -> dt.datetime:
        """The latest start whose `add(start, span)` is not after `end`.

        `add` is monotonic, so every earlier start is due too: one comparison on the filing time
        finds every case due, however many are open.
        """
        if span <= dt.timedelta(0):
            return end
        i, offset = self._position(end, forward=False)
        if span <= offset:
            return (self._opens(self._nth(i)) + offset - span).astimezone(dt.UTC)
        remaining = span - offset
        whole, part = divmod(remaining, self.day_length)
        k = whole + (1 if part else 0)
        return (self._opens(self._nth(i - k)) + (k * self.day_length - remaining)).astimezone(dt.UTC)


@dataclass(frozen=True)
class Deadline:
    kind: str             # ACKNOWLEDGE or CLOSE
    due: dt.datetime


@dataclass(frozen=True)
class Due:
    """One escalation step that falls due: cases of `risk` filed at or before `filed_by`."""

    kind: str
    step: int
    risk: str
    filed_by: dt.datetime

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.step}"


class Deadlines:
    """When each case must be acknowledged and closed, and when each escalation step falls due."""

    def __init__(self, settings: DeadlineSettings) -> None:
        self.settings = settings
        self.calendar = WorkingCalendar(settings)
        # Every (deadline, risk, step) span, computed once: a pass asks for them per case.
        self._spans = {(kind, risk, step): self._compute_span(kind, risk, step)
                       for kind in (ACKNOWLEDGE, CLOSE) for risk in RISKS for step in STEPS}

    def round_the_clock(self, risk: str) -> bool:
        return risk in self.settings.round_the_clock

    def _clock(self, kind: str, risk: str) -> bool:
        """Calendar time for the acknowledgement of a round-the-clock level; working time otherwise."""
        return kind == ACKNOWLEDGE and self.round_the_clock(risk)

    def _span(self, kind: str, risk: str, step: int = 1) -> dt.timedelta:
        return self._spans[(kind, risk, step)]

    def _compute_span(self, kind: str, risk: str, step: int) -> dt.timedelta:
        day = dt.timedelta(hours=24) if self._clock(kind, risk) else self.calendar.day_length
        base: Span = self.settings.acknowledge[risk] if kind == ACKNOWLEDGE else self.settings.close
        total = base.length(day)
        if step == 2:
            total += self.settings.head_after[risk].length(day)
        elif step == 3:
            total += self.settings.regional_after[risk].length(day)
        return total

    def after(self, kind: str, risk: str, filed: dt.datetime, step: int = 1) -> dt.datetime:
        """When step `step` of the `kind` deadline falls for a case of `risk` filed at `filed` (1: itself)."""
        span = self._span(kind, risk, step)
        return filed + span if self._clock(kind, risk) else self.calendar.add(filed, span)

    def acknowledge_by(self, risk: str, filed: dt.datetime) -> dt.datetime:
        return self.after(ACKNOWLEDGE, risk, filed)

    def close_by(self, risk: str, filed: dt.datetime) -> dt.datetime:
        return self.after(CLOSE, risk, filed)

    def current(self, status: str, risk: str, filed: dt.datetime) -> Deadline | None:
        """The deadline a case is working towards now: acknowledging while new, closing once handled."""
        if status == "baru":
            return Deadline(ACKNOWLEDGE, self.acknowledge_by(risk, filed))
        if status == "ditangani":
            return Deadline(CLOSE, self.close_by(risk, filed))
        return None

    def met(self, risk: str, filed: dt.datetime, acknowledged: dt.datetime | None,
            closed: dt.datetime | None, now: dt.datetime) -> bool | None:
        """Whether a case kept its deadlines; None while it cannot be told yet.

        Kept: acknowledged by its deadline and, once the closing deadline has come, closed by it.
        """
        ack_by = self.acknowledge_by(risk, filed)
        if acknowledged is None and now < ack_by:
            return None
        if acknowledged is None or acknowledged > ack_by:
            return False
        close_by = self.close_by(risk, filed)
        if closed is None:
            return now < close_by
        return closed <= close_by

    def due_steps(self, now: dt.datetime, *, quiet: bool) -> list[Due]:
        """Every (deadline, step, risk) with the latest filing time that makes it due at `now`, in step order.

        In quiet hours only the round-the-clock levels are escalated; the others wait for morning.
        """
        out = []
        for kind in (ACKNOWLEDGE, CLOSE):
            for step in STEPS:
                for risk in RISKS:
                    if quiet and not self.round_the_clock(risk):
                        continue
                    span = self._span(kind, risk, step)
                    filed_by = now - span if self._clock(kind, risk) else self.calendar.latest_start(now, span)
                    out.append(Due(kind, step, risk, filed_by))
        return out

    def overdue_cutoffs(self, now: dt.datetime) -> dict[tuple[str, str], dt.datetime]:
        """(status, risk) -> the latest filing time whose current deadline has passed at `now`."""
        return {("baru" if d.kind == ACKNOWLEDGE else "ditangani", d.risk): d.filed_by
                for d in self.due_steps(now, quiet=False) if d.step == 1}

    def quiet(self, now: dt.datetime) -> bool:
        return in_quiet_hours(self.settings, now.astimezone(self.settings.zone).time())

    def local(self, now: dt.datetime) -> dt.datetime:
        return now.astimezone(self.settings.zone)

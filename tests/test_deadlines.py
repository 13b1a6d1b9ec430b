"""Deadlines in working time: office hours, weekends, public holidays and cuti bersama, in WIB."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.config import DeadlineSettings, load_settings
from bot.deadlines import ACKNOWLEDGE, CLOSE, Deadlines
from bot.errors import ConfigError
from tests.conftest import ROOT

WIB = ZoneInfo("Asia/Pontianak")
DEADLINES = Deadlines(DeadlineSettings())


def wib(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=WIB)   # type: ignore[misc]


def test_a_case_filed_on_friday_afternoon_before_a_long_weekend_waits_for_the_working_days() -> None:
    # Friday 13 Feb 2026, 15:00 WIB. Monday 16 Feb is cuti bersama (joint leave) for Imlek,
    # Tuesday 17 Feb is Imlek itself (a public holiday): the office opens again on Wednesday.
    filed = wib(2026, 2, 13, 15, 0)
    calendar = DEADLINES.calendar
    assert "Cuti Bersama" in (calendar.holiday(dt.date(2026, 2, 16)) or "")
    assert "Imlek" in (calendar.holiday(dt.date(2026, 2, 17)) or "")
    assert not calendar.is_working_day(dt.date(2026, 2, 16))
    # One working day (8.5 hours): 1 hour on Friday, 7.5 hours on Wednesday.
    assert DEADLINES.acknowledge_by("sedang", filed) == wib(2026, 2, 18, 15, 0)
    # Three working days: Wednesday, Thursday and most of Friday.
    assert DEADLINES.acknowledge_by("rendah", filed) == wib(2026, 2, 20, 15, 0)
    # High risk counts calendar hours: 4 hours later on Friday evening.
    assert DEADLINES.acknowledge_by("tinggi", filed) == wib(2026, 2, 13, 19, 0)
    # Closing: 14 working days, for every level.
    assert DEADLINES.close_by("tinggi", filed) == wib(2026, 3, 9, 15, 0)
    assert DEADLINES.close_by("sedang", filed) == wib(2026, 3, 9, 15, 0)


def test_a_case_filed_at_night_or_on_a_weekend_starts_counting_when_the_office_opens() -> None:
    saturday_night = wib(2026, 11, 7, 22, 0)
    assert DEADLINES.acknowledge_by("sedang", saturday_night) == wib(2026, 11, 9, 16, 0)
    early = wib(2026, 11, 10, 5, 0)      # Tuesday before opening
    assert DEADLINES.acknowledge_by("rendah", early) == wib(2026, 11, 12, 16, 0)


def test_the_christmas_joint_leave_day_is_not_a_working_day() -> None:
    assert not DEADLINES.calendar.is_working_day(dt.date(2026, 12, 24))   # cuti bersama Natal
    assert not DEADLINES.calendar.is_working_day(dt.date(2026, 12, 25))
    assert DEADLINES.calendar.is_working_day(dt.date(2026, 12, 23))
    assert DEADLINES.acknowledge_by("sedang", wib(2026, 12, 23, 12, 0)) == wib(2026, 12, 28, 12, 0)


def test_round_the_clock_levels_are_configurable() -> None:
    every_level_waits = Deadlines(DeadlineSettings(round_the_clock=()))
    assert every_level_waits.acknowledge_by("tinggi", wib(2026, 2, 13, 15, 0)) == wib(2026, 2, 18, 10, 30)


def test_a_case_kept_its_deadlines_only_when_acknowledged_and_closed_in_time() -> None:
    filed = wib(2026, 11, 9, 9, 0)     # Monday; sedang: acknowledge by Tuesday 09:00
    on_time, late = wib(2026, 11, 9, 10, 0), wib(2026, 11, 10, 10, 0)
    assert DEADLINES.met("sedang", filed, None, None, wib(2026, 11, 9, 12, 0)) is None   # cannot tell yet
    assert DEADLINES.met("sedang", filed, None, None, wib(2026, 11, 10, 12, 0)) is False
    assert DEADLINES.met("sedang", filed, late, None, wib(2026, 11, 10, 12, 0)) is False
    assert DEADLINES.met("sedang", filed, on_time, None, wib(2026, 11, 10, 12, 0)) is True
    assert DEADLINES.met("sedang", filed, on_time, None, wib(2026, 12, 31, 12, 0)) is False   # never closed
    assert DEADLINES.met("sedang", filed, on_time, wib(2026, 11, 20, 9, 0), wib(2026, 12, 31, 12, 0)) is True


moments = st.datetimes(min_value=dt.datetime(2025, 1, 1), max_value=dt.datetime(2027, 12, 31),
                       timezones=st.just(WIB))


@settings(max_examples=300, deadline=None)
@example(now=wib(2026, 2, 18, 7, 30), risk="sedang", step=1, kind=ACKNOWLEDGE)
@example(now=wib(2026, 2, 18, 16, 0), risk="rendah", step=3, kind=CLOSE)
@given(now=moments, risk=st.sampled_from(["tinggi", "sedang", "rendah"]), step=st.sampled_from([1, 2, 3]),
       kind=st.sampled_from([ACKNOWLEDGE, CLOSE]))
def test_the_escalation_cutoff_is_exactly_the_last_filing_time_that_is_due(
        now: dt.datetime, risk: str, step: int, kind: str) -> None:
    """The pass finds due cases by one comparison on the filing time: that must match the deadline."""
    now = now.replace(microsecond=0)
    due = next(d for d in DEADLINES.due_steps(now, quiet=False) if (d.kind, d.step, d.risk) == (kind, step, risk))
    assert DEADLINES.after(kind, risk, due.filed_by, step) <= now
    assert DEADLINES.after(kind, risk, due.filed_by + dt.timedelta(seconds=1), step) > now


def walked(start: dt.datetime, span: dt.timedelta) -> dt.datetime:
    """The same sum the slow way: day by day through the calendar, as a person would count."""
    calendar = DEADLINES.calendar
    cursor, day, remaining = start.astimezone(WIB), start.astimezone(WIB).date(), span
    while True:
        if calendar.is_working_day(day):
            opens = dt.datetime.combine(day, dt.time(7, 30), WIB)
            closes = dt.datetime.combine(day, dt.time(16, 0), WIB)
            begin = max(cursor, opens)
            if begin < closes:
                if remaining <= closes - begin:
                    return begin + remaining
                remaining -= closes - begin
        day += dt.timedelta(days=1)
        cursor = dt.datetime.combine(day, dt.time(), WIB)


@settings(max_examples=500, deadline=None)
@given(start=moments, minutes=st.integers(min_value=1, max_value=40 * 510))
@example(start=wib(2026, 2, 13, 16, 0), minutes=510)      # at closing, before the long weekend
@example(start=wib(2026, 2, 18, 7, 30), minutes=510)      # at opening: one day ends at closing
@example(start=wib(2026, 2, 13, 15, 0), minutes=60)       # exactly to closing
@example(start=wib(2026, 12, 31, 15, 0), minutes=600)     # across the new year
def test_working_time_jumps_agree_with_walking_the_calendar(start: dt.datetime, minutes: int) -> None:
    span = dt.timedelta(minutes=minutes)
    assert DEADLINES.calendar.add(start, span) == walked(start, span)


def _config(tmp_path: Path, deadlines: object) -> Path:
    data = yaml.safe_load((ROOT / "config.example.yaml").read_text())
    data["content_dir"] = str(ROOT / "content")
    data["deadlines"] = deadlines
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return path


def test_the_shipped_config_holds_the_issue_defaults(knowledge: object) -> None:
    d = load_settings(ROOT / "config.example.yaml", {}).deadlines
    assert d == DeadlineSettings()
    assert {k: str(v) for k, v in d.acknowledge.items()} == {"tinggi": "4h", "sedang": "1d", "rendah": "3d"}
    assert str(d.close) == "14d" and d.digest_at == dt.time(7, 30) and d.time_zone == "Asia/Pontianak"


def test_wrong_deadline_settings_are_named_by_their_key_path(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(_config(tmp_path, {
            "time_zone": "Asia/Nowhere", "acknowledge": {"sedang": "soon", "urgent": "1h"},
            "working_hours": {"start": "16:00", "end": "07:30"}, "working_days": ["mon", "someday"],
            "head_after": {"tinggi": "5h"}, "quiet_hours": {"start": "06:00", "end": "09:00"},
            "digest": {"at": "7.45"}}), {})
    text = str(caught.value)
    for expected in ("deadlines.time_zone", "deadlines.acknowledge.sedang", "deadlines.acknowledge.urgent",
                     "deadlines.working_hours: end must be after start", "deadlines.working_days[1]",
                     "deadlines.regional_after.tinggi", "deadlines.digest.at: falls in the quiet hours"):
        assert expected in text, expected

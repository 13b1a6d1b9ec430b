"""The regional view for the Kantor Wilayah: one row per office and per village, with deadlines and trends."""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict

from bot.config import Settings
from bot.content import ConsoleText
from bot.deadlines import Deadlines
from bot.store import CaseClock, Store

from .figures import Table

ALL = ("baru", "ditangani", "ditutup")
OPEN = ("baru", "ditangani")


def _median_hours(spans: list[dt.timedelta]) -> float | None:
    return round(statistics.median(s.total_seconds() / 3600 for s in spans), 1) if spans else None


def _share(kept: list[bool]) -> float | None:
    """Percent of the cases that can be judged which kept their deadlines."""
    return round(100 * sum(kept) / len(kept)) if kept else None


def _week(moment: dt.datetime, deadlines: Deadlines) -> str:
    day = deadlines.local(moment).date()
    return (day - dt.timedelta(days=day.weekday())).isoformat()


async def collect(store: Store, settings: Settings, deadlines: Deadlines, t: ConsoleText,
                  offices: tuple[str, ...], start: dt.datetime, end: dt.datetime, now: dt.datetime) -> list[Table]:
    """The offices' and villages' tables and two trend charts for cases filed in [start, end)."""
    period = [c for c in await store.case_clocks(offices, ALL, start) if c.created_at < end]
    open_now = await store.case_clocks(offices, OPEN)
    names = {o: settings.office(o).name for o in offices}
    by_office: dict[str, list[CaseClock]] = defaultdict(list)
    for c in period:
        by_office[c.office_id].append(c)
    open_count: dict[str, int] = defaultdict(int)
    overdue: dict[str, int] = defaultdict(int)
    for c in open_now:
        open_count[c.office_id] += 1
        current = deadlines.current(c.status, c.risk, c.created_at)
        if current is not None and current.due <= now:
            overdue[c.office_id] += 1

    def kept(cases: list[CaseClock]) -> list[bool]:
        judged = (deadlines.met(c.risk, c.created_at, c.acknowledged_at, c.closed_at, now) for c in cases)
        return [m for m in judged if m is not None]

    shown = [o for o in offices if o in by_office or open_count[o] or o in {x.id for x in settings.offices}]
    office_rows = []
    for o in shown:
        cases = by_office[o]
        office_rows.append((
            names[o], len(cases), open_count[o], overdue[o],
            _median_hours([c.acknowledged_at - c.created_at for c in cases if c.acknowledged_at]),
            _median_hours([c.closed_at - c.created_at for c in cases if c.closed_at]),
            _share(kept(cases))))
    tables = [Table("wilayah_kantor", t("regional_offices"),
                    (t("col_office"), t("col_new"), t("col_open"), t("col_overdue_deadline"), t("col_hours_ack"),
                     t("col_hours_close"), t("col_within_deadline")), tuple(office_rows))]

    villages = {v.id: v.name for v in settings.villages}
    village_rows = []
    for office, village_id, typed, n, high, medium, low, last in await store.village_activity(offices, start, end):
        name = villages.get(village_id) or (f"{typed} ({t('unlisted')})" if typed else "-")
        village_rows.append((name, settings.office(office).id, n, high, medium, low,
                             f"{deadlines.local(last):%d-%m-%Y %H:%M}"))
    tables.append(Table("wilayah_desa", t("regional_villages"),
                        (t("col_village"), t("col_office"), t("col_reports"), t("col_high"), t("col_medium"),
                         t("col_low"), t("col_last_report")), tuple(village_rows)))

    weeks = []
    monday = deadlines.local(start).date()
    monday -= dt.timedelta(days=monday.weekday())
    while monday < deadlines.local(end).date():
        weeks.append(monday.isoformat())
        monday += dt.timedelta(days=7)
    weekly: dict[str, dict[str, list[CaseClock]]] = defaultdict(lambda: defaultdict(list))
    for c in period:
        weekly[c.office_id][_week(c.created_at, deadlines)].append(c)
    trend_offices = [o for o in shown if by_office[o]]
    codes = {o: settings.office(o).id for o in trend_offices}
    tables.append(Table(
        "wilayah_tren_laporan", t("regional_trend_reports"), (t("col_week"), *[codes[o] for o in trend_offices]),
        tuple((w, *[len(weekly[o][w]) for o in trend_offices]) for w in weeks),
        {"type": "line", "stacked": False, "labels": weeks,
         "datasets": [{"label": codes[o], "data": [len(weekly[o][w]) for w in weeks]} for o in trend_offices]}))
    shares = {o: [_share(kept(weekly[o][w])) for w in weeks] for o in trend_offices}
    tables.append(Table(
        "wilayah_tren_tepat_waktu", t("regional_trend_share"), (t("col_week"), *[codes[o] for o in trend_offices]),
        tuple((w, *[shares[o][i] for o in trend_offices]) for i, w in enumerate(weeks)),
        {"type": "line", "stacked": False, "labels": weeks,
         "datasets": [{"label": codes[o], "data": shares[o]} for o in trend_offices]}))
    return tables

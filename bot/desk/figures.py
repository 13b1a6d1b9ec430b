"""The figures page: reports per week, open and overdue cases, response times, questions, villages; and CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
import statistics
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.config import Settings
from bot.content import ConsoleText
from bot.store import FIGURES_ZONE, Store

from .scope import Scope

RISKS = ("tinggi", "sedang", "rendah")
DECISIONS = ("answer", "suggest", "none")


@dataclass(frozen=True)
class Table:
    """One figure as rows: what the chart draws, readable without it and downloadable as CSV."""

    key: str
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    chart: dict[str, Any] | None = field(default=None)


def _days(start: dt.datetime, end: dt.datetime) -> tuple[dt.date, dt.date]:
    """The offices' first and last day of [start, end)."""
    return (start.astimezone(FIGURES_ZONE).date(),
            (end - dt.timedelta(microseconds=1)).astimezone(FIGURES_ZONE).date())


def _weeks(first: dt.date, last: dt.date) -> list[str]:
    monday = first - dt.timedelta(days=first.weekday())
    out = []
    while monday <= last:
        out.append(monday.isoformat())
        monday += dt.timedelta(days=7)
    return out


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


async def collect(store: Store, settings: Settings, t: ConsoleText, scope: Scope, offices: tuple[str, ...],
                  start: dt.datetime, end: dt.datetime,
                  overdue: Mapping[tuple[str, str], dt.datetime]) -> list[Table]:
    """Every figure for `offices` (already within the scope) in [start, end).

    `overdue`: (status, risk) -> the latest filing time whose deadline has passed, now.
    """
    names = {o: settings.office(o).id for o in offices}
    first, last = _days(start, end)
    weeks = _weeks(first, last)
    weekly = await store.desk_weekly_reports(offices, first, last)
    by_office: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    by_risk: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for week, office, risk, n in weekly:
        by_office[office][week] += n
        by_risk[risk][week] += n
    tables = []
    office_ids = sorted(by_office)
    tables.append(Table(
        "laporan_per_minggu_kantor", t("fig_weekly_office"),
        (t("col_week"), *[names.get(o, o) for o in office_ids]),
        tuple((w, *[by_office[o][w] for o in office_ids]) for w in weeks),
        {"type": "bar", "stacked": True, "labels": weeks,
         "datasets": [{"label": names.get(o, o), "data": [by_office[o][w] for w in weeks]} for o in office_ids]}))
    tables.append(Table(
        "laporan_per_minggu_risiko", t("fig_weekly_risk"), (t("col_week"), *[t(f"risk_{r}") for r in RISKS]),
        tuple((w, *[by_risk[r][w] for r in RISKS]) for w in weeks),
        {"type": "bar", "stacked": True, "labels": weeks,
         "datasets": [{"label": t(f"risk_{r}"), "data": [by_risk[r][w] for w in weeks]} for r in RISKS]}))
    open_rows = await store.desk_open_cases(offices, overdue)
    tables.append(Table(
        "kasus_terbuka", t("fig_open"), (t("col_office"), t("col_open"), t("col_overdue")),
        tuple((names.get(o, o), n, late) for o, n, late in sorted(open_rows)),
        {"type": "bar", "stacked": False, "labels": [names.get(o, o) for o, _, _ in sorted(open_rows)],
         "datasets": [{"label": t("col_open"), "data": [n for _, n, _ in sorted(open_rows)]},
                      {"label": t("col_overdue"), "data": [late for _, _, late in sorted(open_rows)]}]}))
    hours = await store.desk_response_hours(offices, start, end)
    ack = {office: _median(to_ack) for office, (to_ack, _) in hours.items()}
    close = {office: _median(to_close) for office, (_, to_close) in hours.items()}
    response = sorted(hours)
    tables.append(Table(
        "jam_respons", t("fig_hours"), (t("col_office"), t("col_hours_ack"), t("col_hours_close")),
        tuple((names.get(o, o), ack[o], close[o]) for o in response),
        {"type": "bar", "stacked": False, "labels": [names.get(o, o) for o in response],
         "datasets": [{"label": t("col_hours_ack"), "data": [ack[o] for o in response]},
                      {"label": t("col_hours_close"), "data": [close[o] for o in response]}]}))
    questions: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for week, decision, n in await store.desk_weekly_questions(offices, scope.unplaced, first, last):
        questions[decision][week] += n
    tables.append(Table(
        "pertanyaan_per_minggu", t("fig_questions"), (t("col_week"), *[t(f"decision_{d}") for d in DECISIONS]),
        tuple((w, *[questions[d][w] for d in DECISIONS]) for w in weeks),
        {"type": "line", "stacked": False, "labels": weeks,
         "datasets": [{"label": t(f"decision_{d}"), "data": [questions[d][w] for w in weeks]}
                      for d in DECISIONS]}))
    top = await store.desk_top_entries(offices, scope.unplaced, first, last)
    tables.append(Table("topik_teratas", t("fig_top_entries"), (t("col_entry"), t("col_count")), tuple(top)))
    unanswered = await store.open_unanswered(10)
    tables.append(Table("belum_terjawab", t("fig_top_unanswered"), (t("col_question"), t("col_count")),
                        tuple((example, n) for _, example, n, _ in unanswered)))
    villages = {v.id: v.name for v in settings.villages}
    rows = []
    for office, village_id, typed, n, high, still_open in await store.desk_by_village(offices, first, last):
        name = villages.get(village_id) or (f"{typed} ({t('unlisted')})" if typed else "-")
        rows.append((name, names.get(office, office), n, high, still_open))
    tables.append(Table("per_desa", t("fig_villages"),
                        (t("col_village"), t("col_office"), t("col_reports"), t("col_high"), t("col_open")),
                        tuple(rows)))
    return tables


def tables_csv(tables: list[Table]) -> str:
    """Every figure in one CSV: the figure's key, then its own columns and rows."""
    out = io.StringIO()
    w = csv.writer(out)
    for table in tables:
        w.writerow([table.key, *table.columns])
        for row in table.rows:
            w.writerow([table.key, *["" if v is None else v for v in row]])
    return out.getvalue()

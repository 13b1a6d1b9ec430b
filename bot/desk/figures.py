"""The figures page: reports per week, open and overdue cases, response times, questions, villages; and CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from bot.config import Settings
from bot.content import ConsoleText
from bot.store import Store

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


def _weeks(start: dt.datetime, end: dt.datetime) -> list[str]:
    monday = start.date() - dt.timedelta(days=start.weekday())
    out = []
    while monday < end.date():
        out.append(monday.isoformat())
        monday += dt.timedelta(days=7)
    return out


def _monday(day: str) -> str:
    date = dt.date.fromisoformat(day)
    return (date - dt.timedelta(days=date.weekday())).isoformat()


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


async def collect(store: Store, settings: Settings, t: ConsoleText, scope: Scope, offices: tuple[str, ...],
                  start: dt.datetime, end: dt.datetime, overdue_after: dt.timedelta,
                  now: dt.datetime) -> list[Table]:
    """Every figure for `offices` (already within the scope) in [start, end)."""
    names = {o: settings.office(o).id for o in offices}
    weeks = _weeks(start, end)
    weekly = [(_monday(day), office, risk, n) for day, office, risk, n
              in await store.desk_daily_reports(offices, start, end)]
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
    open_rows = await store.desk_open_cases(offices, now - overdue_after)
    tables.append(Table(
        "kasus_terbuka", t("fig_open"), (t("col_office"), t("col_open"), t("col_overdue")),
        tuple((names.get(o, o), n, late) for o, n, late in sorted(open_rows)),
        {"type": "bar", "stacked": False, "labels": [names.get(o, o) for o, _, _ in sorted(open_rows)],
         "datasets": [{"label": t("col_open"), "data": [n for _, n, _ in sorted(open_rows)]},
                      {"label": t("col_overdue"), "data": [late for _, _, late in sorted(open_rows)]}]}))
    ack: dict[str, list[float]] = defaultdict(list)
    close: dict[str, list[float]] = defaultdict(list)
    for office, to_ack, to_close in await store.desk_response_hours(offices, start, end):
        if to_ack is not None:
            ack[office].append(to_ack)
        if to_close is not None:
            close[office].append(to_close)
    response = sorted(set(ack) | set(close))
    tables.append(Table(
        "jam_respons", t("fig_hours"), (t("col_office"), t("col_hours_ack"), t("col_hours_close")),
        tuple((names.get(o, o), _median(ack[o]), _median(close[o])) for o in response),
        {"type": "bar", "stacked": False, "labels": [names.get(o, o) for o in response],
         "datasets": [{"label": t("col_hours_ack"), "data": [_median(ack[o]) for o in response]},
                      {"label": t("col_hours_close"), "data": [_median(close[o]) for o in response]}]}))
    questions: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for day, decision, n in await store.desk_daily_questions(offices, scope.unplaced, start, end):
        questions[decision][_monday(day)] += n
    tables.append(Table(
        "pertanyaan_per_minggu", t("fig_questions"), (t("col_week"), *[t(f"decision_{d}") for d in DECISIONS]),
        tuple((w, *[questions[d][w] for d in DECISIONS]) for w in weeks),
        {"type": "line", "stacked": False, "labels": weeks,
         "datasets": [{"label": t(f"decision_{d}"), "data": [questions[d][w] for w in weeks]}
                      for d in DECISIONS]}))
    top = await store.desk_top_entries(offices, scope.unplaced, start, end)
    tables.append(Table("topik_teratas", t("fig_top_entries"), (t("col_entry"), t("col_count")), tuple(top)))
    unanswered = await store.open_unanswered(10)
    tables.append(Table("belum_terjawab", t("fig_top_unanswered"), (t("col_question"), t("col_count")),
                        tuple((example, n) for _, example, n, _ in unanswered)))
    villages = {v.id: v.name for v in settings.villages}
    rows = []
    for office, village_id, typed, n, high, still_open in await store.desk_by_village(offices, start, end):
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

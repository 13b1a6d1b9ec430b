"""Figures for the office: questions, reports, response times and repeat recruiters, and the CSV export."""

from __future__ import annotations

import csv
import datetime as dt
import io
import statistics
from collections import Counter
from dataclasses import dataclass

from bot.casework import contact_of
from bot.config import Settings
from bot.content import Content
from bot.deadlines import Deadlines
from bot.models import Sender
from bot.store import Report, Store


@dataclass(frozen=True)
class Figures:
    office_id: str | None
    start: dt.datetime
    end: dt.datetime
    questions: int
    answered: int
    suggested: int
    unanswered: int
    top_entries: tuple[tuple[str, int], ...]
    reports: int
    by_village: tuple[tuple[str, int], ...]
    by_risk: tuple[tuple[str, int], ...]
    by_status: tuple[tuple[str, int], ...]
    median_hours_to_ack: float | None
    median_hours_to_close: float | None
    repeat_recruiters: tuple[tuple[str, tuple[str, ...]], ...]
    within_deadline: int = 0      # cases that kept their deadlines so far (bot/deadlines.py, Deadlines.met)
    judged: int = 0               # cases whose deadlines can be judged yet
    within_open: int = 0          # of within_deadline: still open, their closing deadline not yet come
    unplaced: int = 0             # questions of villagers with no village yet: counted for no office


def _median_hours(deltas: list[dt.timedelta]) -> float | None:
    return round(statistics.median(d.total_seconds() / 3600 for d in deltas), 1) if deltas else None


async def collect(store: Store, settings: Settings, office_id: str | None,
                  start: dt.datetime, end: dt.datetime, deadlines: Deadlines, now: dt.datetime) -> Figures:
    decisions, top = await store.faq_figures(office_id, start, end)
    reports = await store.reports_between(office_id, start, end)
    names = {v.id: v.name for v in settings.villages}
    recruiters: dict[str, list[str]] = {}
    for r in reports:
        for key in {r.recruiter_phone, (r.recruiter_name or "").strip().lower() or None} - {None}:
            assert key is not None
            recruiters.setdefault(key, []).append(r.case_no)
    kept = [(r, deadlines.met(r.risk, r.created_at, r.acknowledged_at, r.closed_at, now)) for r in reports]
    judged = [m for _, m in kept if m is not None]
    # Asked before choosing a village: the question has no office. The office view shows them apart.
    unplaced = await store.unplaced_questions(start, end)
    return Figures(
        office_id=office_id, start=start, end=end,
        questions=sum(decisions.values()), answered=decisions.get("answer", 0),
        suggested=decisions.get("suggest", 0), unanswered=decisions.get("none", 0),
        top_entries=tuple(top),
        reports=len(reports),
        by_village=tuple(Counter(_village_name(names, r) for r in reports).most_common()),
        by_risk=tuple(sorted(Counter(r.risk for r in reports).items())),
        by_status=tuple(sorted(Counter(r.status for r in reports).items())),
        median_hours_to_ack=_median_hours(
            [r.acknowledged_at - r.created_at for r in reports if r.acknowledged_at]),
        median_hours_to_close=_median_hours([r.closed_at - r.created_at for r in reports if r.closed_at]),
        repeat_recruiters=tuple((k, tuple(v)) for k, v in sorted(recruiters.items()) if len(v) > 1),
        within_deadline=sum(judged), judged=len(judged),
        within_open=sum(1 for r, m in kept if m and r.closed_at is None), unplaced=unplaced,
    )


def _share(part: int, whole: int) -> str:
    return f"{part} ({part / whole:.0%})" if whole else "0"


def render_text(f: Figures, content: Content) -> str:
    def pairs(items: tuple[tuple[str, int], ...]) -> str:
        return ", ".join(f"{k}: {n}" for k, n in items) or "-"

    def hours(value: float | None) -> str:
        return "-" if value is None else f"{value} jam"

    # An office counts the questions of its own villages' villagers; every office's view counts all.
    scope = "office" if f.office_id else "all"
    return content.message(
        "stats", kantor=f.office_id or "semua kantor", dari=f"{f.start:%Y-%m-%d}",
        sampai=f"{f.end - dt.timedelta(days=1):%Y-%m-%d}",
        pertanyaan=content.message(f"stats_questions_{scope}", n=str(f.questions)),
        tanpa_desa=content.message(f"stats_unplaced_{scope}", n=str(f.unplaced)),
        dijawab=_share(f.answered, f.questions), disarankan=_share(f.suggested, f.questions),
        tidak_terjawab=_share(f.unanswered, f.questions), topik=pairs(f.top_entries),
        laporan=str(f.reports), per_desa=pairs(f.by_village), per_risiko=pairs(f.by_risk),
        per_status=pairs(f.by_status), tangani=hours(f.median_hours_to_ack),
        tutup=hours(f.median_hours_to_close), tepat=_share(f.within_deadline, f.judged),
        tepat_ditutup=str(f.within_deadline - f.within_open), tepat_terbuka=str(f.within_open),
        berulang="; ".join(f"{k}: {', '.join(v)}" for k, v in f.repeat_recruiters) or "-")


def render_csv(f: Figures) -> str:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["figure", "key", "value"])
    for key, value in (("questions", f.questions), ("answered", f.answered),
                       ("suggested", f.suggested), ("unanswered", f.unanswered),
                       ("reports", f.reports), ("median_hours_to_acknowledge", f.median_hours_to_ack),
                       ("median_hours_to_close", f.median_hours_to_close),
                       ("within_deadline", f.within_deadline), ("deadline_judged", f.judged),
                       ("within_deadline_closed", f.within_deadline - f.within_open),
                       ("within_deadline_still_open", f.within_open),
                       ("questions_without_village", f.unplaced),
                       ("share_within_deadline", round(f.within_deadline / f.judged, 3) if f.judged else None)):
        w.writerow([key, "", "" if value is None else value])
    for group, items in (("top_entry", f.top_entries), ("reports_by_village", f.by_village),
                         ("reports_by_risk", f.by_risk), ("reports_by_status", f.by_status)):
        for k, n in items:
            w.writerow([group, k, n])
    for k, cases in f.repeat_recruiters:
        w.writerow(["repeat_recruiter", k, " ".join(cases)])
    return out.getvalue()


EXPORT_COLUMNS = ("case_no", "office", "village", "created_at", "status", "risk", "flags",
                  "recruiter_name", "recruiter_phone", "recruiter_company", "job", "country",
                  "acknowledged_at", "closed_at", "outcome", "reporter_contact", "acknowledge_by", "close_by",
                  "within_deadline")


def export_reports_csv(reports: list[Report], settings: Settings, deadlines: Deadlines, now: dt.datetime) -> str:
    """One row per report, with the same privacy rule as alerts: contact only if contactable.

    With each report's deadlines and whether it kept them: yes, no, or empty while it cannot be told.
    """
    names = {v.id: v.name for v in settings.villages}
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(EXPORT_COLUMNS)
    for r in reports:
        contact = contact_of(Sender.from_key(r.reporter_key)) if r.contactable and r.reporter_key else ""
        w.writerow([r.case_no, r.office_id, _village_name(names, r),
                    r.created_at.isoformat(), r.status, r.risk, " ".join(r.flags),
                    r.recruiter_name or "", r.recruiter_phone or "", r.recruiter_company or "",
                    r.answers.get("pekerjaan", ""), r.answers.get("negara", ""),
                    r.acknowledged_at.isoformat() if r.acknowledged_at else "",
                    r.closed_at.isoformat() if r.closed_at else "", r.outcome or "", contact,
                    deadlines.acknowledge_by(r.risk, r.created_at).isoformat(),
                    deadlines.close_by(r.risk, r.created_at).isoformat(),
                    {True: "yes", False: "no", None: ""}[deadlines.met(r.risk, r.created_at, r.acknowledged_at,
                                                                       r.closed_at, now)]])
    return out.getvalue()


def _village_name(names: dict[str, str], report: Report) -> str:
    """A Desa Imigrasi village's name, or the place a villager typed for another village."""
    return names.get(report.village_id) or str((report.place or {}).get("name", "-"))

"""Escalation of missed deadlines: the office's officers, then the head of office, then the Kantor Wilayah."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Callable

from bot.casework import Casework
from bot.config import Office
from bot.deadlines import ACKNOWLEDGE, Due
from bot.models import Channel, Outgoing, Sender
from bot.store import EscalationStep, Report

log = logging.getLogger(__name__)
BATCH = 500     # steps written per transaction: a long backlog is written in pieces, never one huge lock
MARGIN = dt.timedelta(hours=1)   # re-read before the last cutoff: a case another instance filed late


def when(moment: dt.datetime, casework: Casework) -> str:
    """A deadline as an officer reads it: day, time and the zone's name (WIB)."""
    local = casework.deadlines.local(moment)
    return f"{local:%d-%m-%Y %H:%M} {local.tzname() or ''}".strip()


def age(span: dt.timedelta, casework: Casework) -> str:
    """A length of time in words: minutes under an hour, hours under two days, then days."""
    minutes = max(0, int(span.total_seconds() // 60))
    if minutes < 60:
        return casework.content.message("age_minutes", n=str(minutes))
    if minutes < 48 * 60:
        return casework.content.message("age_hours", n=str(minutes // 60))
    return casework.content.message("age_days", n=str(minutes // (24 * 60)))


class Escalation:
    """One pass: every step now due that no pass (here, before a restart, or on another instance) wrote."""

    def __init__(self, casework: Casework, on_written: Callable[[str, int, int], None] | None = None) -> None:
        self.casework = casework
        self.on_written = on_written   # (deadline, step, steps written): the metrics count them
        self.deadlines = casework.deadlines
        self.store = casework.store
        self.settings = casework.routing.settings
        # The cutoff each (step, status, risk) reached in this process's last pass. A cutoff only
        # grows and a case only moves on from a status, so a later pass reads just the cases filed
        # since (with a margin); a new process reads everything once.
        self._reached: dict[tuple[str, str, str], dt.datetime] = {}
        self._filed_by: dict[tuple[str, int, str], dt.datetime] = {}

    async def run(self, now: dt.datetime) -> int:
        """Write and queue the due steps, in step order; the number written."""
        quiet = self.deadlines.quiet(now)
        written = 0
        dues = self.deadlines.due_steps(now, quiet=quiet)
        # A backlog (the first pass after an upgrade or a long stop) finds several steps of one case
        # due at once: only the highest is sent; the lower ones go on the timeline without messages.
        self._filed_by = {(d.kind, d.step, d.risk): d.filed_by for d in dues}
        for due in dues:
            for status in ("baru",) if due.kind == ACKNOWLEDGE else ("baru", "ditangani"):
                written += await self._run_one(due, status, now)
        return written

    async def _run_one(self, due: Due, status: str, now: dt.datetime) -> int:
        key = (due.key, status, due.risk)
        reached = self._reached.get(key)
        after = (reached - MARGIN, 0) if reached is not None else None
        written = 0
        while True:
            reports = await self.store.escalation_due(status, due.risk, due.key, due.filed_by, after, BATCH)
            if reports:
                known = {o.id for o in self.settings.all_offices}
                for r in reports:
                    if r.office_id not in known:   # its office left the config: skipped, not the whole pass
                        log.warning("escalation skipped case=%s office not in config", r.case_no)
                steps = [self._quiet_if_passed(self.step(r, due, now), r, due) for r in reports
                         if r.office_id in known]
                now_written = await self.store.record_escalations(steps, now) if steps else 0
                written += now_written
                if self.on_written is not None and now_written:
                    self.on_written(due.kind, due.step, now_written)
                for r in reports[:20]:
                    log.info("escalation case=%s step=%s", r.case_no, due.key)
                after = (reports[-1].created_at, reports[-1].id)
            if len(reports) < BATCH:
                break
        self._reached[key] = max(due.filed_by, reached or due.filed_by)
        return written

    def _quiet_if_passed(self, step: EscalationStep, report: Report, due: Due) -> EscalationStep:
        later = self._filed_by.get((due.kind, due.step + 1, due.risk))
        if later is not None and report.created_at <= later:
            return dataclasses.replace(step, outgoing=())
        return step

    def _head(self, office: Office) -> list[Sender]:
        out = []
        for officer in office.officers:
            if officer.role != "head":
                continue
            if officer.telegram_id is not None:
                out.append(Sender(Channel.TELEGRAM, str(officer.telegram_id)))
            elif officer.whatsapp:
                out.append(Sender(Channel.WHATSAPP, f"whatsapp:{officer.whatsapp}"))
        return out

    def step(self, report: Report, due: Due, now: dt.datetime) -> EscalationStep:
        """The messages and the timeline line of one step of one case."""
        cw = self.casework
        routing = cw.routing
        office = self.settings.office(report.office_id)
        deadline = self.deadlines.after(due.kind, report.risk, report.created_at)
        to = f"escalation_to_{due.step}"
        if due.step == 1:
            recipients = routing.recipients(office)
        elif due.step == 2:
            recipients = self._head(office)
            if not recipients:
                # No head of office in the config: the office's own chats hear it, and the timeline says so.
                recipients, to = routing.recipients(office), "escalation_to_2_unlisted"
        else:
            regional = self.settings.regional_office
            # A case of the Kantor Wilayah itself: its own chats heard it at the first step.
            recipients = routing.own_recipients(regional) if regional and regional.id != office.id else []
            if regional is None or (not recipients and regional.id != office.id):
                to = "escalation_to_3_none"
        text = cw.content.message(
            f"escalation_{due.kind}_{due.step}", case_no=report.case_no, desa_nama=cw.place_name(report),
            level=cw.content.message(f"risk_{report.risk}"), kantor_nama=office.name, batas=when(deadline, cw),
            lewat=age(now - deadline, cw))
        note = cw.content.message("escalation_note", batas_jenis=cw.content.message(f"deadline_{due.kind}"),
                                  batas=when(deadline, cw), kepada=cw.content.message(to))
        outgoing = [Outgoing(r, text, "reminder", report.id, cw.buttons(report.case_no)) for r in recipients]
        return EscalationStep(report.id, due.key, cw.content.message("escalation_actor"), note, outgoing)

"""The morning digest: one message per office on working days with what is new, open and overdue."""

from __future__ import annotations

import datetime as dt
import logging

from bot.casework import Casework
from bot.config import Office
from bot.escalation import age, when
from bot.models import Option, Outgoing

log = logging.getLogger(__name__)
LISTED = 10        # cases listed by name (each with its button); the rest are counted
WEEK = dt.timedelta(days=7)


class Digest:
    def __init__(self, casework: Casework, console_url: str | None) -> None:
        self.casework = casework
        self.deadlines = casework.deadlines
        self.store = casework.store
        self.settings = casework.routing.settings
        self.console_url = console_url

    def due_today(self, now: dt.datetime) -> bool:
        """From the digest time until the end of the working day, on working days only."""
        s = self.deadlines.settings
        local = self.deadlines.local(now)
        return (s.digest and self.deadlines.calendar.is_working_day(local.date())
                and s.digest_at <= local.time() < s.day_end and not self.deadlines.quiet(now))

    async def run(self, now: dt.datetime) -> int:
        """Queue today's digest for each office that has not had it; the number queued."""
        if not self.due_today(now):
            return 0
        day = self.deadlines.local(now).date()
        sent = 0
        for office in self.settings.offices:
            recipients = self.casework.routing.recipients(office)
            if not recipients or await self.store.digest_sent(office.id, day):
                continue
            text, options = await self.compose(office, now)
            outgoing = [Outgoing(r, text, "digest", None, options) for r in recipients]
            if await self.store.record_digest(office.id, day, outgoing, now):
                sent += 1
                log.info("digest office=%s day=%s", office.id, day)
        return sent

    async def compose(self, office: Office, now: dt.datetime) -> tuple[str, tuple[Option, ...]]:
        cw = self.casework
        msg = cw.content.message
        since = await self.store.last_digest(office.id) or now - dt.timedelta(days=1)
        new = await self.store.reports_between(office.id, since, now)
        # Deadlines from the few columns they need; only the listed cases are read whole.
        open_cases = await self.store.case_clocks((office.id,), ("baru", "ditangani"))
        dated: list[tuple[dt.datetime, int]] = []
        for c in open_cases:
            deadline = self.deadlines.current(c.status, c.risk, c.created_at)
            if deadline is not None:
                dated.append((deadline.due, c.id))
        dated.sort()   # the most overdue first
        overdue = sum(1 for due, _ in dated if due <= now)
        listed = await self.store.reports_by_id([case_id for _, case_id in dated[:LISTED]])
        lines = []
        for (due, _), r in zip(dated[:LISTED], listed, strict=True):
            late = due <= now
            lines.append(msg("digest_line_late" if late else "digest_line", case_no=r.case_no,
                             desa_nama=cw.place_name(r), level=msg(f"risk_{r.risk}"),
                             umur=age(now - r.created_at, cw), batas=when(due, cw),
                             lewat=age(now - due, cw) if late else None))
        if len(dated) > LISTED:
            lines.append(msg("digest_more", n=str(len(dated) - LISTED)))
        week = await self.store.case_clocks((office.id,), ("baru", "ditangani", "ditutup"), now - WEEK)
        judged = [m for m in (self.deadlines.met(c.risk, c.created_at, c.acknowledged_at, c.closed_at, now)
                              for c in week) if m is not None]
        tepat = msg("digest_share", kept=str(sum(judged)), of=str(len(judged)),
                    share=f"{sum(judged) / len(judged):.0%}") if judged else msg("digest_share_none")
        text = msg("digest", kantor_nama=office.name, tanggal=f"{self.deadlines.local(now):%d-%m-%Y}",
                   baru=str(len(new)), terbuka=str(len(open_cases)), lewat=str(overdue),
                   daftar="\n".join(lines) or msg("digest_no_cases"),
                   minggu_masuk=str(len(week)), minggu_tutup=str(sum(1 for c in week if c.closed_at)),
                   tepat=tepat, tautan=self.console_url)
        return text, tuple(Option(r.case_no, f"case:kasus:{r.case_no}") for r in listed)

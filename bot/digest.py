"""The morning digest: one message per alert chat on working days with its offices' new, open and overdue cases."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from bot.casework import Casework
from bot.config import Office
from bot.escalation import age, when
from bot.models import Option, Outgoing, Sender
from bot.routing import Routing

log = logging.getLogger(__name__)
LISTED = 10        # cases listed by name (each with its button); the rest are counted
WEEK = dt.timedelta(days=7)


@dataclass(frozen=True)
class Audience:
    """Chats that get the same digest: the cases of the offices they receive alerts for.

    `key` names its row in `digests` (the owning office's id when one office owns the chats).
    """

    key: str
    owners: tuple[Office, ...]      # the offices whose own chats these are
    covered: tuple[Office, ...]     # offices without chats of their own whose alerts come here
    recipients: tuple[Sender, ...]

    @property
    def office_ids(self) -> tuple[str, ...]:
        return tuple(o.id for o in (*self.owners, *self.covered))


def audiences(routing: Routing) -> list[Audience]:
    """Each chat that receives alerts once, with every office whose alerts it receives.

    An office's own chats get its cases and those of the offices it covers (their alerts having
    nowhere else to go, bot/routing.py); the Kantor Wilayah's are an office's like any other. A
    chat several offices name gets one digest of all their cases: no case twice, none of an
    office whose alerts it does not get.
    """
    settings = routing.settings
    owners: dict[Sender, list[Office]] = {}
    for office in settings.all_offices:
        for r in routing.own_recipients(office):
            owners.setdefault(r, []).append(office)
    grouped: dict[tuple[str, ...], list[Sender]] = {}
    for r, offices in owners.items():
        grouped.setdefault(tuple(o.id for o in offices), []).append(r)
    out = []
    for owner_ids, recipients in grouped.items():
        covered = [c for o in owner_ids for c in routing.covered_by(o)]
        out.append(Audience("+".join(owner_ids), tuple(settings.office(o) for o in owner_ids),
                            tuple(settings.office(c) for c in dict.fromkeys(covered) if c not in owner_ids),
                            tuple(recipients)))
    return out


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
        """Queue today's digest for each audience that has not had it; the number queued."""
        if not self.due_today(now):
            return 0
        day = self.deadlines.local(now).date()
        sent = 0
        for audience in audiences(self.casework.routing):
            if await self.store.digest_sent(audience.key, day):
                continue
            text, options = await self.compose(audience, now)
            outgoing = [Outgoing(r, text, "digest", None, options) for r in audience.recipients]
            if await self.store.record_digest(audience.key, day, outgoing, now):
                sent += 1
                log.info("digest offices=%s day=%s", audience.key, day)
        return sent

    async def compose(self, audience: Audience, now: dt.datetime) -> tuple[str, tuple[Option, ...]]:
        cw = self.casework
        msg = cw.content.message
        offices = audience.office_ids
        since = await self.store.last_digest(audience.key) or now - dt.timedelta(days=1)
        new = sum([len(await self.store.reports_between(o, since, now)) for o in offices])
        # Deadlines from the few columns they need; only the listed cases are read whole.
        open_cases = await self.store.case_clocks(offices, ("baru", "ditangani"))
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
        week = await self.store.case_clocks(offices, ("baru", "ditangani", "ditutup"), now - WEEK)
        judged = [m for m in (self.deadlines.met(c.risk, c.created_at, c.acknowledged_at, c.closed_at, now)
                              for c in week) if m is not None]
        tepat = msg("digest_share", kept=str(sum(judged)), of=str(len(judged)),
                    share=f"{sum(judged) / len(judged):.0%}") if judged else msg("digest_share_none")
        covered = ", ".join(o.name for o in audience.covered) or None
        text = msg("digest", kantor_nama=", ".join(o.name for o in audience.owners),
                   kantor_lain=covered, tanggal=f"{self.deadlines.local(now):%d-%m-%Y}",
                   baru=str(new), terbuka=str(len(open_cases)), lewat=str(overdue),
                   daftar="\n".join(lines) or msg("digest_no_cases"),
                   minggu_masuk=str(len(week)), minggu_tutup=str(sum(1 for c in week if c.closed_at)),
                   tepat=tepat, tautan=self.console_url)
        return text, tuple(Option(r.case_no, f"case:kasus:{r.case_no}") for r in listed)

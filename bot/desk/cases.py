"""The console's case desk: scoped reads, the case page's contents, and actions through casework.

Every read goes through `Scope.offices`; a case outside them is None (the page answers 404).
Every action and every view is written to the trail.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import phonenumbers

from bot.casework import Casework, contact_of, normalize_case_no
from bot.config import Settings
from bot.content import ConsoleText
from bot.escalation import age
from bot.models import Channel, Reply, Sender, stored_media
from bot.store import AuditEntry, CaseFilter, Report, Store

from .scope import Directory, Scope

VERBS = ("tangani", "catatan", "pesan", "tugaskan", "tutup")
OVERDUE = "lewat"                    # the inbox tab of open cases past their deadline
OPEN = ("baru", "ditangani")
RISKS = ("tinggi", "sedang", "rendah")
_DIGITS = re.compile(r"\d")


@dataclass(frozen=True)
class DeadlineView:
    """A deadline as the console shows it: which one, when, and the time left or past."""

    kind: str             # tanggap or tutup
    due: dt.datetime
    overdue: bool
    left: str             # "3 jam", "2 hari": left until it, or past it when overdue


@dataclass(frozen=True)
class TimelineItem:
    at: dt.datetime
    what: str
    who: str
    text: str


@dataclass(frozen=True)
class Related:
    case_no: str
    office: str
    readable: bool


@dataclass(frozen=True)
class CaseView:
    report: Report
    place: str
    answers: tuple[tuple[str, str], ...]
    flags: tuple[str, ...]
    contact: str | None           # only when the reporter chose to be contactable
    media: tuple[tuple[int, bool], ...]   # (number, is a voice note)
    related: tuple[Related, ...]
    timeline: tuple[TimelineItem, ...]
    assigned: str | None
    assignable: tuple[tuple[str, str], ...]   # (officer key, name)
    trail: tuple[AuditEntry, ...]
    deadlines: tuple[tuple[DeadlineView, bool | None], ...] = ()   # each deadline, and whether it was kept


def parse_search(text: str) -> CaseFilter:
    """A search box's text as filters: a case number, else a phone number (any format), else words."""
    text = text.strip()[:100]
    if not text:
        return CaseFilter()
    case_no = normalize_case_no(text)
    if case_no is not None:
        return CaseFilter(case_no=case_no)
    if len(_DIGITS.findall(text)) >= 7:
        try:
            number = phonenumbers.parse(text, "ID")
            if phonenumbers.is_possible_number(number):
                return CaseFilter(phone=phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
        except phonenumbers.NumberParseException:
            pass
    return CaseFilter(words=text)


class CaseDesk:
    def __init__(self, store: Store, casework: Casework, directory: Directory, text: ConsoleText,
                 after_step: Sequence[Callable[[str], Awaitable[None]]], wake: Callable[[], None],
                 clock: Callable[[], dt.datetime]) -> None:
        self.store = store
        self.casework = casework
        self.directory = directory
        self.t = text
        self.after_step = after_step
        self.wake = wake
        self.clock = clock

    @property
    def settings(self) -> Settings:
        return self.casework.routing.settings

    async def record(self, scope: Scope | None, action: str, net: str, case_no: str | None = None,
                     detail: str = "", officer_key: str | None = None) -> None:
        await self.store.audit(AuditEntry(self.clock(), scope.officer_key if scope else (officer_key or "?"),
                                          scope.office_id if scope else self._office_of(officer_key),
                                          action, case_no, detail[:80], net))

    def _office_of(self, officer_key: str | None) -> str:
        found = self.directory.get(officer_key) if officer_key else None
        return found.office.id if found else "-"

    # Reading --------------------------------------------------------------------------------
    async def inbox(self, scope: Scope, f: CaseFilter) -> tuple[list[Report], int, dict[str, int]]:
        """One page of a tab; an open tab sorted by deadline, and the overdue tab, merge per-risk runs."""
        if f.status == OVERDUE or (f.sort == "batas" and f.status in OPEN):
            cases, total = await self._by_deadline(scope, f)
        else:
            cases, total = await self.store.desk_cases(scope.offices, f)
        counts = await self.store.desk_counts(scope.offices, f, scope.officer_key)
        cutoffs = {k: v for k, v in self.overdue_cutoffs().items() if f.risk is None or k[1] == f.risk}
        counts[OVERDUE] = await self.store.desk_overdue_count(scope.offices, f, cutoffs)
        return cases, total, counts

    def overdue_cutoffs(self) -> dict[tuple[str, str], dt.datetime]:
        """(status, risk) -> the latest filing time whose current deadline has passed."""
        return self.casework.deadlines.overdue_cutoffs(self.clock())

    async def _overdue_runs(self, scope: Scope, f: CaseFilter, limit: int
                            ) -> list[tuple[list[tuple[int, dt.datetime, str, str]], int]]:
        cutoffs = self.overdue_cutoffs()
        runs = []
        for status in OPEN:
            for risk in RISKS:
                if f.risk is not None and f.risk != risk:
                    continue
                rows, n = await self.store.desk_deadline_keys(scope.offices, f, status, risk,
                                                              cutoffs[(status, risk)], limit)
                runs.append(([(i, filed, status, risk) for i, filed in rows], n))
        return runs

    async def _by_deadline(self, scope: Scope, f: CaseFilter) -> tuple[list[Report], int]:
        need = f.page * f.per_page
        if f.status == OVERDUE:
            runs = await self._overdue_runs(scope, f, need)
        else:
            runs = []
            for risk in RISKS:
                if f.risk is None or f.risk == risk:
                    keys, n = await self.store.desk_deadline_keys(scope.offices, f, f.status, risk, None, need)
                    runs.append(([(i, filed, f.status, risk) for i, filed in keys], n))
        deadlines = self.casework.deadlines
        keyed = []
        for rows, _ in runs:
            for case_id, filed, status, risk in rows:
                current = deadlines.current(status, risk, filed)
                assert current is not None
                keyed.append((current.due, case_id))
        keyed.sort()
        ids = [case_id for _, case_id in keyed[(f.page - 1) * f.per_page:need]]
        return await self.store.reports_by_id(ids), sum(n for _, n in runs)

    def deadline(self, report: Report) -> DeadlineView | None:
        """The deadline an open case works towards now (None once closed)."""
        current = self.casework.deadlines.current(report.status, report.risk, report.created_at)
        if current is None:
            return None
        return self._view(current.kind, current.due)

    def _view(self, kind: str, due: dt.datetime) -> DeadlineView:
        now = self.clock()
        return DeadlineView(kind, due, due <= now, age(abs(due - now), self.casework))

    async def case(self, scope: Scope, case_no: str) -> Report | None:
        normal = normalize_case_no(case_no)
        return await self.store.desk_case(scope.offices, normal) if normal and scope.cases else None

    def place(self, report: Report) -> str:
        village = self.casework.routing.village(report.village_id)
        if village is not None:
            return f"{village.name}, {village.kabupaten}"
        place = report.place or {}
        parts = [str(place.get(k) or "") for k in ("name", "kecamatan", "kabupaten")]
        return ", ".join(p for p in parts if p) or "-"

    def officer_label(self, key: str | None) -> str | None:
        found = self.directory.get(key) if key else None
        return found.officer.name if found else key

    async def view(self, scope: Scope, report: Report) -> CaseView:
        rules = self.casework.content.reporting
        answers = []
        for q in rules.questions:
            value = report.answers.get(q.key)
            if value:
                answers.append((q.label, q.label_of(value)))
        names = [n for n in (report.recruiter_name, report.recruiter_company) if n]
        related = []
        for r in await self.store.related_reports(report.recruiter_phone, names, exclude_id=report.id):
            office = self.settings.office(r.office_id).name
            related.append(Related(r.case_no, office, r.office_id in scope.offices))
        contact = None
        if report.contactable and report.reporter_key:
            contact = contact_of(Sender.from_key(report.reporter_key))
        assignable = tuple((d.key, d.officer.name) for d in self.directory.of_office(report.office_id)
                           if d.officer.role in ("officer", "head")) if scope.can_assign else ()
        trail = tuple(await self.store.audit_list(scope.offices, case_no=report.case_no, limit=50)) \
            if scope.can_trail else ()
        d = self.casework.deadlines
        ack_by = d.acknowledge_by(report.risk, report.created_at)
        close_by = d.close_by(report.risk, report.created_at)
        kept_ack = None if report.acknowledged_at is None else report.acknowledged_at <= ack_by
        kept_close = None if report.closed_at is None else report.closed_at <= close_by
        return CaseView(
            deadlines=((self._view("tanggap", ack_by), kept_ack), (self._view("tutup", close_by), kept_close)),
            report=report, place=self.place(report), answers=tuple(answers),
            flags=tuple(f.label for f in rules.flags if f.key in report.flags), contact=contact,
            media=tuple((i + 1, stored_media(m)[0]) for i, m in enumerate(report.media)),
            related=tuple(related), timeline=tuple(await self.timeline(report)),
            assigned=self.officer_label(report.assigned_to), assignable=assignable, trail=trail)

    def _where(self, recipient: Sender) -> str:
        """Where a message went, named by office or officer: never a chat id or a number."""
        for office in self.settings.all_offices:
            if recipient.channel is Channel.TELEGRAM and recipient.user_id.lstrip("-").isdigit() \
                    and int(recipient.user_id) in office.telegram_chat_ids:
                return self.t("where_group", kantor=office.name)
            if recipient.channel is Channel.WHATSAPP and \
                    recipient.user_id.removeprefix("whatsapp:") in office.whatsapp_numbers:
                return self.t("where_office_whatsapp", kantor=office.name)
        who = self.casework.routing.officer(recipient)
        if who is not None:
            return self.casework.officer_name(who)
        return self.t("where_other")

    async def timeline(self, report: Report) -> list[TimelineItem]:
        t = self.t
        items = [TimelineItem(report.created_at, t("tl_filed"), "", "")]
        for m in await self.store.case_messages(report.id):
            sent = m["sent_at"] or m["created_at"]
            at = dt.datetime.fromisoformat(sent)
            state = t(f"msg_{m['status']}") if f"msg_{m['status']}" in t.labels else m["status"]
            recipient = Sender.from_key(m["recipient"])
            if m["kind"] == "alert":
                items.append(TimelineItem(at, t("tl_alert"), self._where(recipient), state))
            elif m["kind"] == "reminder":
                items.append(TimelineItem(at, t("tl_reminder"), self._where(recipient), state))
            elif m["kind"] == "status":
                items.append(TimelineItem(at, t("tl_reporter_message"), t("where_reporter"), state))
        for e in await self.store.case_events(report.id):
            label = t(f"tl_{e.kind}") if f"tl_{e.kind}" in t.labels else e.kind
            items.append(TimelineItem(e.at, label, e.actor, e.text))
        return sorted(items, key=lambda i: i.at)

    # Acting ---------------------------------------------------------------------------------
    async def act(self, scope: Scope, report: Report, verb: str, text: str, assignee: str | None,
                  net: str) -> str:
        """One action on a case the scope covers; the sentence to show the officer.

        TANGANI, a message to the reporter (CATATAN in chat) and TUTUP run the chat command's own
        path, so the reporter is told and the alerts are edited exactly as from chat.
        """
        now = self.clock()
        text = text.strip()
        if verb == "tugaskan":
            target = self.directory.get(assignee or "")
            if not scope.can_assign or target is None or target.office.id != report.office_id:
                return self.t("flash_not_allowed")
            reply = await self.casework.assign(scope.identity, report, target.key, target.officer.name, now)
            detail = target.key
        elif verb == "catatan":
            if not text:
                return self.t("flash_need_text")
            reply = await self.casework.internal_note(scope.identity, report, text, now)
            detail = ""
        elif verb in ("tangani", "pesan", "tutup"):
            if verb != "tangani" and not text:
                return self.t("flash_need_text")
            chat_verb = "catatan" if verb == "pesan" else verb
            reply = await self.casework.act(scope.identity, chat_verb, report.case_no, text, now)
            detail = text.split(":", 1)[0] if verb == "tutup" and text.split(":", 1)[0] in self.t.outcomes else ""
        else:
            return self.t("flash_not_allowed")
        await self.record(scope, verb, net, report.case_no, detail)
        self.wake()
        for hook in self.after_step:
            await hook(report.case_no)
        return _plain(reply)


def _plain(reply: Reply) -> str:
    return reply.text.replace("**", "")

"""The officer's side of a case: the alert, acknowledging, notes, closing, listing."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.config import known
from bot.content import Content
from bot.deadlines import Deadlines
from bot.models import Channel, Option, Outgoing, Reply, Sender
from bot.reporting import Assessment
from bot.routing import OfficerIdentity, Routing
from bot.store import CaseChanged, CaseStep, NewReport, Report, Store

# A villager's own message to the office ("petugas"), kept as a case so officers answer it with CATATAN.
MESSAGE_FLAG = "pesan"
CASE_NO = re.compile(r"\b([A-Za-z]{2,5})\s*-\s*(\d{4})\s*-\s*(\d{1,6})\b")


def normalize_case_no(text: str) -> str | None:
    """"sgu-2026-1" as the store writes it: "SGU-2026-0001"."""
    m = CASE_NO.search(text)
    if m is None:
        return None
    return f"{m.group(1).upper()}-{m.group(2)}-{int(m.group(3)):04d}"
_WORD = re.compile(r"[^\W\d_]{2,}")


def written_outcome(text: str) -> bool:
    """An outcome or a note an officer wrote, not a stray tap ("7", "ok", an emoji): two words or more."""
    return len(_WORD.findall(text)) >= 2


_COMMAND = re.compile(r"^\s*/?(kasus|tangani|catatan|tutup)\b\s*(.*)$", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class OfficerCommand:
    verb: str            # kasus, tangani, catatan, tutup
    case_no: str | None
    text: str


def parse_command(text: str, payload: str | None) -> OfficerCommand | None:
    """Words ("TUTUP SGU-2026-0042 selesai") or a button ("case:tutup:SGU-2026-0042")."""
    if payload and payload.startswith("case:"):
        _, verb, case_no = (payload.split(":", 2) + ["", ""])[:3]
        if verb in ("tangani", "catatan", "tutup", "kasus"):
            return OfficerCommand(verb, normalize_case_no(case_no) if case_no else None, "")
        return None
    m = _COMMAND.match(text)
    if not m:
        return None
    rest = m.group(2).strip()
    case = CASE_NO.match(rest)
    if case:
        return OfficerCommand(m.group(1).lower(), normalize_case_no(case.group(0)), rest[case.end():].strip())
    return OfficerCommand(m.group(1).lower(), None, rest)


def contact_of(sender: Sender) -> str:
    if sender.channel is Channel.WHATSAPP:
        return f"WhatsApp {sender.user_id.removeprefix('whatsapp:')}"
    if sender.channel is Channel.TELEGRAM:
        return f"Telegram (chat id {sender.user_id})"
    return f"terminal ({sender.user_id})"


class Casework:
    def __init__(self, content: Content, routing: Routing, store: Store, deadlines: Deadlines) -> None:
        self.content = content
        self.routing = routing
        self.store = store
        self.deadlines = deadlines

    def _msg(self, key: str, **values: str | None) -> str:
        return self.content.message(key, **values)

    async def act(self, who: OfficerIdentity, verb: str, case_no: str, text: str,
                  now: dt.datetime) -> Reply:
        """A case step from the console: the chat command's own path (TANGANI, CATATAN, TUTUP)."""
        command = OfficerCommand(verb, case_no, text)
        # The console's form (an outcome picked from a list, then a button) is deliberate.
        replies, _ = await self.handle(who, Sender(Channel.CONSOLE, "desk"), command, now, deliberate=True)
        return replies[0]

    def officer_name(self, who: OfficerIdentity) -> str:
        """An officer as villagers and colleagues read it: never a placeholder."""
        return known(who.name) or self._msg("officer_generic",
                                            kantor_nama=self.routing.settings.office(who.office_id).name)

    def _place_line(self, report: Report | NewReport) -> str:
        village = self.routing.village(report.village_id)
        if village is not None:
            return self._msg("alert_place", desa_nama=village.name, kabupaten=village.kabupaten)
        place = report.place or {}
        return self._msg("alert_place_unlisted", desa_nama=str(place.get("name") or self._msg("village_unnamed")),
                         kecamatan=str(place.get("kecamatan") or "") or None,
                         kabupaten=str(place.get("kabupaten") or "-"))

    def alert_text(self, report: Report | NewReport, case_no: str, related: Sequence[Report]) -> str:
        """The alert officers read. The reporter appears only when they chose to be contactable.

        Its heading says "new" only while nobody has acknowledged the case.
        """
        heading = "alert_heading" if isinstance(report, Report) and report.status != "baru" \
            else "alert_heading_new"
        if MESSAGE_FLAG in report.flags:
            return self._message_text(report, case_no, heading)
        answers = report.answers
        none = self._msg("alert_none")
        rules = self.content.reporting

        def answer(key: str) -> str:
            value = answers.get(key)
            if not value:
                return none
            question = next((q for q in rules.questions if q.key == key), None)
            return question.label_of(value) if question else value

        flags = [f.label for f in rules.flags if f.key in report.flags]
        if report.contactable and report.reporter_key:
            reporter = self._msg("alert_contact", kontak=contact_of(Sender.from_key(report.reporter_key)))
        else:
            reporter = self._msg("alert_anonymous")
        if related:
            terkait = self._msg("alert_related", n=str(len(related)), cases=", ".join(
                self._msg("alert_related_case", case_no=r.case_no,
                          kantor=self.routing.settings.office(r.office_id).name) for r in related))
        else:
            terkait = self._msg("alert_related_none")
        return self._msg(
            "alert", judul=self._msg(heading, case_no=case_no), case_no=case_no,
            tempat=self._place_line(report),
            level=self._msg(f"risk_{report.risk}"), flags=", ".join(flags) or none,
            nama=answer("nama"), telepon=report.recruiter_phone or answer("telepon"),
            perusahaan=answer("perusahaan"), kontak=answer("kontak"), pekerjaan=answer("pekerjaan"),
            negara=answer("negara"), gaji=answer("gaji"), cerita=answer("cerita"),
            lampiran=str(len(report.media)) if report.media else none,
            pelapor=reporter, terkait=terkait)

    def _message_text(self, report: Report | NewReport, case_no: str, heading: str) -> str:
        """A villager's message to the office, as officers read it: who may be answered, and how."""
        return self._msg(
            "alert_message", judul=self._msg(f"message_{heading}", case_no=case_no), case_no=case_no,
            tempat=self._place_line(report), pesan=report.answers.get("cerita") or self._msg("alert_none"),
            pelapor=self._msg("alert_contact", kontak=contact_of(Sender.from_key(report.reporter_key)))
            if report.reporter_key else self._msg("alert_anonymous"))

    def message_alerts(self, new: NewReport) -> list[Outgoing]:
        """The alerts of a villager's message to their office, "{case_no}" standing for its number."""
        office = self.routing.settings.office(new.office_id)
        text = self.alert_text(new, "{case_no}", ())
        return [Outgoing(r, text, "alert", None, self.buttons("{case_no}"))
                for r in self.routing.recipients(office)]

    def buttons(self, case_no: str) -> tuple[Option, ...]:
        return (Option(self._msg("button_ack"), f"case:tangani:{case_no}"),
                Option(self._msg("button_note"), f"case:catatan:{case_no}"),
                Option(self._msg("button_close"), f"case:tutup:{case_no}"))

    async def file(self, new: NewReport, assessment: Assessment, now: dt.datetime) -> Report:
        """Store the report and queue its alerts in one transaction."""
        return await self.store.file_report(new, await self.alerts_for(new, assessment), now.year, now)

    async def alerts_for(self, new: NewReport, assessment: Assessment) -> list[Outgoing]:
        """The alerts of a report about to be filed, "{case_no}" standing for its number.

        A high-risk report is also copied to the regional office. An office that cannot receive
        alerts has them sent to the offices covering it (bot/routing.py): never to nobody.
        """
        related = await self.store.related_reports(
            new.recruiter_phone, [n for n in (new.recruiter_name, new.recruiter_company) if n])
        office = self.routing.settings.office(new.office_id)
        recipients = self.routing.recipients(office)
        regional = self.routing.settings.regional_office
        if assessment.level == "tinggi" and regional is not None:
            recipients += [r for r in self.routing.own_recipients(regional) if r not in recipients]
        # The case number is only known inside the transaction; the store fills it in.
        text = self.alert_text(new, "{case_no}", related)
        return [Outgoing(r, text, "alert", None, self.buttons("{case_no}")) for r in recipients]

    async def handle(self, who: OfficerIdentity, actor: Sender, cmd: OfficerCommand,
                     now: dt.datetime, *, deliberate: bool = False,
                     steps: list[CaseStep] | None = None) -> tuple[list[Reply], str | None]:
        """The replies, and what the officer is asked next: "text", "confirm" or nothing (None).

        With `steps` (a chat's turn), the case step goes there, for the turn to write with the
        message that caused it; without (the console), it is written now.

        "text": a note or an outcome; "confirm": closing a case nobody acknowledged. A chat's TUTUP
        closes only with an outcome written in words, and a case nobody acknowledged only once
        confirmed (`deliberate`): a stray digit must not close a case.
        """
        if cmd.verb == "kasus" and cmd.case_no is None:
            return [await self._list(who, now)], None
        if cmd.case_no is None:
            # "TANGANI" alone: which case? The open ones are listed to pick from.
            example = self._msg("officer_example", perintah=cmd.verb.upper(), kantor=who.office_id,
                                tahun=str(now.year))
            return [Reply(self._msg("officer_needs_number", contoh=example)), await self._list(who, now)], None
        report = await self.store.report_by_case(cmd.case_no)
        if report is None:
            return [Reply(self._msg("officer_case_unknown", case_no=cmd.case_no))], None
        if not self.routing.can_act(who, report.office_id):
            # Another office's case (an alert links to it): which office holds it, never its details.
            return [Reply(self._msg("officer_case_elsewhere", case_no=report.case_no,
                                    kantor_nama=self.routing.settings.office(report.office_id).name))], None
        if cmd.verb == "kasus":
            return [await self._detail(report)], None
        if report.status == "ditutup":
            return [Reply(self._msg("officer_already_closed", case_no=report.case_no))], None
        if cmd.verb == "catatan" and cmd.text and not deliberate and not written_outcome(cmd.text):
            # The reporter would read it: a stray "7" is not a message from the office.
            return [Reply(self._msg("officer_note_unclear", case_no=report.case_no, isi=cmd.text))], "text"
        if cmd.verb == "tutup" and cmd.text and not deliberate:
            if not written_outcome(cmd.text):
                return [Reply(self._msg("officer_close_unclear", case_no=report.case_no, hasil=cmd.text))], "text"
            if report.status == "baru":
                return [Reply(self._msg("officer_close_confirm", case_no=report.case_no, hasil=cmd.text), (
                    Option(self._msg("officer_close_yes"), "close:yes"),
                    Option(self._msg("officer_close_no"), "close:no")))], "confirm"
        try:
            return await self._step(report, who, cmd, now, steps)
        except CaseChanged:
            # Another officer acted first (a second console tab, a colleague's button): one result.
            return [Reply(self._msg("officer_case_changed", case_no=report.case_no))], None

    async def _step(self, report: Report, who: OfficerIdentity, cmd: OfficerCommand,
                    now: dt.datetime, steps: list[CaseStep] | None) -> tuple[list[Reply], str | None]:
        if cmd.verb == "tangani":
            # Several officers may tap the same button: the reporter hears it once.
            if report.status == "baru":
                await self._act(report, who, "ditangani", "", "ditangani", None, "update_ack", now, steps)
            return [Reply(self._msg("officer_ack_done", case_no=report.case_no,
                                    petugas=self.officer_name(who)))], None
        if not cmd.text:
            prompt = "officer_note_prompt" if cmd.verb == "catatan" else "officer_close_prompt"
            return [Reply(self._msg(prompt, case_no=report.case_no))], "text"
        if cmd.verb == "catatan":
            # A villager's message ("petugas") answered is a message taken up: not left to escalate
            # as "belum ditangani" to the head and the Kantor Wilayah.
            answered = "ditangani" if MESSAGE_FLAG in report.flags and report.status == "baru" else None
            await self._act(report, who, "catatan", cmd.text, answered, cmd.text, "update_note", now, steps)
            # Only a contactable reporter can be reached; an anonymous one reads it with the code.
            done = "officer_note_done" if report.reporter_key else "officer_note_anonymous"
            return [Reply(self._msg(done, case_no=report.case_no))], None
        await self._act(report, who, "ditutup", cmd.text, "ditutup", None, "update_close", now, steps)
        done = "officer_close_done" if report.reporter_key else "officer_close_anonymous"
        return [Reply(self._msg(done, case_no=report.case_no, petugas=self.officer_name(who)))], None

    async def _act(self, report: Report, who: OfficerIdentity, kind: str, text: str,
                   status: str | None, note: str | None, update_key: str, now: dt.datetime,
                   steps: list[CaseStep] | None) -> None:
        office = self.routing.settings.office(report.office_id)
        outgoing = []
        if report.reporter_key:
            message = self._msg(update_key, case_no=report.case_no, kantor_nama=office.name,
                                note=text, outcome=text)
            outgoing.append(Outgoing(Sender.from_key(report.reporter_key), message, "status", report.id))
        if steps is not None:
            steps.append(CaseStep(report.id, report.case_no, self.officer_name(who), kind, text, status, note,
                                  tuple(outgoing), expect_status=report.status))
            return
        await self.store.record_case_event(report, actor=self.officer_name(who), kind=kind, text=text,
                                           status=status, public_note=note, outgoing=outgoing, now=now,
                                           expect_status=report.status)

    async def internal_note(self, who: OfficerIdentity, report: Report, text: str, now: dt.datetime) -> Reply:
        """A note for the office only: on the case's timeline, never sent to the reporter."""
        if report.status == "ditutup":
            return Reply(self._msg("officer_already_closed", case_no=report.case_no))
        await self.store.record_case_event(report, actor=self.officer_name(who), kind="catatan_internal",
                                           text=text, status=None, public_note=None, outgoing=(), now=now)
        return Reply(self._msg("officer_internal_note_done", case_no=report.case_no))

    async def assign(self, who: OfficerIdentity, report: Report, officer_key: str, officer_name: str,
                     now: dt.datetime) -> Reply:
        """A head hands a case to an officer of the office; acknowledging it if still new."""
        if report.status == "ditutup":
            return Reply(self._msg("officer_already_closed", case_no=report.case_no))
        try:
            await self.store.record_case_event(report, actor=self.officer_name(who), kind="ditugaskan",
                                               text=officer_name, status=None, public_note=None, outgoing=(),
                                               now=now, expect_status=report.status, assign_to=officer_key)
        except CaseChanged:
            return Reply(self._msg("officer_case_changed", case_no=report.case_no))
        return Reply(self._msg("officer_assigned", case_no=report.case_no, petugas=officer_name))

    def info_step(self, report: Report, text: str) -> CaseStep:
        """More from the reporter (an answer to an officer's question): kept on the case, sent to the office.

        Written by the turn of the villager's message (Turn.case_steps), never on its own.
        """
        office = self.routing.settings.office(report.office_id)
        message = self._msg("officer_more_info", case_no=report.case_no, text=text)
        phone, named = self._recruiter_named(report, text)
        if phone or named:
            said = ", ".join(v for v in (named.get("nama"), phone or named.get("telepon"), named.get("perusahaan"))
                             if v)
            message += "\n\n" + self._msg("officer_more_info_recruiter", case_no=report.case_no, perekrut=said)
        outgoing = tuple(Outgoing(r, message, "alert", report.id, self.buttons(report.case_no))
                         for r in self.routing.recipients(office))
        return CaseStep(report.id, report.case_no, self._msg("reporter_actor"), "tambahan", text,
                        outgoing=outgoing, recruiter_phone=phone, recruiter_answers=named or None)

    @staticmethod
    def _recruiter_named(report: Report, text: str) -> tuple[str | None, dict[str, str]]:
        """The recruiter an addition names ("yg bawa dia agen pak rudi 0813..."), where the case has none yet.

        Only what the words tie to a recruiter, as in an urgent story: a number may be the victim's.
        """
        # Imported here: the conversation package imports this module first.
        from bot.conversation.reading import read_recruiter

        reading = read_recruiter(text)
        said_name, known_name = reading.answers.get("nama"), report.answers.get("nama")
        if said_name and known_name and said_name.lower() != known_name.lower():
            return None, {}   # "temannya pak rudi 0813…" on Pak Budi's case: another person, left to the officer
        named = {k: v for k, v in reading.answers.items() if v and not report.answers.get(k)}
        phone = reading.phone if reading.phone and not report.recruiter_phone else None
        if phone is None:
            named.pop("telepon", None)
        return phone, named

    async def _list(self, who: OfficerIdentity, now: dt.datetime) -> Reply:
        if who.regional:
            reports = await self.store.open_reports(None)
        else:
            # With the cases of an office whose alerts come here for want of its own recipients.
            reports = [r for o in (who.office_id, *self.routing.covered_by(who.office_id))
                       for r in await self.store.open_reports(o)]

        def overdue(r: Report) -> bool:
            deadline = self.deadlines.current(r.status, r.risk, r.created_at)
            return deadline is not None and deadline.due < now

        # What cannot wait comes first: someone in danger now, then cases past their deadline.
        reports.sort(key=lambda r: ("darurat" not in r.flags, not overdue(r), r.id))
        if not reports:
            return Reply(self._msg("officer_no_cases"))
        lines = [self._msg("officer_cases_heading")]
        for r in reports:
            village = self.routing.village(r.village_id)
            lines.append(self._msg("officer_case_line", case_no=r.case_no,
                                   desa_nama=village.name if village else self._unlisted_name(r),
                                   level=self._msg(f"risk_{r.risk}"),
                                   status=self._msg(f"status_{r.status}")))
        # "2" typed under the list opens the second case.
        return Reply("\n".join(lines), tuple(Option(r.case_no, f"case:kasus:{r.case_no}") for r in reports[:20]))

    def place_name(self, report: Report) -> str:
        """A case's village as officers read it in a line: the listed village's name, or the typed place."""
        village = self.routing.village(report.village_id)
        return village.name if village else self._unlisted_name(report)

    def _unlisted_name(self, report: Report) -> str:
        place = report.place or {}
        kabupaten = str(place.get("kabupaten") or "-")
        return str(place.get("name") or self._msg("village_unnamed_short", kabupaten=kabupaten))

    async def _detail(self, report: Report) -> Reply:
        related = await self.store.related_reports(
            report.recruiter_phone, [n for n in (report.recruiter_name, report.recruiter_company) if n],
            exclude_id=report.id)
        events = await self.store.case_events(report.id)
        lines = [self._msg("officer_event_line", at=e.at.strftime("%Y-%m-%d %H:%M"), actor=e.actor,
                           kind=e.kind, text=e.text) for e in events]
        return Reply(self._msg("officer_case_detail",
                               alert=self.alert_text(report, report.case_no, related),
                               status=self._msg(f"status_{report.status}"),
                               events="\n".join(lines) or self._msg("alert_none")),
                     self.buttons(report.case_no) if report.status != "ditutup" else ())

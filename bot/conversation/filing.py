"""The end of a report: may officers contact you, the summary to check or change, and sending it."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from typing import Any

from bot.conversation.reading import mark_wrong, read
from bot.conversation.turn import Kit, Turn
from bot.models import Option
from bot.reporting import Question, assess
from bot.store import NewReport
from bot.villages import Place

log = logging.getLogger(__name__)
CODE_DIGITS = 6


def hash_code(code: str, salt: str | None = None) -> str:
    """A check code as stored: salted, so the database alone does not give the code back."""
    salt = salt or secrets.token_hex(8)
    return f"{salt}${hashlib.sha256((salt + code).encode()).hexdigest()}"


def code_matches(code: str, stored: str | None) -> bool:
    if not stored or "$" not in stored:
        return False
    salt = stored.split("$", 1)[0]
    return hmac.compare_digest(hash_code(code, salt), stored)


def unticked(question: Question) -> str:
    """The answer that takes a sign off: "tidak" where the question has it, else "tidak tahu"."""
    values = dict(question.options)
    return "tidak" if "tidak" in values else "tidak_tahu"


class FilingFlow:
    def __init__(self, kit: Kit) -> None:
        self.kit = kit

    def ask_identity(self, turn: Turn) -> None:
        kit = self.kit
        if "contactable" in turn.data and not turn.data.get("editing"):
            self.summary(turn)   # answered before the report was kept: not asked twice
            return
        turn.go("identity", **{k: v for k, v in turn.data.items() if k != "options"})
        turn.say(kit.msg("identity_prompt"), (
            Option(kit.msg("identity_contact"), "identity:contact"),
            Option(kit.msg("identity_anonymous"), "identity:anonymous")))

    def identity(self, turn: Turn) -> None:
        kit = self.kit
        payload = turn.payload
        if payload is None and turn.text:
            chosen = kit.words.choose(turn.text, {
                "identity:contact": ("@ya", "hubungi", "hubungi saya", "boleh dihubungi"),
                "identity:anonymous": ("@tidak", "anonim", "rahasia", "jangan hubungi", "tanpa nama")})
            if chosen == "identity:contact" and (kit.words.within("tidak", turn.text)
                                                 or kit.words.within("refuse", turn.text)):
                # "gk usah hubungi sy": a refusal that names contact is still a refusal
                chosen = "identity:anonymous"
            payload = chosen
        if payload is None and kit.words.is_("back", turn.text):
            kit.flows.intake.back_from_end(turn)   # "kembali": the report's last question again
            return
        if payload not in ("identity:contact", "identity:anonymous"):
            if kit.flows.intake.fear_aside(turn):   # "takut agennya tau sy yg lapor"
                return
            if self.untick_named(turn):   # a sign read wrongly, said before the summary
                self.ask_identity(turn)
                return
            if kit.flows.intake.note_who(turn):   # "no wa nya 0813 ...", remembered late
                self.ask_identity(turn)
                return
            if kit.flows.intake.question_aside(turn):
                return
            turn.say(kit.msg("choice_unknown", n="2"))
            self.ask_identity(turn)
            return
        turn.data["contactable"] = payload == "identity:contact"
        self.summary(turn)

    def summary(self, turn: Turn) -> None:
        kit = self.kit
        data = turn.data
        if turn.place is None:   # the summary names the office: the village comes first
            kept = {k: v for k, v in data.items() if k != "options"}
            kept["paused_in"] = "confirm"
            kit.flows.intake.ask_village(turn, kept, "village_needed")
            return
        turn.go("confirm", **{k: v for k, v in data.items() if k not in ("options", "editing")})
        answers = data["answers"]
        lines = []
        for q in kit.content.reporting.questions:
            if q.kind == "story":
                value = " / ".join(self.story_lines(data))
                if len(value) > 300:
                    value = value[:300] + "…"
            else:
                value = q.label_of(answers[q.key]) if answers.get(q.key) else ""
            if value or q.key in ("nama", "telepon", "negara"):
                lines.append(kit.msg("summary_line", label=q.label, value=value or kit.msg("summary_unanswered")))
        if data["media"]:
            lines.append(kit.msg("summary_media", n=str(len(data["media"]))))
        empty = not data["story"] and not data["media"] and not any(
            v for k, v in answers.items() if k != "darurat")
        place = turn.place
        office = kit.settings.office(place.office_id).name if place else ""
        identity = kit.msg("summary_identity_contact" if data.get("contactable")
                           else "summary_identity_anonymous")
        text = kit.msg("summary", lines="\n".join(lines), identity=identity, kantor_nama=office)
        if empty:
            text = f"{kit.msg('summary_empty')}\n\n{text}"
        turn.say(text, self._confirm_options())

    def _confirm_options(self) -> tuple[Option, ...]:
        kit = self.kit
        return (Option(kit.msg("send"), "report:send"), Option(kit.msg("edit"), "report:edit"),
                Option(kit.msg("cancel"), "report:cancel"))

    async def confirm(self, turn: Turn) -> None:
        kit = self.kit
        payload = turn.payload
        if payload is None and self._unticked(turn):
            return
        if payload is None and kit.words.is_("back", turn.text):
            turn.data.pop("contactable", None)   # "kembali": the question before the summary
            self.ask_identity(turn)
            return
        if payload is None and turn.text:
            payload = kit.words.choose(turn.text, {
                "report:send": ("@ya", "kirim", "kirim laporan", "kirimkan", "send", "lanjut"),
                "report:edit": ("ubah", "ganti", "ubah jawaban", "edit", "salah", "ada yang salah")})
        if payload == "report:cancel":
            kit.flows.intake.cancel(turn, kit.msg("report_cancelled"))
            return
        if payload == "report:edit":
            self.choose_edit(turn)
            return
        if payload != "report:send":
            if kit.flows.intake.note_who(turn):
                self.summary(turn)
                return
            if kit.flows.intake.question_aside(turn):
                return
            turn.say(kit.msg("choice_unknown", n="3"))
            self.summary(turn)
            return
        await self.send(turn)

    def _unticked(self, turn: Turn) -> bool:
        """"bukan anak2, yg dibawah 18 itu salah" at the summary: that sign off, the summary again."""
        if not self.untick_named(turn):
            return False
        self.summary(turn)
        return True

    def untick_named(self, turn: Turn) -> bool:
        """"bukan anak2, yg dibawah 18 itu salah": the one ticked sign named as wrong is taken off.

        Said back; True when a sign was taken off. Words that tell the sign itself ("lewat jalan
        tikus, bukan pos resmi") take nothing off.
        """
        kit = self.kit
        text = turn.text
        if not text or turn.payload or not kit.words.within("wrong", text):
            return False
        answers = turn.data["answers"]
        named = [q for q in kit.content.reporting.signs if q.sign is not None
                 and q.sign.ticked_by(answers.get(q.key)) and kit.words.within(f"sign_{q.key}", text)]
        if len(named) != 1:
            return False
        question = named[0]
        assert question.sign is not None
        if question.sign.ticked_by(read(text, kit.content.reporting, kit.words).answers.get(question.key)):
            return False
        answers[question.key] = unticked(question)
        # An offer check files no report: the sign comes off "the check", not "the report".
        turn.say(kit.msg("sign_removed_check" if turn.data.get("mode") == "check" else "sign_removed",
                         label=question.label))
        return True

    def choose_edit(self, turn: Turn) -> None:
        kit = self.kit
        turn.go("edit", **{k: v for k, v in turn.data.items() if k != "options"})
        options = tuple(Option(q.label, f"edit:{q.key}") for q in kit.content.reporting.questions
                        if q.ask and q.key != "darurat")
        # The signs too: one read wrongly from the story is taken off here.
        options += (Option(kit.msg("edit_signs"), "edit:checklist"),)
        turn.say(kit.msg("edit_pick"), options + (Option(kit.msg("edit_back"), "edit:back"),))

    def edit(self, turn: Turn) -> None:
        if self._unticked(turn):   # "bukan anak2, yg dibawah 18 itu salah" after "Ubah jawaban"
            return
        payload = turn.payload or ""
        if not payload and turn.text:
            # "negara" or "nomor hp" typed instead of picked
            labels = {f"edit:{q.key}": (q.label, q.key) for q in self.kit.content.reporting.questions if q.ask}
            payload = self.kit.words.choose(turn.text, labels) or ""
        key = payload[5:] if payload.startswith("edit:") else ""
        if key and key != "back":
            self.kit.flows.intake.edit(turn, key)
            return
        if not key:
            turn.say(self.kit.msg("choice_unknown", n=str(len(turn.data.get("options") or []))))
        self.summary(turn)

    async def send(self, turn: Turn, place: Place | None = None) -> None:
        """File the report. `place` stands in for an unknown village (an urgent report sent at once)."""
        kit = self.kit
        place = place or turn.place
        if place is None:   # the village was removed from the config while the report was written
            kept = {k: v for k, v in turn.data.items() if k != "options"}
            kept["paused_in"] = "confirm"
            kit.flows.intake.ask_village(turn, kept, "village_needed")
            return
        data: dict[str, Any] = turn.data
        answers: dict[str, str] = {k: v for k, v in data["answers"].items() if v}
        if data["story"]:
            answers["cerita"] = "\n".join(self.story_lines(data))
        if data.get("urgent"):
            answers["darurat"] = "ya"
        result = assess(kit.content.reporting, answers)
        contactable = bool(data.get("contactable"))
        code = None if contactable else "".join(secrets.choice("0123456789") for _ in range(CODE_DIGITS))
        new = NewReport(
            office_id=place.office_id, village_id=place.village_id or "", risk=result.level,
            flags=tuple(f.key for f in result.flags), answers=answers,
            media=tuple(data["media"]), recruiter_phone=data.get("phone"),
            recruiter_name=answers.get("nama"), recruiter_company=answers.get("perusahaan"),
            # Anonymous means no link to the person at all, not a hidden one.
            reporter_key=turn.sender.key if contactable else None, contactable=contactable,
            place=None if place.listed else place.to_json(),
            check_hash=hash_code(code) if code else None)
        # Filed by end_turn with the new state, in one transaction: the case number is given
        # there, and "{case_no}" in the replies is replaced with it.
        turn.report = new
        turn.alerts = await kit.casework.alerts_for(new, result)
        office = kit.settings.office(place.office_id).name
        if code:
            text = kit.msg("report_done_anonymous", case_no="{case_no}", kode=code, kantor_nama=office)
        else:
            text = kit.msg("report_done", case_no="{case_no}", kantor_nama=office)
        if result.flags:
            text += "\n\n" + self.flag_lines(result.flags)
        turn.go("menu")
        turn.data.pop("draft", None)
        if contactable:
            turn.data["reporter"] = True   # later messages may be more for this case
        turn.say(text, tuple(kit.entry_option(f.entry) for f in result.flags[:3]
                             if f.entry in kit.content.by_id) + (kit.menu_option(),))

    def story_lines(self, data: dict[str, Any]) -> list[str]:
        """The story as told, each number the villager took back marked as wrong for the officer."""
        wrong = set(data.get("wrong_phones") or [])
        mark = self.kit.msg("phone_wrong_mark")
        return [mark_wrong(line, wrong, mark) for line in data["story"]]

    def flag_lines(self, flags: Any) -> str:
        kit = self.kit
        return "\n".join([kit.msg("flags_heading")] + [
            kit.msg("flag_line", label=f.label, why=f.why) for f in flags])

"""The guided questions of a report or an offer check: story first, then only what is missing."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from typing import Any

from bot.conversation.filing import unticked
from bot.conversation.reading import (
    Reading,
    corrects_number,
    find_company,
    find_name,
    find_phone,
    read,
    read_urgent,
    read_who,
    says,
    wrong_numbers,
)
from bot.conversation.turn import Kit, Turn
from bot.faq import Decision
from bot.models import Option, Reply
from bot.reporting import Question, Step, normalize_phone

MAX_ANSWER = 500
MAX_STORY = 4000
_NUMBERS = re.compile(r"^\s*\d{1,2}(?:\s*(?:,|dan|sama|samo|ama|&|\+|/|-|\.|\s)\s*\d{1,2})*\s*\.?$",
                      re.IGNORECASE)
# Words after a number that make it a count or an amount ("3 orang", "5 juta"), not an option picked.
_COUNTED = frozenset({"orang", "org", "juta", "jt", "jta", "rb", "ribu", "rebu", "hari", "hr", "minggu", "mgg",
                      "bulan", "bln", "tahun", "thn", "th", "kali", "x", "jam", "menit", "anak", "ekor", "rm",
                      "ringgit", "rupiah", "kg"})
# Option numbers, then words: "5 ponakan sy baru 16".
_LEADING_NUMBERS = re.compile(r"^\s*(\d{1,2}(?:[\s,]+\d{1,2})*)[\s,.:-]+([^\d\s].*)$", re.DOTALL)
# "desa sy sebenernya X", "kampung saya di X": a village corrected in the middle of the story.
_VILLAGE_FIX = re.compile(
    r"\b(?:desa|kampung|kampong|dusun)\s*(?:saya|sy|aku|ku|kami|kamek)\b[\s,]*"
    r"(?:(?:sebenarnya|sebenernya|sebenarnye|sbnrnya|sbenarnya|sebetulnya|yang benar|yg benar|yang betul|yg betul|"
    r"itu|adalah|ialah|tuh|di|bukan itu|tapi)[\s,:]*)*(\w[\w .'-]{1,40})$", re.IGNORECASE)
_CORRECTION = re.compile(r"\b(?:salah|sebenarnya|sebenernya|sebenarnye|sbnrnya|sbenarnya|sebetulnya|ralat|"
                         r"yang benar|yg benar|yang betul|yg betul|bukan|keliru|ganti)\b", re.IGNORECASE)
# The states in which a report is being written; leaving one of them keeps or drops the draft.
REPORT_STATES = ("report", "identity", "confirm", "edit")
# The FAQ answer on how a reporter is kept secret, given when a villager fears being found out.
SECRECY_ENTRY = "lapor-kerahasiaan"
# How long a cancelled report can be brought back ("gk jadi", then "eh jadi deh, lapor aja").
UNDO_MINUTES = 60


def _tick(answers: dict[str, Any], signs: Sequence[Question], numbers: Iterable[int], *, toggle: bool) -> None:
    """The signs of the checklist numbers ticked; with `toggle`, a ticked one is taken off instead."""
    for n in numbers:
        question = signs[n - 1]
        assert question.sign is not None
        ticked = question.sign.ticked_by(answers.get(question.key))
        answers[question.key] = unticked(question) if ticked and toggle else question.sign.value


def _iso(moment: dt.datetime) -> str:
    return moment.isoformat()


class IntakeFlow:
    def __init__(self, kit: Kit) -> None:
        self.kit = kit

    # Starting, pausing and resuming ---------------------------------------------------------
    def new(self, mode: str, turn: Turn, *, story: str = "", media: list[str] | None = None,
            urgent: bool = False, done: list[str] | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {"mode": mode, "answers": {}, "media": list(media or []), "story": [],
                                "phone": None, "done": list(done or []), "history": [], "step": None,
                                "urgent": urgent, "started": _iso(turn.now)}
        if story:
            data["story"].append(story[:MAX_STORY])
            self._absorb(data, read(story, self.kit.content.reporting, self.kit.words))
            if mode != "urgent":
                data["done"].append("cerita")
        return data

    def draft_of(self, turn: Turn) -> dict[str, Any] | None:
        """A report left half-way, if it is still fresh enough to offer again."""
        draft = turn.data.get("draft")
        if not isinstance(draft, dict):
            return None
        try:
            saved = dt.datetime.fromisoformat(draft["saved"])
        except (KeyError, ValueError):
            return None
        # A cancelled report is offered back only soon after: the villager chose to drop it.
        kept_for = dt.timedelta(minutes=UNDO_MINUTES) if draft.get("cancelled") else dt.timedelta(
            days=self.kit.settings.draft_days)
        if turn.now - saved > kept_for:
            turn.data.pop("draft", None)
            return None
        return draft

    async def start_report(self, turn: Turn, *, story: str = "", media: list[str] | None = None,
                           answers: dict[str, str] | None = None, urgent: bool = False,
                           done: list[str] | None = None, phone: str | None = None) -> None:
        kit = self.kit
        draft = self.draft_of(turn)
        undo = turn.data.get("undo")
        if isinstance(undo, dict) and turn.state == "menu":
            turn.data["draft"] = undo   # the report cancelled just before: offered back, if fresh
            draft = self.draft_of(turn) or draft
        if draft is not None and not story and not answers and not media and not urgent:
            turn.go("resume_offer", draft=draft)
            turn.say(kit.msg("draft_offer_cancelled" if draft.get("cancelled") else "draft_offer"), (
                Option(kit.msg("draft_resume"), "report:resume"),
                Option(kit.msg("draft_new"), "report:new")))
            return
        data = self.new("urgent" if urgent else "report", turn, story=story, media=media, urgent=urgent,
                        done=done)
        data["answers"].update(answers or {})
        data["phone"] = data["phone"] or phone
        if turn.place is None:
            self.ask_village(turn, data, "village_needed")
            return
        await self.resume(turn, data, intro=True)

    def ask_village(self, turn: Turn, data: dict[str, Any], intro: str) -> None:
        """The report needs the office: ask the village, keeping the report to carry on after."""
        turn.go("menu")
        turn.data["keep"] = data
        self.kit.flows.village.prompt(turn, then="report", intro=self.kit.msg(intro))

    async def resume(self, turn: Turn, data: dict[str, Any], intro: bool = False,
                     recap: bool = False) -> None:
        """Carry on with a report (new, kept while the village was asked, or a draft)."""
        kit = self.kit
        if recap and (data.get("story") or data.get("answers")):
            lines = [kit.msg("summary_line", label=kit.content.reporting.question("cerita").label,
                             value=" / ".join(data.get("story") or []) or kit.msg("summary_unanswered"))]
            turn.say("\n".join([kit.msg("draft_recap"), *lines]))
            if data.get("answers"):
                turn.say(self.understood(data))
        if not data:
            data = self.new("report", turn)
            intro = True
        state = data.pop("paused_in", "report")
        turn.go(state, **{k: v for k, v in data.items() if k not in ("saved", "cancelled")})
        turn.data.pop("draft", None)
        if data.get("send_now"):
            await kit.flows.filing.send(turn)
            return
        if intro:
            key = "report_intro_urgent" if data.get("urgent") else (
                "report_intro" if data["mode"] == "report" else "check_intro")
            turn.say(kit.msg(key))
            if data["answers"]:
                turn.say(self.understood(data))
        if state == "identity":
            kit.flows.filing.ask_identity(turn)
        elif state in ("confirm", "edit"):
            kit.flows.filing.summary(turn)
        else:
            self.next_step(turn)

    def pause(self, turn: Turn) -> dict[str, Any]:
        """The report being written, as a draft to keep."""
        source = turn.data.get("keep") if turn.state == "village" else turn.data
        data = {k: v for k, v in (source or {}).items() if k not in ("options", "draft", "guard")}
        data["paused_in"] = turn.state if turn.state in ("report", "identity", "confirm") else "report"
        data["saved"] = _iso(turn.now)
        return data

    def cancel(self, turn: Turn, said: str) -> None:
        """Back to the menu; a report cancelled with something told can be brought back right after.

        "gk jadi", then "eh jadi deh, lapor aja": the story comes back instead of an empty form. Only
        the next message can ask for it; the menu or anything else lets it go.
        """
        told = self._told(turn)
        turn.conv.data.pop("draft", None)
        turn.go("menu")
        turn.say(said)
        if told is not None:
            turn.say(self.kit.msg("report_cancelled_kept", menit=str(UNDO_MINUTES)))
        self.kit.flows.menu.show(turn)
        if told is not None:
            told["cancelled"] = True
            turn.data["undo"] = told

    def _told(self, turn: Turn) -> dict[str, Any] | None:
        """The report being written, if the villager has told anything in it."""
        if turn.state == "guard":
            draft = turn.data.get("draft")
            data = dict(draft) if isinstance(draft, dict) else None
        elif turn.state in REPORT_STATES or turn.state == "village":
            data = self.pause(turn)
        else:
            return None
        if not data or data.get("mode") == "check" or not (
                data.get("story") or data.get("media") or any(v for v in (data.get("answers") or {}).values())):
            return None
        data["saved"] = _iso(turn.now)
        return data

    def understood(self, data: dict[str, Any]) -> str:
        """What the villager's own words already told us, so it is not asked again."""
        kit = self.kit
        lines = []
        for q in kit.content.reporting.questions:
            value = data["answers"].get(q.key)
            if value and q.kind != "story" and q.key != "darurat":
                lines.append(kit.msg("summary_line", label=q.label, value=q.label_of(value)))
        return kit.msg("understood", lines="\n".join(lines))

    # Asking ------------------------------------------------------------------------------------
    def _steps(self, mode: str) -> tuple[Step, ...]:
        return self.kit.content.reporting.steps[mode]

    def current_step(self, turn: Turn) -> Step | None:
        key = turn.data.get("step")
        return self.step_by_key(turn.data["mode"], key) if isinstance(key, str) else None

    def next_step(self, turn: Turn) -> None:
        data = turn.data
        if data.get("editing"):
            data.pop("editing")
            self.kit.flows.filing.summary(turn)
            return
        for step in self._steps(data["mode"]):
            if step.key in data["done"]:
                continue
            answered = [bool(data["answers"].get(f)) for f in step.fills]
            # One known detail of who offered it is enough to find them; the rest is asked in full.
            if step.kind != "checklist" and (any(answered) if step.kind == "who" else all(answered)):
                continue
            data["step"] = step.key
            self.ask(turn, step)
            return
        data["step"] = None
        if data["mode"] == "check":
            self.kit.flows.offer_check.result(turn)
        else:
            self.kit.flows.filing.ask_identity(turn)

    def ask(self, turn: Turn, step: Step, again: bool = False) -> None:
        kit = self.kit
        skip = (Option(kit.msg("skip"), "ans:skip"),)
        rest_label = kit.msg("skip_rest_check" if turn.data["mode"] == "check" else "skip_rest")
        rest = () if turn.data.get("editing") else (Option(rest_label, "ans:rest"),)
        if step.kind == "story":
            options: tuple[Option, ...] = (Option(kit.msg("done_word"), "ans:selesai"),)
            text = step.ask
            if turn.data["story"] and turn.data["mode"] != "urgent":
                text = kit.msg("story_more")
        elif step.kind == "checklist":
            text, options = self._checklist(turn, step)
        elif step.kind == "choice":
            question = kit.content.reporting.question(step.key)
            options = tuple(Option(label, f"ans:{value}") for value, label in question.options) + rest
            text = step.ask
        else:
            options = skip + rest
            text = step.ask
        turn.say(text, options)

    def _checklist(self, turn: Turn, step: Step) -> tuple[str, tuple[Option, ...]]:
        kit = self.kit
        answers = turn.data["answers"]
        options = []
        for question in kit.content.reporting.signs:
            assert question.sign is not None
            mark = "✓ " if question.sign.ticked_by(answers.get(question.key)) else ""
            options.append(Option(f"{mark}{question.sign.label}", f"sign:{question.key}"))
        picked = any(o.label.startswith("✓ ") for o in options)
        options.append(Option(kit.msg("checklist_done" if picked else "checklist_none"), "sign:done"))
        if turn.data.get("editing"):
            text = f"{step.ask}\n{kit.msg('checklist_edit')}"
        elif turn.data.get("picked_here"):
            text = kit.msg("checklist_more")
        elif picked:
            text = f"{step.ask}\n{kit.msg('checklist_marked')}"
        else:
            text = step.ask
        return text, tuple(options)

    # Answering ---------------------------------------------------------------------------------
    async def handle(self, turn: Turn) -> None:
        """A message while a question of the report or check is open."""
        kit = self.kit
        step = self.current_step(turn)
        if step is None:
            self.next_step(turn)
            return
        if turn.message.media:
            self.attach(turn)
            if not turn.text:
                if step.kind == "story":
                    turn.say(kit.msg("media_saved", n=str(len(turn.data["media"]))),
                             (Option(kit.msg("done_word"), "ans:selesai"),))
                else:
                    turn.say(kit.msg("media_saved", n=str(len(turn.data["media"]))))
                    self.ask(turn, step)
                return
            if step.kind != "story":
                # A caption belongs to the story, never to the question that happens to be open.
                turn.data["story"].append(turn.text[:MAX_ANSWER * 4])
                self._absorb(turn.data, read(turn.text, kit.content.reporting, kit.words))
                turn.say(kit.msg("media_saved", n=str(len(turn.data["media"]))))
                self.ask(turn, step)
                return
        words = kit.words
        if not turn.payload and turn.text:
            turn.payload = self.typed_option(turn)
        if not turn.payload and words.is_("skip_rest", turn.text):
            turn.payload = "ans:rest"   # "lanjut kirim", "kirim": on to sending, whatever is open
        payload = turn.payload or ""
        if not payload and self.fear_aside(turn):
            return
        if payload == "ans:rest":
            if step.kind == "story" and turn.data["story"]:   # the story is read as "Selesai" would
                self._read_story(turn.data)
            turn.data["done"].extend(s.key for s in self._steps(turn.data["mode"]))
            self.next_step(turn)
            return
        if payload == "ans:skip" or (not payload and step.kind not in ("story", "checklist", "choice")
                                     and words.is_("skip", turn.text)) or (
                not payload and step.kind != "story" and words.is_("next", turn.text)):
            self._finish(turn, step)
            return
        if not payload and words.is_("back", turn.text):
            self._back(turn, step)
            return
        if not payload and step.kind not in ("story", "who") and self._who_later(turn, step):
            return
        if step.kind == "story":
            await self._story(turn, step)
        elif step.kind == "checklist":
            self._checklist_answer(turn, step)
        elif step.kind == "choice":
            self._choice(turn, step)
        elif step.kind == "who":
            self._who(turn, step)
        else:
            self._text(turn, step)

    def typed_option(self, turn: Turn) -> str | None:
        """The option on screen whose label was typed, in full or most of it ("lanjut kirim").

        Most of it: at least two words of the label, in its order, and at least half of them;
        None when the words fit no option or several.
        """
        tokens = self.kit.words.tokens
        typed = tokens(turn.text)
        if not typed:
            return None
        found = []
        for label, payload in turn.data.get("options") or []:
            if not str(payload).startswith(("ans:", "sign:")):
                continue   # an FAQ guess shown beside the question is reached by its number, or asked again
            words = tokens(str(label).lstrip("✓ "))
            if typed == words:
                return str(payload)
            if len(typed) >= 2 and 2 * len(typed) >= len(words) and any(
                    words[i:i + len(typed)] == typed for i in range(len(words) - len(typed) + 1)):
                found.append(str(payload))
        return found[0] if len(found) == 1 else None

    def _who_later(self, turn: Turn, step: Step) -> bool:
        """The rest of "who offered it", typed after the question moved on ("no wa nya 0813 ...").

        Kept whatever question is open now, then that question again; never taken as its answer.
        """
        if step.key in ("telepon", "nama", "perusahaan") or not self.note_who(turn):
            return False
        self.ask(turn, step)
        return True

    def note_who(self, turn: Turn) -> bool:
        """A phone, name or PT of the recruiter in the message, kept and said back; False if none."""
        text = turn.text
        # In an urgent report a name or number may be the victim's (see `_absorb`).
        if not text or len(text) > MAX_ANSWER or turn.payload or turn.data.get("mode") == "urgent":
            return False
        # Only what is still missing: "Bu Siti bilang..." later must not replace the recruiter's name.
        answers = turn.data["answers"]
        found: dict[str, str] = {}
        # "eh bkn 0812…, nomornya 0821…": a number said to replace a wrong one replaces it
        correcting = corrects_number(text)
        phone = find_phone(text) if not answers.get("telepon") or correcting else None
        if phone:
            if correcting:
                self._wrong(turn.data, wrong_numbers(text), turn.data.get("phone"), phone[0])
            turn.data["phone"], found["telepon"] = phone
        if not answers.get("perusahaan") and (company := find_company(text)):
            found["perusahaan"] = company
        if not answers.get("nama") and (name := find_name(text)):
            found["nama"] = name
        if not found:
            return False
        answers.update(found)
        kit = self.kit
        lines = [kit.msg("summary_line", label=q.label, value=found[q.key])
                 for q in kit.content.reporting.questions if q.key in found]
        turn.say(kit.msg("who_noted", lines="\n".join(lines)))
        return True

    def _finish(self, turn: Turn, step: Step) -> None:
        if step.key not in turn.data["done"]:
            turn.data["done"].append(step.key)
        turn.data["history"].append(step.key)
        self.next_step(turn)

    def back_from_end(self, turn: Turn) -> None:
        """"kembali" after the last question (at "may officers contact you"): that question again."""
        turn.go("report", **{k: v for k, v in turn.data.items() if k not in ("options", "contactable")})
        data = turn.data
        previous = data["history"].pop() if data["history"] else next(
            (s.key for s in reversed(self._steps(data["mode"])) if s.key in data["done"]), None)
        step = self.step_by_key(data["mode"], previous) if previous else None
        if step is None:
            self.next_step(turn)
            return
        if step.key in data["done"]:
            data["done"].remove(step.key)
        if step.kind not in ("story", "checklist"):   # the ticks read from the story stay
            for f in step.fills:
                data["answers"].pop(f, None)
        data["step"] = step.key
        self.ask(turn, step)

    def _back(self, turn: Turn, step: Step) -> None:
        history = turn.data["history"]
        if not history:
            self.ask(turn, step)
            return
        previous = history.pop()
        for key in (previous,):
            if key in turn.data["done"]:
                turn.data["done"].remove(key)
        prev = next(s for s in self._steps(turn.data["mode"]) if s.key == previous)
        if prev.kind != "story":
            for f in prev.fills:
                turn.data["answers"].pop(f, None)
        turn.data["step"] = prev.key
        self.ask(turn, prev)

    def attach(self, turn: Turn) -> None:
        turn.data["media"].extend(m.stored for m in turn.message.media)

    def _read_story(self, data: dict[str, Any]) -> None:
        """The whole story read once it is told ("Selesai", or "kirim" to skip the rest)."""
        rules, words = self.kit.content.reporting, self.kit.words
        story = "\n".join(data["story"])
        if data.get("mode") == "urgent":
            # An urgent story takes the recruiter only where the words tie a name or number to one.
            self._absorb(data, read_urgent(story, rules, words), tied=True)
        else:
            self._absorb(data, read(story, rules, words))

    def _absorb(self, data: dict[str, Any], reading: Reading, tied: bool = False) -> None:
        """Answers read from the villager's words, where they have not answered themselves.

        In an urgent report a name or number may be the victim's, so only the signs and the
        country are taken from it (unless `tied`: `read_urgent` kept only the recruiter's);
        the officer reads the rest in the story itself.
        """
        rules = self.kit.content.reporting
        urgent = data.get("mode") == "urgent"
        if reading.wrong and (tied or not urgent):
            self._wrong(data, reading.wrong)
            if data.get("phone") in reading.wrong and reading.phone:
                # "eh bkn 0812…, nomornya 0821…" later in the story: the number read before gives way
                data["phone"], data["answers"]["telepon"] = reading.phone, reading.answers["telepon"]
        urgent = urgent and not tied
        for key, value in reading.answers.items():
            if urgent and not (key == "negara" or rules.question(key).kind == "choice"):
                continue
            data["answers"].setdefault(key, value)
        if reading.phone and not data.get("phone") and not urgent:
            data["phone"] = reading.phone

    @staticmethod
    def _wrong(data: dict[str, Any], wrong: tuple[str, ...], replaced: str | None = None,
               by: str | None = None) -> None:
        """Remember the numbers said to be wrong, so the story shows the officer which they are."""
        said = set(data.get("wrong_phones") or []) | set(wrong)
        if replaced and replaced != by:
            said.add(replaced)
        data["wrong_phones"] = sorted(said)

    def aside(self, turn: Turn, entry_id: str) -> None:
        """An FAQ answer given without leaving the report; then the open question again."""
        kit = self.kit
        entry = kit.content.entry(entry_id)
        turn.say(entry.render(kit.office_values(turn.place) if turn.place else None))
        turn.say(kit.msg("back_to_report"))
        self.reask(turn)

    def fear_aside(self, turn: Turn) -> bool:
        """"sy takut nanti agennya tau sy yg lapor": answered with how a report stays secret.

        A fear about the villager, not a fact about the recruiter: never added to the story the
        officer reads. False when the message is not such a fear.
        """
        words = self.kit.words
        text = turn.text
        if not text or turn.payload or SECRECY_ENTRY not in self.kit.content.by_id or not (
                words.within("afraid", text) and words.within("found_out", text)):
            return False
        self.aside(turn, SECRECY_ENTRY)
        return True

    def reask(self, turn: Turn) -> None:
        """The report's open question again, whichever part of the report it is in."""
        filing = self.kit.flows.filing
        if turn.state == "identity":
            filing.ask_identity(turn)
        elif turn.state == "confirm":
            filing.summary(turn)
        elif turn.state == "edit":
            filing.choose_edit(turn)
        elif (step := self.current_step(turn)) is not None:
            self.ask(turn, step)

    def question_aside(self, turn: Turn) -> bool:
        """A question typed mid-report, answered there; then the report's own question again.

        False when the message does not read as a question.
        """
        kit = self.kit
        text = turn.text
        if not text or turn.payload or not kit.flows.menu.looks_like_question(text):
            return False
        match = kit.index.match(text)
        if match.decision is Decision.ANSWER:
            self.aside(turn, match.candidates[0].entry_id)
        elif match.decision is Decision.SUGGEST and match.reason != "weak":
            # The guesses and the report's question in one list, so a number means one thing;
            # the report's own options keep their numbers ("1" is still "Kirim laporan").
            before = len(turn.replies)
            self.reask(turn)
            asked = turn.replies.pop(before) if len(turn.replies) > before else Reply("")
            guesses = tuple(kit.entry_option(c.entry_id) for c in match.candidates)
            turn.say(f"{asked.text}\n\n{kit.msg('question_in_report')}".strip(), asked.options + guesses)
        else:
            turn.say(kit.msg("question_not_now"))
            self.reask(turn)
        return True

    def keep_said(self, turn: Turn, text: str, longer_than: int = 3) -> bool:
        """What a villager typed beyond the question joins the story and is read; True if it was kept.

        A short message is kept when it tells a danger sign ("gk perlu paspor"); other short
        words are most likely a try at the question itself.
        """
        reading = read(text, self.kit.content.reporting, self.kit.words)
        if len(text.split()) <= longer_than and not self.tells_sign(reading):
            return False
        turn.data["story"].append(text)
        self._absorb(turn.data, reading)
        return True

    def _kept(self, turn: Turn, key: str) -> str:
        """"Kept in your report's story" - in an offer check, which files no report, only "noted"."""
        return self.kit.msg(f"{key}_check" if turn.data.get("mode") == "check" else key)

    def tells_sign(self, reading: Reading) -> bool:
        """The words tick a danger sign of the checklist."""
        return any(q.sign.ticked_by(reading.answers.get(q.key))
                   for q in self.kit.content.reporting.signs if q.sign is not None)

    async def _moved(self, turn: Turn) -> bool:
        """"eh salah, desa sy sebenernya sajingan besar": the village is changed, then the story goes on."""
        m = _VILLAGE_FIX.search(turn.text)
        # Only a correction ("salah", "sebenarnya") of a name-long place: "desa sy di sanggau sana
        # banyak yg berangkat" is the story.
        if m is None or len(m.group(1).split()) > 4 or not _CORRECTION.search(turn.text):
            return False
        data = {k: v for k, v in turn.data.items() if k != "options"}
        data["moved"] = True   # back in the story without the report's introduction again
        turn.go("village", then="report", stage="name", keep=data)
        turn.text = m.group(1).strip(" .,!")
        await self.kit.flows.village.handle(turn)
        return True

    async def _story(self, turn: Turn, step: Step) -> None:
        kit = self.kit
        words = kit.words
        done = turn.payload == "ans:selesai" or words.is_("done", turn.text) or words.is_("next", turn.text)
        if done or (not turn.data["story"] and words.is_("skip", turn.text)):
            story = "\n".join(turn.data["story"])
            if story:
                self._read_story(turn.data)
            self._finish(turn, step)
            if story and turn.data["answers"]:
                turn.replies.insert(len(turn.replies) - 1, Reply(self.understood(turn.data)))
            return
        if not turn.text:
            self.ask(turn, step)
            return
        if await self._moved(turn):
            return
        if len(turn.text.split()) <= 12 and self.kit.flows.menu.looks_like_question(turn.text):
            # "bayar brp sih bikin paspor?": answered aside, not told to the officer as the story
            match = self.kit.index.match(turn.text)
            if match.decision is Decision.ANSWER or (match.decision is Decision.SUGGEST
                                                     and match.reason != "weak"):
                self.question_aside(turn)
                return
        total = sum(len(s) for s in turn.data["story"]) + len(turn.text)
        if total > MAX_STORY:
            turn.say(kit.msg("answer_too_long", max=str(MAX_STORY)),
                     (Option(kit.msg("done_word"), "ans:selesai"),))
            return
        turn.data["story"].append(turn.text)
        turn.say(kit.msg("story_noted"), (Option(kit.msg("done_word"), "ans:selesai"),))

    def _checklist_answer(self, turn: Turn, step: Step) -> None:
        kit = self.kit
        signs = kit.content.reporting.signs
        answers = turn.data["answers"]
        payload = turn.payload or ""
        if payload == "sign:done":
            self._finish(turn, step)
            return
        if payload.startswith("sign:"):
            question = next((q for q in signs if q.key == payload[5:]), None)
            if question is not None and question.sign is not None:
                if question.sign.ticked_by(answers.get(question.key)) and turn.message.payload is not None:
                    answers[question.key] = unticked(question)   # tapped again: a tick taken back
                else:
                    answers[question.key] = question.sign.value
                turn.data["picked_here"] = True
            if turn.message.payload is None:
                self._finish(turn, step)   # "3" typed is the whole answer; taps may pick several
            else:
                self.ask(turn, step)
            return
        text = turn.text
        if kit.flows.filing.untick_named(turn):   # "bukan anak2, yg dibawah 18 itu salah"
            self.ask(turn, step)
            return
        lead = _LEADING_NUMBERS.match(text)
        if lead is not None and lead.group(2).split()[0].lower().strip(".,") in _COUNTED:
            lead = None   # "3 orang teman sy juga diajak": a count, not the third sign
        if lead is not None and not _NUMBERS.match(text):
            # "5 ponakan sy baru 16", "1 blm tau yg lain": the numbers pick, the words are kept too.
            numbers = [int(n) for n in re.findall(r"\d+", lead.group(1))]
            if all(1 <= n <= len(signs) for n in numbers):
                _tick(answers, signs, numbers, toggle=False)
                self.keep_said(turn, lead.group(2), longer_than=2)
                self._finish(turn, step)
                return
        if _NUMBERS.match(text):
            picked = [int(n) for n in re.findall(r"\d+", text)]
            if all(1 <= n <= len(signs) + 1 for n in picked):
                # The last number is "none". Changing the answers from the summary, a ticked
                # sign's number takes it off.
                _tick(answers, signs, [n for n in picked if n <= len(signs)],
                      toggle=bool(turn.data.get("editing")))
                self._finish(turn, step)
                return
            turn.say(kit.msg("option_unknown", n=str(len(signs) + 1)))
            self.ask(turn, step)
            return
        words = kit.words
        if words.is_("tidak", text) or words.is_("tidak_tahu", text) or words.is_("skip", text) \
                or words.is_("done", text):
            self._finish(turn, step)
            return
        marked = any(q.sign.ticked_by(answers.get(q.key)) for q in signs if q.sign is not None)
        if words.is_("permission", text):
            # "boleh" answers "may I?", not "which of these happened?": nothing is recorded, asked plainly
            turn.say(kit.msg("checklist_permission_marked" if marked else "checklist_permission"))
            self.ask(turn, step)
            return
        if words.is_("ya", text):
            if marked:
                self._finish(turn, step)   # "ya": the ticks read from the story are right
            else:
                turn.say(kit.msg("checklist_which"))
                self.ask(turn, step)
            return
        if self.question_aside(turn):
            return
        before = dict(answers)
        if self.keep_said(turn, text):
            if answers != before:
                turn.data["picked_here"] = True   # "dia minta duit 2jt" ticks "asked to pay"
            turn.say(self._kept(turn, "said_kept"))
        else:
            turn.say(kit.msg("checklist_unknown"))
        self.ask(turn, step)

    def _choice(self, turn: Turn, step: Step) -> None:
        kit = self.kit
        question = kit.content.reporting.question(step.key)
        chosen = None
        payload = turn.payload or ""
        values = dict(question.options)
        if payload.startswith("ans:") and payload[4:] in values:
            chosen = payload[4:]
        elif turn.text and not payload:
            chosen = kit.words.choose(turn.text, question.phrases())
        if chosen is None and not payload and (kit.words.is_("skip", turn.text)
                                               or kit.words.is_("done", turn.text)):
            self._finish(turn, step)   # "udah": nothing more to say to it, on to the next question
            return
        if chosen is None:
            if self.question_aside(turn):
                return
            if self.keep_said(turn, turn.text):
                if turn.data["answers"].get(question.key):   # the words answered it after all
                    self._finish(turn, step)
                    return
                turn.say(self._kept(turn, "said_kept"))
            else:
                turn.say(kit.msg("choice_unknown", n=str(len(values) + 1)))
            self.ask(turn, step)
            return
        turn.data["answers"][question.key] = chosen
        self._finish(turn, step)

    def _who(self, turn: Turn, step: Step) -> None:
        kit = self.kit
        text = turn.text
        if not text:
            self.ask(turn, step)
            return
        if self.question_aside(turn):
            return
        if len(text) > MAX_ANSWER:
            turn.say(kit.msg("answer_too_long", max=str(MAX_ANSWER)))
            return
        unknown = {"skip": ("@tidak_tahu", "@skip")}
        if kit.words.choose(text, unknown):
            first = re.split(r"[,;]", text)[0].strip()
            if first == text.strip() or not first or kit.words.choose(first, unknown):
                self._finish(turn, step)   # "sy gak tau namanya pak"
                return
            # "tante ani, no hp gk tau": a name, then what they do not know; the name is the answer.
            text = first
        said = read(text, kit.content.reporting, kit.words)
        if self.tells_sign(said) and not said.phone and "perusahaan" not in said.answers:
            # "gk perlu paspor" at "who offered it?": a danger sign told, not a name
            self.keep_said(turn, text)
            if any(turn.data["answers"].get(f) for f in step.fills):   # "Pak Budi minta bayar dulu"
                turn.say(kit.msg("said_kept_story"))
                self._finish(turn, step)
                return
            turn.say(self._kept(turn, "said_kept_question"))
            self.ask(turn, step)
            return
        reading = read_who(text) if len(text.split()) <= 8 else None
        if not reading:
            if self.keep_said(turn, text):   # a story typed here is kept, not refused
                turn.say(kit.msg("said_kept_story"))
                self._finish(turn, step)
                return
            turn.say(kit.msg("who_unknown"))
            self.ask(turn, step)
            return
        for key, value in reading.answers.items():
            turn.data["answers"][key] = value
        if reading.phone:
            self._wrong(turn.data, reading.wrong)
            turn.data["phone"] = reading.phone
        self.keep_said(turn, text, longer_than=6)   # an answer that tells more than was asked
        self._finish(turn, step)

    def _text(self, turn: Turn, step: Step) -> None:
        kit = self.kit
        text = turn.text
        question: Question = kit.content.reporting.question(step.key)
        if not text:
            self.ask(turn, step)
            return
        if self.question_aside(turn):
            return
        if text.isdigit() and len(text) <= 2:
            # A number picked from a list the villager saw earlier, not an answer to this question.
            turn.say(kit.msg("number_not_answer"))
            self.ask(turn, step)
            return
        if len(text) > MAX_ANSWER:
            turn.say(kit.msg("answer_too_long", max=str(MAX_ANSWER)))
            return
        reading = read(text, kit.content.reporting, kit.words) if question.read else None
        if reading is not None and self.tells_sign(reading) and not self._reads_as(question, text):
            # "gk perlu paspor" at "which country?": a danger sign told, not the answer
            self.keep_said(turn, text)
            turn.say(self._kept(turn, "said_kept_question"))
            self.ask(turn, step)
            return
        value = text
        if question.kind == "phone":
            phone = normalize_phone(text)
            if phone is None:
                turn.say(kit.msg("phone_invalid"))
                return
            turn.data["phone"] = phone
        for display, phrases in question.read.items():
            tokens = kit.words.tokens(text)
            if any(says(tokens, kit.words.tokens(p)) for p in phrases):
                # "kamboja" stays; "di kuching" -> "Malaysia (di kuching)"; a whole sentence -> "Kamboja"
                if len(text.split()) > 4:
                    value = display
                elif display.lower() not in text.lower():
                    value = f"{display} ({text})"
                break
        turn.data["answers"][question.key] = value
        self.keep_said(turn, text, longer_than=6)   # an answer that tells more than was asked
        self._finish(turn, step)

    def _reads_as(self, question: Question, text: str) -> bool:
        """The text names one of the answers the question knows ("di kuching" is Malaysia)."""
        words = self.kit.words
        tokens = words.tokens(text)
        return any(says(tokens, words.tokens(p)) for phrases in question.read.values() for p in phrases)

    def edit(self, turn: Turn, key: str) -> None:
        """Ask one question again from the summary; its answer goes back to the summary."""
        step = next((s for s in self._steps("report") if key in s.fills), None) or \
            self.step_by_key("report", key)
        if step is None:
            self.kit.flows.filing.summary(turn)
            return
        data = dict(turn.data)
        data["editing"] = True
        data["step"] = step.key
        if step.kind == "story":
            data["story"] = []
        turn.go("report", **{k: v for k, v in data.items() if k != "options"})
        self.ask(turn, step)

    def step_by_key(self, mode: str, key: str) -> Step | None:
        step = next((s for s in self._steps(mode) if s.key == key), None)
        if step is None:
            question = next((q for q in self.kit.content.reporting.questions if q.key == key), None)
            if question is not None and question.ask:
                step = Step(question.key, question.kind, question.ask, (question.key,))
        return step

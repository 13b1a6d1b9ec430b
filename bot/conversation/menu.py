"""The menu, topics and FAQ answers, the way to a person, and what comes outside any flow."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

from bot.casework import MESSAGE_FLAG, written_outcome
from bot.content import FaqEntry
from bot.conversation.reading import read
from bot.conversation.turn import Kit, Turn
from bot.faq import Decision
from bot.models import Option
from bot.store import FaqDecision, NewReport, Report
from bot.textnorm import fold

MENU = ("ask", "topics", "check", "report", "village", "status")
TOPICS = ("paspor", "kerja", "bahaya", "bantuan")
_PHONE = re.compile(r"\+?\d[\d\s().-]{4,}\d")
# "dirahasiain gk? 😥": a question mark with only emoji or punctuation after it ends a question.
_ENDS_ASKING = re.compile(r"\?[^\w]*$")
# A message this long that reads like a story about an offer is kept for a report it may start.
STORY_WORDS = 12
_QUESTION_WORDS = frozenset({"apa", "bagaimana", "berapa", "kapan", "di mana", "dimana", "mana", "kenapa",
                             "siapa", "apakah", "bisakah", "bolehkah", "gimana"})
# "sabtu buka gak": a question that ends with "or not"
_ASKING_LAST = frozenset({"gak", "ga", "gk", "nggak", "ngga", "enggak", "tidak", "tdk", "ndak", "nda", "kah",
                          "blm", "belum"})
# An officer's question is answered for this long after it came; a reply in several messages
# keeps going to the case while they follow each other this closely.
_REPLY_WINDOW = dt.timedelta(days=3)
_REPLY_GAP = dt.timedelta(minutes=15)
# Shorter than this, a message that is not a question is a word or two, not news for the officer.
_NEWS_WORDS = 3
# After "petugas", what is written within this time is the message for the office.
_PERSON_WINDOW = dt.timedelta(minutes=30)
# Longer than this, a message after an answer is a new question, not "where I am" for that answer.
_FOLLOW_UP_WORDS = 8


@dataclasses.dataclass(frozen=True)
class OpenQuestions:
    """Officers' questions to this chat, the question asked last at the end."""

    waiting: tuple[tuple[Report, str], ...]      # not answered, or being answered (minutes ago)
    unanswered: tuple[tuple[Report, str], ...]   # no reply at all yet


class MenuFlow:
    def __init__(self, kit: Kit) -> None:
        self.kit = kit

    def show(self, turn: Turn, intro: str | None = None) -> None:
        turn.go("menu")
        options = tuple(Option(self.kit.msg(f"menu_{k}"), f"menu:{k}") for k in MENU)
        if self.kit.flows.intake.draft_of(turn) is not None:
            options += (Option(self.kit.msg("menu_resume"), "report:resume"),)
        turn.say(intro or self.kit.msg("menu"), options)

    async def choice(self, turn: Turn, choice: str) -> None:
        flows = self.kit.flows
        if choice == "ask":
            turn.go("menu")
            turn.say(self.kit.msg("ask_prompt"), (self.kit.menu_option(),))
        elif choice == "topics":
            self.topics(turn)
        elif choice == "check":
            await flows.offer_check.start(turn)
        elif choice == "report":
            await flows.intake.start_report(turn)
        elif choice == "village":
            flows.village.current(turn)
        elif choice == "status":
            await flows.status.mine(turn)
        else:
            self.show(turn)

    def topics(self, turn: Turn) -> None:
        turn.go("menu")
        turn.say(self.kit.msg("topics_prompt"), tuple(
            Option(self.kit.msg(f"topic_{t}"), f"topic:{t}") for t in TOPICS) + (self.kit.menu_option(),))

    def topic(self, turn: Turn, topic: str) -> None:
        entries = [e for e in self.kit.content.entries if e.category == topic]
        turn.say(self.kit.msg("topic_pick"), tuple(
            Option(e.question, f"faq:{e.id}") for e in entries) + (self.kit.menu_option(),))

    def person(self, turn: Turn) -> None:
        """A way to a person: the office of the villager's place, or the national channels."""
        kit = self.kit
        turn.go("menu")
        kp2mi = kit.content.danger.line("kp2mi")
        national = kit.msg("person_national", kp2mi=kp2mi.text if kp2mi else None)
        if turn.place is None:
            # The village first, asked at once: the message they write next goes to its office.
            kit.flows.village.prompt(turn, then="person", intro=f"{kit.msg('person_general')}\n\n{national}")
            return
        office = kit.settings.office(turn.place.office_id)
        values = kit.office_values(turn.place)
        # The welcome's "Ketik petugas": the message they write next goes to the office's officers.
        known = ("kantor_nama", "kantor_alamat", "kantor_telepon", "kantor_jam", "petugas_nama")
        lines = [kit.msg("person_write", kantor_nama=office.name),
                 kit.msg("person_office", **{k: values.get(k) for k in known})]
        if "kantor_telepon" not in values:
            lines.append(kit.msg("person_phone_unknown"))
        contacts = [o for o in office.officers if o.public_contact]
        if contacts:
            lines.append(kit.msg("person_officers", petugas="\n".join(
                kit.msg("person_officer_line", nama=o.name, kontak=o.public_contact) for o in contacts)))
        lines.append(national)
        turn.go("person_message", since=turn.now.isoformat())
        turn.say("\n\n".join(lines), (Option(kit.msg("menu_report"), "menu:report"), kit.menu_option()))

    async def to_officer(self, turn: Turn) -> None:
        """The message written after "petugas": sent to the office as a case its officers answer with CATATAN.

        A person in danger gets the help lines first; a word or two is asked again, not sent.
        """
        kit = self.kit
        if turn.place is None or kit.words.is_("person", turn.text):   # "petugas" again: the same way shown
            self.person(turn)
            return
        if await kit.flows.emergency.check(turn):
            return
        words, text = kit.words, turn.text
        since = turn.data.get("since")
        if since is None or turn.now - dt.datetime.fromisoformat(str(since)) > _PERSON_WINDOW:
            turn.go("menu")   # days later: a question is a question again, not a message to file
            await self.ask(turn)
            return
        thanks = words.choose(text, {"thanks": ("@thanks",)})
        if thanks or words.is_("ya", text) or words.is_("ack", text):
            turn.go("menu")   # "makasih pak" after reading the office's details: nothing to file
            turn.say(kit.msg("thanks_reply" if thanks else "person_nothing_sent"), (kit.menu_option(),))
            return
        said = read(text, kit.content.reporting, words)
        if kit.flows.intake.tells_sign(said) or said.phone or {"nama", "perusahaan"} & said.answers.keys():
            # A recruiter or a danger sign: a report (risk, signs, linked with others), not a note.
            turn.say(kit.msg("person_is_report"))
            await kit.flows.intake.start_report(turn, story=text)
            return
        if not written_outcome(text):
            turn.say(kit.msg("person_too_short"), (kit.menu_option(),))
            return
        place = turn.place
        new = NewReport(
            office_id=place.office_id, village_id=place.village_id or "", risk="rendah", flags=(MESSAGE_FLAG,),
            answers={"cerita": turn.text}, media=(), recruiter_phone=None, recruiter_name=None,
            recruiter_company=None, reporter_key=turn.sender.key, contactable=True,
            place=None if place.listed else place.to_json())
        # Filed by end_turn, in the turn's transaction; "{case_no}" is replaced with its number.
        turn.report = new
        turn.alerts = kit.casework.message_alerts(new)
        turn.go("menu", reporter=True)   # the officer's answer may ask something: the reply goes back
        turn.say(kit.msg("person_sent", case_no="{case_no}",
                         kantor_nama=kit.settings.office(place.office_id).name), (kit.menu_option(),))

    def media_outside(self, turn: Turn) -> None:
        """A photo or a voice note with no report going on: offer what can be done with it."""
        kit = self.kit
        media = [m.stored for m in turn.message.media]
        voice = all(m.content_type.startswith("audio") for m in turn.message.media)
        turn.go("media_offer", media=media, caption=turn.text[:2000])
        if voice:
            turn.say(kit.msg("voice_not_yet"), (
                Option(kit.msg("media_to_report"), "media:report"), kit.menu_option()))
        else:
            turn.say(kit.msg("media_offer"), (
                Option(kit.msg("media_to_check"), "media:check"),
                Option(kit.msg("media_to_report"), "media:report"), kit.menu_option()))

    async def media_choice(self, turn: Turn, choice: str) -> None:
        media = list(turn.data.get("media") or [])
        caption = str(turn.data.get("caption") or "")
        if turn.state != "media_offer" or choice not in ("report", "check"):
            self.show(turn)
            return
        if choice == "report":
            await self.kit.flows.intake.start_report(turn, story=caption, media=media)
        else:
            await self.kit.flows.offer_check.start(turn, story=caption)

    def looks_like_question(self, text: str) -> bool:
        folded = fold(text)
        words = set(self.kit.index.normalizer.standard_words(text))
        typed = folded.split()
        return bool(_ENDS_ASKING.search(text)) or bool(words & _QUESTION_WORDS) or folded.startswith("syarat") \
            or (len(typed) >= 2 and typed[-1] in _ASKING_LAST)

    async def ask(self, turn: Turn) -> None:
        """A question for the FAQ."""
        kit = self.kit
        text = turn.text
        match = kit.index.match(text)
        office_id = turn.place.office_id if turn.place else None
        if match.decision is not Decision.ANSWER and (abroad := self._abroad_follow_up(turn)) is not None:
            turn.faq = FaqDecision(Decision.ANSWER.value, abroad.id, office_id)
            self.answer(turn, abroad)
            return
        if match.reason != "chitchat":
            turn.faq = FaqDecision(match.decision.value,
                                   match.best if match.decision is Decision.ANSWER else None, office_id)
        question = self.looks_like_question(text)
        if match.decision is Decision.SUGGEST and match.reason != "weak" and question \
                and len(match.candidates) == 1:
            match = dataclasses.replace(match, decision=Decision.ANSWER)   # "apa itu tppo": its one answer
        to_report, waiting = await self._to_my_report(turn, match.decision, question)
        reading_offer = () if to_report else self._story_offer(turn)
        if to_report and not question and (match.decision is not Decision.ANSWER or waiting):
            # Most likely more for the officers (an answer to their question), not a new question;
            # with an officer waiting, even words the FAQ could answer ("umur 19 pak").
            guesses = tuple(kit.entry_option(c.entry_id) for c in match.candidates) \
                if match.decision is not Decision.NONE else ()
            turn.go("menu", **self._kept_story(turn))
            turn.say(kit.msg("add_to_report_ask"), to_report + guesses + (kit.menu_option(),))
            return
        if match.decision is Decision.ANSWER:
            # The answer first; the way to the officer, if any, after its own options.
            self.answer(turn, kit.content.entry(match.candidates[0].entry_id), extra=reading_offer,
                        after=to_report)
        elif match.decision is Decision.SUGGEST and match.reason != "weak":
            turn.go("menu", **self._kept_story(turn))
            turn.say(kit.msg("faq_suggest"), reading_offer + tuple(
                kit.entry_option(c.entry_id) for c in match.candidates) + to_report + (kit.menu_option(),))
        elif match.reason == "chitchat":
            self.show(turn)
        else:
            # Kept for editors without the sender, and without any number that looks like a phone.
            turn.unanswered = fold(_PHONE.sub(" # ", text))
            values = kit.office_values(turn.place)
            if turn.place is not None:
                contact = kit.msg("faq_none_office", kantor_nama=values.get("kantor_nama"),
                                  kantor_telepon=values.get("kantor_telepon"))
            else:
                contact = kit.msg("faq_none_general")
            guesses = tuple(kit.entry_option(c.entry_id) for c in match.candidates
                            if c.entry_id != "kontak-darurat") if match.decision is Decision.SUGGEST else ()
            reply = f"{kit.msg('faq_none')}\n\n{contact}"
            if guesses:
                reply += f"\n\n{kit.msg('faq_maybe')}"
            turn.go("menu", **self._kept_story(turn))
            turn.say(reply, reading_offer + guesses + (
                kit.entry_option("kontak-darurat"), kit.menu_option()))

    def _abroad_follow_up(self, turn: Turn) -> FaqEntry | None:
        """"sy skrg msh di kuching" right after an answer with an `abroad` entry: that entry."""
        kit, text = self.kit, turn.text
        last = kit.content.by_id.get(str(turn.data.get("answered") or ""))
        if last is None or last.abroad is None or len(text.split()) > _FOLLOW_UP_WORDS:
            return None
        if not (kit.danger.place_lines(text) or kit.words.within("abroad", text)):
            return None
        return kit.content.entry(last.abroad)

    def acknowledge(self, turn: Turn) -> None:
        """"ok", "iya", "wkwk" with nothing open: a short word back, nothing asked."""
        turn.go("menu")
        turn.say(self.kit.msg("ack_reply"), (self.kit.menu_option(),))

    async def _open_cases(self, turn: Turn) -> list[Report]:
        """The open cases this chat filed with its name, oldest first."""
        if not turn.data.get("reporter"):
            return []   # never filed a contactable report from this chat: nothing to add to
        return [r for r in await self.kit.store.reports_of(turn.sender.key) if r.status != "ditutup"]

    async def _open_case(self, turn: Turn) -> Report | None:
        """The newest open case this chat filed with its name, if any."""
        open_cases = await self._open_cases(turn)
        return open_cases[-1] if open_cases else None

    async def open_questions(self, turn: Turn) -> OpenQuestions:
        """The cases whose officer asked the villager something not yet answered (or being answered).

        Each with the officer's question, the question asked last at the end. The signal that a
        message is a reply: the case's last word is an officer's question sent to this chat in the
        last days, or the villager is still writing the reply minutes later. Every open case is
        looked at, not only the newest: the officer who asked may be on an older case, of another
        office.
        """
        awaited: list[tuple[dt.datetime, Report, str, bool]] = []
        cases = await self._open_cases(turn)
        checked = str(turn.data.get("code_case") or "")
        if checked and checked not in {r.case_no for r in cases}:
            # An anonymous case whose officer's question was just read with its check code.
            report = await self.kit.store.report_by_case(checked)
            if report is not None and report.status != "ditutup":
                cases.append(report)
        for report in cases:
            if not report.public_note:
                continue
            talk = [e for e in await self.kit.store.case_events(report.id) if e.kind in ("catatan", "tambahan")]
            asked = [i for i, e in enumerate(talk) if e.kind == "catatan"]
            if not asked:
                continue
            note = talk[asked[-1]]
            if not ("?" in note.text or self.looks_like_question(note.text)):
                continue
            if turn.now - note.at > _REPLY_WINDOW:
                continue
            if note is talk[-1] or turn.now - talk[-1].at <= _REPLY_GAP:
                awaited.append((note.at, report, note.text, note is talk[-1]))
        awaited.sort(key=lambda a: a[0])   # the question asked last, last
        return OpenQuestions(tuple((report, text) for _, report, text, _ in awaited),
                             tuple((report, text) for _, report, text, unanswered in awaited if unanswered))

    async def reply_to_officer(self, turn: Turn, report: Report) -> None:
        """A reply to the officer's question: to the case at once, no detour."""
        turn.data["pending_info"] = turn.text
        await self.add_info(turn, report.case_no)

    def which_case(self, turn: Turn, awaited: list[tuple[Report, str]]) -> None:
        """Several officers wait for an answer: the villager picks the case; nothing is sent before."""
        kit = self.kit
        text = turn.text
        if turn.data.get("which") and turn.data.get("pending_info"):
            text = f"{turn.data['pending_info']}\n{text}"   # typed on instead of picking: kept together
        turn.go("menu", **{**self._kept_story(turn), "pending_info": text[:4000]}, which=True)
        questions = "\n".join(kit.msg("question_waiting_line", case_no=r.case_no, pertanyaan=q)
                              for r, q in reversed(awaited))
        turn.say(kit.msg("which_case", pertanyaan=questions), tuple(
            Option(kit.msg("which_case_option", case_no=r.case_no,
                           kantor_nama=kit.settings.office(r.office_id).name), f"addinfo:{r.case_no}")
            for r, _ in reversed(awaited)) + (kit.menu_option(),))

    def question_waiting(self, turn: Turn, awaited: list[tuple[Report, str]]) -> None:
        """A greeting while an officer waits for an answer: greeted, and reminded of the question."""
        kit = self.kit
        turn.go("menu")
        questions = "\n".join(kit.msg("question_waiting_line", case_no=r.case_no, pertanyaan=q)
                              for r, q in awaited)
        turn.say(kit.msg("question_waiting", pertanyaan=questions), (kit.menu_option(),))

    async def closed_case_talk(self, turn: Turn) -> bool:
        """"trs agennya gmn pak?" soon after a case was closed: said plainly it is closed, and what now."""
        kit = self.kit
        if not turn.data.get("reporter") or not kit.words.within("case_talk", turn.text):
            return False
        closed = [r for r in await kit.store.reports_of(turn.sender.key)
                  if r.status == "ditutup" and r.closed_at is not None and turn.now - r.closed_at <= _REPLY_WINDOW]
        if not closed:
            return False
        report = closed[-1]
        match = kit.index.match(turn.text)
        # The FAQ's reading stays one tap away: the question may be a general one after all.
        guesses = tuple(kit.entry_option(c.entry_id) for c in match.candidates[:2]) \
            if match.decision is not Decision.NONE else ()
        turn.go("menu")
        turn.say(kit.msg("case_closed_talk", case_no=report.case_no, hasil=report.outcome or "-",
                         kantor_nama=kit.settings.office(report.office_id).name), (
            Option(kit.msg("case_closed_person"), "person:"),
            Option(kit.msg("case_closed_report"), "menu:report"), *guesses, kit.menu_option()))
        return True

    async def _to_my_report(self, turn: Turn, decision: Decision, question: bool
                            ) -> tuple[tuple[Option, ...], bool]:
        """A reporter writing more for their case: one tap sends it there (and whether an officer waits).

        Offered for news (a phone number, or a sentence that is not a question); a question the
        FAQ answers, or a word or two, is not news for the officer.
        """
        text = turn.text
        awaited = [r for r, _ in (await self.open_questions(turn)).waiting]
        if awaited and not self.kit.words.is_("thanks", text):
            # An officer waits for an answer: whatever it is, it may be for them (newest question first).
            turn.data["pending_info"] = text
            return tuple(Option(self.kit.msg("add_to_report", case_no=r.case_no), f"addinfo:{r.case_no}")
                         for r in reversed(awaited)), True
        report = await self._open_case(turn)
        if report is None:
            return (), False
        news = bool(_PHONE.search(text)) or (not question and len(text.split()) >= _NEWS_WORDS) \
            or len(text.split()) >= STORY_WORDS
        if not news or (decision is Decision.ANSWER and question and len(text.split()) < STORY_WORDS):
            return (), False
        turn.data["pending_info"] = text
        return (Option(self.kit.msg("add_to_report", case_no=report.case_no), f"addinfo:{report.case_no}"),), False

    async def add_info(self, turn: Turn, case_no: str) -> None:
        """The message kept a turn ago goes to the reporter's own open case."""
        kit = self.kit
        text = str(turn.data.get("pending_info") or "")
        report = await kit.store.report_by_case(case_no)
        # An anonymous reporter's own case is known only by the check code typed in this chat just now.
        checked = turn.data.get("code_case") == case_no
        if not text or report is None or report.status == "ditutup" or not (
                report.reporter_key == turn.sender.key or checked):
            self.show(turn)
            return
        turn.case_steps.append(kit.casework.info_step(report, text))
        turn.go("menu", **({"code_case": case_no} if checked else {}))
        turn.say(kit.msg("info_sent", case_no=case_no), (kit.menu_option(),))

    def _kept_story(self, turn: Turn) -> dict[str, str]:
        kept = {"story": turn.text} if len(turn.text.split()) >= STORY_WORDS else {}
        if turn.data.get("code_case"):
            kept["code_case"] = str(turn.data["code_case"])   # a tap may still send it to that case
        if turn.data.get("pending_info"):
            kept["pending_info"] = str(turn.data["pending_info"])
        return kept

    def _story_offer(self, turn: Turn) -> tuple[Option, ...]:
        """A long message that already tells of an offer: one tap makes it a report."""
        if len(turn.text.split()) < STORY_WORDS:
            return ()
        reading = read(turn.text, self.kit.content.reporting, self.kit.words)
        if len(reading.answers) < 2:
            return ()
        return (Option(self.kit.msg("story_to_report"), "story:report"),
                Option(self.kit.msg("story_to_check"), "story:check"))

    def answer(self, turn: Turn, entry: FaqEntry, extra: tuple[Option, ...] = (),
               after: tuple[Option, ...] = ()) -> None:
        kit = self.kit
        values = kit.office_values(turn.place) if turn.place is not None else None
        related = tuple(kit.entry_option(r) for r in entry.related[:3])
        # Remembered for one message: "sy di kuching" next may need its `abroad` entry.
        turn.go("menu", answered=entry.id, **self._kept_story(turn))
        if entry.placeholders and values is None:
            turn.say(entry.render(None))
            kit.flows.village.prompt(turn, then=f"faq:{entry.id}")
            return
        turn.say(entry.render(values), extra + related + after + (kit.menu_option(),))

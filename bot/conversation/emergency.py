"""A person in danger now: help lines at once, before any FAQ answer, and an urgent report in one tap."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterable

from bot.config import Village
from bot.conversation.reading import read_urgent
from bot.conversation.turn import Kit, Turn
from bot.danger import HelpLine
from bot.models import Option
from bot.store import Report
from bot.textnorm import fold
from bot.villages import Place, find_village, place_of

log = logging.getLogger(__name__)
MAX_STORY = 4000
# An urgent case of this chat's own office filed this recently is the same emergency still going on:
# a new cry is added to it first. Any older open report comes after a new urgent report.
SAME_EMERGENCY = dt.timedelta(days=1)
# After an urgent report sent before the village was known, messages are added to it this long.
FOLLOW_UP = dt.timedelta(days=1)
# "asal sy dr desa semuntai", "sy di sungai batu": the words after which a village's name may stand.
_PLACE_WORDS = frozenset({"desa", "kampung", "kampong", "dusun", "asal", "dari", "dr", "di", "tinggal"})
# The help lines for anyone, wherever they are: police, KP2MI, Kemlu.
_GENERAL_HELP = ("polisi", "kp2mi", "kemlu")


def _help_lines(kit: Kit, keys: Iterable[str]) -> tuple[HelpLine, ...]:
    """The content's help lines of `keys`, in that order (a key the content lacks left out)."""
    return tuple(line for line in (kit.content.danger.line(k) for k in keys) if line)


def _listed(lines: Iterable[HelpLine]) -> str:
    return "\n".join(f"- {line.text}" for line in lines)


def _village_named(kit: Kit, text: str) -> Village | None:
    """A Desa Imigrasi village a message names after a place word, if any (typos forgiven a little)."""
    for clause in re.split(r"[,.;!?\n]", text):
        words = fold(clause).split()
        for i, word in enumerate(words):
            if word not in _PLACE_WORDS:
                continue
            for n in (3, 2, 1):
                if i + n < len(words) and (village := find_village(
                        kit.settings, " ".join(words[i + 1:i + 1 + n]), cutoff=88.0)) is not None:
                    return village
    return None


class EmergencyFlow:
    def __init__(self, kit: Kit) -> None:
        self.kit = kit

    async def check(self, turn: Turn) -> bool:
        """Answer a message that shows a person in danger (or only cries for help); False otherwise."""
        kit = self.kit
        alarm = kit.danger.detect(turn.text)
        plea = alarm is None and kit.words.is_("plea", turn.text)   # "tolong", "tolong cepat" alone
        if alarm is None and not plea:
            return False
        if alarm is not None:
            log.info("danger recognised signs=%s", ",".join(alarm.signs))
        lines = alarm.help if alarm is not None else _help_lines(kit, _GENERAL_HELP)
        await self._reply(turn, lines, [turn.text], "danger_reply" if alarm else "danger_plea")
        return True

    def comfort(self, turn: Turn) -> bool:
        """A crying or frightened emoji alone ("😭😭😭"): asked gently what happened; False otherwise.

        Not an urgent report yet (there is nothing to send): the way to report, the help lines,
        and whatever they write next is read as anywhere (a person in danger gets the alarm).
        """
        kit = self.kit
        if not kit.words.emoji_among("sad", turn.text):
            return False
        turn.go("menu")
        turn.say(kit.msg("danger_sad", lines=_listed(_help_lines(kit, _GENERAL_HELP))),
                 (Option(kit.msg("menu_report"), "menu:report"), kit.menu_option()))
        return True

    async def _reply(self, turn: Turn, lines: tuple[HelpLine, ...], story: list[str], key: str) -> None:
        kit = self.kit
        help_lines = _listed(lines)
        turn.go("danger", urgent_story=story, help=[line.key for line in lines])
        urgent = (Option(kit.msg("danger_send"), "urgent:send"), Option(kit.msg("danger_more"), "urgent:report"))
        options: tuple[Option, ...] = urgent
        open_case = await self._open_case(turn)
        if open_case is not None:
            turn.data["pending_info"] = "\n".join(story)
            add = Option(kit.msg("add_to_report", case_no=open_case.case_no), f"addinfo:{open_case.case_no}")
            # An urgent case sent from here a moment ago: this cry belongs to it. An older report
            # (a job offer weeks ago) is offered too, but a new urgent report comes first.
            same = "darurat" in open_case.flags and turn.now - open_case.created_at < SAME_EMERGENCY
            options = (add, *urgent) if same else (urgent[0], add, urgent[1])
        turn.say(kit.msg(key, lines=help_lines), (*options, kit.menu_option()))

    def _office_id(self, turn: Turn) -> str:
        """The office an urgent report from this chat goes to now."""
        if turn.place is not None:
            return turn.place.office_id
        settings = self.kit.settings
        return (settings.regional_office or settings.offices[0]).id

    async def _open_case(self, turn: Turn) -> Report | None:
        """The villager's newest open report with the office this message would go to, if any."""
        if not turn.data.get("reporter"):
            return None
        office = self._office_id(turn)
        reports = [r for r in await self.kit.store.reports_of(turn.sender.key)
                   if r.status != "ditutup" and r.office_id == office]
        return reports[-1] if reports else None

    async def more(self, turn: Turn) -> None:
        """More short messages after the help lines ("di sibu", "hp mau diambil"): kept for the report."""
        kit = self.kit
        if turn.data.get("sent"):
            await self._after_sent(turn)
            return
        choice = self._typed_choice(turn.text)
        if choice is not None:   # "kirim", "keterangan lebih lengkap": the option, not more story
            await self.send(turn, detailed=choice == "more")
            return
        story = [*list(turn.data.get("urgent_story") or []), turn.text][-20:]
        lines = _help_lines(kit, turn.data.get("help") or [])
        alarm = kit.danger.detect(turn.text)
        new = tuple(line for line in alarm.help if line not in lines) if alarm is not None else ()
        turn.say(kit.msg("danger_noted"))
        # The help lines again only for a new cry for help: a wall of text at every message (where
        # they are, who took them) buries the options.
        await self._reply(turn, lines + new, story, "danger_reply_again" if alarm is not None else "danger_choose")

    def _typed_choice(self, text: str) -> str | None:
        """An option of the danger reply typed out: "send" ("kirim", "kirim laporan darurat"), "more"."""
        kit = self.kit
        typed = set(kit.words.normalizer.standard_words(text))
        if not typed:
            return None
        more = set(kit.words.normalizer.standard_words(kit.msg("danger_more")))
        send = set(kit.words.normalizer.standard_words(kit.msg("danger_send")))
        if len(typed) >= 2 and typed <= more and "lengkap" in typed:
            return "more"
        if kit.words.is_("skip_rest", text) or ("kirim" in typed and typed <= send):
            return "send"
        return None

    async def send(self, turn: Turn, detailed: bool) -> None:
        """The urgent report: sent at once with the villager's words, or with a few more answers."""
        kit = self.kit
        raw = turn.data.get("urgent_story") or ""
        story = "\n".join(raw) if isinstance(raw, list) else str(raw)
        help_keys = list(turn.data.get("help") or [])
        intake = kit.flows.intake
        # The job, the wage, and the recruiter where the words tie a name or number to one; the
        # rest of a name or number may be the victim's, and stays in the story for the officer.
        reading = read_urgent(story, kit.content.reporting, kit.words)
        if detailed:
            await intake.start_report(turn, story=story[:MAX_STORY], urgent=True, answers=reading.answers,
                                      phone=reading.phone)
            return
        data = intake.new("urgent", turn, story=story[:MAX_STORY], urgent=True)
        for key, value in reading.answers.items():
            data["answers"].setdefault(key, value)
        data["phone"] = data.get("phone") or reading.phone
        data.update(contactable=True, send_now=True)
        turn.go("confirm", **data)
        if turn.place is None:
            # Sent now, not after questions: the regional office sees every office's cases.
            regional = kit.settings.regional_office or kit.settings.offices[0]
            await kit.flows.filing.send(turn, place=Place("", "", "", regional.id))
            # The villager is asked where they are: what they write next goes to this report.
            turn.go("danger", sent=turn.now.isoformat(), help=help_keys)
            turn.say(kit.msg("danger_sent_regional"))
            return
        await kit.flows.filing.send(turn)

    async def _after_sent(self, turn: Turn) -> None:
        """A message after an urgent report sent to the regional office: added to it, its place read."""
        kit = self.kit
        words, text = kit.words, turn.text
        sent = dt.datetime.fromisoformat(str(turn.data["sent"]))
        help_keys = list(turn.data.get("help") or [])
        report = await self._newest_open(turn, sent)
        if report is not None and turn.now - sent <= FOLLOW_UP and words.emoji_among("sad", text):
            # "😭😭" just after the urgent report: heard, and what they write next still goes to it.
            police = _listed(_help_lines(kit, ("polisi",)))
            turn.say(kit.msg("danger_sad_sent", case_no=report.case_no, lines=police), (kit.menu_option(),))
            return
        if report is None or turn.now - sent > FOLLOW_UP or kit.flows.menu.looks_like_question(text) or any(
                words.is_(name, text) for name in ("ya", "tidak", "tidak_tahu", "thanks")) or \
                set(words.normalizer.standard_words(text)) <= words.filler:
            # A question, a thank-you or an "ok" is no news for the officer: answered as anywhere.
            turn.go("menu")
            if words.choose(text, {"thanks": ("@thanks",)}):
                turn.say(kit.msg("thanks_reply"), (kit.menu_option(),))
            elif not await self.check(turn):
                await kit.flows.menu.ask(turn)
            return
        turn.case_steps.append(kit.casework.info_step(report, text))
        log.info("urgent report follow-up added case=%s", report.case_no)
        said = [kit.msg("danger_added", case_no=report.case_no)]
        village = _village_named(kit, text)
        if village is not None and turn.place is None:
            # Their village from now on (the next report goes to its office); they can change it.
            turn.place = place_of(village)
            office = kit.settings.office(village.office_id).name
            said.append(kit.msg("danger_village_read", desa_nama=village.name, kantor_nama=office))
        shown = {line.key for line in _help_lines(kit, help_keys)}
        alarm = kit.danger.detect(text)
        new = [line for line in (*kit.danger.place_lines(text), *(alarm.help if alarm else ()))
               if line.key not in shown]
        new = [line for i, line in enumerate(new) if line not in new[:i]]
        if new:
            said.append(kit.msg("danger_more_help", lines=_listed(new)))
        turn.go("danger", sent=turn.data["sent"], help=help_keys + [line.key for line in new])
        turn.say("\n\n".join(said), (kit.menu_option(),))

    async def _newest_open(self, turn: Turn, since: dt.datetime) -> Report | None:
        """The urgent report this chat sent at `since`, while it is open."""
        reports = [r for r in await self.kit.store.reports_of(turn.sender.key)
                   if r.status != "ditutup" and r.created_at >= since - dt.timedelta(minutes=1)]
        return reports[-1] if reports else None

"""A person in danger now: help lines at once, before any FAQ answer, and an urgent report in one tap."""

from __future__ import annotations

import logging

from bot.conversation.turn import Kit, Turn
from bot.danger import HelpLine
from bot.models import Option
from bot.villages import Place

log = logging.getLogger(__name__)
MAX_STORY = 4000


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
        lines = alarm.help if alarm is not None else tuple(
            line for line in (kit.content.danger.line(k) for k in ("polisi", "kp2mi", "kemlu")) if line)
        await self._reply(turn, lines, [turn.text], "danger_reply" if alarm else "danger_plea")
        return True

    async def _reply(self, turn: Turn, lines: tuple[HelpLine, ...], story: list[str], key: str) -> None:
        kit = self.kit
        help_lines = "\n".join(f"- {line.text}" for line in lines)
        turn.go("danger", urgent_story=story, help=[line.key for line in lines])
        options: tuple[Option, ...] = ()
        open_case = await self._open_case(turn)
        if open_case is not None:
            # A report is already with the officers: this message belongs to it first.
            turn.data["pending_info"] = "\n".join(story)
            options += (Option(kit.msg("add_to_report", case_no=open_case), f"addinfo:{open_case}"),)
        options += (Option(kit.msg("danger_send"), "urgent:send"), Option(kit.msg("danger_more"), "urgent:report"),
                    kit.menu_option())
        turn.say(kit.msg(key, lines=help_lines), options)

    async def _open_case(self, turn: Turn) -> str | None:
        if not turn.data.get("reporter"):
            return None
        reports = [r for r in await self.kit.store.reports_of(turn.sender.key) if r.status != "ditutup"]
        return reports[-1].case_no if reports else None

    async def more(self, turn: Turn) -> None:
        """More short messages after the help lines ("di sibu", "hp mau diambil"): kept for the report."""
        kit = self.kit
        story = [*list(turn.data.get("urgent_story") or []), turn.text][-20:]
        lines = tuple(line for line in (kit.content.danger.line(k) for k in turn.data.get("help") or []) if line)
        alarm = kit.danger.detect(turn.text)
        if alarm is not None:
            lines += tuple(line for line in alarm.help if line not in lines)
        turn.say(kit.msg("danger_noted"))
        await self._reply(turn, lines, story, "danger_reply_again")

    async def send(self, turn: Turn, detailed: bool) -> None:
        """The urgent report: sent at once with the villager's words, or with a few more answers."""
        kit = self.kit
        raw = turn.data.get("urgent_story") or ""
        story = "\n".join(raw) if isinstance(raw, list) else str(raw)
        intake = kit.flows.intake
        if detailed:
            await intake.start_report(turn, story=story[:MAX_STORY], urgent=True)
            return
        data = intake.new("urgent", turn, story=story[:MAX_STORY], urgent=True)
        data.update(contactable=True, send_now=True)
        turn.go("confirm", **data)
        if turn.place is None:
            # Sent now, not after questions: the regional office sees every office's cases.
            regional = kit.settings.regional_office or kit.settings.offices[0]
            await kit.flows.filing.send(turn, place=Place("", "", "", regional.id))
            turn.say(kit.msg("danger_sent_regional"))
            return
        await kit.flows.filing.send(turn)

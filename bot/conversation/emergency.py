"""A person in danger now: help lines at once, before any FAQ answer, and an urgent report in one tap."""

from __future__ import annotations

import logging

from bot.conversation.turn import Kit, Turn
from bot.models import Option

log = logging.getLogger(__name__)


class EmergencyFlow:
    def __init__(self, kit: Kit) -> None:
        self.kit = kit

    def check(self, turn: Turn) -> bool:
        """Answer a message that shows a person in danger; False when it shows none."""
        kit = self.kit
        alarm = kit.danger.detect(turn.text)
        if alarm is None:
            return False
        log.info("danger recognised signs=%s", ",".join(alarm.signs))
        lines = "\n".join(f"- {line.text}" for line in alarm.help)
        turn.go("menu", urgent_story=turn.text[:4000])
        turn.say(kit.msg("danger_reply", lines=lines), (
            Option(kit.msg("danger_send"), "urgent:send"),
            Option(kit.msg("danger_more"), "urgent:report"),
            kit.menu_option()))
        return True

    async def send(self, turn: Turn, detailed: bool) -> None:
        """The urgent report: sent at once with the villager's message, or with a few more answers."""
        kit = self.kit
        story = str(turn.data.get("urgent_story") or "")
        intake = kit.flows.intake
        if detailed:
            await intake.start_report(turn, story=story, urgent=True)
            return
        data = intake.new("urgent", turn, story=story, urgent=True)
        data.update(contactable=True, send_now=True)
        if turn.place is None:
            intake.ask_village(turn, data, "village_needed_urgent")
            return
        turn.go("confirm", **data)
        await kit.flows.filing.send(turn)

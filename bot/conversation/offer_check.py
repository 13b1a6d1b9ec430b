"""Checking a job offer before accepting it: a few questions, a risk level, nothing sent to officers."""

from __future__ import annotations

from bot.conversation.turn import Kit, Turn
from bot.models import Option
from bot.reporting import assess


class OfferCheckFlow:
    def __init__(self, kit: Kit) -> None:
        self.kit = kit

    async def start(self, turn: Turn, story: str = "") -> None:
        intake = self.kit.flows.intake
        data = intake.new("check", turn, story=story)
        await intake.resume(turn, data, intro=True)

    def result(self, turn: Turn) -> None:
        kit = self.kit
        answers = {k: v for k, v in turn.data["answers"].items() if v}
        result = assess(kit.content.reporting, answers)
        text = kit.msg("check_result", level=kit.msg(f"risk_{result.level}"))
        text += "\n\n" + (kit.flows.filing.flag_lines(result.flags) if result.flags
                          else kit.msg("check_no_flags"))
        options = (Option(kit.msg("check_to_report"), "check:report"),) + tuple(
            kit.entry_option(f.entry) for f in result.flags[:3] if f.entry in kit.content.by_id
        ) + (kit.menu_option(),)
        story = "\n".join(turn.data.get("story") or [])
        # The questions the check asked are not asked again if it becomes a report.
        done = [k for k in turn.data["done"] if k != "cerita"]
        turn.go("menu", check_answers=answers, check_story=story, check_phone=turn.data.get("phone"),
                check_done=done)
        turn.say(text, options)

    async def to_report(self, turn: Turn) -> None:
        """The checked offer becomes a report: what was answered is not asked again."""
        data = turn.data
        await self.kit.flows.intake.start_report(
            turn, story=str(data.get("check_story") or ""), answers=dict(data.get("check_answers") or {}),
            done=list(data.get("check_done") or []), phone=data.get("check_phone"))

"""Deleting a villager's data on request ("hapus data")."""

from __future__ import annotations

from bot.conversation.turn import Kit, Turn
from bot.models import Option


class ForgetFlow:
    def __init__(self, kit: Kit) -> None:
        self.kit = kit

    async def ask(self, turn: Turn) -> None:
        kit = self.kit
        turn.go("forget")
        open_cases = [r.case_no for r in await kit.store.reports_of(turn.sender.key) if r.status != "ditutup"]
        # Someone whose report is still being handled loses its news: they should know before choosing.
        warning = "\n\n" + kit.msg("forget_open_cases", cases=", ".join(open_cases)) if open_cases else ""
        turn.say(kit.msg("forget_confirm") + warning, (
            Option(kit.msg("forget_yes"), "forget:yes"), Option(kit.msg("forget_no"), "forget:no")))

    async def handle(self, turn: Turn) -> None:
        kit = self.kit
        payload = turn.payload
        if payload is None and turn.text:
            payload = kit.words.choose(turn.text, {"forget:yes": ("@ya", "hapus"), "forget:no": ("@tidak",)})
        if payload == "forget:yes":
            # Carried out by end_turn, in the turn's own transaction (logged there).
            turn.place = None
            turn.forgotten = True
            turn.go("menu")
            turn.data.pop("draft", None)
            kit.flows.menu.show(turn, intro=kit.msg("forget_done"))
            return
        turn.say(kit.msg("forget_kept"))
        kit.flows.menu.show(turn)

"""A villager's own reports: listed for a contactable reporter, or one case shown with its check code."""

from __future__ import annotations

import re

from bot.casework import normalize_case_no
from bot.conversation.filing import code_matches
from bot.conversation.turn import Kit, Turn
from bot.models import Option
from bot.store import Report

# A case number as villagers copy it: "SGU-2026-0001", "sgu-2026-1", "sgu 2026 1".
_CASE = r"([A-Za-z]{2,5}[\s-]*20\d\d[\s-]*\d{1,6})"
# "cek laporan SGU-2026-1 482193": a case number and the six-digit code given with it.
CODE_CHECK = re.compile(rf"\b{_CASE}\b\D{{0,20}}?\b(\d{{6}})\b")
CASE_ONLY = re.compile(rf"^\W*(?:cek\s+laporan\s+)?{_CASE}\W*$", re.IGNORECASE)
CODE_ONLY = re.compile(r"^\D*(\d{6})\D*$")


class StatusFlow:
    def __init__(self, kit: Kit) -> None:
        self.kit = kit

    def _lines(self, reports: list[Report]) -> list[str]:
        kit = self.kit
        lines = []
        for r in reports:
            lines.append(kit.msg("status_line", case_no=r.case_no, status=kit.msg(f"status_{r.status}")))
            if r.public_note:
                lines.append(kit.msg("status_note", note=r.public_note))
            if r.outcome and r.status == "ditutup":
                lines.append(kit.msg("status_outcome", outcome=r.outcome))
        return lines

    async def mine(self, turn: Turn) -> None:
        kit = self.kit
        turn.go("menu")
        reports = await kit.store.reports_of(turn.sender.key)
        if not reports:
            turn.say(kit.msg("status_none"), (Option(kit.msg("status_have_code"), "status:code"),
                                              kit.menu_option()))
            return
        turn.say("\n".join([kit.msg("status_heading"), *self._lines(reports)]), (kit.menu_option(),))

    def ask_number(self, turn: Turn, case_no: str = "") -> None:
        """Step by step for a slow reader: the case number first, then the code."""
        kit = self.kit
        turn.go("status_code", case_no=case_no)
        turn.say(kit.msg("status_ask_code" if case_no else "status_ask_number", case_no=case_no),
                 (kit.menu_option(),))

    async def handle(self, turn: Turn) -> None:
        """A message while the case number or the code is asked."""
        kit = self.kit
        text = turn.text
        both = CODE_CHECK.search(text)
        if both:
            await self.with_code(turn, both.group(1), both.group(2))
            return
        case_no = str(turn.data.get("case_no") or "")
        number = CASE_ONLY.match(text)
        if number:
            await self.case_typed(turn, number.group(1))
            return
        code = CODE_ONLY.match(text.replace(" ", ""))   # "656 032" as read aloud
        if case_no and code:
            await self.with_code(turn, case_no, code.group(1))
            return
        if case_no and kit.words.choose(text, {"lost": ("@tidak_tahu", "hilang", "lupa kode", "lupa kodenya")}):
            turn.go("menu")
            turn.say(kit.msg("status_code_lost"), (Option(kit.msg("menu_report"), "menu:report"),
                                                   kit.menu_option()))
            return
        turn.say(kit.msg("status_not_understood"))
        self.ask_number(turn, case_no)

    async def case_typed(self, turn: Turn, typed: str) -> None:
        """A case number on its own: the villager's own report, or ask for its code."""
        number = normalize_case_no(typed.replace(" ", "-"))
        if number is None:
            self.ask_number(turn)
            return
        own = [r for r in await self.kit.store.reports_of(turn.sender.key) if r.case_no == number]
        if own:
            turn.go("menu")
            turn.say("\n".join([self.kit.msg("status_heading"), *self._lines(own)]), (self.kit.menu_option(),))
            return
        self.ask_number(turn, number)

    async def with_code(self, turn: Turn, case_no: str, code: str) -> None:
        """An anonymous reporter's check: nothing links them to the case but the code they hold."""
        kit = self.kit
        turn.go("menu")
        number = normalize_case_no(case_no.replace(" ", "-"))
        report = await kit.store.report_by_case(number) if number else None
        if report is None or not code_matches(code, report.check_hash):
            # The same answer for a wrong code and an unknown case: a guess learns nothing.
            turn.say(kit.msg("status_code_wrong"), (kit.menu_option(),))
            return
        if report.status != "ditutup" and report.public_note:
            # What they write next may answer the officer's question just shown: it can go to this case.
            turn.data["code_case"] = report.case_no
        turn.say("\n".join([kit.msg("status_heading"), *self._lines([report])]),
                 (Option(kit.msg("menu_back"), "menu"),))

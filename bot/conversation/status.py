"""A villager's own reports: listed for a contactable reporter, or one case shown with its check code."""

from __future__ import annotations

import re

from bot.casework import normalize_case_no
from bot.conversation.filing import code_matches
from bot.conversation.turn import Kit, Turn
from bot.models import Option
from bot.store import Report

# "cek laporan SGU-2026-1 482193": a case number and the six-digit code given with it.
CODE_CHECK = re.compile(r"\b([A-Za-z]{2,5}\s*-\s*\d{4}\s*-\s*\d{1,6})\b\D{0,20}?\b(\d{6})\b")


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
            turn.say(kit.msg("status_none"), (kit.menu_option(),))
            return
        turn.say("\n".join([kit.msg("status_heading"), *self._lines(reports)]), (kit.menu_option(),))

    async def with_code(self, turn: Turn, case_no: str, code: str) -> None:
        """An anonymous reporter's check: nothing links them to the case but the code they hold."""
        kit = self.kit
        turn.go("menu")
        number = normalize_case_no(case_no)
        report = await kit.store.report_by_case(number) if number else None
        if report is None or not code_matches(code, report.check_hash):
            # The same answer for a wrong code and an unknown case: a guess learns nothing.
            turn.say(kit.msg("status_code_wrong"), (kit.menu_option(),))
            return
        turn.say("\n".join([kit.msg("status_heading"), *self._lines([report])]),
                 (Option(kit.msg("menu_back"), "menu"),))

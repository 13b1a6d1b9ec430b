"""Officers in chat: case commands (KASUS, TANGANI, CATATAN, TUTUP), announcements and figures."""

from __future__ import annotations

import datetime as dt
import logging

from bot import stats
from bot.broadcast import Broadcasts, Draft, targets
from bot.casework import OfficerCommand, normalize_case_no, parse_command
from bot.conversation.status import CASE_ONLY
from bot.conversation.turn import Kit, Turn
from bot.models import Option, Reply
from bot.routing import OfficerIdentity
from bot.store import Conversation
from bot.textnorm import fold

log = logging.getLogger(__name__)


class OfficerFlow:
    def __init__(self, kit: Kit, broadcasts: Broadcasts) -> None:
        self.kit = kit
        self.broadcasts = broadcasts

    async def handle(self, officer: OfficerIdentity, turn: Turn) -> list[Reply] | None:
        """The officer's replies, or None when the message is not an officer's command."""
        kit = self.kit
        text, conv, now = turn.text, turn.conv, turn.now
        payload = turn.message.payload
        folded = fold(text)
        if conv.state == "officer_close_confirm" and (confirmed := await self._confirm_close(officer, turn)):
            return confirmed
        listed = conv.data.get("options") or []
        if payload is None and folded.isdigit() and len(folded) <= 2 and conv.state == "officer_list" and \
                1 <= int(folded) <= len(listed):
            payload = str(listed[int(folded) - 1][1])   # "2" under the KASUS list: the second case
        elif payload is None and folded.isdigit() and len(folded) <= 2 and (
                not listed or conv.state == "officer_list"):
            # "1" under an alert's "1. Tangani": the alert came through the outbox, not this chat
            # (also after a KASUS list too short for the number).
            options = await kit.store.last_options_to(turn.sender)
            if 1 <= int(folded) <= len(options):
                payload = options[int(folded) - 1].payload
        tools = await self._office_tools(officer, turn, payload)
        if tools is not None:
            return tools
        command = parse_command(text, payload)
        if command is None and payload is None and (number := CASE_ONLY.match(text)):
            command = OfficerCommand("kasus", normalize_case_no(number.group(1).replace(" ", "-")), "")
        if command is None and conv.state == "officer_pending" and text:
            if kit.words.is_("menu", text) or kit.words.is_("cancel", text):
                turn.officer_state = Conversation("menu", {})
                return [Reply(kit.msg("cancelled"))]
            command = OfficerCommand(conv.data["verb"], conv.data["case_no"], text)
        if command is None and (folded.lstrip("/") in ("bantuan", "help", "petugas", "perintah") or (
                folded.isdigit() and len(folded) <= 2 and payload is None and not conv.data.get("options"))):
            # A number with no alert or list to pick from is an officer looking for the commands.
            return [Reply(kit.msg("officer_help", kantor=officer.office_id, tahun=str(now.year)))]
        if command is None and payload is None and text and self._officer_talk(turn):
            # "halo, ada laporan baru?": the officer's help and the open cases, not the villagers' welcome.
            command = OfficerCommand("kasus", None, "")
            help_first = [Reply(kit.msg("officer_help", kantor=officer.office_id, tahun=str(now.year)))]
        else:
            help_first = []
        if command is None:
            return None
        # The case step is written by end_turn with the message id: a redelivery after a crash
        # before that commit writes it once, and one after it finds the message handled.
        replies, asked = await kit.casework.handle(officer, turn.sender, command, now, steps=turn.case_steps)
        replies = help_first + replies
        # A list shown without a case number (KASUS, or "TANGANI" with no number: pick one): a
        # number typed next picks from it, never from an older alert's buttons.
        listed = [[o.label, o.payload] for o in replies[-1].options] if command.case_no is None and \
            replies and replies[-1].options else []
        if asked == "text":
            state = Conversation("officer_pending", {"verb": command.verb, "case_no": command.case_no})
        elif asked == "confirm":
            state = Conversation("officer_close_confirm", {"case_no": command.case_no, "text": command.text})
        else:
            state = Conversation("officer_list", {"options": listed}) if listed else Conversation("menu", {})
        turn.officer_state = state
        log.info("officer command verb=%s case=%s", command.verb, command.case_no)
        return replies

    def _officer_talk(self, turn: Turn) -> bool:
        """A message in an officer's own chat, not in the villagers' menu they opened with "menu".

        The menu (and a question asked from it) leaves its options on screen; an officer's step does not.
        """
        conv, words = turn.conv, self.kit.words
        if words.is_("menu", turn.text) or words.is_("cancel", turn.text) or \
                fold(turn.text).lstrip("/") in ("start", "menu"):
            return False
        return conv.state == "officer_list" or (conv.state == "menu" and not conv.data.get("options"))

    async def _confirm_close(self, officer: OfficerIdentity, turn: Turn) -> list[Reply] | None:
        """Closing a case nobody acknowledged: "1" or "ya" closes it, "2", "batal" or "menu" keeps it.

        Another command goes on as that command (None); anything else asks again.
        """
        kit = self.kit
        text, payload, case_no = turn.text, turn.message.payload, turn.conv.data["case_no"]
        choice = payload if payload in ("close:yes", "close:no") else None
        if choice is None and payload is None and text:
            choice = {"1": "close:yes", "2": "close:no"}.get(fold(text)) or kit.words.choose(text, {
                "close:yes": ("@ya", "tutup", "ya tutup"), "close:no": ("@tidak", "@cancel", "@menu")})
        if choice == "close:yes":
            command = OfficerCommand("tutup", case_no, turn.conv.data["text"])
            replies, _ = await kit.casework.handle(officer, turn.sender, command, turn.now, deliberate=True,
                                                     steps=turn.case_steps)
            turn.officer_state = Conversation("menu", {})
            log.info("officer command verb=tutup case=%s confirmed", case_no)
            return replies
        if choice == "close:no":
            turn.officer_state = Conversation("menu", {})
            return [Reply(kit.msg("officer_close_kept", case_no=case_no))]
        if payload is not None or parse_command(text, None) is not None or CASE_ONLY.match(text):
            return None
        return [Reply(kit.msg("officer_close_pick", case_no=case_no), (
            Option(kit.msg("officer_close_yes"), "close:yes"), Option(kit.msg("officer_close_no"), "close:no")))]

    async def _office_tools(self, officer: OfficerIdentity, turn: Turn,
                            payload: str | None) -> list[Reply] | None:
        """SIARAN (announcements, previewed then confirmed) and STATISTIK (the office's figures)."""
        kit = self.kit
        text, conv, now, sender = turn.text, turn.conv, turn.now, turn.sender
        words = text.split()
        verb = fold(words[0]).lstrip("/") if words else ""
        if payload in ("broadcast:send", "broadcast:cancel") or (
                conv.state == "broadcast_pending" and fold(text) in {"1", "2"}):
            chosen = payload or ("broadcast:send" if fold(text) == "1" else "broadcast:cancel")
            # Committed before the broadcast is: a redelivery after a crash cannot send it twice.
            await kit.store.save_conversation(sender, Conversation("menu", {}), now)
            turn.officer_state = Conversation("menu", {})
            if conv.state != "broadcast_pending" or chosen == "broadcast:cancel":
                return [Reply(kit.msg("broadcast_cancelled"))]
            confirmed = Draft(conv.data["office_id"], conv.data["target"], tuple(conv.data["villages"]),
                              conv.data["text"])
            broadcast_id, count = await self.broadcasts.send(officer, confirmed, now)
            log.info("broadcast queued id=%d recipients=%d", broadcast_id, count)
            return [Reply(kit.msg("broadcast_sent", n=str(count), id=str(broadcast_id)))]
        if verb in ("siaran", "pengumuman"):
            rest = words[1:]
            target, body = "", ""
            for k in range(min(4, len(rest)), 0, -1):
                if targets(kit.settings, officer, " ".join(rest[:k])) is not None:
                    target, body = " ".join(rest[:k]), " ".join(rest[k:]).lstrip(":- ")
                    break
            if not target and rest:
                target, body = rest[0], " ".join(rest[1:])
            reply, draft = await self.broadcasts.prepare(officer, target, body)
            state = Conversation("menu", {}) if draft is None else Conversation("broadcast_pending", {
                "office_id": draft.office_id, "target": draft.target,
                "villages": list(draft.village_ids), "text": draft.text})
            turn.officer_state = state
            return [reply]
        if verb in ("statistik", "stats", "angka"):
            end = dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(), dt.UTC)
            figures = await stats.collect(kit.store, kit.settings,
                                          None if officer.regional else officer.office_id,
                                          end - dt.timedelta(days=30), end, kit.casework.deadlines, now)
            return [Reply(stats.render_text(figures, kit.content))]
        return None

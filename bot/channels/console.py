"""The terminal chat: you are a villager; "petugas>" lines speak as the village's officer.

"warga2>" ... "warga9>" speak as other villagers, and "petugas SKW>" as an officer of the office
SKW, so two villages and two offices can be tried in one terminal. Alerts and status updates are
printed when the outbox delivers them. When stdin is not a terminal, one message per line is read
and every reply printed, so a conversation can be piped in.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import re
from typing import TextIO

from bot import markup
from bot.conversation import Dialogue
from bot.escalation import Escalation
from bot.models import Channel, IncomingMessage, Outgoing, Reply, Sender
from bot.outbox import Outbox
from bot.routing import alert_offices, console_officer

log = logging.getLogger(__name__)
VILLAGER = Sender(Channel.CONSOLE, "warga")
OFFICER_PREFIX = "petugas>"
# "warga2> ..." another villager; "petugas> ..." or "petugas SKW> ..." an officer.
_SPEAKER = re.compile(r"(?:warga([1-9])|petugas(?:\s+([A-Za-z]+))?)\s*>\s*", re.IGNORECASE)


def villager(number: int) -> Sender:
    """The terminal's villager number `number` (1 is the one who speaks without a prefix)."""
    return VILLAGER if number == 1 else Sender(Channel.CONSOLE, f"warga{number}")


def render(reply: Reply) -> str:
    text = markup.to_plain(reply.text)
    return f"{text}\n{markup.numbered([o.label for o in reply.options])}" if reply.options else text


class ConsoleDeliverer:
    """Delivers outbox messages by printing them, labelled with who would receive them."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    async def deliver(self, item: Outgoing) -> str | None:
        who = item.recipient.user_id
        label = (f"[petugas {who.removeprefix('petugas-')}]" if who.startswith("petugas-")
                 else "[kabar]" if who == VILLAGER.user_id else f"[kabar {who}]")
        body = render(Reply(item.text, item.options))
        self.out.write(f"{label} {body}\n\n")
        self.out.flush()
        return None


class ConsoleChat:
    def __init__(self, dialogue: Dialogue, outbox: Outbox, inp: TextIO, out: TextIO) -> None:
        self.dialogue = dialogue
        self.outbox = outbox
        self.inp = inp
        self.out = out
        self.counter = itertools.count(1)
        self.escalation = Escalation(dialogue.casework)
        self.last_villager = VILLAGER   # "petugas>" is the officer of this villager's office

    async def _officer_sender(self, office_id: str | None = None) -> Sender | None:
        settings = self.dialogue.settings
        if office_id is not None:
            named = next((o for o in settings.all_offices if o.id.lower() == office_id.lower()), None)
            return console_officer(named.id) if named else None
        profile = await self.dialogue.store.profile(self.last_villager)
        place = self.dialogue.place(profile.village_id, profile.place)
        # No village yet: an urgent report went to the Kantor Wilayah, which sees every case.
        office = settings.office(place.office_id) if place else settings.regional_office or settings.offices[0]
        # An office without officers: one of the offices that receive its alerts in its stead.
        for o in (office, *alert_offices(settings, office)):
            if self.dialogue.routing.officer(console_officer(o.id)) is not None:
                return console_officer(o.id)
        return console_officer(office.id)

    async def say(self, line: str) -> None:
        text = line.rstrip("\n")
        sender: Sender | None = VILLAGER
        officer = False
        speaker = _SPEAKER.match(text)
        if speaker is not None:
            number, office_id = speaker.groups()
            text = text[speaker.end():].strip()
            if number is not None:
                sender = self.last_villager = villager(int(number))
            else:
                officer = True
                sender = await self._officer_sender(office_id)
        else:
            self.last_villager = VILLAGER
        if sender is None:
            self.out.write(self.dialogue.msg("console_no_office",
                                             kantor=", ".join(o.id for o in self.dialogue.settings.all_offices))
                           + "\n\n")
            self.out.flush()
            return
        message = IncomingMessage(sender, text, message_id=f"console-{next(self.counter)}-{id(self)}")
        try:
            replies = await self.dialogue.handle(message)
        except Exception as exc:  # the villager must never see a traceback
            log.error("console message failed id=%s error=%s", message.message_id, exc.__class__.__name__)
            replies = [Reply(self.dialogue.msg("error_apology"))]
        prefix = "[bot → petugas]" if officer else "[bot]" if sender == VILLAGER else f"[bot → {sender.user_id}]"
        for reply in replies:
            self.out.write(f"{prefix} {render(reply)}\n\n")
        self.out.flush()
        await self.outbox.deliver_due()

    async def tick(self) -> None:
        """Escalation of missed deadlines, then whatever the outbox has due."""
        await self.escalation.run(self.dialogue.clock())
        await self.outbox.deliver_due()

    async def _background(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            await self.tick()

    async def run(self, interval: float = 30.0) -> None:
        interactive = self.inp.isatty()
        loop = asyncio.get_running_loop()
        await self.tick()
        await self.say("menu")
        # In a live terminal, retries and reminders also happen while nobody types.
        background = asyncio.create_task(self._background(interval)) if interactive else None
        try:
            while True:
                if interactive:
                    self.out.write("> ")
                    self.out.flush()
                line = await loop.run_in_executor(None, self.inp.readline)
                if not line:
                    return
                if not line.strip() and not interactive:
                    continue
                await self.say(line)
        finally:
            if background is not None:
                background.cancel()


"""Fakes at the edges: a recording deliverer, a settable clock, and a chat harness."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field

from bot.channels.console import render
from bot.conversation import Dialogue
from bot.models import Channel, IncomingMessage, Media, Outgoing, Reply, Sender
from bot.outbox import DeliveryError


class Clock:
    def __init__(self, start: dt.datetime | None = None) -> None:
        self.now = start or dt.datetime(2026, 11, 28, 9, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += dt.timedelta(**kwargs)


@dataclass
class RecordingDeliverer:
    """Records what would reach people; can be told to fail or hang for a while."""

    sent: list[Outgoing] = field(default_factory=list)
    fail_next: int = 0
    hang_next: int = 0
    permanent: bool = False

    async def deliver(self, item: Outgoing) -> str | None:
        if self.hang_next:
            self.hang_next -= 1
            import asyncio
            await asyncio.sleep(3600)
        if self.fail_next:
            self.fail_next -= 1
            raise DeliveryError("fake provider says 500", permanent=self.permanent)
        self.sent.append(item)
        return f"fake-{len(self.sent)}"

    def to(self, user_id: str) -> list[str]:
        return [o.text for o in self.sent if o.recipient.user_id == user_id]


_ids = itertools.count(1)


class Chat:
    """One person talking to the bot; every call returns what they would read."""

    def __init__(self, dialogue: Dialogue, sender: Sender) -> None:
        self.dialogue = dialogue
        self.sender = sender
        self.last: list[Reply] = []

    async def say(self, text: str = "", *, payload: str | None = None,
                  media: tuple[Media, ...] = (), message_id: str | None = None) -> str:
        msg = IncomingMessage(self.sender, text, message_id or f"m{next(_ids)}", payload, media)
        self.last = await self.dialogue.handle(msg)
        return "\n\n".join(render(r) for r in self.last)

    async def tap(self, label_part: str) -> str:
        """Press the button whose label contains `label_part` in the last replies."""
        for reply in reversed(self.last):
            for option in reply.options:
                if label_part.lower() in option.label.lower():
                    return await self.say("", payload=option.payload)
        raise AssertionError(f"no option {label_part!r} in {[o.label for r in self.last for o in r.options]}")


def villager(n: int | str = 1, channel: Channel = Channel.TELEGRAM) -> Sender:
    return Sender(channel, str(500000 + n) if isinstance(n, int) else n)

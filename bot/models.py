"""Plain domain types shared by the core and the channel adapters; no I/O, no channel library."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum


class Channel(StrEnum):
    TELEGRAM = "telegram"
    WHATSAPP = "whatsapp"
    CONSOLE = "console"


@dataclass(frozen=True, slots=True)
class Sender:
    channel: Channel
    user_id: str   # Telegram chat id, WhatsApp "whatsapp:+62…", or a console name

    @property
    def key(self) -> str:
        return f"{self.channel.value}:{self.user_id}"

    @classmethod
    def from_key(cls, key: str) -> Sender:
        channel, _, user_id = key.partition(":")
        return cls(Channel(channel), user_id)


AUDIO = "audio:"   # how a voice note is marked among a report's attachments


@dataclass(frozen=True, slots=True)
class Media:
    ref: str            # Telegram file_id or a Twilio media URL
    content_type: str = ""

    @property
    def stored(self) -> str:
        """As a report keeps it: a voice note marked, so the alert can send it as one to play."""
        return f"{AUDIO}{self.ref}" if self.content_type.startswith("audio") else self.ref


def stored_media(stored: str) -> tuple[bool, str]:
    """(is a voice note, the provider's reference) of a report's attachment."""
    return (True, stored[len(AUDIO):]) if stored.startswith(AUDIO) else (False, stored)


@dataclass(frozen=True, slots=True)
class IncomingMessage:
    sender: Sender
    text: str                       # "" when the message has no text
    message_id: str                 # Telegram update_id / Twilio MessageSid: for idempotency
    payload: str | None = None      # a pressed button's data
    media: tuple[Media, ...] = ()
    received_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))

    @property
    def key(self) -> str | None:
        """The provider's id, unique across channels; None when the provider gave none."""
        return f"{self.sender.channel.value}:{self.message_id}" if self.message_id else None


@dataclass(frozen=True, slots=True)
class Option:
    label: str
    payload: str


@dataclass(frozen=True, slots=True)
class Reply:
    """One message to show: text in the content's markup, and options to pick from."""

    text: str
    options: tuple[Option, ...] = ()


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A message the bot starts (alert, status update), delivered later by the outbox."""

    recipient: Sender
    text: str
    kind: str                       # alert, status, reminder
    report_id: int | None = None
    options: tuple[Option, ...] = ()

"""How a sender appears in logs: a stable pseudonym, never the phone number or chat id."""

from __future__ import annotations

import hashlib

from bot.models import Sender


def log_id(sender: Sender) -> str:
    """A stable pseudonym for logs: a WhatsApp id is a phone number and must never be logged."""
    return hashlib.sha256(sender.key.encode()).hexdigest()[:12]

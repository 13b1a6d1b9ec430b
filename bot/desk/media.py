"""Attachments of a report, fetched by the server with the bot's credentials and passed to the officer.

No provider token or address ever reaches the browser: the officer's link names the case and
the attachment's number only.
"""

from __future__ import annotations

import base64
from typing import Protocol
from urllib.parse import urlsplit

import aiohttp

MAX_BYTES = 20 * 1024 * 1024


class MediaFetcher(Protocol):
    def handles(self, ref: str) -> bool:
        """Whether this provider's reference (a Telegram file_id, a Twilio media URL) is ours."""

    async def fetch(self, ref: str) -> tuple[bytes, str]:
        """The file's bytes and content type; raises on any failure."""


class TwilioMedia:
    """Twilio media URLs need the account's basic auth; only Twilio's own host is ever fetched."""

    def __init__(self, account_sid: str, auth_token: str, api_base: str | None = None) -> None:
        token = base64.b64encode(f"{account_sid}:{auth_token}".encode()).decode()
        self.headers = {"Authorization": f"Basic {token}"}
        self.hosts = {"api.twilio.com", *([urlsplit(api_base).netloc] if api_base else [])}

    def handles(self, ref: str) -> bool:
        return ref.startswith(("https://", "http://")) and urlsplit(ref).netloc in self.hosts

    async def fetch(self, ref: str) -> tuple[bytes, str]:
        timeout = aiohttp.ClientTimeout(total=30)
        async with aiohttp.ClientSession(timeout=timeout) as session, \
                session.get(ref, headers=self.headers) as response:
            response.raise_for_status()   # Twilio redirects to its media store; aiohttp follows
            body = await response.content.read(MAX_BYTES + 1)
            if len(body) > MAX_BYTES:
                raise ValueError("attachment too large")
            return body, response.content_type or "application/octet-stream"


class TelegramMedia:
    """A Telegram file_id, downloaded through the Bot API with the bot's token."""

    def __init__(self, bot: object) -> None:
        self.bot = bot

    def handles(self, ref: str) -> bool:
        return not ref.startswith(("https://", "http://"))

    async def fetch(self, ref: str) -> tuple[bytes, str]:
        file = await self.bot.get_file(ref)  # type: ignore[attr-defined]
        data = bytes(await file.download_as_bytearray())
        path = str(file.file_path or "")
        kind = "image/jpeg" if path.endswith((".jpg", ".jpeg")) else \
            "audio/ogg" if path.endswith(".oga") else "application/octet-stream"
        return data, kind

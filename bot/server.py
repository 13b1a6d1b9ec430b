"""The one web server: each channel's webhook routes and /healthz, on aiohttp."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Protocol

from aiohttp import web

from bot.models import Channel, Outgoing
from bot.store import Store

MAX_BODY = 1024 * 1024   # webhook bodies are small; anything larger is refused with 413


class ChannelRuntime(Protocol):
    """What `desa-imigrasi run` needs from a channel adapter."""

    channel: Channel

    def routes(self) -> Sequence[web.RouteDef]:
        """Webhook routes on the shared server (none when polling)."""

    async def start(self) -> None:
        """Connect: register the webhook, or start polling."""

    async def stop(self) -> None:
        """Disconnect cleanly."""

    async def deliver(self, item: Outgoing) -> str | None:
        """The outbox's deliverer for this channel."""


def build_web_app(runtimes: Sequence[ChannelRuntime], store: Store, content_version: str) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY)
    for runtime in runtimes:
        app.add_routes(runtime.routes())

    async def healthz(_: web.Request) -> web.Response:
        counts = await store.outbox_counts()
        return web.json_response({
            "ok": True,
            "content": content_version,
            "channels": [r.channel.value for r in runtimes],
            "outbox": counts,
            "checked_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        })

    app.router.add_get("/healthz", healthz)
    return app

"""The one web server: each channel's webhook routes, /healthz and /metrics, on aiohttp."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Protocol

from aiohttp import web

from bot.metrics import Metrics, metrics_middleware, metrics_route
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


def build_web_app(runtimes: Sequence[ChannelRuntime], store: Store, content_version: str,
                  max_body: int = MAX_BODY, metrics: Metrics | None = None,
                  metrics_token: str | None = None) -> web.Application:
    app = web.Application(client_max_size=max_body,
                          middlewares=[metrics_middleware(metrics)] if metrics is not None else [])
    if metrics is not None:
        app.add_routes([metrics_route(metrics, store, metrics_token)])
    for runtime in runtimes:
        app.add_routes(runtime.routes())

    async def healthz(_: web.Request) -> web.Response:
        """For an uptime monitor: 503 when the database cannot be read."""
        now = dt.datetime.now(dt.UTC)
        try:
            counts = await store.outbox_counts()
            oldest = await store.oldest_pending_age(now)
        except Exception as exc:  # any database failure is what this endpoint reports
            return web.json_response({"ok": False, "database": exc.__class__.__name__}, status=503)
        return web.json_response({
            "ok": True,
            "database": "ok",
            "content": content_version,
            "channels": [r.channel.value for r in runtimes],
            "outbox": counts,
            "oldest_pending_seconds": oldest,
            "checked_at": now.isoformat(timespec="seconds"),
        })

    app.router.add_get("/healthz", healthz)
    return app

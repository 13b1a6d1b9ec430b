"""What the bot counts for Prometheus, in a registry of its own (built by the composition root).

No label carries a phone number, a name or a message's text: labels are channels, offices,
decisions and status codes only, all from a small fixed set.
"""

from __future__ import annotations

import datetime as dt
import hmac
import sqlite3
import time
from collections.abc import Awaitable, Callable, Sequence

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from bot.deadlines import Deadlines
from bot.errors import StoreError
from bot.models import Channel
from bot.store import Store

_WEBHOOKS = {"/telegram": Channel.TELEGRAM, "/whatsapp": Channel.WHATSAPP}


class Metrics:
    """The instruments; the store-backed gauges are read at each scrape."""

    def __init__(self, deadlines: Deadlines, offices: Sequence[str] = ()) -> None:
        self.deadlines = deadlines
        self.offices = tuple(offices)   # each gets a series, 0 when it has no open case
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.webhooks = Counter("desa_webhook_requests", "Webhook requests received, by channel and status code",
                                ["channel", "code"], registry=r)
        self.webhook_seconds = Histogram(
            "desa_webhook_seconds", "Time to answer a webhook request", ["channel"], registry=r,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))
        self.messages_in = Counter("desa_messages_in", "Messages from people handled, by channel",
                                   ["channel"], registry=r)
        self.messages_out = Counter("desa_messages_out", "Messages sent, by channel (outbox deliveries and "
                                    "replies inside a webhook's response)", ["channel"], registry=r)
        self.decisions = Counter("desa_matcher_decisions", "FAQ matcher decisions", ["decision"], registry=r)
        self.database_errors = Counter("desa_database_errors", "Database operations that failed", registry=r)
        self.outbox = Gauge("desa_outbox_messages", "Outbox messages by status", ["status"], registry=r)
        self.outbox_oldest = Gauge("desa_outbox_oldest_pending_seconds",
                                   "Age of the oldest undelivered outbox message (0 when none)", registry=r)
        self.open_cases = Gauge("desa_open_cases", "Reports not yet closed, by office", ["office"], registry=r)
        self.overdue_cases = Gauge("desa_overdue_cases", "Open reports past their deadline (to acknowledge or "
                                   "to close), by office", ["office"], registry=r)
        self.escalations = Counter("desa_escalations_sent", "Escalation steps written, by deadline (tanggap, "
                                   "tutup) and step (1 office, 2 head, 3 Kantor Wilayah)", ["deadline", "step"],
                                   registry=r)

    def escalated(self, deadline: str, step: int, count: int) -> None:
        self.escalations.labels(deadline, str(step)).inc(count)

    def sent(self, channel: Channel) -> None:
        self.messages_out.labels(channel.value).inc()

    def handled(self, channel: Channel, faq_decision: str | None, inline_replies: int) -> None:
        """One message from a person: its channel, the FAQ's decision if asked, replies sent back."""
        self.messages_in.labels(channel.value).inc()
        if faq_decision is not None:
            self.decisions.labels(faq_decision).inc()
        if inline_replies:
            self.messages_out.labels(channel.value).inc(inline_replies)

    async def sample(self, store: Store, now: dt.datetime) -> None:
        """Read the outbox and the open and overdue cases from the database, just before a scrape."""
        try:
            counts = await store.outbox_counts()
            oldest = await store.oldest_pending_age(now)
            cases = await store.desk_open_cases(self.offices, self.deadlines.overdue_cutoffs(now))
        except Exception:  # any database failure: counted, and the scrape still answers
            self.database_errors.inc()
            return
        for status in {"pending", "sending", "sent", *counts}:
            self.outbox.labels(status).set(counts.get(status, 0))
        self.outbox_oldest.set(oldest or 0.0)
        open_cases = {office: (n, late) for office, n, late in cases}
        self.open_cases.clear()
        self.overdue_cases.clear()
        for office in self.offices:
            n, late = open_cases.get(office, (0, 0))
            self.open_cases.labels(office).set(n)
            self.overdue_cases.labels(office).set(late)

    def render(self) -> bytes:
        return generate_latest(self.registry)


def metrics_middleware(metrics: Metrics) -> Callable[..., Awaitable[web.StreamResponse]]:
    """Time and count every webhook request, whatever its outcome."""

    @web.middleware
    async def middleware(request: web.Request,
                         handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
        channel = _WEBHOOKS.get(request.path)
        if channel is None:
            return await handler(request)
        start = time.perf_counter()
        code = 500
        try:
            response = await handler(request)
            code = response.status
            return response
        except web.HTTPException as exc:
            code = exc.status
            raise
        except (StoreError, sqlite3.Error):
            metrics.database_errors.inc()
            raise
        finally:
            metrics.webhook_seconds.labels(channel.value).observe(time.perf_counter() - start)
            metrics.webhooks.labels(channel.value, str(code)).inc()

    return middleware


def metrics_route(metrics: Metrics, store: Store, token: str | None) -> web.RouteDef:
    """GET /metrics for a bearer token; without a configured token the page does not exist."""

    async def scrape(request: web.Request) -> web.Response:
        if not token:
            raise web.HTTPNotFound()
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            raise web.HTTPUnauthorized(headers={"WWW-Authenticate": "Bearer"})
        await metrics.sample(store, dt.datetime.now(dt.UTC))
        return web.Response(body=metrics.render(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    return web.get("/metrics", scrape)

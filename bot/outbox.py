"""Delivering what the bot starts (alerts, status updates, reminders): retried, recorded, never lost.

Messages wait in the `outbox` table, written in the same transaction as the report or case step
that caused them. The worker sends what is due through the deliverer of the recipient's
channel, marks it sent, and on failure schedules a retry with exponential backoff. After a crash
it starts again from the table; a provider outage only delays alerts.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from bot.errors import StoreError
from bot.models import Channel, Outgoing
from bot.store import OutboxItem, Store

log = logging.getLogger(__name__)


class DeliveryError(Exception):
    """A send failed. `permanent` means retrying cannot help (e.g. the user blocked the bot)."""

    def __init__(self, reason: str, *, permanent: bool = False,
                 retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.retry_after = retry_after


class Deliverer(Protocol):
    async def deliver(self, item: Outgoing) -> str | None:
        """Send one message and return the provider's id for it (or None).

        Raise DeliveryError (or time out) when it did not go through.
        """


@dataclass(frozen=True)
class Backoff:
    first: float = 5.0        # seconds before the first retry
    factor: float = 2.0
    cap: float = 3600.0       # never wait longer than an hour between tries
    max_attempts: int = 20    # about a day of trying before giving up
    timeout: float = 15.0     # one send may take this long

    def delay(self, attempts: int) -> float:
        return min(self.cap, self.first * self.factor ** max(0, attempts - 1))


class Outbox:
    def __init__(self, store: Store, deliverers: Mapping[Channel, Deliverer],
                 backoff: Backoff | None = None,
                 clock: Callable[[], dt.datetime] | None = None) -> None:
        self.store = store
        self.deliverers = dict(deliverers)
        self.backoff = backoff or Backoff()
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.wake = asyncio.Event()
        # Sent, but the database refused to record it (locked, full): record, never resend.
        self._unrecorded: dict[int, str | None] = {}

    async def deliver_due(self) -> int:
        """One pass over what is due now; returns how many were sent."""
        sent = 0
        now = self.clock()
        for item_id, provider_id in list(self._unrecorded.items()):
            await self.store.outbox_sent(item_id, now, provider_id)
            del self._unrecorded[item_id]
        for item in await self.store.due_outbox(now):
            if item.id in self._unrecorded:
                continue
            if await self._deliver_one(item):
                sent += 1
        return sent

    async def _deliver_one(self, item: OutboxItem) -> bool:
        deliverer = self.deliverers.get(item.recipient.channel)
        outgoing = Outgoing(item.recipient, item.text, item.kind, item.report_id, item.options)
        if item.kind == "broadcast" and await self.store.opted_out(item.recipient):
            # Said BERHENTI after the broadcast was queued: it is not sent, and not retried.
            await self.store.outbox_failed(item.id, "opted out", None, self.clock())
            return False
        try:
            if deliverer is None:
                raise DeliveryError(f"channel {item.recipient.channel.value} is not running")
            provider_id = await asyncio.wait_for(deliverer.deliver(outgoing), timeout=self.backoff.timeout)
        except Exception as exc:  # whatever a provider library raises, the message waits, never the worker
            reason = exc.reason if isinstance(exc, DeliveryError) else exc.__class__.__name__
            permanent = isinstance(exc, DeliveryError) and exc.permanent
            attempts = item.attempts + 1
            retry_at = None
            if not permanent and attempts < self.backoff.max_attempts:
                wait = self.backoff.delay(attempts)
                if isinstance(exc, DeliveryError) and exc.retry_after:
                    wait = max(wait, exc.retry_after)
                retry_at = self.clock() + dt.timedelta(seconds=wait)
            await self.store.outbox_failed(item.id, reason[:200], retry_at, self.clock())
            log.warning("outbox delivery failed id=%d kind=%s attempt=%d retry=%s reason=%s",
                        item.id, item.kind, attempts, retry_at is not None, reason[:80])
            return False
        try:
            await self.store.outbox_sent(item.id, self.clock(), provider_id)
        except (StoreError, sqlite3.Error) as exc:
            self._unrecorded[item.id] = provider_id
            log.error("outbox sent but not recorded id=%d error=%s: recorded on the next pass",
                      item.id, exc.__class__.__name__)
            raise
        log.info("outbox delivered id=%d kind=%s report=%s", item.id, item.kind, item.report_id)
        return True

    async def run(self, interval: float = 2.0) -> None:
        """Deliver until cancelled; wakes early when `wake` is set (a new report was filed)."""
        while True:
            try:
                await self.deliver_due()
            except (StoreError, sqlite3.Error) as exc:
                # A locked or full database: try again next pass, nothing is lost.
                log.error("outbox pass skipped: %s", exc.__class__.__name__)
            self.wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), timeout=interval)

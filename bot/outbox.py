"""Delivering what the bot starts (replies, alerts, status updates): never lost, never resent blind.

Messages wait in the `outbox` table, written in the same transaction as the turn, report or
case step that caused them; the store wakes the worker after that commit. Before a send the row
is marked "sending" with the attempt's start; a row found so after a crash, or whose send timed
out, may have gone through: a deliverer that can ask its provider (`find_sent`, WhatsApp) is
asked first and the message is recorded as sent when it was; one that cannot (Telegram) sends
again. Failures are retried with exponential backoff; messages to one recipient go in order,
different recipients concurrently.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import sqlite3
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from bot.errors import StoreError
from bot.keyed_locks import KeyedLocks
from bot.models import Channel, Outgoing, Sender
from bot.store import OutboxItem, Store

log = logging.getLogger(__name__)


class DeliveryError(Exception):
    """A send failed. `permanent` means retrying cannot help (e.g. the user blocked the bot).

    `uncertain` means the provider may have accepted it all the same (the connection broke after
    the request went out): the next attempt first asks the provider, where it can be asked.
    """

    def __init__(self, reason: str, *, permanent: bool = False,
                 retry_after: float | None = None, uncertain: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.retry_after = retry_after
        self.uncertain = uncertain


class Deliverer(Protocol):
    async def deliver(self, item: Outgoing) -> str | None:
        """Send one message and return the provider's id for it (or None).

        Raise DeliveryError (or time out) when it did not go through.
        """


class Reconciler(Protocol):
    async def find_sent(self, item: Outgoing, since: dt.datetime) -> str | None:
        """The provider's id of the message created for `item` at or after `since`; None if there is none.

        Raise DeliveryError when the provider cannot be asked now.
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
                 clock: Callable[[], dt.datetime] | None = None, concurrency: int = 16,
                 on_sent: Callable[[Channel], None] | None = None) -> None:
        self.store = store
        self.on_sent = on_sent   # a message handed to its provider (metrics)
        self.deliverers = dict(deliverers)
        self.backoff = backoff or Backoff()
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.wake = asyncio.Event()
        store.on_enqueued(self.wake.set)
        # Sent, but the database refused to record it (locked, full): record, never resend.
        self._unrecorded: dict[int, str | None] = {}
        self._recipients = KeyedLocks()   # one recipient's messages one at a time, in order
        self._limit = asyncio.Semaphore(concurrency)
        self._recovery = asyncio.Lock()
        self._recovered = False
        self._next_recovery = 0.0

    async def _recover(self) -> None:
        """Once, before the first send: rows a dead process left "sending" become uncertain.

        With several instances on one database (PostgreSQL) on every pass instead, for the claims
        of instances no longer connected: a live one's claim is left alone.
        """
        if self.store.shared:
            if time.monotonic() < self._next_recovery:
                return   # at most once a second: a chat's replies are delivered right after each turn
            self._next_recovery = time.monotonic() + 1.0
            count = await self.store.outbox_recover()
            if count:
                log.warning("outbox took over messages an instance left in flight count=%d: "
                            "checking before sending again", count)
            return
        if self._recovered:
            return
        async with self._recovery:
            if not self._recovered:
                count = await self.store.outbox_recover()
                if count:
                    log.warning("outbox found messages in flight at the last stop count=%d: "
                                "checking before sending again", count)
                self._recovered = True

    async def deliver_due(self) -> int:
        """One pass over what is due now; returns how many were sent."""
        await self._recover()
        now = self.clock()
        for item_id, provider_id in list(self._unrecorded.items()):
            await self.store.outbox_sent(item_id, now, provider_id)
            del self._unrecorded[item_id]
        queues: dict[str, list[OutboxItem]] = {}
        for item in await self.store.due_outbox(now, limit=200):
            if item.id not in self._unrecorded:
                queues.setdefault(item.recipient.key, []).append(item)
        counts = await asyncio.gather(*(self._deliver_queue(key, items) for key, items in queues.items()))
        return sum(counts)

    async def deliver_to(self, recipient: Sender, kinds: Sequence[str] = ("reply",)) -> int:
        """Deliver what is due for one recipient now (a chat's replies right after its turn)."""
        await self._recover()

        async def work() -> int:
            items = await self.store.due_outbox(self.clock(), recipient=recipient, kinds=kinds)
            return await self._deliver_in_order(items)

        return await self._recipients(recipient.key, work)

    async def _deliver_queue(self, key: str, items: list[OutboxItem]) -> int:
        async with self._limit:
            return await self._recipients(key, lambda: self._deliver_in_order(items))

    async def _deliver_in_order(self, items: list[OutboxItem]) -> int:
        # One at a time, oldest first: a chat's replies arrive in the order they were written.
        # A failed one is retried later; the next ones do not wait for it.
        sent = 0
        for item in items:
            sent += await self._deliver_one(item)
        return sent

    async def _deliver_one(self, item: OutboxItem) -> bool:
        deliverer = self.deliverers.get(item.recipient.channel)
        outgoing = Outgoing(item.recipient, item.text, item.kind, item.report_id, item.options)
        if item.kind == "broadcast" and await self.store.opted_out(item.recipient):
            # Said BERHENTI after the broadcast was queued: it is not sent, and not retried.
            await self.store.outbox_failed(item.id, "opted out", None, self.clock())
            return False
        if item.uncertain_since is not None and deliverer is not None:
            found = await self._reconcile(deliverer, item, outgoing, item.uncertain_since)
            if found is not False:
                return bool(found)   # recorded as sent, or to be checked again later
        if not await self.store.outbox_claim(item.id, self.clock()):
            return True   # no longer pending: another pass delivered it meanwhile
        try:
            if deliverer is None:
                raise DeliveryError(f"channel {item.recipient.channel.value} is not running")
            provider_id = await asyncio.wait_for(deliverer.deliver(outgoing), timeout=self.backoff.timeout)
        except Exception as exc:  # whatever a provider library raises, the message waits, never the worker
            # A time-out may come after the provider accepted the message.
            uncertain = isinstance(exc, TimeoutError) or (isinstance(exc, DeliveryError) and exc.uncertain)
            await self._failed(item, exc, uncertain)
            return False
        if self.on_sent is not None:
            self.on_sent(item.recipient.channel)
        try:
            await self.store.outbox_sent(item.id, self.clock(), provider_id)
        except (StoreError, sqlite3.Error) as exc:
            self._unrecorded[item.id] = provider_id
            log.error("outbox sent but not recorded id=%d error=%s: recorded on the next pass",
                      item.id, exc.__class__.__name__)
            raise
        log.info("outbox delivered id=%d kind=%s report=%s", item.id, item.kind, item.report_id)
        return True

    async def _reconcile(self, deliverer: Deliverer, item: OutboxItem, outgoing: Outgoing,
                         since: dt.datetime) -> bool | None:
        """Settle an attempt whose outcome is unknown.

        True when found sent, None when the provider could not be asked (asked again later),
        False when it must be sent (not found, or the provider cannot be asked at all).
        """
        finder = getattr(deliverer, "find_sent", None)
        if finder is None:
            # Telegram has no way to ask: the message is sent again, and may arrive twice (README).
            log.warning("outbox resending after an uncertain attempt id=%d kind=%s channel=%s",
                        item.id, item.kind, item.recipient.channel.value)
            return False
        try:
            found = await asyncio.wait_for(finder(outgoing, since), timeout=self.backoff.timeout)
        except Exception as exc:  # the provider cannot be asked now: neither send nor give up
            await self._failed(item, exc, uncertain=True)
            return None
        if found is None:
            log.info("outbox uncertain attempt not found at the provider id=%d kind=%s: sending",
                     item.id, item.kind)
            return False
        await self.store.outbox_sent(item.id, self.clock(), found, note="found sent at the provider")
        log.info("outbox found sent at the provider id=%d kind=%s report=%s", item.id, item.kind,
                 item.report_id)
        return True

    async def _failed(self, item: OutboxItem, exc: Exception, uncertain: bool) -> None:
        reason = exc.reason if isinstance(exc, DeliveryError) else exc.__class__.__name__
        permanent = isinstance(exc, DeliveryError) and exc.permanent and not uncertain
        attempts = item.attempts + 1
        retry_at = None
        if not permanent and attempts < self.backoff.max_attempts:
            wait = self.backoff.delay(attempts)
            if isinstance(exc, DeliveryError) and exc.retry_after:
                wait = max(wait, exc.retry_after)
            retry_at = self.clock() + dt.timedelta(seconds=wait)
        await self.store.outbox_failed(item.id, reason[:200], retry_at, self.clock(), uncertain=uncertain)
        log.warning("outbox delivery failed id=%d kind=%s attempt=%d retry=%s uncertain=%s reason=%s",
                    item.id, item.kind, attempts, retry_at is not None, uncertain, reason[:80])

    async def run(self, interval: float = 2.0) -> None:
        """Deliver until cancelled; woken by the store after each commit that queued messages.

        The interval only paces retries that are waiting for their backoff to pass.
        """
        while True:
            self.wake.clear()   # before the pass: a commit during it wakes the next one
            try:
                await self.deliver_due()
            except (StoreError, sqlite3.Error) as exc:
                # A locked or full database: try again next pass, nothing is lost.
                log.error("outbox pass skipped: %s", exc.__class__.__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), timeout=interval)

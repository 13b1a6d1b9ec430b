"""The outbox: a recipient that fails, times out and recovers still gets every alert exactly once.

An attempt whose outcome is unknown is looked up at the provider before any resend.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.models import Channel, Outgoing, Sender
from bot.outbox import Backoff, Outbox
from bot.store import Store
from tests.databases import database
from tests.fakes import Clock, RecordingDeliverer

GROUP = Sender(Channel.TELEGRAM, "-100111")


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    async with Store.open(database(tmp_path / "outbox.sqlite3")) as s:
        yield s


def alerts(n: int) -> list[Outgoing]:
    return [Outgoing(GROUP, f"alert {i}", "alert") for i in range(n)]


async def test_failures_and_timeouts_are_retried_with_backoff_until_delivered_once(store: Store) -> None:
    clock = Clock()
    fake = RecordingDeliverer(fail_next=2, hang_next=1)
    outbox = Outbox(store, {Channel.TELEGRAM: fake}, Backoff(first=10, timeout=0.05), clock)
    await store.enqueue(alerts(3), clock())
    # First pass: the first send hangs (timeout), the next two fail, nothing is lost.
    assert await outbox.deliver_due() == 0
    assert fake.sent == []
    assert await outbox.deliver_due() == 0        # nothing is due before the backoff
    clock.advance(seconds=11)
    assert await outbox.deliver_due() == 3        # the provider recovered
    clock.advance(hours=2)
    assert await outbox.deliver_due() == 0        # and nothing goes twice
    assert sorted(o.text for o in fake.sent) == ["alert 0", "alert 1", "alert 2"]
    assert await store.outbox_counts() == {"sent": 3}
    attempts = await store.outbox_attempts(1)
    assert attempts == [(False, "TimeoutError"), (True, None)]


async def test_backoff_grows_and_is_capped() -> None:
    b = Backoff(first=5, factor=2, cap=60)
    assert [b.delay(n) for n in (1, 2, 3, 4, 5, 6)] == [5, 10, 20, 40, 60, 60]


async def test_a_permanent_failure_stops_retrying_and_keeps_the_reason(store: Store) -> None:
    clock = Clock()
    fake = RecordingDeliverer(fail_next=1, permanent=True)
    outbox = Outbox(store, {Channel.TELEGRAM: fake}, clock=clock)
    await store.enqueue(alerts(1), clock())
    await outbox.deliver_due()
    clock.advance(days=2)
    assert await outbox.deliver_due() == 0
    assert await store.outbox_counts() == {"failed": 1}


async def test_pending_alerts_survive_a_restart(tmp_path: Path) -> None:
    clock = Clock()
    path = tmp_path / "restart.sqlite3"
    async with Store.open(database(path)) as store:
        await store.enqueue(alerts(2), clock())
        down = Outbox(store, {Channel.TELEGRAM: RecordingDeliverer(fail_next=5)}, clock=clock)
        await down.deliver_due()
    async with Store.open(database(path)) as store:
        fake = RecordingDeliverer()
        clock.advance(minutes=5)
        await Outbox(store, {Channel.TELEGRAM: fake}, clock=clock).deliver_due()
        assert sorted(o.text for o in fake.sent) == ["alert 0", "alert 1"]


async def test_a_channel_that_is_not_running_keeps_its_messages_waiting(store: Store) -> None:
    clock = Clock()
    await store.enqueue([Outgoing(Sender(Channel.WHATSAPP, "whatsapp:+628111"), "x", "alert")], clock())
    await Outbox(store, {}, clock=clock).deliver_due()
    assert await store.outbox_counts() == {"pending": 1}
    due_later = await store.due_outbox(clock() + dt.timedelta(hours=1))
    assert len(due_later) == 1


class FindingDeliverer(RecordingDeliverer):
    """A provider that can be asked what it accepted since a moment (as Twilio's Messages list)."""

    def __init__(self) -> None:
        super().__init__()
        self.accepted: list[tuple[str, str]] = []   # (text, id) the provider has, sent or not
        self.asked: list[dt.datetime] = []

    async def find_sent(self, item: Outgoing, since: dt.datetime) -> str | None:
        self.asked.append(since)
        return next((sid for text, sid in self.accepted if text == item.text), None)


async def test_an_uncertain_send_is_looked_up_and_recorded_not_sent_again(tmp_path: Path) -> None:
    clock = Clock()
    path = tmp_path / "uncertain.sqlite3"
    officer = Sender(Channel.WHATSAPP, "whatsapp:+6281100000001")
    other = Sender(Channel.WHATSAPP, "whatsapp:+6281100000002")
    async with Store.open(database(path)) as store:
        # Two officers: one recipient has one message in flight at a time.
        await store.enqueue([Outgoing(officer, "alert A", "alert"), Outgoing(other, "alert B", "alert")], clock())
        for item in await store.due_outbox(clock()):
            assert await store.outbox_claim(item.id, clock())    # "sending"... and the process dies
    async with Store.open(database(path)) as store:
        provider = FindingDeliverer()
        provider.accepted.append(("alert A", "SM-a"))             # A went through, B did not
        outbox = Outbox(store, {Channel.WHATSAPP: provider}, clock=clock)
        assert await outbox.deliver_due() == 2
        assert [o.text for o in provider.sent] == ["alert B"]     # only B is sent, once
        assert provider.asked == [clock(), clock()]
        assert (await store.outbox_item(1) or {})["provider_id"] == "SM-a"
        assert await store.outbox_attempts(1) == [(True, "found sent at the provider")]
        assert await outbox.deliver_due() == 0


async def test_a_time_out_is_uncertain_and_the_provider_is_asked_before_the_retry(store: Store) -> None:
    clock = Clock()
    officer = Sender(Channel.WHATSAPP, "whatsapp:+6281100000001")
    provider = FindingDeliverer()
    provider.hang_next = 1
    outbox = Outbox(store, {Channel.WHATSAPP: provider}, Backoff(first=10, timeout=0.05), clock)
    await store.enqueue([Outgoing(officer, "alert A", "alert")], clock())
    assert await outbox.deliver_due() == 0                       # timed out: perhaps accepted
    provider.accepted.append(("alert A", "SM-late"))             # it was
    clock.advance(seconds=11)
    assert await outbox.deliver_due() == 1
    assert provider.sent == [] and provider.asked
    assert (await store.outbox_item(1) or {})["provider_id"] == "SM-late"


async def test_the_worker_is_woken_by_a_commit_not_by_its_interval(store: Store) -> None:
    clock = Clock()
    fake = RecordingDeliverer()
    outbox = Outbox(store, {Channel.TELEGRAM: fake}, clock=clock)
    worker = asyncio.create_task(outbox.run(interval=3600))
    try:
        await asyncio.sleep(0.05)                                 # the first pass is over, it sleeps
        await store.enqueue(alerts(1), clock())
        for _ in range(100):
            if fake.sent:
                break
            await asyncio.sleep(0.01)
        assert [o.text for o in fake.sent] == ["alert 0"]
    finally:
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker

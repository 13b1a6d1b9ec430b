"""Several instances on one PostgreSQL: the outbox's claims, periodic work, and Telegram polling."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import pytest
from aiohttp.test_utils import TestServer

from bot.app import Knowledge, build_dialogue
from bot.channels.telegram import TelegramChannel
from bot.config import Secrets
from bot.errors import BotError, StoreError
from bot.models import Channel, Outgoing, Sender
from bot.outbox import Outbox
from bot.store import Conversation, FaqDecision, Store, TurnEnd
from tests.databases import POSTGRESQL, database, read
from tests.fake_telegram import FakeTelegram
from tests.fakes import Chat, Clock
from tests.test_telegram import TOKEN
from tests.villagers import register

T = TypeVar("T")
pytestmark = pytest.mark.skipif(not POSTGRESQL, reason="several instances need PostgreSQL: its half runs these")


async def soon(ask: Callable[[], Awaitable[T]], wanted: T, within: float = 5.0) -> T:
    """Ask until the answer is `wanted` (the server lets a closed connection's locks go a moment later)."""
    deadline = time.monotonic() + within
    while True:
        answer = await ask()
        if answer == wanted or time.monotonic() > deadline:
            return answer
        await asyncio.sleep(0.05)


class Provider:
    """One provider both instances send through, recording which instance sent what, in order."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str]] = []   # (instance, recipient, text)

    def instance(self, name: str) -> _Instance:
        return _Instance(self, name)


@dataclasses.dataclass
class _Instance:
    provider: Provider
    name: str

    async def deliver(self, item: Outgoing) -> str | None:
        await asyncio.sleep(0.002)   # a network call: the other instance works meanwhile
        self.provider.sent.append((self.name, item.recipient.key, item.text))
        return None


async def test_two_instances_send_every_message_once_and_each_chats_in_order(tmp_path: Path) -> None:
    clock, provider = Clock(), Provider()
    chats = [Sender(Channel.TELEGRAM, str(500100 + i)) for i in range(20)]
    items = [Outgoing(chat, f"{chat.user_id}:{n}", "reply") for n in range(6) for chat in chats]
    async with Store.open(database(tmp_path / "shared")) as a, Store.open(database(tmp_path / "shared")) as b:
        await a.enqueue(items, clock())
        outboxes = [Outbox(a, {Channel.TELEGRAM: provider.instance("a")}, clock=clock),
                    Outbox(b, {Channel.TELEGRAM: provider.instance("b")}, clock=clock)]
        for _ in range(40):
            await asyncio.gather(*(o.deliver_due() for o in outboxes))
            if (await a.outbox_counts()) == {"sent": len(items)}:
                break
    assert sorted(text for _, _, text in provider.sent) == sorted(i.text for i in items)   # each once
    for chat in chats:
        in_order = [f"{chat.user_id}:{n}" for n in range(6)]
        assert [text for _, key, text in provider.sent if key == chat.key] == in_order
    assert {name for name, _, _ in provider.sent} == {"a", "b"}   # both instances did part of it


async def test_a_dead_instances_claims_come_back_and_a_live_ones_are_left_alone(tmp_path: Path) -> None:
    clock, provider = Clock(), Provider()
    group = Sender(Channel.TELEGRAM, "-100111")
    async with Store.open(database(tmp_path / "shared")) as b:
        outbox_b = Outbox(b, {Channel.TELEGRAM: provider.instance("b")}, clock=clock)
        async with Store.open(database(tmp_path / "shared")) as a:
            await a.enqueue([Outgoing(group, "BARU SGU-2026-0001", "alert")], clock())
            [item] = await a.due_outbox(clock())
            assert await a.outbox_claim(item.id, clock())          # instance A is sending it...
            assert await outbox_b.deliver_due() == 0
            assert provider.sent == [] and await b.outbox_counts() == {"sending": 1}
        # ... and A dies before it knows: its connection is gone, and with it the claim's lease
        # (once the server has seen the connection end: B's next passes).
        assert await soon(lambda: outbox_b.deliver_due(), 1) == 1
        assert provider.sent == [("b", group.key, "BARU SGU-2026-0001")]
        assert await b.outbox_counts() == {"sent": 1}


async def test_periodic_work_runs_on_one_instance_and_moves_when_it_stops(tmp_path: Path) -> None:
    async with Store.open(database(tmp_path / "shared")) as b:
        async with Store.open(database(tmp_path / "shared")) as a:
            assert await a.lead("housekeeping")
            assert not await b.lead("housekeeping")
            assert await a.lead("housekeeping")                    # still A's, pass after pass
            assert await b.lead("telegram-polling")                # another job, another lock
        assert await soon(lambda: b.lead("housekeeping"), True)    # A stopped: B takes over


async def test_a_second_instance_refuses_to_poll_telegram(desk: Knowledge, tmp_path: Path) -> None:
    fake = FakeTelegram()
    async with TestServer(fake.app, host="127.0.0.1") as server, \
            Store.open(database(tmp_path / "shared")) as a, Store.open(database(tmp_path / "shared")) as b:
        settings = dataclasses.replace(desk.settings, secrets=Secrets(
            telegram_token=TOKEN, telegram_api_base_url=f"http://127.0.0.1:{server.port}"))
        first = TelegramChannel(settings, build_dialogue(desk, a), a, poll_timeout=1)
        second = TelegramChannel(settings, build_dialogue(desk, b), b, poll_timeout=1)
        await first.start()
        try:
            with pytest.raises(BotError, match="telegram polling refused"):
                await second.start()
            assert second._poller is None and first._poller is not None
        finally:
            await first.stop()
        # The first instance stopped (its database connection still open here, as after a
        # restart it would not be): its lock stays until the connection ends.
    async with Store.open(database(tmp_path / "shared")) as c:
        assert await soon(lambda: c.lead("telegram-polling"), True)   # both gone: the next may poll


async def test_one_villagers_messages_spread_over_two_instances_lose_nothing(desk: Knowledge,
                                                                             tmp_path: Path) -> None:
    """Each instance's turn is written only onto the state it was decided from, else decided again."""
    clock = Clock()
    who = Sender(Channel.WHATSAPP, "whatsapp:+6281200000042")
    async with Store.open(database(tmp_path / "shared")) as a, Store.open(database(tmp_path / "shared")) as b:
        on_a, on_b = Chat(build_dialogue(desk, a, clock), who), Chat(build_dialogue(desk, b, clock), who)
        await register(on_a)
        await on_b.say("lapor")
        await on_a.say("Pak Budi 0812-3456-7890 menawarkan kerja di Malaysia")
        lines = [f"Keterangan {i}" for i in range(12)]
        await asyncio.gather(*((on_a if i % 2 else on_b).say(line) for i, line in enumerate(lines)))
        story = (await b.conversation(who)).data["story"]
    assert sorted(story[1:]) == sorted(lines) and len(story) == 13   # every line, each once


async def test_a_lost_connection_fails_one_call_then_the_instance_carries_on(tmp_path: Path) -> None:
    who = Sender(Channel.TELEGRAM, "500042")
    target = database(tmp_path / "shared")
    async with Store.open(target) as a, Store.open(target) as b:
        assert await a.lead("housekeeping")
        [pid] = await (await a.db.execute("SELECT pg_backend_pid()")).fetchone()
        read(target, "SELECT pg_terminate_backend(?)", (pid,))    # the server restarts, say
        with pytest.raises(StoreError):
            await a.conversation(who)                              # the call that finds it gone
        assert (await a.conversation(who)).state == "menu"         # the next one, on a new connection
        # The periodic work's lock went with the old connection: whoever asks first has it, once.
        assert await soon(lambda: b.lead("housekeeping"), True)
        assert not await a.lead("housekeeping")


async def test_two_instances_counting_the_same_figures_at_once_lose_no_turn(tmp_path: Path) -> None:
    """Every turn updates shared roll-up rows (questions per office and decision): two instances'
    group commits must not wait for each other in a circle."""
    clock = Clock()
    target = database(tmp_path / "shared")
    offices = ("SGU", "KTG", "SKW", "PTK")
    async with Store.open(target) as a, Store.open(target) as b:
        async def turns(store: Store, name: str) -> list[object]:
            async def one(i: int) -> object:
                who = Sender(Channel.WHATSAPP, f"whatsapp:+6281{name}{i:05d}")
                decision = FaqDecision(("answer", "suggest", "none")[i % 3], "paspor-biaya",
                                       offices[(i * 7 if name == "1" else -i) % len(offices)])
                end = TurnEnd(None, Conversation("menu", {}), decision, unanswered=f"soal {i % 5}",
                              message_key=f"whatsapp:SM{name}-{i}")
                return await store.end_turn(who, end, clock())
            return await asyncio.gather(*(one(i) for i in range(300)), return_exceptions=True)

        outcomes = [o for run in await asyncio.gather(turns(a, "1"), turns(b, "2")) for o in run]
        assert [o for o in outcomes if isinstance(o, BaseException)] == []
        assert sum(n for _, _, n in await a.desk_weekly_questions(offices, False, dt.date(2026, 1, 1),
                                                                  dt.date(2026, 12, 31))) == 600

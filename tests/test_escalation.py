"""Escalation of missed deadlines: in order, once, across a restart and a second instance, quiet at night."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.app import Knowledge, build_dialogue
from bot.escalation import Escalation
from bot.store import NewReport, Report, Store
from tests.databases import database
from tests.desk_rig import make_console_config
from tests.fakes import villager
from tests.villagers import Bot, file_report, open_bot, register

WIB = ZoneInfo("Asia/Pontianak")
GROUP, HEAD, KANWIL = "-100111", "1002", "3003"     # Kanim Sanggau's group, its head, the Kanwil's officer


def wib(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=WIB)   # type: ignore[misc]


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory) -> Knowledge:
    """Kanim Sanggau with an officer, a head of office and an alert group; a Kanwil officer."""
    return make_console_config(tmp_path_factory.mktemp("escalation"))


async def filed(bot: Bot, risk: str, at: dt.datetime, name: str = "Pak Budi") -> Report:
    bot.clock.now = at
    new = NewReport(office_id="SGU", village_id="semuntai", risk=risk, flags=(), answers={"nama": name},
                    media=(), recruiter_phone=None, recruiter_name=name, recruiter_company=None,
                    reporter_key=None, contactable=False)
    return await bot.dialogue.store.file_report(new, [], at.year, at)


async def escalate(bot: Bot, at: dt.datetime) -> int:
    bot.clock.now = at
    return await Escalation(bot.dialogue.casework).run(at)


def reminders(bot: Bot) -> list[tuple[str, str]]:
    """(recipient, first line) of each reminder delivered, in order."""
    return [(o.recipient.user_id, o.text.splitlines()[0]) for o in bot.telegram.sent if o.kind == "reminder"]


async def test_steps_come_in_order_and_once_across_a_restart(office: Knowledge, tmp_path: Path) -> None:
    # Filed Friday 13 Feb 2026 15:00 WIB, before Imlek's long weekend: due Wednesday 15:00.
    async with open_bot(office, tmp_path) as bot:
        case = await filed(bot, "sedang", wib(2026, 2, 13, 15, 0))
        assert await escalate(bot, wib(2026, 2, 17, 12, 0)) == 0          # the holidays do not count
        assert await escalate(bot, wib(2026, 2, 18, 14, 59)) == 0
        assert await escalate(bot, wib(2026, 2, 18, 15, 0)) == 1          # the deadline: the office
        assert await escalate(bot, wib(2026, 2, 18, 15, 1)) == 0
        # The process dies here, before the outbox delivered the reminder.
    async with open_bot(office, tmp_path) as bot:
        assert await escalate(bot, wib(2026, 2, 18, 15, 5)) == 0          # written before the restart
        assert await escalate(bot, wib(2026, 2, 19, 15, 0)) == 1          # a working day later: the head
        assert await escalate(bot, wib(2026, 2, 20, 15, 0)) == 1          # two: the Kantor Wilayah
        assert await escalate(bot, wib(2026, 2, 23, 9, 0)) == 0
        await bot.deliver()
        sent = reminders(bot)
        assert [who for who, _ in sent] == [GROUP, HEAD, KANWIL]
        assert "Pengingat" in sent[0][1] and "Kepala Kantor" in sent[1][1] and "Kantor Wilayah" in sent[2][1]
        assert all(case.case_no in line for _, line in sent)
        steps = await bot.dialogue.store.escalations_of(case.id)
        assert [s for s, _ in steps] == ["tanggap:1", "tanggap:2", "tanggap:3"]
        # Each step is on the case's history, as an officer reads it with KASUS <nomor>.
        detail = await bot.chat(villager("1001")).say(f"KASUS {case.case_no}")
        assert detail.count("eskalasi") == 3 and "kepala kantor" in detail


async def test_two_instances_on_one_database_send_each_step_once(office: Knowledge, tmp_path: Path) -> None:
    async with open_bot(office, tmp_path) as bot:
        for i in range(30):
            await filed(bot, "rendah", wib(2026, 11, 9, 9, 0) + dt.timedelta(minutes=i), name=f"Perekrut {i}")
    late = wib(2026, 11, 25, 10, 0)       # every acknowledgement step of every case is due
    target = database(tmp_path / "bot.sqlite3")
    async with Store.open(target) as one, Store.open(target) as two:
        passes = [Escalation(build_dialogue(office, store).casework) for store in (one, two)]
        written = await asyncio.gather(*(p.run(late) for p in passes for _ in range(2)))
        assert sum(written) == 30 * 3
        counts = await one.outbox_counts()
        # 30 cases, every step due at once (a backlog): each step is written once, whichever
        # instance wrote it, and only the highest (the Kanwil's) is sent, once per case.
        assert counts == {"pending": 30}
        steps = await one.escalations_of((await one.report_by_case("SGU-2026-0001")).id)  # type: ignore[union-attr]
        assert [s for s, _ in steps] == ["tanggap:1", "tanggap:2", "tanggap:3"]


async def test_nothing_non_urgent_is_sent_in_quiet_hours_but_danger_is(office: Knowledge, tmp_path: Path) -> None:
    async with open_bot(office, tmp_path) as bot:
        await filed(bot, "sedang", wib(2026, 11, 9, 9, 0))        # due Tuesday 09:00
        # The bot was down all Tuesday and comes back at 22:00: the reminder waits for the morning.
        assert await escalate(bot, wib(2026, 11, 10, 22, 0)) == 0
        assert await escalate(bot, wib(2026, 11, 11, 5, 59)) == 0
        # A high-risk case filed on Saturday night is due at 02:00 on Sunday and is sent then.
        danger = await filed(bot, "tinggi", wib(2026, 11, 14, 22, 0))
        assert await escalate(bot, wib(2026, 11, 15, 1, 59)) == 0
        assert await escalate(bot, wib(2026, 11, 15, 2, 0)) == 1
        assert [s for s, _ in await bot.dialogue.store.escalations_of(danger.id)] == ["tanggap:1"]
        assert await escalate(bot, wib(2026, 11, 11, 6, 0)) == 1       # morning: the waiting reminder


async def test_an_acknowledged_case_is_not_chased_until_its_closing_deadline(office: Knowledge,
                                                                            tmp_path: Path) -> None:
    async with open_bot(office, tmp_path) as bot:
        bot.clock.now = wib(2026, 11, 9, 9, 0)
        villager_chat = bot.chat(villager())
        await register(villager_chat)
        await file_report(villager_chat)                  # a high-risk report, through the chat
        officer = bot.chat(villager("1001"))
        await officer.say("TANGANI SGU-2026-0001")
        assert await escalate(bot, wib(2026, 11, 10, 9, 0)) == 0        # acknowledged in time
        # 14 working days from Monday 9 Nov 09:00: Friday 27 Nov 09:00.
        assert await escalate(bot, wib(2026, 11, 27, 8, 59)) == 0
        assert await escalate(bot, wib(2026, 11, 27, 9, 0)) == 1
        await bot.deliver()
        assert "belum ditutup" in reminders(bot)[0][1]

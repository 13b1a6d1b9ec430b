"""`desa-imigrasi migrate-db`: a pilot's SQLite history moved into PostgreSQL, checked table by table."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot import store_copy
from bot.app import Knowledge, build_dialogue
from bot.models import Channel, Sender
from bot.store import Store
from tests.conftest import ROOT
from tests.databases import POSTGRESQL, database
from tests.fakes import Chat, Clock
from tests.villagers import KTG_OFFICER, file_report, register

pytestmark = pytest.mark.skipif(not POSTGRESQL, reason="needs PostgreSQL: runs in the suite's PostgreSQL half")


async def _pilot(desk: Knowledge, path: Path) -> str:
    """A SQLite database with a bit of everything: profiles, turns, a report, its alerts, a FAQ log."""
    async with Store.open(path) as store:
        dialogue = build_dialogue(desk, store, Clock())
        villager = Chat(dialogue, Sender(Channel.WHATSAPP, "whatsapp:+6281200000001"))
        await register(villager)
        await villager.say("berapa biaya paspor?")
        case = await file_report(villager)
        await Chat(dialogue, Sender(Channel.TELEGRAM, "500002")).say("halo")
        anonymous = Chat(dialogue, Sender(Channel.TELEGRAM, "500003"))
        await register(anonymous, "sutera")
        await file_report(anonymous, name="Bu Sari", phone="0813-2222-3333", anonymous=True)
        await Chat(dialogue, KTG_OFFICER).say("KASUS")
    return case


def _migrate(source: Path, target: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", "--config", str(ROOT / "config.example.yaml"),
                           "migrate-db", "--db", str(source), "--to", target],
                          capture_output=True, text=True, cwd=ROOT, timeout=120, check=False)


async def test_a_pilots_history_moves_to_postgresql_and_every_table_is_checked(desk: Knowledge,
                                                                               tmp_path: Path) -> None:
    source, target = tmp_path / "pilot.sqlite3", str(database(tmp_path / "national"))
    await _pilot(desk, source)
    moved = _migrate(source, target)
    assert moved.returncode == 0, moved.stderr
    lines = {line.split()[0]: line for line in moved.stdout.splitlines() if " -> " in line}
    assert {"reports", "outbox", "processed", "conversations", "faq_log"} <= set(lines)
    assert all(line.endswith(" ok") for line in lines.values())
    assert "2 -> 2 " in lines["reports"]

    async with Store.open(source) as before, Store.open(target) as after:
        assert [r.case_no for r in await after.open_reports(None)] == \
            [r.case_no for r in await before.open_reports(None)]
        assert await after.last_inbound(Sender(Channel.WHATSAPP, "whatsapp:+6281200000001")) == \
            await before.last_inbound(Sender(Channel.WHATSAPP, "whatsapp:+6281200000001"))
        # The bot goes on on PostgreSQL: the villager's state is there, and new rows number on.
        dialogue = build_dialogue(desk, after, Clock())
        villager = Chat(dialogue, Sender(Channel.WHATSAPP, "whatsapp:+6281200000001"))
        third = await file_report(villager, name="Pak Dedi", phone="0813-4444-5555")
        assert "SGU-2026-0002" in third                         # the office's numbering goes on
        new = await after.report_by_case("SGU-2026-0002")
        assert new is not None and new.id == 3 and new.recruiter_name == "Pak Dedi"

    again = _migrate(source, target)
    assert again.returncode == 1 and "not empty" in again.stderr


async def test_a_row_that_differs_after_the_copy_is_named(desk: Knowledge, tmp_path: Path) -> None:
    source, target = tmp_path / "pilot.sqlite3", str(database(tmp_path / "national"))
    await _pilot(desk, source)
    async with Store.open(source) as sqlite, Store.open(target) as postgresql:
        assert all(c.ok for c in await store_copy.copy(sqlite, postgresql))
        await postgresql.db.execute("UPDATE reports SET risk = 'diubah' WHERE id = 1")
        checks = {c.table: c for c in await store_copy.verify(sqlite, postgresql)}
    assert checks["reports"].source_rows == checks["reports"].target_rows
    # The report, and the figures its triggers keep (live again after the copy), no longer agree.
    assert {name for name, c in checks.items() if not c.ok} == {"reports", "fig_reports", "fig_villages"}

"""The database: migrations, case numbers, and idempotency."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bot.store import MIGRATIONS, NewReport, Store
from tests.fakes import Clock


def _new(office: str = "SGU", phone: str | None = "+6281234567890") -> NewReport:
    return NewReport(office_id=office, village_id="semuntai", risk="rendah", flags=(), answers={},
                     media=(), recruiter_phone=phone, recruiter_name=None, recruiter_company=None,
                     reporter_key=None, contactable=False)


async def test_a_new_file_is_migrated_to_the_latest_version_and_reopening_is_harmless(tmp_path: Path) -> None:
    path = tmp_path / "m.sqlite3"
    async with Store.open(path):
        pass
    async with Store.open(path):
        pass
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    con.close()


async def test_case_numbers_count_per_office_and_year_and_read_aloud(tmp_path: Path) -> None:
    clock = Clock()
    async with Store.open(tmp_path / "c.sqlite3") as store:
        numbers = [(await store.file_report(_new(o), [], 2026, clock())).case_no
                   for o in ("SGU", "SGU", "KTG")]
        numbers.append((await store.file_report(_new("SGU"), [], 2027, clock())).case_no)
    assert numbers == ["SGU-2026-0001", "SGU-2026-0002", "KTG-2026-0001", "SGU-2027-0001"]


async def test_a_message_id_is_processed_once(tmp_path: Path) -> None:
    clock = Clock()
    async with Store.open(tmp_path / "i.sqlite3") as store:
        assert await store.first_time("telegram:42", clock())
        assert not await store.first_time("telegram:42", clock())
        assert await store.first_time("whatsapp:42", clock())


async def test_sql_metacharacters_in_answers_are_plain_data(tmp_path: Path) -> None:
    clock = Clock()
    async with Store.open(tmp_path / "s.sqlite3") as store:
        evil = "Robert'); DROP TABLE reports;--"
        new = _new()
        new = NewReport(**{**new.__dict__, "recruiter_name": evil, "answers": {"nama": evil}})
        report = await store.file_report(new, [], 2026, clock())
        again = await store.report_by_case(report.case_no)
        assert again is not None and again.answers["nama"] == evil
        assert [r.case_no for r in await store.related_reports(None, [evil.upper()])] == [report.case_no]


async def test_a_backup_taken_while_the_bot_runs_has_every_report(tmp_path: Path) -> None:
    clock = Clock()
    async with Store.open(tmp_path / "live.sqlite3") as store:
        await store.file_report(_new(), [], 2026, clock())
        await store.backup(tmp_path / "backup" / "copy.sqlite3")
        await store.file_report(_new(), [], 2026, clock())   # still usable afterwards
    con = sqlite3.connect(tmp_path / "backup" / "copy.sqlite3")
    assert con.execute("SELECT case_no FROM reports").fetchall() == [("SGU-2026-0001",)]
    con.close()

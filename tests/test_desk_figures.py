"""The console's figures: the roll-ups they read always equal a count over the reports and questions."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import random
import sqlite3
from collections import Counter
from pathlib import Path

from bot.models import Channel, Sender
from bot.store import (
    FIGURES_ZONE,
    MIGRATIONS,
    SQLITE,
    Conversation,
    FaqDecision,
    NewReport,
    Report,
    Store,
    TurnEnd,
)
from bot.store import POSTGRESQL as POSTGRESQL_DIALECT
from tests.databases import POSTGRESQL, database

OFFICES = ("SGU", "KTG", "SKW")
FIRST, LAST = dt.date(2026, 1, 1), dt.date(2026, 12, 31)


def _new(rng: random.Random) -> NewReport:
    office = rng.choice(OFFICES)
    typed = rng.random() < 0.3
    return NewReport(office_id=office, village_id="" if typed else f"desa-{office.lower()}-{rng.randrange(3)}",
                     risk=rng.choice(("tinggi", "sedang", "rendah")), flags=(), answers={}, media=(),
                     recruiter_phone=None, recruiter_name=None, recruiter_company=None, reporter_key=None,
                     contactable=False,
                     place={"name": rng.choice(("Entikong", "Balai Karangan"))} if typed else None)


def _monday(moment: dt.datetime) -> str:
    day = moment.astimezone(FIGURES_ZONE).date()
    return (day - dt.timedelta(days=day.weekday())).isoformat()


def _village_key(r: Report) -> tuple[str, str, str]:
    return r.office_id, r.village_id, (r.place or {}).get("name", "") if not r.village_id else ""


async def _file_and_work(store: Store, rng: random.Random, count: int) -> None:
    """Reports filed over the year; some acknowledged, some closed, as officers do."""
    for _ in range(count):
        moment = dt.datetime(2026, 1, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=rng.randrange(365 * 24 * 60))
        report = await store.file_report(_new(rng), [], 2026, moment)
        if rng.random() < 0.6:
            report = await store.record_case_event(
                report, actor="SGU-1", kind="ack", text="", status="ditangani", public_note=None, outgoing=(),
                now=moment + dt.timedelta(hours=3))
            if rng.random() < 0.5:
                await store.record_case_event(report, actor="SGU-1", kind="close", text="", status="ditutup",
                                              public_note=None, outgoing=(), now=moment + dt.timedelta(days=2))


async def _assert_figures_match_the_reports(store: Store) -> None:
    reports = await store.reports_in(OFFICES, dt.datetime(2025, 12, 1, tzinfo=dt.UTC),
                                     dt.datetime(2027, 2, 1, tzinfo=dt.UTC))
    weekly = Counter({(_monday(r.created_at), r.office_id, r.risk): 0 for r in reports})
    weekly.update((_monday(r.created_at), r.office_id, r.risk) for r in reports)
    assert {(w, o, k): n for w, o, k, n in await store.desk_weekly_reports(OFFICES, FIRST, LAST)} == weekly
    villages: dict[tuple[str, str, str], list[int]] = {}
    for r in reports:
        counts = villages.setdefault(_village_key(r), [0, 0, 0])
        counts[0] += 1
        counts[1] += r.risk == "tinggi"
        counts[2] += r.status != "ditutup"
    rows = await store.desk_by_village(OFFICES, FIRST, LAST)
    assert {(o, v, p): [n, h, s] for o, v, p, n, h, s in rows} == villages


async def test_weekly_and_village_figures_equal_a_count_over_the_reports_as_cases_move(tmp_path: Path) -> None:
    rng = random.Random(7)
    async with Store.open(database(tmp_path / "f.sqlite3")) as store:
        await _file_and_work(store, rng, 120)
        await _assert_figures_match_the_reports(store)


async def test_a_report_counts_on_the_offices_day_not_the_servers(tmp_path: Path) -> None:
    rng = random.Random(1)
    async with Store.open(database(tmp_path / "d.sqlite3")) as store:
        # Sunday 29 November 23:30 WIB, and Monday 30 November 00:30 WIB (still Sunday in UTC).
        for hour in (16, 17):
            await store.file_report(_new(rng), [], 2026, dt.datetime(2026, 11, 29, hour, 30, tzinfo=dt.UTC))
        weeks = sorted(week for week, *_ in await store.desk_weekly_reports(OFFICES, FIRST, LAST))
        assert weeks == ["2026-11-23", "2026-11-30"]
        # A period of Monday alone holds the report filed after midnight WIB, not the one before.
        monday = dt.date(2026, 11, 30)
        assert [n for *_, n in await store.desk_weekly_reports(OFFICES, monday, monday)] == [1]


async def test_question_figures_equal_a_count_over_the_decisions(tmp_path: Path) -> None:
    rng = random.Random(3)
    decisions = []
    async with Store.open(database(tmp_path / "q.sqlite3")) as store:
        for i in range(200):
            moment = dt.datetime(2026, 1, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=rng.randrange(365 * 24 * 60))
            faq = FaqDecision(rng.choice(("answer", "answer", "suggest", "none")),
                              rng.choice(("paspor", "visa", None)), rng.choice((*OFFICES, None)))
            decisions.append((moment, faq))
            end = TurnEnd(None, Conversation("menu", {}), faq=faq, message_key=f"telegram:{i}")
            await store.end_turn(Sender(Channel.TELEGRAM, str(i)), end, moment)
        for unplaced in (False, True):
            mine = [(m, f) for m, f in decisions if f.office_id in OFFICES or (unplaced and f.office_id is None)]
            weekly = Counter((_monday(m), f.decision) for m, f in mine)
            assert dict(Counter({(w, d): n for w, d, n in
                                 await store.desk_weekly_questions(OFFICES, unplaced, FIRST, LAST)})) == weekly
            top = Counter(f.entry_id or "" for _, f in mine if f.decision == "answer")
            assert dict(await store.desk_top_entries(OFFICES, unplaced, FIRST, LAST)) == top


async def test_upgrading_an_older_database_counts_the_reports_it_already_has(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    rng = random.Random(11)
    rows = []
    for i in range(60):
        new = _new(rng)
        moment = dt.datetime(2026, 1, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=rng.randrange(365 * 24 * 60))
        rows.append((f"X-{i}", new.office_id, new.village_id, rng.choice(("baru", "ditangani", "ditutup")),
                     new.risk, moment.isoformat(), json.dumps(new.place) if new.place else None))
    statements = [POSTGRESQL_DIALECT.ddl(s) if POSTGRESQL else SQLITE.ddl(s) for m in MIGRATIONS[:6] for s in m]
    insert = ("INSERT INTO reports (case_no, office_id, village_id, status, risk, flags, answers, media, "
              "contactable, created_at, place) VALUES (?, ?, ?, ?, ?, '[]', '{}', '[]', 0, ?, ?)")
    if POSTGRESQL:
        import psycopg

        from bot.postgres import translate
        with psycopg.connect(str(database(path)), autocommit=True) as pg:
            for statement in filter(None, statements):
                pg.execute(statement)
            for row in rows:
                pg.execute(translate(insert), row)
            pg.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
            pg.execute("INSERT INTO schema_version VALUES (6)")
    else:
        conn = sqlite3.connect(path)
        for statement in filter(None, statements):
            conn.execute(statement)
        conn.executemany(insert, rows)
        conn.execute("PRAGMA user_version = 6")
        conn.commit()
        conn.close()
    async with Store.open(database(path)) as store:
        await _assert_figures_match_the_reports(store)
        # and the reports filed after the upgrade are counted on top of them
        await _file_and_work(store, rng, 20)
        await _assert_figures_match_the_reports(store)


async def test_open_cases_count_as_overdue_by_their_own_status_and_risk(tmp_path: Path) -> None:
    rng = random.Random(5)
    monday = dt.datetime(2026, 11, 9, 2, 0, tzinfo=dt.UTC)
    async with Store.open(database(tmp_path / "o.sqlite3")) as store:
        filed = []
        for days_ago in (10, 3, 0):
            new = dataclasses.replace(_new(rng), office_id="SGU", risk="rendah")
            filed.append(await store.file_report(new, [], 2026, monday - dt.timedelta(days=days_ago)))
        # rendah cases still new are past their deadline when filed 5 days ago or before
        cutoffs = {("baru", "rendah"): monday - dt.timedelta(days=5), ("baru", "tinggi"): monday}
        assert await store.desk_open_cases(("SGU",), cutoffs) == [("SGU", 3, 1)]
        await store.record_case_event(filed[0], actor="SGU-1", kind="ack", text="", status="ditangani",
                                      public_note=None, outgoing=(), now=monday)
        assert await store.desk_open_cases(("SGU",), cutoffs) == [("SGU", 3, 0)]
        assert await store.desk_open_cases(("SGU",), {}) == [("SGU", 3, 0)]

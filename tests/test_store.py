"""The database: migrations, case numbers, and idempotency."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from bot import store as store_module
from bot.models import Channel, Sender
from bot.store import MIGRATIONS, Conversation, FaqDecision, NewReport, Store, TurnEnd, TurnResult
from tests.databases import LOCKED, POSTGRESQL, database, locked, read, wait_briefly_for_locks
from tests.fakes import Clock

INTEGRITY: tuple[type[Exception], ...] = (sqlite3.IntegrityError,)
if POSTGRESQL:
    from bot.postgres import IntegrityError
    INTEGRITY = (IntegrityError,)


def _new(office: str = "SGU", phone: str | None = "+6281234567890") -> NewReport:
    return NewReport(office_id=office, village_id="semuntai", risk="rendah", flags=(), answers={},
                     media=(), recruiter_phone=phone, recruiter_name=None, recruiter_company=None,
                     reporter_key=None, contactable=False)


async def test_a_new_file_is_migrated_to_the_latest_version_and_reopening_is_harmless(tmp_path: Path) -> None:
    path = tmp_path / "m.sqlite3"
    async with Store.open(database(path)):
        pass
    async with Store.open(database(path)):
        pass
    async with Store.open(database(path)) as store:
        assert await store.schema_version() == len(MIGRATIONS)
    if not POSTGRESQL:
        con = sqlite3.connect(path)
        assert con.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        con.close()


async def test_case_numbers_count_per_office_and_year_and_read_aloud(tmp_path: Path) -> None:
    clock = Clock()
    async with Store.open(database(tmp_path / "c.sqlite3")) as store:
        numbers = [(await store.file_report(_new(o), [], 2026, clock())).case_no
                   for o in ("SGU", "SGU", "KTG")]
        numbers.append((await store.file_report(_new("SGU"), [], 2027, clock())).case_no)
    assert numbers == ["SGU-2026-0001", "SGU-2026-0002", "KTG-2026-0001", "SGU-2027-0001"]


async def test_a_message_id_is_processed_once(tmp_path: Path) -> None:
    clock = Clock()
    async with Store.open(database(tmp_path / "i.sqlite3")) as store:
        who = Sender(Channel.TELEGRAM, "7")
        assert await store.begin_turn(who, "telegram:42", clock()) is not None
        # Reading the state records nothing: a crash before end_turn leaves the id unseen.
        assert await store.begin_turn(who, "telegram:42", clock()) is not None
        end = TurnEnd(None, Conversation("village", {}), message_key="telegram:42")
        assert not (await store.end_turn(who, end, clock())).duplicate
        assert await store.begin_turn(who, "telegram:42", clock()) is None
        assert await store.begin_turn(who, "whatsapp:42", clock()) is not None
        # The same id ending a second turn (handled twice at once): nothing of it is written.
        again = TurnEnd(None, Conversation("report", {}), message_key="telegram:42")
        assert (await store.end_turn(who, again, clock())).duplicate
        assert (await store.conversation(who)).state == "village"


async def test_message_ids_are_forgotten_once_no_provider_can_deliver_them_again(tmp_path: Path) -> None:
    clock = Clock()
    who = Sender(Channel.WHATSAPP, "whatsapp:+6281200000001")

    async def handled(key: str) -> None:
        end = TurnEnd(None, Conversation("menu", {}), message_key=key, kept_replies=[])
        assert not (await store.end_turn(who, end, clock())).duplicate

    async with Store.open(database(tmp_path / "p.sqlite3")) as store:
        for n in range(3):
            await handled(f"whatsapp:SM-old-{n}")
        clock.advance(days=1, hours=23)
        await handled("whatsapp:SM-recent")
        clock.advance(hours=2)
        now = clock()
        await store.prune_delivery_records(now - dt.timedelta(days=2), now - dt.timedelta(minutes=10))
        # Two days on, nobody delivers the old ones again; the recent one is still a redelivery.
        assert await store.begin_turn(who, "whatsapp:SM-recent", now) is None
        for n in range(3):
            assert await store.begin_turn(who, f"whatsapp:SM-old-{n}", now) is not None
        clock.advance(days=2)
        now = clock()
        await store.prune_delivery_records(now - dt.timedelta(days=2), now - dt.timedelta(minutes=10))
        assert await store.begin_turn(who, "whatsapp:SM-recent", now) is not None
    assert read(database(tmp_path / "p.sqlite3"), "SELECT count(*) FROM processed") == [(0,)]


async def test_a_backlog_of_old_message_ids_goes_a_bounded_batch_per_pass(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_module, "PRUNE_IDS", 2)
    clock = Clock()
    who = Sender(Channel.TELEGRAM, "7")
    async with Store.open(database(tmp_path / "b.sqlite3")) as store:
        for n in range(5):
            end = TurnEnd(None, Conversation("menu", {}), message_key=f"telegram:{n}")
            await store.end_turn(who, end, clock())
        clock.advance(days=3)
        now = clock()
        counts = [await store.prune_delivery_records(now - dt.timedelta(days=2), now) for _ in range(4)]
    assert counts == [2, 2, 1, 0]


async def test_turns_written_together_keep_each_villager_apart(tmp_path: Path) -> None:
    """Turns that arrive at once share a commit; one that fails loses nobody else's message."""
    clock = Clock()
    senders = [Sender(Channel.WHATSAPP, f"whatsapp:+62812000{i:04d}") for i in range(300)]   # > MAX_GROUP
    async with Store.open(database(tmp_path / "g.sqlite3")) as store:
        starts = await asyncio.gather(*(store.begin_turn(s, f"whatsapp:SM{i}", clock())
                                        for i, s in enumerate(senders)))
        assert all(start is not None and start.conversation.state == "menu" for start in starts)

        def end(i: int) -> TurnEnd:
            # Turn 7 breaks inside the database (a state is required) after its profile was written.
            state = "village" if i != 7 else None
            return TurnEnd("semuntai", Conversation(state, {"asked": i}),  # type: ignore[arg-type]
                           FaqDecision("answer", "paspor-biaya", "SGU"), message_key=f"whatsapp:SM{i}")

        # Sender 0's message twice in the same group (a redelivery queued right behind it).
        outcomes = await asyncio.gather(*(store.end_turn(s, end(i), clock()) for i, s in enumerate(senders)),
                                        store.end_turn(senders[0], end(0), clock()), return_exceptions=True)
        assert [i for i, o in enumerate(outcomes) if not isinstance(o, TurnResult)] == [7]
        assert isinstance(outcomes[7], INTEGRITY)
        assert [i for i, o in enumerate(outcomes) if isinstance(o, TurnResult) and o.duplicate] == [300]
        again = await store.begin_turn(senders[3], "whatsapp:SM-next", clock())
        assert again is not None and again.conversation == Conversation("village", {"asked": 3})
        assert again.profile.village_id == "semuntai"
        broken = await store.begin_turn(senders[7], "whatsapp:SM7", clock())
        # Its whole turn is undone, the profile and the message id it had already written included.
        assert broken is not None and broken.conversation.state == "menu" and broken.profile.village_id is None
    for table in ("conversations", "faq_log", "processed"):
        assert read(database(tmp_path / "g.sqlite3"), f"SELECT count(*) FROM {table}") == [(299,)]


async def test_a_locked_database_fails_every_turn_of_the_group_and_the_next_group_works(tmp_path: Path) -> None:
    clock = Clock()
    path = tmp_path / "l.sqlite3"
    senders = [Sender(Channel.TELEGRAM, str(i)) for i in range(5)]
    async with Store.open(database(path)) as store:
        await wait_briefly_for_locks(store, 200)
        with locked(path):                                     # another process writing
            outcomes = await asyncio.gather(*(store.begin_turn(s, f"telegram:{i}", clock())
                                              for i, s in enumerate(senders)), return_exceptions=True)
        assert all(isinstance(o, LOCKED) for o in outcomes)
        assert len({id(o) for o in outcomes}) == len(outcomes)   # each caller its own error to raise
        again = await asyncio.gather(*(store.begin_turn(s, f"telegram:{i}", clock())
                                       for i, s in enumerate(senders)))
        assert all(start is not None for start in again)   # nothing was half-recorded while locked


async def test_a_turn_given_up_before_it_was_written_is_not_recorded(tmp_path: Path) -> None:
    """A handler cancelled while its turn waits: the redelivered message is handled, not dropped."""
    clock = Clock()
    sender = Sender(Channel.WHATSAPP, "whatsapp:+6281200000001")
    async with Store.open(database(tmp_path / "x.sqlite3")) as store:
        async with store._write_lock:   # a report being filed holds the database meanwhile
            waiting = asyncio.ensure_future(store.begin_turn(sender, "whatsapp:SM1", clock()))
            await asyncio.sleep(0.01)
            waiting.cancel()
        await asyncio.sleep(0.01)
        assert await store.begin_turn(sender, "whatsapp:SM1", clock()) is not None


async def test_a_turn_accepted_before_closing_is_written(tmp_path: Path) -> None:
    clock = Clock()
    sender = Sender(Channel.TELEGRAM, "42")
    async with Store.open(database(tmp_path / "c.sqlite3")) as store:
        end = TurnEnd(None, Conversation("report", {}))
        pending = asyncio.ensure_future(store.end_turn(sender, end, clock()))
        await asyncio.sleep(0)
    await pending
    async with Store.open(database(tmp_path / "c.sqlite3")) as store:
        assert (await store.conversation(sender)).state == "report"
    with pytest.raises(ValueError, match="closed"):
        await store.end_turn(sender, TurnEnd(None, Conversation("menu", {})), clock())


async def test_sql_metacharacters_in_answers_are_plain_data(tmp_path: Path) -> None:
    clock = Clock()
    async with Store.open(database(tmp_path / "s.sqlite3")) as store:
        evil = "Robert'); DROP TABLE reports;--"
        new = _new()
        new = NewReport(**{**new.__dict__, "recruiter_name": evil, "answers": {"nama": evil}})
        report = await store.file_report(new, [], 2026, clock())
        again = await store.report_by_case(report.case_no)
        assert again is not None and again.answers["nama"] == evil
        assert [r.case_no for r in await store.related_reports(None, [evil.upper()])] == [report.case_no]


@pytest.mark.sqlite_only
async def test_a_backup_taken_while_the_bot_runs_has_every_report(tmp_path: Path) -> None:
    clock = Clock()
    async with Store.open(database(tmp_path / "live.sqlite3")) as store:
        await store.file_report(_new(), [], 2026, clock())
        await store.backup(tmp_path / "backup" / "copy.sqlite3")
        await store.file_report(_new(), [], 2026, clock())   # still usable afterwards
    con = sqlite3.connect(tmp_path / "backup" / "copy.sqlite3")
    assert con.execute("SELECT case_no FROM reports").fetchall() == [("SGU-2026-0001",)]
    con.close()

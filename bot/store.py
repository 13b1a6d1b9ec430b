"""All SQL: the schema (numbered migrations), conversation state, reports, cases and the outbox.

Two engines, one store: SQLite (aiosqlite, the default) or PostgreSQL (bot/postgres.py, a psycopg
connection with aiosqlite's small interface). Every unit of work is written once; where the
two dialects differ, `Dialect` and `PerEngine` spell each. One connection per process.

Each public method is one unit of work and commits before it returns, so no other coroutine can
interleave inside a transaction. The two calls
every message makes (`begin_turn`, `end_turn`) are committed in groups: the units that arrive
while one group is being written go together in the next one, in one trip to the database
thread and one commit, each in a savepoint of its own. A trip and a commit cost more than the
SQL they carry (bench/webhook.py).
"""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import hashlib
import json
import logging
import re
import sqlite3
import zlib
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple, Protocol, TypeVar, cast

import aiosqlite

from bot.errors import StoreError
from bot.models import Option, Outgoing, Reply, Sender

log = logging.getLogger(__name__)
# aiosqlite logs every statement with its arguments at DEBUG: those arguments are reports.
logging.getLogger("aiosqlite").setLevel(max(logging.getLogger("aiosqlite").level, logging.INFO))

# The offices' day (Western Indonesia Time, no daylight saving): the figures' roll-ups count by it.
FIGURES_ZONE = dt.timezone(dt.timedelta(hours=7), "WIB")
_DAY_SHIFT = "'+7 hours'"


class PerEngine(NamedTuple):
    """A migration statement the two dialects spell differently ("" where one needs nothing)."""

    sqlite: str
    postgresql: str


def _day(column: str, pg: bool) -> str:
    """The offices' day (WIB) of a time written by `_iso`, as YYYY-MM-DD."""
    if pg:
        return f"to_char(({column})::timestamptz AT TIME ZONE 'UTC' + interval '7 hours', 'YYYY-MM-DD')"
    return f"date({column}, {_DAY_SHIFT})"


def _report_keys(row: str, pg: bool = False) -> dict[str, str]:
    """The roll-up keys of one report row (`new` or `old` in a trigger, `reports` in a backfill)."""
    village = f"coalesce({row}.village_id, '')"
    if pg:   # PostgreSQL: a comparison is a boolean, not a number; `place` is always JSON or NULL
        place = (f"CASE WHEN {village} = '' AND {row}.place IS NOT NULL "
                 f"THEN coalesce({row}.place::json ->> 'name', '') ELSE '' END")
        high, still_open = f"({row}.risk = 'tinggi')::int", f"({row}.status != 'ditutup')::int"
    else:
        place = (f"CASE WHEN {village} = '' AND json_valid({row}.place) "
                 f"THEN coalesce(json_extract({row}.place, '$.name'), '') ELSE '' END")
        high, still_open = f"({row}.risk = 'tinggi')", f"({row}.status != 'ditutup')"
    return {
        "day": _day(f"{row}.created_at", pg),
        "office": f"{row}.office_id",
        "risk": f"{row}.risk",
        "village": village,
        "place": place,
        "high": high,
        "open": still_open,
    }


def _upsert_n(table: str, key: str, pg: bool, more: str = "") -> str:
    """The ON CONFLICT clause adding to a roll-up row (PostgreSQL names the key and the table)."""
    if not pg:
        return "ON CONFLICT DO UPDATE SET n = n + excluded.n" + more.replace("{t}.", "")
    return f"ON CONFLICT ({key}) DO UPDATE SET n = {table}.n + excluded.n" + more.replace("{t}", table)


def _count_report(row: str, sign: str, pg: bool = False) -> str:
    """Statements adding (sign '+') or taking away (sign '-') one report in the roll-ups."""
    k = _report_keys(row, pg)
    return (
        "INSERT INTO fig_reports (day, office_id, risk, n) "  # noqa: S608 (our own expressions)
        f"VALUES ({k['day']}, {k['office']}, {k['risk']}, {sign}1) "
        f"{_upsert_n('fig_reports', 'day, office_id, risk', pg)}; "
        "INSERT INTO fig_villages (day, office_id, village_id, place_name, n, high, still_open) "
        f"VALUES ({k['day']}, {k['office']}, {k['village']}, {k['place']}, {sign}1, {sign}{k['high']}, "
        f"{sign}{k['open']}) "
        + _upsert_n("fig_villages", "day, office_id, village_id, place_name", pg,
                    ", high = {t}.high + excluded.high, still_open = {t}.still_open + excluded.still_open")
        + ";")


def _count_question(row: str, sign: str, pg: bool = False) -> str:
    day, office = _day(f"{row}.at", pg), f"coalesce({row}.office_id, '')"
    return (
        "INSERT INTO fig_questions (day, office_key, decision, n) "  # noqa: S608 (our own expressions)
        f"VALUES ({day}, {office}, {row}.decision, {sign}1) "
        f"{_upsert_n('fig_questions', 'day, office_key, decision', pg)}; "
        "INSERT INTO fig_answers (day, office_key, entry_id, n) "
        f"SELECT {day}, {office}, coalesce({row}.entry_id, ''), {sign}1 WHERE {row}.decision = 'answer' "
        f"{_upsert_n('fig_answers', 'day, office_key, entry_id', pg)};")


_FIGURE_COLUMNS = "created_at, office_id, village_id, place, risk, status"


def _figure_triggers() -> tuple[str, ...]:
    # A report's office, village, risk or status may change after it is filed: the old row is
    # taken away and the new one added, so each roll-up always equals a count over the table.
    columns = _FIGURE_COLUMNS
    return (
        f"CREATE TRIGGER fig_reports_insert AFTER INSERT ON reports BEGIN {_count_report('new', '+')} END",
        f"CREATE TRIGGER fig_reports_update AFTER UPDATE OF {columns} ON reports "
        f"BEGIN {_count_report('old', '-')} {_count_report('new', '+')} END",
        f"CREATE TRIGGER fig_reports_delete AFTER DELETE ON reports BEGIN {_count_report('old', '-')} END",
        f"CREATE TRIGGER fig_questions_insert AFTER INSERT ON faq_log BEGIN {_count_question('new', '+')} END",
        f"CREATE TRIGGER fig_questions_delete AFTER DELETE ON faq_log BEGIN {_count_question('old', '-')} END",
    )


def _figure_triggers_pg() -> tuple[str, ...]:
    """The same triggers on PostgreSQL: a plpgsql function per table, for every kind of change."""
    return (
        "CREATE FUNCTION fig_reports_count() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF TG_OP <> 'INSERT' THEN {_count_report('old', '-', True)} END IF; "
        f"IF TG_OP <> 'DELETE' THEN {_count_report('new', '+', True)} END IF; RETURN NULL; END $$",
        f"CREATE TRIGGER fig_reports AFTER INSERT OR DELETE OR UPDATE OF {_FIGURE_COLUMNS} ON reports "
        "FOR EACH ROW EXECUTE FUNCTION fig_reports_count()",
        "CREATE FUNCTION fig_questions_count() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF TG_OP = 'INSERT' THEN {_count_question('new', '+', True)} "
        f"ELSE {_count_question('old', '-', True)} END IF; RETURN NULL; END $$",
        "CREATE TRIGGER fig_questions AFTER INSERT OR DELETE ON faq_log "
        "FOR EACH ROW EXECUTE FUNCTION fig_questions_count()",
    )


def _figure_backfill(pg: bool = False) -> tuple[str, ...]:
    k = _report_keys("reports", pg)
    day = _day("at", pg)
    return (
        "INSERT INTO fig_reports (day, office_id, risk, n) "  # noqa: S608 (our own expressions)
        f"SELECT {k['day']}, {k['office']}, {k['risk']}, count(*) FROM reports GROUP BY 1, 2, 3",
        "INSERT INTO fig_villages (day, office_id, village_id, place_name, n, high, still_open) "  # noqa: S608
        f"SELECT {k['day']}, {k['office']}, {k['village']}, {k['place']}, count(*), sum({k['high']}), "
        f"sum({k['open']}) FROM reports GROUP BY 1, 2, 3, 4",
        "INSERT INTO fig_questions (day, office_key, decision, n) "  # noqa: S608 (our own expressions)
        f"SELECT {day}, coalesce(office_id, ''), decision, count(*) FROM faq_log GROUP BY 1, 2, 3",
        "INSERT INTO fig_answers (day, office_key, entry_id, n) "  # noqa: S608 (our own expressions)
        f"SELECT {day}, coalesce(office_id, ''), coalesce(entry_id, ''), count(*) FROM faq_log "
        "WHERE decision = 'answer' GROUP BY 1, 2, 3",
    )


MIGRATIONS: tuple[tuple[str | PerEngine, ...], ...] = (
    # 1: the first schema
    (
        """CREATE TABLE processed (message_key TEXT PRIMARY KEY, at TEXT NOT NULL)""",
        """CREATE TABLE profiles (
            sender_key TEXT PRIMARY KEY, village_id TEXT, greeted INTEGER NOT NULL DEFAULT 0,
            last_inbound_at TEXT, updated_at TEXT NOT NULL)""",
        """CREATE TABLE conversations (
            sender_key TEXT PRIMARY KEY, state TEXT NOT NULL, data TEXT NOT NULL,
            updated_at TEXT NOT NULL)""",
        """CREATE TABLE case_sequences (
            office_id TEXT NOT NULL, year INTEGER NOT NULL, last INTEGER NOT NULL,
            PRIMARY KEY (office_id, year))""",
        """CREATE TABLE reports (
            id INTEGER PRIMARY KEY, case_no TEXT NOT NULL UNIQUE, office_id TEXT NOT NULL,
            village_id TEXT NOT NULL, status TEXT NOT NULL, risk TEXT NOT NULL,
            flags TEXT NOT NULL, answers TEXT NOT NULL, media TEXT NOT NULL,
            recruiter_phone TEXT, recruiter_name TEXT, recruiter_company TEXT,
            reporter_key TEXT, contactable INTEGER NOT NULL, created_at TEXT NOT NULL,
            acknowledged_at TEXT, closed_at TEXT, outcome TEXT, public_note TEXT,
            reminded_at TEXT)""",
        """CREATE INDEX reports_phone ON reports (recruiter_phone)""",
        """CREATE INDEX reports_reporter ON reports (reporter_key)""",
        """CREATE TABLE case_events (
            id INTEGER PRIMARY KEY, report_id INTEGER NOT NULL REFERENCES reports(id),
            at TEXT NOT NULL, actor TEXT NOT NULL, kind TEXT NOT NULL, text TEXT NOT NULL)""",
        """CREATE TABLE outbox (
            id INTEGER PRIMARY KEY, recipient TEXT NOT NULL, text TEXT NOT NULL,
            options TEXT NOT NULL, kind TEXT NOT NULL, report_id INTEGER,
            status TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT NOT NULL, last_error TEXT, created_at TEXT NOT NULL,
            sent_at TEXT)""",
        """CREATE INDEX outbox_due ON outbox (status, next_attempt_at)""",
        """CREATE TABLE outbox_attempts (
            id INTEGER PRIMARY KEY, outbox_id INTEGER NOT NULL REFERENCES outbox(id),
            at TEXT NOT NULL, ok INTEGER NOT NULL, error TEXT)""",
        """CREATE TABLE unanswered (
            normalized TEXT PRIMARY KEY, example TEXT NOT NULL, count INTEGER NOT NULL,
            last_seen TEXT NOT NULL)""",
    ),
    # 2: what the providers said about messages we sent, and WhatsApp opt-outs
    (
        """ALTER TABLE outbox ADD COLUMN provider_id TEXT""",
        """ALTER TABLE outbox ADD COLUMN provider_status TEXT""",
        """CREATE INDEX outbox_provider ON outbox (provider_id)""",
        """ALTER TABLE profiles ADD COLUMN opted_out INTEGER NOT NULL DEFAULT 0""",
    ),
    # 3: figures for the office (FAQ decisions, without the asker) and broadcasts
    (
        """CREATE TABLE faq_log (
            id INTEGER PRIMARY KEY, at TEXT NOT NULL, decision TEXT NOT NULL, entry_id TEXT,
            office_id TEXT)""",
        """CREATE INDEX faq_log_at ON faq_log (at)""",
        """CREATE TABLE broadcasts (
            id INTEGER PRIMARY KEY, office_id TEXT NOT NULL, actor TEXT NOT NULL,
            target TEXT NOT NULL, text TEXT NOT NULL, created_at TEXT NOT NULL,
            recipients INTEGER NOT NULL)""",
    ),
    # 4: a place typed by a villager whose village is not a Desa Imigrasi village (JSON), on the
    # profile and the report; the hash of an anonymous report's check code
    (
        """ALTER TABLE profiles ADD COLUMN place TEXT""",
        """ALTER TABLE reports ADD COLUMN place TEXT""",
        """ALTER TABLE reports ADD COLUMN check_hash TEXT""",
        # an officer's typed "1" answers the newest alert sent to them
        """CREATE INDEX outbox_recipient ON outbox (recipient, id)""",
    ),
    # console: the office console's sessions, login codes, trail, case assignment and the
    # editors' "handled" mark on unanswered questions (issue 13)
    (
        """CREATE TABLE desk_sessions (
            token_hash TEXT PRIMARY KEY, officer_key TEXT NOT NULL, csrf TEXT NOT NULL,
            created_at TEXT NOT NULL, seen_at TEXT NOT NULL, revoked_at TEXT, flash TEXT, search TEXT)""",
        """CREATE TABLE desk_codes (
            attempt_hash TEXT PRIMARY KEY, officer_key TEXT, code_hash TEXT NOT NULL,
            created_at TEXT NOT NULL, expires_at TEXT NOT NULL, tries INTEGER NOT NULL DEFAULT 0,
            used_at TEXT)""",
        """CREATE TABLE desk_locks (
            officer_key TEXT PRIMARY KEY, locks INTEGER NOT NULL, locked_until TEXT NOT NULL)""",
        """CREATE TABLE desk_audit (
            id INTEGER PRIMARY KEY, at TEXT NOT NULL, officer_key TEXT NOT NULL, office_id TEXT NOT NULL,
            action TEXT NOT NULL, case_no TEXT, detail TEXT NOT NULL, net TEXT NOT NULL)""",
        """CREATE INDEX desk_audit_at ON desk_audit (at)""",
        """CREATE INDEX desk_audit_case ON desk_audit (case_no, id)""",
        """ALTER TABLE reports ADD COLUMN assigned_to TEXT""",
        # The inbox: its filters and sorts read this index alone (bench/console.py).
        """CREATE INDEX reports_inbox ON reports
            (office_id, status, created_at, risk, village_id, assigned_to)""",
        # The figures: a period's reports by office, risk and status, and their response times.
        """CREATE INDEX reports_figures ON reports
            (created_at, office_id, risk, status, village_id, acknowledged_at, closed_at)""",
        """CREATE INDEX faq_log_figures ON faq_log (at, office_id, decision, entry_id)""",
        # A case's timeline, and earlier reports about the same recruiter's name or company.
        """CREATE INDEX outbox_report ON outbox (report_id)""",
        """CREATE INDEX case_events_report ON case_events (report_id, id)""",
        """CREATE INDEX reports_name ON reports (lower(recruiter_name))""",
        """CREATE INDEX reports_company ON reports (lower(recruiter_company))""",
        # Search inside a recruiter's name or company (any 3 letters, any case), kept by triggers.
        # PostgreSQL: substring search with ILIKE, served by trigram indexes (pg_trgm, a trusted extension).
        PerEngine("""CREATE VIRTUAL TABLE reports_search USING fts5(recruiter_name, recruiter_company,
            content='reports', content_rowid='id', tokenize='trigram')""",
                  "CREATE EXTENSION IF NOT EXISTS pg_trgm"),
        PerEngine("""CREATE TRIGGER reports_search_insert AFTER INSERT ON reports BEGIN
            INSERT INTO reports_search (rowid, recruiter_name, recruiter_company)
            VALUES (new.id, new.recruiter_name, new.recruiter_company); END""",
                  "CREATE INDEX reports_name_trgm ON reports USING gin (recruiter_name gin_trgm_ops)"),
        PerEngine("""CREATE TRIGGER reports_search_delete AFTER DELETE ON reports BEGIN
            INSERT INTO reports_search (reports_search, rowid, recruiter_name, recruiter_company)
            VALUES ('delete', old.id, old.recruiter_name, old.recruiter_company); END""",
                  "CREATE INDEX reports_company_trgm ON reports USING gin (recruiter_company gin_trgm_ops)"),
        PerEngine("""CREATE TRIGGER reports_search_update AFTER UPDATE OF recruiter_name, recruiter_company
            ON reports BEGIN
            INSERT INTO reports_search (reports_search, rowid, recruiter_name, recruiter_company)
            VALUES ('delete', old.id, old.recruiter_name, old.recruiter_company);
            INSERT INTO reports_search (rowid, recruiter_name, recruiter_company)
            VALUES (new.id, new.recruiter_name, new.recruiter_company); END""",
                  ""),
        PerEngine("""INSERT INTO reports_search (reports_search) VALUES ('rebuild')""",
                  ""),
        """ALTER TABLE unanswered ADD COLUMN handled_at TEXT""",
    ),
    # 6 (issue 16, "nothing lost, nothing doubled"): Telegram updates kept before they are
    # acknowledged; when an outbox send was last started, while its outcome is unknown; the
    # replies of a WhatsApp turn, for a webhook Twilio delivers again.
    (
        """CREATE TABLE inbox (
            message_key TEXT PRIMARY KEY, seq INTEGER NOT NULL, chat_key TEXT NOT NULL,
            body TEXT NOT NULL, received_at TEXT NOT NULL, done_at TEXT)""",
        """CREATE INDEX inbox_pending ON inbox (chat_key, seq) WHERE done_at IS NULL""",
        """CREATE INDEX inbox_done ON inbox (done_at) WHERE done_at IS NOT NULL""",
        """ALTER TABLE outbox ADD COLUMN attempt_at TEXT""",
        """ALTER TABLE processed ADD COLUMN replies TEXT""",
        """CREATE INDEX processed_kept ON processed (at) WHERE replies IS NOT NULL""",
        # PostgreSQL has no rowid in time order: the oldest message ids are found by time.
        PerEngine("", """CREATE INDEX processed_at ON processed (at)"""),
    ),
    # 7 (issue 13): the console's figures read day-by-day roll-ups, so a year across every office
    # is thousands of rows, not every report and question. Triggers keep them, so no write path
    # can forget one; a day is the offices' day (WIB, UTC+7, the day the console's periods use).
    (
        """CREATE TABLE fig_reports (
            day TEXT NOT NULL, office_id TEXT NOT NULL, risk TEXT NOT NULL, n INTEGER NOT NULL,
            PRIMARY KEY (day, office_id, risk)) WITHOUT ROWID""",
        # A village outside the list is kept by the name the villager typed (place_name).
        """CREATE TABLE fig_villages (
            day TEXT NOT NULL, office_id TEXT NOT NULL, village_id TEXT NOT NULL,
            place_name TEXT NOT NULL, n INTEGER NOT NULL, high INTEGER NOT NULL,
            still_open INTEGER NOT NULL,
            PRIMARY KEY (day, office_id, village_id, place_name)) WITHOUT ROWID""",
        """CREATE TABLE fig_questions (
            day TEXT NOT NULL, office_key TEXT NOT NULL, decision TEXT NOT NULL, n INTEGER NOT NULL,
            PRIMARY KEY (day, office_key, decision)) WITHOUT ROWID""",
        """CREATE TABLE fig_answers (
            day TEXT NOT NULL, office_key TEXT NOT NULL, entry_id TEXT NOT NULL, n INTEGER NOT NULL,
            PRIMARY KEY (day, office_key, entry_id)) WITHOUT ROWID""",
        *(PerEngine(trigger, "") for trigger in _figure_triggers()),
        *(PerEngine("", trigger) for trigger in _figure_triggers_pg()),
        *(PerEngine(sqlite, pg) for sqlite, pg in zip(_figure_backfill(), _figure_backfill(pg=True), strict=True)),
    ),
    # 8 (issue 14, deadlines): each escalation step of a case and each morning digest of an office
    # is a row written with the messages it sends, so a restart or a second instance never sends
    # one twice; the one reminder of before counts as the first step.
    (
        """CREATE TABLE escalations (
            report_id INTEGER NOT NULL, step TEXT NOT NULL, at TEXT NOT NULL,
            PRIMARY KEY (report_id, step)) WITHOUT ROWID""",
        """INSERT INTO escalations (report_id, step, at)
            SELECT id, 'tanggap:1', reminded_at FROM reports WHERE reminded_at IS NOT NULL""",
        """CREATE TABLE digests (
            office_id TEXT NOT NULL, day TEXT NOT NULL, at TEXT NOT NULL, PRIMARY KEY (office_id, day))""",
        # Open cases of a status and risk level filed before a cutoff: the escalation pass, and the
        # inbox's deadline order and overdue tab (office_id last, so those read the index alone).
        """CREATE INDEX reports_deadlines ON reports (status, risk, created_at, office_id)""",
    ),
)


T = TypeVar("T")
# The advisory lock PostgreSQL instances take to migrate one at a time.
MIGRATION_LOCK = 0x6465_7361_0001
# Several instances write one transaction at a time, as on SQLite: the figures' roll-up rows
# and the unanswered questions are counted by every turn, and two group commits updating them in
# different orders would wait for each other (a deadlock, every turn of one group lost). The
# lock is taken for the transaction only; reading, matching and HTTP stay parallel.
WRITE_LOCK = 0x6465_7361_0002
_WRITERS = "SELECT pg_advisory_xact_lock(?)"
# The first key of two-key advisory locks: on one outbox recipient (the second key: its hash),
# and on one outbox row claimed for sending (the second key: its id).
RECIPIENT_LOCKS = 0x6465_7301
CLAIM_LOCKS = 0x6465_7302
SENDER_LOCKS = 0x6465_7303   # and on one sender's turn (the second key: a hash of the sender)
# Units per group commit at most: a few milliseconds of SQL, so no message waits behind a huge group.
MAX_GROUP = 128
# The write-ahead log is copied back into the database file by a second connection on its own
# thread, every second: a checkpoint (an fsync, about 10 ms on the VM) in the commit of a group
# held up every message of it and the next (bench/webhook.py). SQLite's own checkpoint in the
# commit stays as a backstop, for a log that grew this long (40 MB) meanwhile.
CHECKPOINT_INTERVAL = 1.0
WAL_BACKSTOP_PAGES = 10_000
# Message ids forgotten per pruning pass at most (a pass a minute): a few milliseconds of work in
# one group commit; a backlog (after a flood, or on the first pass over an old file) goes pass by pass.
PRUNE_IDS = 2_000

_UPSERT_PROFILE = """INSERT INTO profiles (sender_key, village_id, place, greeted, updated_at)
    VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (sender_key) DO UPDATE SET village_id = excluded.village_id, place = excluded.place,
    greeted = excluded.greeted, updated_at = excluded.updated_at"""
_TOUCH_INBOUND = """INSERT INTO profiles (sender_key, last_inbound_at, updated_at) VALUES (?, ?, ?)
    ON CONFLICT (sender_key) DO UPDATE SET last_inbound_at = excluded.last_inbound_at"""
# A turn's new profile and the time the sender last wrote, in one statement.
_UPSERT_PROFILE_INBOUND = """INSERT INTO profiles (sender_key, village_id, place, greeted, last_inbound_at,
    updated_at) VALUES (?, ?, ?, ?, ?, ?)
    ON CONFLICT (sender_key) DO UPDATE SET village_id = excluded.village_id, place = excluded.place,
    greeted = excluded.greeted, last_inbound_at = excluded.last_inbound_at, updated_at = excluded.updated_at"""
_UPSERT_CONVERSATION = """INSERT INTO conversations (sender_key, state, data, updated_at) VALUES (?, ?, ?, ?)
    ON CONFLICT (sender_key) DO UPDATE SET state = excluded.state,
    data = excluded.data, updated_at = excluded.updated_at"""
_FIRST_TIME = "INSERT INTO processed (message_key, at, replies) VALUES (?, ?, ?) ON CONFLICT DO NOTHING"
# A Telegram update whose turn is written is done; its text is not kept beyond that.
_INBOX_DONE = "UPDATE inbox SET done_at = ?, body = '' WHERE message_key = ? AND done_at IS NULL"
# One FAQ decision for the office's figures, and a question the FAQ could not answer: neither
# carries the sender; the question is kept only as its words, with a count and when last asked.
_LOG_FAQ = "INSERT INTO faq_log (at, decision, entry_id, office_id) VALUES (?, ?, ?, ?)"
_UNANSWERED = """INSERT INTO unanswered (normalized, example, count, last_seen) VALUES (?, ?, 1, ?)
    ON CONFLICT (normalized) DO UPDATE SET count = unanswered.count + 1, last_seen = excluded.last_seen"""


def _copy_error(exc: Exception) -> Exception:
    """One exception object per caller: each `raise` rewrites the traceback of the object it raises."""
    try:
        return copy.copy(exc)
    except Exception:   # an exception class that cannot be copied is shared; nothing reads more than its class
        return exc


def _with_case(item: Outgoing, case_no: str, report_id: int | None) -> Outgoing:
    """An outgoing message written before its case number existed, with the number filled in."""
    return Outgoing(item.recipient, item.text.replace("{case_no}", case_no), item.kind, report_id,
                    tuple(Option(o.label, o.payload.replace("{case_no}", case_no)) for o in item.options))


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds")


def _parse(text: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(text) if text else None


@dataclass(frozen=True)
class Dialect:
    """What the two engines spell differently in this file's statements; the rest is written once.

    Times are ISO-8601 TEXT in UTC on both engines, all written by `_iso` with the same offset
    (+00:00), so comparing them as text compares the moments; PostgreSQL's text columns use the
    "C" collation (bytes, as SQLite compares) so that holds whatever the database's locale.
    """

    name: str
    begin: str          # a transaction that writes
    hours: str          # hours from a report's created_at to the time in column {0}
    place_name: str     # the name of a place typed by hand (a report's `place`, JSON)
    monday: str         # the Monday on or before a roll-up's day: the figures count by week
    old_ids: str        # delete the oldest (LIMIT ?) message ids of `processed` if written before ?

    def words(self, words: str) -> tuple[str, list[str]]:
        """A condition: the recruiter's name or company holds `words` (3 letters or more), any case."""
        if self.name == "sqlite":   # FTS5 trigram index, kept by triggers (migration 5)
            return ("id IN (SELECT rowid FROM reports_search WHERE reports_search MATCH ?)",
                    ['"' + words.replace('"', '""') + '"'])
        like = "%" + words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        return ("(recruiter_name ILIKE ? ESCAPE '\\' OR recruiter_company ILIKE ? ESCAPE '\\')", [like, like])

    def ddl(self, statement: str | PerEngine) -> str:
        """A migration statement as this engine runs it."""
        if isinstance(statement, PerEngine):
            return statement.sqlite if self.name == "sqlite" else statement.postgresql
        if self.name == "sqlite":
            return statement
        # Ids numbered by the database; text compared byte by byte, as SQLite does.
        statement = statement.replace("id INTEGER PRIMARY KEY",
                                      "id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY")
        return re.sub(r"\bTEXT\b", 'TEXT COLLATE "C"', statement.replace(" WITHOUT ROWID", ""))


SQLITE = Dialect("sqlite", "BEGIN IMMEDIATE", "(julianday({0}) - julianday(created_at)) * 24",
                 "json_extract(place, '$.name')", "date(day, '-6 days', 'weekday 1')",
                 "DELETE FROM processed WHERE rowid IN (SELECT rowid FROM processed ORDER BY rowid LIMIT ?) "
                 "AND at < ?")
POSTGRESQL = Dialect("postgresql", "BEGIN",
                     "extract(epoch FROM ({0}::timestamptz - created_at::timestamptz))::float8 / 3600",
                     "(place::json ->> 'name')", "to_char(date_trunc('week', day::date), 'YYYY-MM-DD')",
                     # No rowid: the oldest by time, through an index on `at` (migration 6).
                     "DELETE FROM processed WHERE message_key IN (SELECT message_key FROM processed "
                     "ORDER BY at LIMIT ?) AND at < ?")


class Connection(Protocol):
    """The database connection a unit of work gets on the database thread (sqlite3's, or bot.postgres's)."""

    def execute(self, sql: str, parameters: Sequence[Any] = ..., /) -> Any: ...

    @property
    def in_transaction(self) -> bool: ...


def sqlite_path(target: str | Path) -> str:
    """The file of a `sqlite:///path` URL (or of a plain path)."""
    text = str(target)
    return text[len("sqlite:///"):] if text.startswith("sqlite:///") else text


def is_postgresql(target: str | Path) -> bool:
    return str(target).startswith(("postgresql://", "postgres://"))


@dataclass(frozen=True)
class Conversation:
    state: str
    data: dict[str, Any]


@dataclass(frozen=True)
class Profile:
    sender_key: str
    village_id: str | None
    greeted: bool
    place: dict[str, Any] | None = None   # a place typed by hand (bot.villages.Place as JSON)


@dataclass(frozen=True)
class TurnStart:
    """What handling one message starts from: who the sender is to us, and where they are."""

    profile: Profile
    conversation: Conversation
    # The conversation row as read (state, data; None, None when there was none): with several
    # instances, `end_turn` writes only if it is still so (TurnEnd.seen).
    seen: tuple[str | None, str | None] = (None, None)


@dataclass(frozen=True)
class FaqDecision:
    """One FAQ decision for the office's figures: no sender, no text."""

    decision: str
    entry_id: str | None
    office_id: str | None


@dataclass(frozen=True)
class TurnEnd:
    """What handling one message changed, written together in one transaction.

    `conversation` None writes nothing about the sender's state (a message refused before the
    core, or "hapus data", which `forget` carries out in the same transaction). `profile` False
    leaves the profile as it was (an officer's command). A filed `report` gets its case number
    inside the transaction; "{case_no}" in `alerts` and `outgoing` is replaced with it.
    """

    village_id: str | None
    conversation: Conversation | None
    faq: FaqDecision | None = None
    unanswered: str | None = None   # the question, already scrubbed of phone-like numbers
    message_key: str | None = None  # the provider's id: recorded now, so a redelivery is a duplicate
    profile: bool = True
    report: NewReport | None = None
    alerts: Sequence[Outgoing] = ()
    outgoing: Sequence[Outgoing] = ()    # replies the outbox delivers (Telegram), status updates
    kept_replies: Sequence[Reply] | None = None   # answered again to a redelivered webhook (WhatsApp)
    forget: bool = False
    opted_out: bool | None = None
    place: dict[str, Any] | None = None   # a place typed by hand, for a village not in the config
    seen: tuple[str | None, str | None] | None = None   # TurnStart.seen, checked with several instances
    case_steps: Sequence[CaseStep] = ()   # an officer's note or step, a reporter's addition to a case


@dataclass(frozen=True)
class CaseStep:
    """A line on a case's timeline and what it changes and sends, written with the turn that caused it.

    So a crash before the turn's commit leaves no trace of it, and the provider's redelivery of
    the message writes it once (issue 16). With `expect_status`, written only while the case
    still has that status; else the turn is decided again (another officer acted first).
    """

    report_id: int
    case_no: str
    actor: str
    kind: str
    text: str
    status: str | None = None
    public_note: str | None = None
    outgoing: Sequence[Outgoing] = ()
    expect_status: str | None = None
    assign_to: str | None = None
    # A recruiter the reporter named in an addition: fills the case's recruiter fields still empty.
    recruiter_phone: str | None = None
    recruiter_answers: Mapping[str, str] | None = None


@dataclass(frozen=True)
class TurnResult:
    """What the transaction decided: the case number filed, or that the message was a duplicate."""

    duplicate: bool = False
    case_no: str | None = None
    report_id: int | None = None
    unlinked: int = 0               # reports no longer linked to a sender who said "hapus data"
    # Another instance was writing this sender's turn, or wrote one since this turn read the state:
    # nothing was written, and the turn is to be decided again (several instances only).
    conflict: bool = False


class _Duplicate(Exception):
    """The message id was recorded meanwhile: the turn is undone (its savepoint rolled back)."""


class _Conflict(Exception):
    """Another instance's turn of the same sender, or another officer's step on the case, came first.

    The turn is undone, to be decided again.
    """


@dataclass(frozen=True)
class Report:
    id: int
    case_no: str
    office_id: str
    village_id: str
    status: str             # baru, ditangani, ditutup
    risk: str               # rendah, sedang, tinggi
    flags: tuple[str, ...]
    answers: dict[str, str]
    media: tuple[str, ...]
    recruiter_phone: str | None
    recruiter_name: str | None
    recruiter_company: str | None
    reporter_key: str | None     # None when anonymous or after "hapus data"
    contactable: bool
    created_at: dt.datetime
    acknowledged_at: dt.datetime | None
    closed_at: dt.datetime | None
    outcome: str | None
    public_note: str | None
    place: dict[str, Any] | None = None   # set when the village is not a Desa Imigrasi village
    check_hash: str | None = None         # an anonymous reporter's check code, hashed
    assigned_to: str | None = None        # the console key of the officer a head assigned it to


@dataclass(frozen=True)
class NewReport:
    office_id: str
    village_id: str
    risk: str
    flags: tuple[str, ...]
    answers: dict[str, str]
    media: tuple[str, ...]
    recruiter_phone: str | None
    recruiter_name: str | None
    recruiter_company: str | None
    reporter_key: str | None
    contactable: bool
    place: dict[str, Any] | None = None
    check_hash: str | None = None


@dataclass(frozen=True)
class CaseEvent:
    at: dt.datetime
    actor: str
    kind: str
    text: str


@dataclass(frozen=True)
class OutboxItem:
    id: int
    recipient: Sender
    text: str
    options: tuple[Option, ...]
    kind: str
    report_id: int | None
    attempts: int
    uncertain_since: dt.datetime | None = None   # an attempt started then may have gone through


_REPORT_COLUMNS = ("id, case_no, office_id, village_id, status, risk, flags, answers, media, "
                   "recruiter_phone, recruiter_name, recruiter_company, reporter_key, contactable, "
                   "created_at, acknowledged_at, closed_at, outcome, public_note, place, check_hash, "
                   "assigned_to")


def _report(row: Sequence[Any]) -> Report:
    return Report(
        id=row[0], case_no=row[1], office_id=row[2], village_id=row[3], status=row[4], risk=row[5],
        flags=tuple(json.loads(row[6])), answers=json.loads(row[7]), media=tuple(json.loads(row[8])),
        recruiter_phone=row[9], recruiter_name=row[10], recruiter_company=row[11],
        reporter_key=row[12], contactable=bool(row[13]), created_at=_parse(row[14]) or dt.datetime.min,
        acknowledged_at=_parse(row[15]), closed_at=_parse(row[16]), outcome=row[17],
        public_note=row[18], place=json.loads(row[19]) if row[19] else None, check_hash=row[20],
        assigned_to=row[21],
    )


# Of a group of reports: how many are high risk, and how many still open.
_TALLY = ("sum(CASE WHEN risk = 'tinggi' THEN 1 ELSE 0 END), "
          "sum(CASE WHEN status != 'ditutup' THEN 1 ELSE 0 END)")


class CaseChanged(Exception):
    """Another officer changed the case between reading it and acting on it: nothing was written."""


class Store:
    """The database. Open with `async with Store.open(path_or_url) as store:`."""

    def __init__(self, db: Any, dialect: Dialect = SQLITE) -> None:
        # aiosqlite's connection, or bot.postgres.PostgresConnection (the same calls).
        self.db = db
        self.dialect = dialect
        # One connection is shared by every coroutine: a write must never start while another
        # coroutine's transaction is open, or it would join (and could roll back with) it.
        self._write_lock = asyncio.Lock()
        # Units waiting for the next group commit, and the task writing them.
        self._queued: list[tuple[Callable[[Connection], Any], asyncio.Future[Any]]] = []
        self._committer: asyncio.Task[None] | None = None
        # Set (on whichever thread) when a transaction queued outbox messages; listeners are told after COMMIT.
        self._enqueued = False
        self._listeners: list[Callable[[], None]] = []
        self._leading: set[str] = set()   # jobs this instance holds the lock of (PostgreSQL)
        self._claims: set[int] = set()    # outbox rows this instance claimed and holds the lock of
        self._generation = 0              # of the PostgreSQL connection those locks belong to

    @classmethod
    @asynccontextmanager
    async def open(cls, target: Path | str) -> AsyncIterator[Store]:
        """`target`: a SQLite file (a path, or `sqlite:///path`) or a `postgresql://` URL."""
        db: Any
        path = ""
        if is_postgresql(target):
            # psycopg is needed only for PostgreSQL
            from bot.postgres import PostgresConnection
            db, dialect = await PostgresConnection.connect(str(target)), POSTGRESQL
        else:
            path = sqlite_path(target)
            if path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            try:
                db = await aiosqlite.connect(path, timeout=5.0, isolation_level=None)
            except sqlite3.Error as exc:
                raise StoreError(f"cannot open the database ({exc.__class__.__name__})") from exc
            dialect = SQLITE
        checkpoints: asyncio.Task[None] | None = None
        try:
            store = cls(db, dialect)
            if dialect is SQLITE:
                await store._configure()
            await store.migrate()
            if dialect is SQLITE and path != ":memory:":
                checkpoints = asyncio.create_task(store._checkpoints(path))
            yield store
            if store._committer is not None:
                await store._committer   # units already accepted are written before closing
        finally:
            if checkpoints is not None:
                checkpoints.cancel()
                with suppress(asyncio.CancelledError):
                    await checkpoints
            await db.close()

    async def _configure(self) -> None:
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON",
                       "busy_timeout=5000", f"wal_autocheckpoint={WAL_BACKSTOP_PAGES}"):
            await self.db.execute(f"PRAGMA {pragma}")

    @staticmethod
    async def _checkpoints(path: Path | str) -> None:
        """Checkpoint the log beside the writer, never in its way (PASSIVE takes no write lock)."""
        conn: aiosqlite.Connection | None = None
        try:
            while True:
                await asyncio.sleep(CHECKPOINT_INTERVAL)
                try:
                    if conn is None:
                        conn = await aiosqlite.connect(str(path), isolation_level=None)
                    # Nothing to copy costs nothing: no write, no fsync.
                    await conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
                except sqlite3.Error as exc:   # the backstop checkpoints meanwhile
                    log.warning("checkpoint failed error=%s", exc.__class__.__name__)
        finally:
            if conn is not None:
                await conn.close()

    async def migrate(self) -> int:
        """Apply the migrations this database lacks, each in its own transaction.

        SQLite counts them in `PRAGMA user_version`; PostgreSQL in a one-row table, read under an
        advisory lock so instances starting together apply each migration once.
        """
        postgresql = self.dialect is POSTGRESQL
        if postgresql:
            await self.db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        version = await self.schema_version()
        for number, statements in enumerate(MIGRATIONS, start=1):
            if number <= version:
                continue
            await self.db.execute(self.dialect.begin)
            try:
                if postgresql:   # another instance may have applied it while this one waited
                    await self.db.execute("SELECT pg_advisory_xact_lock(?)", (MIGRATION_LOCK,))
                    if number <= await self.schema_version():
                        await self.db.execute("COMMIT")
                        continue
                for statement in statements:
                    if sql := self.dialect.ddl(statement):
                        await self.db.execute(sql)
                if postgresql:
                    await self.db.execute("DELETE FROM schema_version")
                    await self.db.execute("INSERT INTO schema_version (version) VALUES (?)", (number,))
                else:
                    await self.db.execute(f"PRAGMA user_version = {int(number)}")
                await self.db.execute("COMMIT")
            except BaseException:
                await self.db.execute("ROLLBACK")
                raise
        return len(MIGRATIONS)

    @property
    def shared(self) -> bool:
        """Whether several instances may use this database at once (PostgreSQL; SQLite has one)."""
        return self.dialect is POSTGRESQL

    async def lead(self, job: str) -> bool:
        """Whether this instance does `job` (periodic work, Telegram polling): one instance at a time.

        On PostgreSQL the instance holding the job's advisory lock, which is held for the life of
        its connection: when that instance stops or dies, the next one to ask takes the job over.
        """
        if not self.shared:
            return True
        if self.db._conn.generation != self._generation:   # a new connection: the old one's locks are gone
            self._generation = self.db._conn.generation
            self._leading.clear()
            self._claims.clear()
        if job in self._leading:
            return True
        key = int.from_bytes(hashlib.sha256(job.encode()).digest()[:8], "big", signed=True)
        row = await self._one("SELECT pg_try_advisory_lock(?)", (key,))
        if row and row[0]:
            self._leading.add(job)
            return True
        return False

    async def schema_version(self) -> int:
        """How many migrations this database has had."""
        sql = "SELECT max(version) FROM schema_version" if self.dialect is POSTGRESQL else "PRAGMA user_version"
        row = await (await self.db.execute(sql)).fetchone()
        return int(row[0] or 0) if row else 0

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[Any]:
        async with self._write_lock:
            await self.db.execute(self.dialect.begin)
            try:
                if self.shared:
                    await self.db.execute(_WRITERS, (WRITE_LOCK,))
                yield self.db
            except BaseException:
                self._enqueued = False
                await self.db.execute("ROLLBACK")
                raise
            await self.db.execute("COMMIT")
        self._notify()

    async def _unit(self, work: Callable[[Connection], T]) -> T:
        """Run `work` on the database thread in the next group commit; its result once committed.

        aiosqlite's public calls cost one trip (a queue, a thread switch, a wake-up of the event
        loop) per statement. A unit is one trip at most, shared with every unit that arrived
        meanwhile. An error in one unit undoes that unit only (its savepoint); an error of the
        whole transaction (database locked, disk full) reaches every unit of the group.
        """
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queued.append((work, future))
        if self._committer is None or self._committer.done():
            self._committer = asyncio.create_task(self._commit_queued())
        return cast(T, await future)

    async def _commit_queued(self) -> None:
        while self._queued:
            group: list[tuple[Callable[[Connection], Any], asyncio.Future[Any]]] = []
            try:
                async with self._write_lock:
                    # The group is taken once the lock is ours: what arrived while it was busy
                    # joins, and a unit whose caller gave up meanwhile is not written (its
                    # message was never answered, so it must not count as handled either).
                    queued = [(work, future) for work, future in self._queued if not future.cancelled()]
                    group, self._queued = queued[:MAX_GROUP], queued[MAX_GROUP:]
                    if not group:
                        continue
                    # `_execute` is aiosqlite's own way of running a function on its thread
                    # (bot.postgres offers the same).
                    outcomes = await self.db._execute(
                        self._run_group, [work for work, _ in group])
            except asyncio.CancelledError:
                # Shutting down. A group already on the database thread may still commit.
                for _, future in group + self._queued:
                    future.cancel()
                self._queued = []
                raise
            except Exception as exc:   # the transaction failed: no unit of the group was written
                outcomes = [(False, _copy_error(exc)) for _ in group]
            self._notify()
            for (_, future), (ok, value) in zip(group, outcomes, strict=True):
                if future.done():
                    continue   # its caller gave up while the group was being written
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(value)

    def _run_group(self, works: list[Callable[[Connection], Any]]) -> list[tuple[bool, Any]]:
        """On the database thread: one transaction, one savepoint per unit."""
        conn: Connection = self.db._conn
        conn.execute(self.dialect.begin)
        try:
            if self.shared:
                conn.execute(_WRITERS, (WRITE_LOCK,))
            outcomes: list[tuple[bool, Any]] = []
            for work in works:
                conn.execute("SAVEPOINT unit")
                try:
                    outcomes.append((True, work(conn)))
                except Exception as exc:
                    if not conn.in_transaction:
                        raise   # SQLite gave up the whole transaction (disk full, I/O error)
                    conn.execute("ROLLBACK TO unit")
                    outcomes.append((False, exc))
                conn.execute("RELEASE unit")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return outcomes

    async def _write(self, sql: str, args: Sequence[Any] = ()) -> int:
        """One statement on its own, never inside another coroutine's transaction."""
        async with self._write_lock:
            cur = await self.db.execute(sql, args)
            return int(cur.rowcount)

    async def _one(self, sql: str, args: Sequence[Any] = ()) -> Any:
        async with self.db.execute(sql, args) as cur:
            return await cur.fetchone()

    async def _all(self, sql: str, args: Sequence[Any] = ()) -> list[Any]:
        async with self.db.execute(sql, args) as cur:
            return list(await cur.fetchall())

    # One message: start and end -----------------------------------------------------------
    async def begin_turn(self, sender: Sender, message_key: str | None, now: dt.datetime) -> TurnStart | None:
        """Read the sender's state; None when the message id was recorded before (a redelivery).

        Nothing is written: the message id is recorded by `end_turn`, with the turn's result, so a
        crash in between leaves no trace and the redelivered message is handled as new.
        """

        def work(conn: Connection) -> tuple[Any, Any] | None:
            if message_key is not None and conn.execute(
                    "SELECT 1 FROM processed WHERE message_key = ?", (message_key,)).fetchone():
                return None
            return (conn.execute("SELECT village_id, greeted, place FROM profiles WHERE sender_key = ?",
                                 (sender.key,)).fetchone(),
                    conn.execute("SELECT state, data FROM conversations WHERE sender_key = ?",
                                 (sender.key,)).fetchone())

        rows = await self._unit(work)
        if rows is None:
            return None
        profile, conv = rows
        # Parsed here, not on the database thread: the write lock is held there.
        return TurnStart(Profile(sender.key, profile[0], bool(profile[1]),
                                 json.loads(profile[2]) if profile[2] else None) if profile
                         else Profile(sender.key, None, False),
                         Conversation(conv[0], json.loads(conv[1])) if conv else Conversation("menu", {}),
                         (conv[0], conv[1]) if conv else (None, None))

    async def kept_replies(self, message_key: str) -> list[Reply]:
        """The replies a handled message got, kept for a redelivered webhook; [] when none are kept."""
        row = await self._one("SELECT replies FROM processed WHERE message_key = ?", (message_key,))
        if not row or not row[0]:
            return []
        # JSON text; a row kept by the first issue-16 code (at most 10 minutes old) is compressed bytes.
        kept = json.loads(zlib.decompress(row[0]) if isinstance(row[0], bytes) else row[0])
        return [Reply(text, tuple(Option(a, b) for a, b in options)) for text, options in kept]

    async def end_turn(self, sender: Sender, end: TurnEnd, now: dt.datetime) -> TurnResult:
        """Everything one message changed, in one transaction: all of it, or (after a crash) none.

        The message id, the sender's new state, the turn's figures, a filed report with its alerts,
        and the messages the outbox will deliver. When the message id was recorded meanwhile (the
        same message handled twice at once), nothing is written and the result says so.
        """
        stamp = _iso(now)
        data = json.dumps(end.conversation.data, ensure_ascii=False) if end.conversation is not None else None
        # Not compressed: zlib cost 20-40 us of CPU per message (0.2 M instructions) to save 9 of
        # the 49 WAL pages a group commit of 32 turns writes, pages the background checkpoint
        # now copies back without holding up any commit.
        kept = None if end.kept_replies is None else json.dumps(
            [[r.text, [[o.label, o.payload] for o in r.options]] for r in end.kept_replies], ensure_ascii=False)
        place = json.dumps(end.place, ensure_ascii=False) if end.place is not None else None

        check = self.shared and end.seen is not None and end.conversation is not None and end.profile

        def work(conn: Connection) -> TurnResult:
            if check:
                # One instance writes a sender's turn at a time (a lock until this commit; taken or
                # not, never waited for), and only onto the state its turn was decided from.
                row = conn.execute("SELECT pg_try_advisory_xact_lock(?, hashtext(?))",
                                   (SENDER_LOCKS, sender.key)).fetchone()
                now_row = conn.execute("SELECT state, data FROM conversations WHERE sender_key = ?",
                                       (sender.key,)).fetchone()
                if not row[0] or (tuple(now_row) if now_row else (None, None)) != end.seen:
                    raise _Conflict
            if end.message_key is not None:
                if conn.execute(_FIRST_TIME, (end.message_key, stamp, kept)).rowcount != 1:
                    raise _Duplicate
                conn.execute(_INBOX_DONE, (stamp, end.message_key))
            unlinked = 0
            if end.forget:
                unlinked = self._forget_sync(conn, sender)
            else:
                if end.conversation is not None and end.profile:
                    conn.execute(_UPSERT_PROFILE_INBOUND, (sender.key, end.village_id, place, 1, stamp, stamp))
                else:
                    conn.execute(_TOUCH_INBOUND, (sender.key, stamp, stamp))
                if end.opted_out is not None:
                    conn.execute("UPDATE profiles SET opted_out = ? WHERE sender_key = ?",
                                 (int(end.opted_out), sender.key))
            if end.conversation is not None:
                conn.execute(_UPSERT_CONVERSATION, (sender.key, end.conversation.state, data, stamp))
            if end.faq is not None:
                conn.execute(_LOG_FAQ, (stamp, end.faq.decision, end.faq.entry_id, end.faq.office_id))
            if end.unanswered is not None:
                conn.execute(_UNANSWERED, (end.unanswered, end.unanswered[:300], stamp))
            case_no = report_id = None
            if end.report is not None:
                report_id, case_no = self._file_sync(conn, end.report, end.alerts, now.year, now)
            if case_no is not None and kept is not None:   # the answer names the new case
                conn.execute("UPDATE processed SET replies = ? WHERE message_key = ?",
                             (kept.replace("{case_no}", case_no), end.message_key))
            for step in end.case_steps:
                if not self._case_step_sync(conn, step, now):
                    raise _Conflict   # decided again: the case's new status gives the answer
            for item in end.outgoing:
                if case_no is not None:
                    item = _with_case(item, case_no, item.report_id)
                self._enqueue_sync(conn, item, now)
            return TurnResult(False, case_no, report_id, unlinked)

        try:
            return await self._unit(work)
        except _Duplicate:
            return TurnResult(duplicate=True)
        except _Conflict:
            return TurnResult(conflict=True)

    # Inbox: Telegram updates kept before they are acknowledged --------------------------------
    async def inbox_add(self, rows: Sequence[tuple[str, int, str, str]], now: dt.datetime) -> list[str]:
        """Keep updates (message key, sequence, chat key, raw body) in one transaction.

        Returns the chat keys that got a new row; an update already kept (a redelivery) adds nothing.
        """
        stamp = _iso(now)

        def work(conn: Connection) -> list[str]:
            added = []
            for key, seq, chat, body in rows:
                if conn.execute("INSERT INTO inbox (message_key, seq, chat_key, body, received_at) "
                                "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                                (key, seq, chat, body, stamp)).rowcount == 1:
                    added.append(chat)
            return added

        return cast(list[str], await self._unit(work))

    async def inbox_pending(self, chat_key: str | None = None, limit: int = 100) -> list[tuple[str, str, str]]:
        """Updates not yet handled, in order: one chat's, or every chat's; (message key, chat, body)."""
        rows = await self._all(
            "SELECT message_key, chat_key, body FROM inbox WHERE done_at IS NULL "
            "AND (? IS NULL OR chat_key = ?) ORDER BY seq LIMIT ?", (chat_key, chat_key, limit))
        return [(r[0], r[1], r[2]) for r in rows]

    async def inbox_done(self, message_key: str, now: dt.datetime) -> None:
        """An update handled without a turn of the core (ignored, or refused before it)."""
        await self._unit(lambda conn: conn.execute(_INBOX_DONE, (_iso(now), message_key)))

    async def prune_delivery_records(self, inbox_before: dt.datetime, replies_before: dt.datetime) -> int:
        """Forget what only a provider's redelivery could still need, once none can come.

        Handled inbox rows and the message ids of `processed` from before `inbox_before` (Telegram
        delivers an update again for at most 24 hours; Twilio retries a webhook within 15 seconds;
        a villager who types the same message again sends a new id), and the replies kept for a
        retried webhook from before `replies_before`.
        """
        old_ids = self.dialect.old_ids

        def work(conn: Connection) -> int:
            cur = conn.execute("DELETE FROM inbox WHERE done_at IS NOT NULL AND done_at < ?",
                               (_iso(inbox_before),))
            # Ids are written in time order: the oldest rowids are the only candidates, so a pass
            # reads at most PRUNE_IDS rows from the table's start and needs no index on `at`
            # (one more index write per message).
            ids = conn.execute(old_ids, (PRUNE_IDS, _iso(inbox_before)))
            kept = conn.execute("UPDATE processed SET replies = NULL WHERE replies IS NOT NULL AND at < ?",
                                (_iso(replies_before),))
            return int(cur.rowcount) + int(ids.rowcount) + int(kept.rowcount)

        return int(await self._unit(work))

    # Profiles and conversation state ------------------------------------------------------
    async def profile(self, sender: Sender) -> Profile:
        row = await self._one("SELECT village_id, greeted, place FROM profiles WHERE sender_key = ?",
                              (sender.key,))
        if row is None:
            return Profile(sender.key, None, False)
        return Profile(sender.key, row[0], bool(row[1]), json.loads(row[2]) if row[2] else None)

    async def save_profile(self, sender: Sender, *, village_id: str | None, greeted: bool,
                           now: dt.datetime) -> None:
        await self._write(_UPSERT_PROFILE, (sender.key, village_id, None, int(greeted), _iso(now)))

    async def last_inbound(self, sender: Sender) -> dt.datetime | None:
        row = await self._one("SELECT last_inbound_at FROM profiles WHERE sender_key = ?",
                              (sender.key,))
        return _parse(row[0]) if row else None

    async def conversation(self, sender: Sender) -> Conversation:
        row = await self._one("SELECT state, data FROM conversations WHERE sender_key = ?",
                              (sender.key,))
        if row is None:
            return Conversation("menu", {})
        return Conversation(row[0], json.loads(row[1]))

    async def save_conversation(self, sender: Sender, conv: Conversation, now: dt.datetime) -> None:
        await self._write(_UPSERT_CONVERSATION, (sender.key, conv.state,
                                                 json.dumps(conv.data, ensure_ascii=False), _iso(now)))

    async def forget_sender(self, sender: Sender) -> int:
        """"Hapus data": profile and state gone, reports kept but no longer linked to the person."""
        return await self._unit(lambda conn: self._forget_sync(conn, sender))

    @staticmethod
    def _forget_sync(conn: Connection, sender: Sender) -> int:
        conn.execute("DELETE FROM profiles WHERE sender_key = ?", (sender.key,))
        conn.execute("DELETE FROM conversations WHERE sender_key = ?", (sender.key,))
        # Alerts already sent carried the contact in their text; the copies here go too.
        conn.execute(
            "UPDATE outbox SET text = '', options = '[]' WHERE status != 'pending' AND report_id IN "
            "(SELECT id FROM reports WHERE reporter_key = ?)", (sender.key,))
        cur = conn.execute("UPDATE reports SET reporter_key = NULL, contactable = 0 WHERE reporter_key = ?",
                           (sender.key,))
        conn.execute("DELETE FROM outbox WHERE recipient = ? AND status = 'pending'", (sender.key,))
        return int(cur.rowcount)

    async def anonymise_reports_before(self, cutoff: dt.datetime) -> int:
        """Retention: reports filed before `cutoff` lose every link to their reporter."""
        async with self._transaction() as db:
            await db.execute(
                "UPDATE outbox SET text = '', options = '[]' WHERE status != 'pending' AND report_id IN "
                "(SELECT id FROM reports WHERE created_at < ? AND reporter_key IS NOT NULL)",
                (_iso(cutoff),))
            cur = await db.execute(
                "UPDATE reports SET reporter_key = NULL, contactable = 0 "
                "WHERE created_at < ? AND reporter_key IS NOT NULL", (_iso(cutoff),))
            return int(cur.rowcount)

    # Reports and cases ------------------------------------------------------------------
    async def file_report(self, new: NewReport, alerts: Sequence[Outgoing], year: int,
                          now: dt.datetime) -> Report:
        """Number the case, store it and queue its alerts in one transaction: all or nothing."""
        _, case_no = await self._unit(lambda conn: self._file_sync(conn, new, alerts, year, now))
        report = await self.report_by_case(case_no)
        assert report is not None
        return report

    def _file_sync(self, conn: Connection, new: NewReport, alerts: Sequence[Outgoing], year: int,
                   now: dt.datetime) -> tuple[int, str]:
        conn.execute(
            """INSERT INTO case_sequences (office_id, year, last) VALUES (?, ?, 1)
               ON CONFLICT (office_id, year) DO UPDATE SET last = case_sequences.last + 1""",
            (new.office_id, year))
        row = conn.execute("SELECT last FROM case_sequences WHERE office_id = ? AND year = ?",
                           (new.office_id, year)).fetchone()
        case_no = f"{new.office_id}-{year}-{int(row[0]):04d}"
        cur = conn.execute(
            """INSERT INTO reports (case_no, office_id, village_id, status, risk, flags, answers,
               media, recruiter_phone, recruiter_name, recruiter_company, reporter_key,
               contactable, created_at, place, check_hash)
               VALUES (?, ?, ?, 'baru', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id""",
            (case_no, new.office_id, new.village_id, new.risk, json.dumps(list(new.flags)),
             json.dumps(new.answers, ensure_ascii=False), json.dumps(list(new.media)),
             new.recruiter_phone, new.recruiter_name, new.recruiter_company,
             new.reporter_key, int(new.contactable), _iso(now),
             json.dumps(new.place, ensure_ascii=False) if new.place else None, new.check_hash))
        report_id = int(cur.fetchone()[0])
        for alert in alerts:
            self._enqueue_sync(conn, _with_case(alert, case_no, report_id), now)
        return report_id, case_no

    async def report_by_case(self, case_no: str) -> Report | None:
        row = await self._one(f"SELECT {_REPORT_COLUMNS} FROM reports WHERE case_no = ?",  # noqa: S608
                              (case_no.upper(),))
        return _report(row) if row else None

    async def reports_of(self, reporter_key: str) -> list[Report]:
        rows = await self._all(
            f"SELECT {_REPORT_COLUMNS} FROM reports WHERE reporter_key = ? ORDER BY id",  # noqa: S608
            (reporter_key,))
        return [_report(r) for r in rows]

    async def open_reports(self, office_id: str | None) -> list[Report]:
        """Cases not yet closed: one office's, or every office's when `office_id` is None."""
        rows = await self._all(
            f"SELECT {_REPORT_COLUMNS} FROM reports WHERE status != 'ditutup' "  # noqa: S608
            "AND (? IS NULL OR office_id = ?) ORDER BY id", (office_id, office_id))
        return [_report(r) for r in rows]

    async def related_reports(self, phone: str | None, names: Sequence[str],
                              exclude_id: int | None = None) -> list[Report]:
        """Earlier reports, in any office, about the same recruiter phone, name or company."""
        lowered = [n.lower() for n in names if n]
        rows = await self._all(
            f"SELECT {_REPORT_COLUMNS} FROM reports WHERE id != ? AND ("  # noqa: S608
            "(? IS NOT NULL AND recruiter_phone = ?) OR lower(recruiter_name) IN "
            "(SELECT value FROM json_each(?)) OR lower(recruiter_company) IN "
            "(SELECT value FROM json_each(?))) ORDER BY id",
            (exclude_id or -1, phone, phone, json.dumps(lowered), json.dumps(lowered)))
        return [_report(r) for r in rows]

    async def record_case_event(self, report: Report, *, actor: str, kind: str, text: str,
                                status: str | None, public_note: str | None,
                                outgoing: Sequence[Outgoing], now: dt.datetime,
                                expect_status: str | None = None, assign_to: str | None = None) -> Report:
        """An officer's step and the messages it causes, in one transaction (the console's own).

        With `expect_status`, the step is written only while the case still has that status, else
        CaseChanged is raised: two officers pressing at once get one result. A step taken in a
        chat is a CaseStep written by `end_turn` instead, with the message that caused it.
        """
        step = CaseStep(report.id, report.case_no, actor, kind, text, status, public_note, tuple(outgoing),
                        expect_status, assign_to)

        def work(conn: Connection) -> None:
            if not self._case_step_sync(conn, step, now):
                raise CaseChanged(report.case_no)

        await self._unit(work)
        updated = await self.report_by_case(report.case_no)
        assert updated is not None
        return updated

    def _case_step_sync(self, conn: Connection, step: CaseStep, now: dt.datetime) -> bool:
        """A case step's timeline line, status and messages; False (nothing written) when its case changed."""
        stamp = _iso(now)
        if step.expect_status is not None:
            row = conn.execute("SELECT status FROM reports WHERE id = ?", (step.report_id,)).fetchone()
            if row is None or row[0] != step.expect_status:
                return False
        if step.assign_to is not None:
            conn.execute("UPDATE reports SET assigned_to = ? WHERE id = ?", (step.assign_to, step.report_id))
        conn.execute("INSERT INTO case_events (report_id, at, actor, kind, text) VALUES (?, ?, ?, ?, ?)",
                     (step.report_id, stamp, step.actor, step.kind, step.text))
        if step.status == "ditangani":
            conn.execute("UPDATE reports SET status = 'ditangani', acknowledged_at = "
                         "coalesce(acknowledged_at, ?) WHERE id = ?", (stamp, step.report_id))
        elif step.status == "ditutup":
            conn.execute("UPDATE reports SET status = 'ditutup', closed_at = ?, outcome = ?, "
                         "acknowledged_at = coalesce(acknowledged_at, ?) WHERE id = ?",
                         (stamp, step.text, stamp, step.report_id))
        if step.public_note is not None:
            conn.execute("UPDATE reports SET public_note = ? WHERE id = ?", (step.public_note, step.report_id))
        if step.recruiter_phone or step.recruiter_answers:
            self._fill_recruiter_sync(conn, step)
        for item in step.outgoing:
            self._enqueue_sync(conn, item, now)
        return True

    def _fill_recruiter_sync(self, conn: Connection, step: CaseStep) -> None:
        """The recruiter named later, written where the case has none yet: what the reporter said first stays."""
        row = conn.execute("SELECT answers FROM reports WHERE id = ?", (step.report_id,)).fetchone()
        if row is None:
            return
        answers = json.loads(row[0])
        named = dict(step.recruiter_answers or {})
        for key, value in named.items():
            if value and not answers.get(key):
                answers[key] = value
        conn.execute(
            "UPDATE reports SET answers = ?, recruiter_phone = coalesce(recruiter_phone, ?), "
            "recruiter_name = coalesce(recruiter_name, ?), recruiter_company = coalesce(recruiter_company, ?) "
            "WHERE id = ?",
            (json.dumps(answers, ensure_ascii=False), step.recruiter_phone, named.get("nama"),
             named.get("perusahaan"), step.report_id))

    async def case_events(self, report_id: int) -> list[CaseEvent]:
        rows = await self._all(
            "SELECT at, actor, kind, text FROM case_events WHERE report_id = ? ORDER BY id",
            (report_id,))
        return [CaseEvent(_parse(r[0]) or dt.datetime.min, r[1], r[2], r[3]) for r in rows]

    # Outbox ----------------------------------------------------------------------------
    async def enqueue(self, items: Sequence[Outgoing], now: dt.datetime) -> None:
        async with self._transaction() as db:
            for item in items:
                await self._enqueue(db, item, now)

    async def _enqueue(self, db: Any, item: Outgoing, now: dt.datetime) -> None:
        self._enqueued = True
        await db.execute(
            """INSERT INTO outbox (recipient, text, options, kind, report_id, next_attempt_at,
               created_at) VALUES (?, ?, ?, ?, ?, ?, ?)""",
            (item.recipient.key, item.text,
             json.dumps([[o.label, o.payload] for o in item.options], ensure_ascii=False),
             item.kind, item.report_id, _iso(now), _iso(now)))

    def _enqueue_sync(self, conn: Connection, item: Outgoing, now: dt.datetime) -> None:
        self._enqueued = True
        conn.execute(
            """INSERT INTO outbox (recipient, text, options, kind, report_id, next_attempt_at,
               created_at) VALUES (?, ?, ?, ?, ?, ?, ?)""",
            (item.recipient.key, item.text,
             json.dumps([[o.label, o.payload] for o in item.options], ensure_ascii=False),
             item.kind, item.report_id, _iso(now), _iso(now)))

    def on_enqueued(self, listener: Callable[[], None]) -> None:
        """Call `listener` after each commit that queued outbox messages (the outbox wakes at once)."""
        self._listeners.append(listener)

    def _notify(self) -> None:
        if self._enqueued:
            self._enqueued = False
            for listener in self._listeners:
                listener()

    async def due_outbox(self, now: dt.datetime, limit: int = 50, recipient: Sender | None = None,
                         kinds: Sequence[str] | None = None) -> list[OutboxItem]:
        """Messages due now, oldest first: all, or one recipient's (of some kinds only)."""
        rows = await self._all(
            "SELECT id, recipient, text, options, kind, report_id, attempts, attempt_at FROM outbox "
            "WHERE status = 'pending' AND next_attempt_at <= ? AND (? IS NULL OR recipient = ?) "
            "AND (? IS NULL OR kind IN (SELECT value FROM json_each(?))) ORDER BY id LIMIT ?",
            (_iso(now), recipient and recipient.key, recipient and recipient.key,
             kinds and json.dumps(list(kinds)), kinds and json.dumps(list(kinds)), limit))
        return [OutboxItem(r[0], Sender.from_key(r[1]), r[2],
                           tuple(Option(a, b) for a, b in json.loads(r[3])), r[4], r[5], r[6], _parse(r[7]))
                for r in rows]

    async def outbox_claim(self, item_id: int, now: dt.datetime) -> bool:
        """Mark a message "sending" before it is sent, with when the attempt started.

        False when it is no longer pending (another pass took it). A row still "sending" after a
        restart was perhaps sent: see `outbox_recover`.
        """
        shared = self.shared

        def work(conn: Connection) -> bool:
            if not shared:
                return bool(conn.execute("UPDATE outbox SET status = 'sending', attempt_at = ? WHERE id = ? "
                                         "AND status = 'pending'", (_iso(now), item_id)).rowcount == 1)
            # Several instances: one claims a recipient's message at a time (a lock until this
            # commit; a claimer that finds it taken tries again next pass, so no instance waits or
            # deadlocks), and only when none of theirs is being sent and no older one of the same kind
            # is due: one chat's replies (and alerts) go in order, as one instance sends them (a chat's
            # replies go right after its turn, whatever else waits; an older message waiting for its
            # retry does not hold the rest back).
            row = conn.execute("SELECT pg_try_advisory_xact_lock(?, hashtext(recipient)) FROM outbox "
                               "WHERE id = ?", (RECIPIENT_LOCKS, item_id)).fetchone()
            if not row or not row[0]:
                return False
            if conn.execute(
                    "UPDATE outbox SET status = 'sending', attempt_at = ? WHERE id = (SELECT id FROM outbox "
                    "WHERE id = ? AND status = 'pending' FOR UPDATE SKIP LOCKED) AND NOT EXISTS (SELECT 1 "
                    "FROM outbox AS busy WHERE busy.recipient = outbox.recipient AND (busy.status = 'sending' "
                    "OR (busy.status = 'pending' AND busy.kind = outbox.kind AND busy.id < outbox.id "
                    "AND busy.next_attempt_at <= ?)))",
                    (_iso(now), item_id, _iso(now))).rowcount != 1:
                return False
            # The claim's lease: a lock held as long as this instance's connection lives.
            conn.execute("SELECT pg_try_advisory_lock(?, ?)", (CLAIM_LOCKS, item_id))
            self._claims.add(item_id)
            return True

        return bool(await self._unit(work))

    def _let_go_sync(self, conn: Connection, item_id: int) -> None:
        """The claim's lock is let go once the attempt's outcome is written (PostgreSQL)."""
        if item_id in self._claims:
            conn.execute("SELECT pg_advisory_unlock(?, ?)", (CLAIM_LOCKS, item_id))
            self._claims.discard(item_id)

    async def outbox_recover(self) -> int:
        """Messages left "sending" by a process that died go back to pending.

        Their `attempt_at` stays, which marks them uncertain: the outbox asks the provider whether
        the attempt went through before it sends again. One instance (SQLite) recovers them all, at
        start. Several (PostgreSQL): those whose claimer is gone, on every pass. A claim holds an
        advisory lock on its row for as long as the claiming connection lives (the lease), so a
        live instance's claims are never taken, and a dead one's come back on the next pass.
        """
        shared = self.shared

        def work(conn: Connection) -> int:
            if not shared:
                return int(conn.execute("UPDATE outbox SET status = 'pending' WHERE status = 'sending'").rowcount)
            return int(conn.execute(
                "UPDATE outbox SET status = 'pending' WHERE status = 'sending' AND NOT EXISTS (SELECT 1 "
                "FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = ? AND objsubid = 2 "
                "AND objid::bigint = outbox.id AND database = (SELECT oid FROM pg_database "
                "WHERE datname = current_database()))", (CLAIM_LOCKS,)).rowcount)

        return int(await self._unit(work))

    async def outbox_sent(self, item_id: int, now: dt.datetime, provider_id: str | None = None,
                          note: str | None = None) -> None:
        """Sent (or found sent); a reply's text is not kept once it went: it may quote a report."""
        def work(conn: Connection) -> None:
            conn.execute("UPDATE outbox SET status = 'sent', sent_at = ?, attempts = attempts + 1, "
                         "provider_id = ?, attempt_at = NULL WHERE id = ?", (_iso(now), provider_id, item_id))
            conn.execute("UPDATE outbox SET text = '', options = '[]' WHERE id = ? AND kind = 'reply'",
                         (item_id,))
            conn.execute("INSERT INTO outbox_attempts (outbox_id, at, ok, error) VALUES (?, ?, 1, ?)",
                         (item_id, _iso(now), note))
            self._let_go_sync(conn, item_id)

        await self._unit(work)

    async def outbox_failed(self, item_id: int, error: str, retry_at: dt.datetime | None,
                            now: dt.datetime, *, uncertain: bool = False) -> None:
        """Record a failed attempt; retry at `retry_at`, or give up when it is None.

        `uncertain`: the provider may have accepted it (a time-out after sending); the attempt's
        start is kept so the next try first asks the provider.
        """
        def work(conn: Connection) -> None:
            conn.execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ?, status = ?, "
                "next_attempt_at = ?, attempt_at = CASE WHEN ? = 1 THEN attempt_at END WHERE id = ?",
                (error, "pending" if retry_at else "failed", _iso(retry_at or now), int(uncertain), item_id))
            conn.execute("INSERT INTO outbox_attempts (outbox_id, at, ok, error) VALUES (?, ?, 0, ?)",
                         (item_id, _iso(now), error))
            self._let_go_sync(conn, item_id)

        await self._unit(work)

    async def outbox_provider_status(self, provider_id: str, status: str, error: str | None,
                                     retry: bool, now: dt.datetime) -> int | None:
        """A delivery report from the provider (e.g. Twilio's MessageStatus) for a sent message.

        With `retry`, the message goes back to pending to be sent again; returns the outbox id.
        """
        row = await self._one("SELECT id FROM outbox WHERE provider_id = ?", (provider_id,))
        if row is None:
            return None
        async with self._transaction() as db:
            await db.execute("UPDATE outbox SET provider_status = ?, last_error = coalesce(?, last_error) "
                             "WHERE id = ?", (status, error, row[0]))
            if retry:
                await db.execute("UPDATE outbox SET status = 'pending', provider_id = NULL, "
                                 "next_attempt_at = ? WHERE id = ?", (_iso(now), row[0]))
        return int(row[0])

    async def sent_alerts(self, report_id: int) -> list[tuple[Sender, str]]:
        """Where a case's alerts went and the provider's id for each (to edit them later)."""
        rows = await self._all("SELECT recipient, provider_id FROM outbox WHERE report_id = ? "
                               "AND kind = 'alert' AND status = 'sent' AND provider_id IS NOT NULL "
                               "ORDER BY id", (report_id,))
        return [(Sender.from_key(r[0]), r[1]) for r in rows]

    async def last_options_to(self, recipient: Sender) -> tuple[Option, ...]:
        """The options of the newest message the outbox sent `recipient` with any (an alert's)."""
        row = await self._one(
            "SELECT options FROM outbox WHERE recipient = ? AND options != '[]' AND kind != 'reply' "
            "ORDER BY id DESC LIMIT 1",
            (recipient.key,))
        return tuple(Option(label, payload) for label, payload in json.loads(row[0])) if row else ()

    async def outbox_item(self, item_id: int) -> dict[str, Any] | None:
        row = await self._one("SELECT id, recipient, status, attempts, provider_id, provider_status, "
                              "last_error FROM outbox WHERE id = ?", (item_id,))
        if row is None:
            return None
        keys = ("id", "recipient", "status", "attempts", "provider_id", "provider_status", "last_error")
        return dict(zip(keys, row, strict=True))

    async def set_opted_out(self, sender: Sender, opted_out: bool, now: dt.datetime) -> None:
        """"BERHENTI"/"STOP" and "MULAI": broadcast-type messages stop or resume for this sender."""
        await self._write(
            """INSERT INTO profiles (sender_key, opted_out, updated_at) VALUES (?, ?, ?)
               ON CONFLICT (sender_key) DO UPDATE SET opted_out = excluded.opted_out""",
            (sender.key, int(opted_out), _iso(now)))

    async def opted_out(self, sender: Sender) -> bool:
        row = await self._one("SELECT opted_out FROM profiles WHERE sender_key = ?", (sender.key,))
        return bool(row and row[0])

    async def oldest_pending_age(self, now: dt.datetime) -> float | None:
        """Seconds the oldest undelivered message has waited, or None when nothing waits."""
        row = await self._one("SELECT min(created_at) FROM outbox WHERE status = 'pending'")
        oldest = _parse(row[0]) if row else None
        return (now - oldest).total_seconds() if oldest else None

    async def backup(self, target: Path) -> None:
        """A consistent copy through SQLite's online backup API, safe while the bot runs."""
        if self.dialect is not SQLITE:
            raise StoreError("backup copies a SQLite database; back PostgreSQL up with pg_dump")
        target.parent.mkdir(parents=True, exist_ok=True)
        async with aiosqlite.connect(str(target)) as dest:
            await self.db.backup(dest)

    async def outbox_counts(self) -> dict[str, int]:
        rows = await self._all("SELECT status, count(*) FROM outbox GROUP BY status")
        return {r[0]: r[1] for r in rows}

    async def outbox_attempts(self, item_id: int) -> list[tuple[bool, str | None]]:
        rows = await self._all("SELECT ok, error FROM outbox_attempts WHERE outbox_id = ? ORDER BY id",
                               (item_id,))
        return [(bool(r[0]), r[1]) for r in rows]

    # Figures --------------------------------------------------------------------------
    async def faq_figures(self, office_id: str | None, start: dt.datetime, end: dt.datetime
                          ) -> tuple[dict[str, int], list[tuple[str, int]]]:
        args = (_iso(start), _iso(end), office_id, office_id)
        where = "at >= ? AND at < ? AND (? IS NULL OR office_id = ?)"
        decisions = {r[0]: r[1] for r in await self._all(
            f"SELECT decision, count(*) FROM faq_log WHERE {where} GROUP BY decision", args)}  # noqa: S608
        top = [(r[0], r[1]) for r in await self._all(
            f"SELECT entry_id, count(*) AS n FROM faq_log WHERE {where} AND decision = 'answer' "  # noqa: S608
            "GROUP BY entry_id ORDER BY n DESC, entry_id LIMIT 10", args)]
        return decisions, top

    async def unplaced_questions(self, start: dt.datetime, end: dt.datetime) -> int:
        """Questions asked by villagers with no village yet: they belong to no office's figures."""
        row = await self._one("SELECT count(*) FROM faq_log WHERE at >= ? AND at < ? AND office_id IS NULL",
                              (_iso(start), _iso(end)))
        return int(row[0]) if row else 0

    async def reports_between(self, office_id: str | None, start: dt.datetime,
                              end: dt.datetime) -> list[Report]:
        rows = await self._all(
            f"SELECT {_REPORT_COLUMNS} FROM reports WHERE created_at >= ? AND created_at < ? "  # noqa: S608
            "AND (? IS NULL OR office_id = ?) ORDER BY id",
            (_iso(start), _iso(end), office_id, office_id))
        return [_report(r) for r in rows]

    # Broadcasts -------------------------------------------------------------------------
    async def broadcast_audience(self, village_ids: Sequence[str]) -> list[Sender]:
        """Registered villagers of these villages who have not said BERHENTI."""
        rows = await self._all(
            "SELECT sender_key FROM profiles WHERE opted_out = 0 AND village_id IN "
            "(SELECT value FROM json_each(?)) ORDER BY sender_key", (json.dumps(list(village_ids)),))
        return [Sender.from_key(r[0]) for r in rows]

    async def record_broadcast(self, *, office_id: str, actor: str, target: str, text: str,
                               items: Sequence[Outgoing], now: dt.datetime) -> int:
        """The broadcast and one outbox message per recipient, in one transaction."""
        async with self._transaction() as db:
            async with db.execute(
                    "INSERT INTO broadcasts (office_id, actor, target, text, created_at, recipients) "
                    "VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                    (office_id, actor, target, text, _iso(now), len(items))) as cur:
                row = await cur.fetchone()
            for item in items:
                await self._enqueue(db, item, now)
            return int(row[0])

    async def broadcasts(self) -> list[tuple[int, str, str, str, int, dt.datetime]]:
        rows = await self._all("SELECT id, office_id, actor, target, recipients, created_at "
                               "FROM broadcasts ORDER BY id")
        return [(r[0], r[1], r[2], r[3], r[4], _parse(r[5]) or dt.datetime.min) for r in rows]

    # Unanswered questions --------------------------------------------------------------
    async def unanswered(self, limit: int = 50) -> list[tuple[str, str, int, dt.datetime]]:
        rows = await self._all(
            "SELECT normalized, example, count, last_seen FROM unanswered "
            "ORDER BY count DESC, last_seen DESC LIMIT ?", (limit,))
        return [(r[0], r[1], r[2], _parse(r[3]) or dt.datetime.min) for r in rows]

    # The office console (bot/desk) ----------------------------------------------------------
    # Every case query takes the offices the reader may see: there is no variant without them.
    async def desk_cases(self, offices: Sequence[str], f: CaseFilter) -> tuple[list[Report], int]:
        """One page of an inbox tab, and how many cases the tab holds with these filters.

        The page's ids are chosen on the index alone; only those 25 rows are read whole.
        """
        where, args = _case_where(self.dialect, offices, f)
        where += " AND status = ?"
        args.append(f.status)
        if f.assigned_to is not None:
            where += " AND assigned_to = ?"
            args.append(f.assigned_to)
        direction = "ASC" if f.oldest_first else "DESC"
        order = (f"CASE risk WHEN 'tinggi' THEN 0 WHEN 'sedang' THEN 1 ELSE 2 END, created_at {direction}"
                 if f.sort == "risiko" else f"created_at {direction}") + f", id {direction}"
        rows = await self._all(
            f"SELECT {_REPORT_COLUMNS} FROM reports WHERE id IN (SELECT id FROM reports "  # noqa: S608
            f"WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?) ORDER BY {order}",
            (*args, f.per_page, (f.page - 1) * f.per_page))
        total = await self._one(f"SELECT count(*) FROM reports WHERE {where}", args)  # noqa: S608
        return [_report(r) for r in rows], int(total[0])

    async def desk_counts(self, offices: Sequence[str], f: CaseFilter, officer_key: str) -> dict[str, int]:
        """Cases per status with the inbox's filters, and "mine": the handled cases assigned to me."""
        where, args = _case_where(self.dialect, offices, f)
        rows = await self._all(
            f"SELECT status, count(*) FROM reports WHERE {where} GROUP BY status", args)  # noqa: S608
        counts = {r[0]: int(r[1]) for r in rows}
        mine = await self._one(f"SELECT count(*) FROM reports WHERE {where} "  # noqa: S608
                               "AND status = 'ditangani' AND assigned_to = ?", (*args, officer_key))
        counts["mine"] = int(mine[0])
        return counts

    async def desk_case(self, offices: Sequence[str], case_no: str) -> Report | None:
        row = await self._one(
            f"SELECT {_REPORT_COLUMNS} FROM reports WHERE case_no = ? AND office_id IN "  # noqa: S608
            "(SELECT value FROM json_each(?))", (case_no.upper(), json.dumps(list(offices))))
        return _report(row) if row else None

    async def desk_newest_case(self, offices: Sequence[str]) -> int:
        """The newest case id the reader may see (0 when none): the inbox refreshes when it grows."""
        row = await self._one("SELECT max(id) FROM reports WHERE office_id IN (SELECT value FROM json_each(?))",
                              (json.dumps(list(offices)),))
        return int(row[0] or 0)

    async def case_messages(self, report_id: int) -> list[dict[str, Any]]:
        """What the outbox holds for a case (alerts, status messages, reminders), for its timeline."""
        rows = await self._all(
            "SELECT kind, recipient, status, created_at, sent_at, provider_status FROM outbox "
            "WHERE report_id = ? ORDER BY id", (report_id,))
        keys = ("kind", "recipient", "status", "created_at", "sent_at", "provider_status")
        return [dict(zip(keys, r, strict=True)) for r in rows]

    async def reports_in(self, offices: Sequence[str], start: dt.datetime, end: dt.datetime) -> list[Report]:
        rows = await self._all(
            f"SELECT {_REPORT_COLUMNS} FROM reports WHERE created_at >= ? AND created_at < ? "  # noqa: S608
            "AND office_id IN (SELECT value FROM json_each(?)) ORDER BY id",
            (_iso(start), _iso(end), json.dumps(list(offices))))
        return [_report(r) for r in rows]

    # Figures for the console, read from the day-by-day roll-ups (migration 7): a year across
    # every office is a few thousand rows. `first` and `last` are the offices' days (WIB).
    async def desk_weekly_reports(self, offices: Sequence[str], first: dt.date,
                                  last: dt.date) -> list[tuple[str, str, str, int]]:
        """(Monday of the week, office, risk, reports) for reports filed on days first..last."""
        rows = await self._all(
            f"SELECT {self.dialect.monday} AS week, office_id, risk, sum(n) FROM fig_reports "  # noqa: S608
            "WHERE day >= ? AND day <= ? AND office_id IN (SELECT value FROM json_each(?)) "
            "GROUP BY week, office_id, risk HAVING sum(n) > 0",
            (first.isoformat(), last.isoformat(), json.dumps(list(offices))))
        return [(r[0], r[1], r[2], int(r[3])) for r in rows]

    async def desk_open_cases(self, offices: Sequence[str], overdue: Mapping[tuple[str, str], dt.datetime]
                              ) -> list[tuple[str, int, int]]:
        """(office, open cases, cases past their deadline) per office, now.

        `overdue`: (status, risk) -> the latest filing time whose deadline has passed.
        """
        late, flat = _past_deadline(overdue)
        rows = await self._all(
            f"SELECT office_id, count(*), sum(CASE WHEN {late} THEN 1 ELSE 0 END) FROM reports "  # noqa: S608
            "WHERE status IN ('baru', 'ditangani') AND office_id IN (SELECT value FROM json_each(?)) "
            "GROUP BY office_id", (*flat, json.dumps(list(offices))))
        return [(r[0], int(r[1]), int(r[2] or 0)) for r in rows]

    async def desk_response_hours(self, offices: Sequence[str], start: dt.datetime, end: dt.datetime
                                  ) -> dict[str, tuple[list[float], list[float]]]:
        """Per office, the hours to acknowledge and the hours to close of reports filed in [start, end).

        A median needs every value, so these are read from the figures index, not a roll-up.
        """
        rows = await self._all(
            f"SELECT office_id, {self.dialect.hours.format('acknowledged_at')}, "  # noqa: S608
            f"{self.dialect.hours.format('closed_at')} FROM reports "
            "WHERE created_at >= ? AND created_at < ? AND office_id IN (SELECT value FROM json_each(?)) "
            "AND acknowledged_at IS NOT NULL", (_iso(start), _iso(end), json.dumps(list(offices))))
        out: dict[str, tuple[list[float], list[float]]] = {}
        for office, to_ack, to_close in rows:
            lists = out.get(office)
            if lists is None:
                lists = out[office] = ([], [])
            lists[0].append(to_ack)
            if to_close is not None:
                lists[1].append(to_close)
        return out

    async def desk_by_village(self, offices: Sequence[str], first: dt.date, last: dt.date
                              ) -> list[tuple[str, str, str, int, int, int]]:
        """(office, village id, typed place name, reports, high risk, still open) per village."""
        rows = await self._all(
            "SELECT office_id, village_id, place_name, sum(n), sum(high), sum(still_open) FROM fig_villages "
            "WHERE day >= ? AND day <= ? AND office_id IN (SELECT value FROM json_each(?)) "
            "GROUP BY 1, 2, 3 HAVING sum(n) > 0",
            (first.isoformat(), last.isoformat(), json.dumps(list(offices))))
        out = [(r[0], r[1], r[2], int(r[3]), int(r[4]), int(r[5])) for r in rows]
        return sorted(out, key=lambda r: -r[3])

    async def desk_weekly_questions(self, offices: Sequence[str], unplaced: bool, first: dt.date,
                                    last: dt.date) -> list[tuple[str, str, int]]:
        """(Monday of the week, decision, questions); `unplaced`: also askers with no village."""
        rows = await self._all(
            f"SELECT {self.dialect.monday} AS week, decision, sum(n) FROM fig_questions "  # noqa: S608
            "WHERE day >= ? AND day <= ? AND (office_key IN (SELECT value FROM json_each(?)) "
            "OR (? = 1 AND office_key = '')) GROUP BY week, decision",
            (first.isoformat(), last.isoformat(), json.dumps(list(offices)), int(unplaced)))
        return [(r[0], r[1], int(r[2])) for r in rows]

    async def desk_top_entries(self, offices: Sequence[str], unplaced: bool, first: dt.date,
                               last: dt.date, limit: int = 10) -> list[tuple[str, int]]:
        rows = await self._all(
            "SELECT entry_id, sum(n) AS total FROM fig_answers WHERE day >= ? AND day <= ? "
            "AND (office_key IN (SELECT value FROM json_each(?)) OR (? = 1 AND office_key = '')) "
            "GROUP BY entry_id HAVING sum(n) > 0 ORDER BY total DESC, entry_id LIMIT ?",
            (first.isoformat(), last.isoformat(), json.dumps(list(offices)), int(unplaced), limit))
        return [(r[0], int(r[1])) for r in rows]

    async def open_unanswered(self, limit: int = 50) -> list[tuple[str, str, int, dt.datetime]]:
        """The unanswered question groups an editor has not marked handled, most frequent first."""
        rows = await self._all(
            "SELECT normalized, example, count, last_seen FROM unanswered WHERE handled_at IS NULL "
            "ORDER BY count DESC, last_seen DESC LIMIT ?", (limit,))
        return [(r[0], r[1], r[2], _parse(r[3]) or dt.datetime.min) for r in rows]

    async def mark_unanswered_handled(self, normalized: str, now: dt.datetime) -> bool:
        changed = await self._write(
            "UPDATE unanswered SET handled_at = ? WHERE normalized = ? AND handled_at IS NULL",
            (_iso(now), normalized))
        return changed == 1

    # Console sessions and login codes: only hashes of the secrets are stored.
    async def desk_session_create(self, token_hash: str, officer_key: str, csrf: str, now: dt.datetime) -> None:
        await self._write("INSERT INTO desk_sessions (token_hash, officer_key, csrf, created_at, seen_at) "
                          "VALUES (?, ?, ?, ?, ?)", (token_hash, officer_key, csrf, _iso(now), _iso(now)))

    async def desk_session(self, token_hash: str) -> DeskSession | None:
        row = await self._one("SELECT officer_key, csrf, created_at, seen_at, flash, search FROM desk_sessions "
                              "WHERE token_hash = ? AND revoked_at IS NULL", (token_hash,))
        if row is None:
            return None
        return DeskSession(token_hash, row[0], row[1], _parse(row[2]) or dt.datetime.min,
                           _parse(row[3]) or dt.datetime.min, row[4], row[5])

    async def desk_session_touch(self, token_hash: str, now: dt.datetime) -> None:
        await self._write("UPDATE desk_sessions SET seen_at = ? WHERE token_hash = ?", (_iso(now), token_hash))

    async def desk_session_flash(self, token_hash: str, flash: str | None) -> None:
        await self._write("UPDATE desk_sessions SET flash = ? WHERE token_hash = ?", (flash, token_hash))

    async def desk_session_search(self, token_hash: str, search: str | None) -> None:
        """The inbox search lives in the session, so a phone number searched for is never in a URL."""
        await self._write("UPDATE desk_sessions SET search = ? WHERE token_hash = ?", (search, token_hash))

    async def desk_session_revoke(self, token_hash: str, now: dt.datetime) -> None:
        await self._write("UPDATE desk_sessions SET revoked_at = ? WHERE token_hash = ? AND revoked_at IS NULL",
                          (_iso(now), token_hash))

    async def desk_revoke_officer(self, officer_key: str, now: dt.datetime) -> int:
        """Log an officer out everywhere (e.g. a lost phone)."""
        return await self._write("UPDATE desk_sessions SET revoked_at = ? WHERE officer_key = ? "
                                 "AND revoked_at IS NULL", (_iso(now), officer_key))

    async def desk_code_create(self, attempt_hash: str, officer_key: str | None, code_hash: str,
                               now: dt.datetime, expires: dt.datetime, outgoing: Sequence[Outgoing]) -> None:
        """A login attempt and the message carrying its code, in one transaction."""
        async with self._transaction() as db:
            await db.execute("INSERT INTO desk_codes (attempt_hash, officer_key, code_hash, created_at, "
                             "expires_at) VALUES (?, ?, ?, ?, ?)",
                             (attempt_hash, officer_key, code_hash, _iso(now), _iso(expires)))
            for item in outgoing:
                await self._enqueue(db, item, now)

    async def desk_code(self, attempt_hash: str) -> tuple[str | None, str, dt.datetime, int, bool] | None:
        """(officer, code hash, expiry, tries so far, used) of a login attempt."""
        row = await self._one("SELECT officer_key, code_hash, expires_at, tries, used_at FROM desk_codes "
                              "WHERE attempt_hash = ?", (attempt_hash,))
        if row is None:
            return None
        return row[0], row[1], _parse(row[2]) or dt.datetime.min, int(row[3]), row[4] is not None

    async def desk_code_try(self, attempt_hash: str, used: bool, now: dt.datetime) -> None:
        await self._write("UPDATE desk_codes SET tries = tries + 1, "
                          "used_at = CASE WHEN ? = 1 THEN ? ELSE used_at END WHERE attempt_hash = ?",
                          (int(used), _iso(now), attempt_hash))

    async def desk_recent_codes(self, officer_key: str, since: dt.datetime) -> int:
        row = await self._one("SELECT count(*) FROM desk_codes WHERE officer_key = ? AND created_at >= ?",
                              (officer_key, _iso(since)))
        return int(row[0])

    async def desk_lock(self, officer_key: str) -> tuple[int, dt.datetime] | None:
        row = await self._one("SELECT locks, locked_until FROM desk_locks WHERE officer_key = ?", (officer_key,))
        return (int(row[0]), _parse(row[1]) or dt.datetime.min) if row else None

    async def desk_set_lock(self, officer_key: str, locks: int, until: dt.datetime) -> None:
        await self._write("INSERT INTO desk_locks (officer_key, locks, locked_until) VALUES (?, ?, ?) "
                          "ON CONFLICT (officer_key) DO UPDATE SET locks = excluded.locks, "
                          "locked_until = excluded.locked_until", (officer_key, locks, _iso(until)))

    # The trail: who did what in the console, when, from which network; never a body or a number.
    async def audit(self, entry: AuditEntry) -> None:
        await self._write("INSERT INTO desk_audit (at, officer_key, office_id, action, case_no, detail, net) "
                          "VALUES (?, ?, ?, ?, ?, ?, ?)",
                          (_iso(entry.at), entry.officer_key, entry.office_id, entry.action, entry.case_no,
                           entry.detail, entry.net))

    async def audit_list(self, offices: Sequence[str], *, case_no: str | None = None,
                         officer_key: str | None = None, action: str | None = None,
                         since: dt.datetime | None = None, until: dt.datetime | None = None,
                         limit: int = 200, offset: int = 0) -> list[AuditEntry]:
        """Trail entries of officers of `offices`, or about a case of theirs, newest first."""
        where = ["(office_id IN (SELECT value FROM json_each(?)) OR case_no IN "
                 "(SELECT case_no FROM reports WHERE office_id IN (SELECT value FROM json_each(?))))"]
        args: list[Any] = [json.dumps(list(offices)), json.dumps(list(offices))]
        for column, value in (("case_no", case_no), ("officer_key", officer_key), ("action", action)):
            if value:
                where.append(f"{column} = ?")
                args.append(value)
        if since is not None:
            where.append("at >= ?")
            args.append(_iso(since))
        if until is not None:
            where.append("at < ?")
            args.append(_iso(until))
        rows = await self._all(
            "SELECT at, officer_key, office_id, action, case_no, detail, net FROM desk_audit "  # noqa: S608
            f"WHERE {' AND '.join(where)} ORDER BY id DESC LIMIT ? OFFSET ?", (*args, limit, offset))
        return [AuditEntry(_parse(r[0]) or dt.datetime.min, r[1], r[2], r[3], r[4], r[5], r[6]) for r in rows]

    async def purge_desk_before(self, cutoff: dt.datetime) -> int:
        """Retention: trail entries, finished login attempts and old sessions older than `cutoff`."""
        async with self._transaction() as db:
            cur = await db.execute("DELETE FROM desk_audit WHERE at < ?", (_iso(cutoff),))
            await db.execute("DELETE FROM desk_codes WHERE expires_at < ?", (_iso(cutoff),))
            await db.execute("DELETE FROM desk_sessions WHERE seen_at < ?", (_iso(cutoff),))
            # A login code's message is useless once sent or given up: its copy here goes.
            await db.execute("UPDATE outbox SET text = '' WHERE kind = 'login' AND status != 'pending' "
                             "AND text != ''")
            return int(cur.rowcount)

    # Deadlines, escalation and the morning digest (issue 14) ------------------------------------
    # A step or a digest is a row with a primary key, written in the transaction that queues its
    # messages: whoever writes the row first sends, every other pass (after a restart, on another
    # instance) finds it there and sends nothing.
    async def escalation_due(self, status: str, risk: str, step: str, filed_by: dt.datetime,
                             after: tuple[dt.datetime, int] | None, limit: int = 500) -> list[Report]:
        """Cases of `status` and `risk` filed at or before `filed_by` that have not had `step`.

        `after` (filed, id): only cases after that one in filing order, so a pass reads each case
        once: from where the previous batch ended, or from just before the previous pass's cutoff.
        """
        start, last_id = (_iso(after[0]), after[1]) if after else ("", 0)
        rows = await self._all(
            f"SELECT {_REPORT_COLUMNS} FROM reports r WHERE status = ? AND risk = ? "  # noqa: S608
            "AND (created_at, id) > (?, ?) AND created_at <= ? AND NOT EXISTS (SELECT 1 FROM escalations e "
            "WHERE e.report_id = r.id AND e.step = ?) ORDER BY created_at, id LIMIT ?",
            (status, risk, start, last_id, _iso(filed_by), step, limit))
        return [_report(r) for r in rows]

    async def record_escalations(self, steps: Sequence[EscalationStep], now: dt.datetime) -> int:
        """Each step's row, its line on the case timeline and its messages, in one transaction.

        A step already recorded (by another pass or instance) writes and sends nothing; the count
        is of steps written now.
        """
        stamp = _iso(now)

        def work(conn: Connection) -> int:
            written = 0
            for item in steps:
                if conn.execute("INSERT INTO escalations (report_id, step, at) VALUES (?, ?, ?) "
                                "ON CONFLICT DO NOTHING", (item.report_id, item.step, stamp)).rowcount != 1:
                    continue
                written += 1
                conn.execute("INSERT INTO case_events (report_id, at, actor, kind, text) VALUES (?, ?, ?, ?, ?)",
                             (item.report_id, stamp, item.actor, "eskalasi", item.note))
                for out in item.outgoing:
                    self._enqueue_sync(conn, out, now)
            return written

        return int(await self._unit(work))

    async def escalations_of(self, report_id: int) -> list[tuple[str, dt.datetime]]:
        rows = await self._all("SELECT step, at FROM escalations WHERE report_id = ? ORDER BY at, step",
                               (report_id,))
        return [(r[0], _parse(r[1]) or dt.datetime.min) for r in rows]

    async def record_digest(self, office_id: str, day: dt.date, outgoing: Sequence[Outgoing],
                            now: dt.datetime) -> bool:
        """A digest of `day` and its messages; False (nothing queued) when it was sent already.

        `office_id` is the digest's key (bot.digest.Audience): the office whose chats get it, or
        several ids joined by "+" when one chat is named by several offices.
        """
        def work(conn: Connection) -> bool:
            if conn.execute("INSERT INTO digests (office_id, day, at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                            (office_id, day.isoformat(), _iso(now))).rowcount != 1:
                return False
            for out in outgoing:
                self._enqueue_sync(conn, out, now)
            return True

        return bool(await self._unit(work))

    async def digest_sent(self, office_id: str, day: dt.date) -> bool:
        row = await self._one("SELECT 1 FROM digests WHERE office_id = ? AND day = ?",
                              (office_id, day.isoformat()))
        return row is not None

    async def last_digest(self, office_id: str) -> dt.datetime | None:
        row = await self._one("SELECT max(at) FROM digests WHERE office_id = ?", (office_id,))
        return _parse(row[0]) if row else None

    async def case_clocks(self, offices: Sequence[str], statuses: Sequence[str],
                          since: dt.datetime | None = None) -> list[CaseClock]:
        """What deadlines are computed from, for the cases of `offices` in `statuses` (filed since `since`)."""
        after = _iso(since) if since else None
        rows = await self._all(
            "SELECT id, office_id, village_id, status, risk, created_at, acknowledged_at, closed_at FROM reports "
            "WHERE office_id IN (SELECT value FROM json_each(?)) AND status IN (SELECT value FROM json_each(?)) "
            "AND (? IS NULL OR created_at >= ?)",
            (json.dumps(list(offices)), json.dumps(list(statuses)), after, after))
        return [CaseClock(r[0], r[1], r[2], r[3], r[4], _parse(r[5]) or dt.datetime.min, _parse(r[6]),
                          _parse(r[7])) for r in rows]

    async def desk_deadline_keys(self, offices: Sequence[str], f: CaseFilter, status: str, risk: str,
                                 filed_by: dt.datetime | None, limit: int) -> tuple[list[tuple[int, dt.datetime]],
                                                                                    int]:
        """The oldest `limit` (id, filed) of one status and risk with the inbox's filters, and how many there are.

        A deadline grows with the filing time within one status and risk, so the inbox sorted by
        deadline merges these short runs instead of computing a deadline for every open case.
        `filed_by`: only cases filed then or before (the overdue ones).
        """
        where, args = _case_where(self.dialect, offices, f)
        where += " AND status = ? AND risk = ?"
        args += [status, risk]
        if f.assigned_to is not None:
            where += " AND assigned_to = ?"
            args.append(f.assigned_to)
        if filed_by is not None:
            where += " AND created_at <= ?"
            args.append(_iso(filed_by))
        rows = await self._all(f"SELECT id, created_at FROM reports WHERE {where} "  # noqa: S608
                               "ORDER BY created_at, id LIMIT ?", (*args, limit))
        total = await self._one(f"SELECT count(*) FROM reports WHERE {where}", args)  # noqa: S608
        return [(r[0], _parse(r[1]) or dt.datetime.min) for r in rows], int(total[0])

    async def desk_overdue_count(self, offices: Sequence[str], f: CaseFilter,
                                 cutoffs: Mapping[tuple[str, str], dt.datetime]) -> int:
        """How many cases with the inbox's filters are past their deadline ((status, risk) -> last filing time).

        One count per (status, risk), each a range of `reports_deadlines` read alone, summed in one
        statement (an OR of the six would make SQLite read every matching row from the table).
        """
        where, args = _case_where(self.dialect, offices, f)
        if f.assigned_to is not None:
            where += " AND assigned_to = ?"
            args.append(f.assigned_to)
        if not cutoffs:
            return 0
        if f.words or f.phone or f.case_no:
            # A search narrows the cases to a few: one pass over them (the FTS5 match runs once).
            late, flat = _past_deadline(cutoffs)
            row = await self._one(f"SELECT count(*) FROM (SELECT status, risk, created_at FROM reports "  # noqa: S608
                                  f"WHERE {where}) AS found WHERE {late}", [*args, *flat])
            return int(row[0])
        parts, values = [], []
        for (status, risk), filed_by in cutoffs.items():
            parts.append(f"(SELECT count(*) FROM reports WHERE {where} "  # noqa: S608
                         "AND status = ? AND risk = ? AND created_at <= ?)")
            values += [*args, status, risk, _iso(filed_by)]
        row = await self._one("SELECT " + " + ".join(parts), values)
        return int(row[0])

    async def reports_by_id(self, ids: Sequence[int]) -> list[Report]:
        """These reports, in the order of `ids`."""
        rows = await self._all(
            f"SELECT {_REPORT_COLUMNS} FROM reports WHERE id IN "  # noqa: S608
            "(SELECT CAST(value AS INTEGER) FROM json_each(?))",
            (json.dumps(list(ids)),))
        found = {r[0]: _report(r) for r in rows}
        return [found[i] for i in ids if i in found]

    async def village_activity(self, offices: Sequence[str], start: dt.datetime, end: dt.datetime
                               ) -> list[tuple[str, str, str, int, int, int, int, dt.datetime]]:
        """(office, village id, typed place, reports, high, medium, low, last report) per village."""
        rows = await self._all(
            "SELECT office_id, village_id, CASE WHEN village_id = '' THEN "  # noqa: S608
            f"coalesce({self.dialect.place_name}, '') ELSE '' END AS typed, count(*), "
            + ", ".join(f"sum(CASE WHEN risk = '{r}' THEN 1 ELSE 0 END)" for r in ("tinggi", "sedang", "rendah"))
            + ", max(created_at) FROM reports "
            "WHERE created_at >= ? AND created_at < ? AND office_id IN (SELECT value FROM json_each(?)) "
            "GROUP BY 1, 2, 3 ORDER BY count(*) DESC", (_iso(start), _iso(end), json.dumps(list(offices))))
        return [(r[0], r[1], r[2], int(r[3]), int(r[4]), int(r[5]), int(r[6]), _parse(r[7]) or dt.datetime.min)
                for r in rows]


@dataclass(frozen=True)
class CaseFilter:
    """What an inbox shows: a status tab, filters, a search, a sort and a page."""

    status: str = "baru"
    assigned_to: str | None = None       # "mine"
    village_id: str | None = None
    risk: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    case_no: str | None = None           # a search for a case number
    phone: str | None = None             # a search for a recruiter phone, in E.164
    words: str | None = None             # a search in the recruiter's name or company
    sort: str = "umur"                   # umur (age) or risiko (risk, then age)
    oldest_first: bool = False
    page: int = 1
    per_page: int = 25


def _past_deadline(cutoffs: Mapping[tuple[str, str], dt.datetime]) -> tuple[str, list[str]]:
    """A condition true for a case past its deadline ((status, risk) -> last filing time), and its values."""
    late = " OR ".join("(status = ? AND risk = ? AND created_at <= ?)" for _ in cutoffs) or "1 = 0"
    return late, [v for (status, risk), filed_by in cutoffs.items() for v in (status, risk, _iso(filed_by))]


def _case_where(dialect: Dialect, offices: Sequence[str], f: CaseFilter) -> tuple[str, list[Any]]:
    where = ["office_id IN (SELECT value FROM json_each(?))"]
    args: list[Any] = [json.dumps(list(offices))]
    for column, value in (("village_id", f.village_id), ("risk", f.risk), ("case_no", f.case_no),
                          ("recruiter_phone", f.phone)):
        if value is not None:
            where.append(f"{column} = ?")
            args.append(value)
    if f.since is not None:
        where.append("created_at >= ?")
        args.append(_iso(f.since))
    if f.until is not None:
        where.append("created_at < ?")
        args.append(_iso(f.until))
    if f.words:
        # Trigram search finds any 3 letters or more inside a name or company; shorter words scan.
        words = f.words.strip()
        if len(words) >= 3:
            condition, more = dialect.words(words)
            where.append(condition)
            args += more
        else:
            like = "%" + words.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            where.append("(lower(recruiter_name) LIKE ? ESCAPE '\\' "
                         "OR lower(recruiter_company) LIKE ? ESCAPE '\\')")
            args += [like, like]
    return " AND ".join(where), args


@dataclass(frozen=True)
class DeskSession:
    token_hash: str
    officer_key: str
    csrf: str
    created_at: dt.datetime
    seen_at: dt.datetime
    flash: str | None
    search: str | None = None


@dataclass(frozen=True)
class AuditEntry:
    at: dt.datetime
    officer_key: str
    office_id: str
    action: str          # login, login_failed, logout, view, download, tangani, catatan, ...
    case_no: str | None
    detail: str          # a label from a fixed list (an outcome, a tab), never a body or a number
    net: str             # the network prefix of the address (a /24 or a /48), not the address


@dataclass(frozen=True)
class EscalationStep:
    """One escalation step of a case: its key ("tanggap:2"), the timeline line and the messages it sends."""

    report_id: int
    step: str
    actor: str
    note: str
    outgoing: Sequence[Outgoing]


@dataclass(frozen=True)
class CaseClock:
    """The few columns a case's deadlines are computed from."""

    id: int
    office_id: str
    village_id: str
    status: str
    risk: str
    created_at: dt.datetime
    acknowledged_at: dt.datetime | None
    closed_at: dt.datetime | None

"""The PostgreSQL engine: one psycopg connection on a thread of its own, shaped like aiosqlite's.

The store's units of work are synchronous functions of a connection, run on the database thread
in group commits (bot/store.py). This module gives PostgreSQL the same small interface as
aiosqlite (`execute`, `_execute`, `_conn`, `close`), so every unit is written once for both
engines. Three things are translated here, the same for every statement: SQLite's `?`
placeholders become psycopg's `%s`; `json_each(?)` (a list passed as JSON) becomes
`json_array_elements_text(?::json)`; and `? IS NULL` (an optional filter, always text) becomes
`?::text IS NULL`, since PostgreSQL cannot tell a bare parameter's type. Everything else the
dialects disagree on is spelled per engine in bot/store.py (`Dialect`). Values are bound on the
server; psycopg prepares a statement once it has run a few times.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Generator, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import Any, TypeVar

import psycopg
from psycopg import pq

from bot.errors import StoreError

T = TypeVar("T")
_JSON_EACH = re.compile(r"json_each\(\?\)")
_NULL_TEST = re.compile(r"\?( IS (?:NOT )?NULL)")


class DatabaseError(StoreError):
    """A statement failed on PostgreSQL; the name of psycopg's error class says which way."""

    def __init__(self, exc: psycopg.Error) -> None:
        super().__init__(f"{exc.__class__.__name__}: {exc}".splitlines()[0])
        self.sqlstate = exc.sqlstate


class IntegrityError(DatabaseError):
    """A constraint refused a row (a duplicate key, a missing reference)."""


@lru_cache(maxsize=2048)
def translate(sql: str) -> str:
    """SQLite's placeholders to psycopg's, outside string literals; a literal % is doubled."""
    parts = sql.split("'")
    for i in range(0, len(parts), 2):   # even parts are outside quotes
        part = _JSON_EACH.sub("json_array_elements_text(?::json)", parts[i])
        part = _NULL_TEST.sub(r"?::text\1", part)
        parts[i] = part.replace("%", "%%").replace("?", "%s")
    for i in range(1, len(parts), 2):
        parts[i] = parts[i].replace("%", "%%")
    return "'".join(parts)


def _error(exc: psycopg.Error) -> DatabaseError:
    return IntegrityError(exc) if isinstance(exc, psycopg.IntegrityError) else DatabaseError(exc)


class Cursor:
    """What a statement returned, fetched whole (every statement here reads few rows)."""

    def __init__(self, rows: list[tuple[Any, ...]], rowcount: int) -> None:
        self._rows = rows
        self.rowcount = rowcount

    def fetchone(self) -> tuple[Any, ...] | None:
        return self._rows.pop(0) if self._rows else None

    def fetchall(self) -> list[tuple[Any, ...]]:
        rows, self._rows = self._rows, []
        return rows


def _connect(url: str) -> psycopg.Connection[tuple[Any, ...]]:
    # autocommit: the store opens and ends its transactions itself, as on SQLite.
    conn = psycopg.connect(url, autocommit=True, connect_timeout=10)
    # A lock held elsewhere is waited for 5 s at most, then the call fails (SQLite's busy_timeout).
    conn.execute("SET lock_timeout = '5s'")
    return conn


class SyncConnection:
    """The connection as the database thread uses it: the part of sqlite3.Connection the store needs.

    A connection lost between two transactions (the server restarted, the network broke) is opened
    again by the next statement; `generation` counts the connections, since the session's advisory
    locks went with the old one. A statement inside a transaction on a lost connection fails.
    """

    def __init__(self, conn: psycopg.Connection[tuple[Any, ...]], url: str) -> None:
        self.raw = conn
        self.url = url
        self.generation = 0
        self._between = True   # the last statement left no transaction open

    def execute(self, sql: str, args: Sequence[Any] = ()) -> Cursor:
        try:
            if self.raw.closed and (self._between or sql.startswith("BEGIN")):
                self.raw = _connect(self.url)
                self.generation += 1
            cur = self.raw.execute(translate(sql), tuple(args))   # () too: "%%" reads as "%"
            rows = cur.fetchall() if cur.description is not None else []
        except psycopg.Error as exc:
            raise _error(exc) from exc
        finally:
            if not self.raw.closed:
                self._between = self.raw.info.transaction_status == pq.TransactionStatus.IDLE
        return Cursor(rows, cur.rowcount)

    @property
    def in_transaction(self) -> bool:
        return self.raw.info.transaction_status != pq.TransactionStatus.IDLE


class _Result:
    """`await db.execute(...)` or `async with db.execute(...) as cur`, as with aiosqlite."""

    def __init__(self, pending: Awaitable[Cursor]) -> None:
        self._pending = pending

    def __await__(self) -> Generator[Any, None, _AsyncCursor]:
        return self._wrapped().__await__()

    async def _wrapped(self) -> _AsyncCursor:
        return _AsyncCursor(await self._pending)

    async def __aenter__(self) -> _AsyncCursor:
        return _AsyncCursor(await self._pending)

    async def __aexit__(self, *exc: object) -> None:
        return None


class _AsyncCursor:
    def __init__(self, cur: Cursor) -> None:
        self._cur = cur
        self.rowcount = cur.rowcount

    async def fetchone(self) -> tuple[Any, ...] | None:
        return self._cur.fetchone()

    async def fetchall(self) -> list[tuple[Any, ...]]:
        return self._cur.fetchall()


class PostgresConnection:
    """One PostgreSQL connection; every call runs on its one thread, in the order it was made."""

    def __init__(self, conn: psycopg.Connection[tuple[Any, ...]], url: str) -> None:
        self._conn = SyncConnection(conn, url)
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="postgres")
        self._closed = False

    @classmethod
    async def connect(cls, url: str) -> PostgresConnection:
        try:
            conn = await asyncio.to_thread(_connect, url)
        except psycopg.Error as exc:
            raise StoreError(f"cannot open the database ({exc.__class__.__name__})") from exc
        return cls(conn, url)

    async def _execute(self, fn: Callable[..., T], *args: Any) -> T:
        if self._closed:
            raise ValueError("Connection closed")   # as aiosqlite says it
        return await asyncio.get_running_loop().run_in_executor(self._thread, fn, *args)

    def execute(self, sql: str, args: Sequence[Any] = ()) -> _Result:
        return _Result(self._execute(self._conn.execute, sql, args))

    async def close(self) -> None:
        if not self._closed:
            await self._execute(self._conn.raw.close)
            self._closed = True
            self._thread.shutdown(wait=True)

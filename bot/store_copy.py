"""`desa-imigrasi migrate-db`: a SQLite database copied into an empty PostgreSQL one, and checked.

Both ends are opened as stores first, so both have every migration: the same tables, the same
columns. The copy is one PostgreSQL transaction (all of it, or an empty database again), rows go
in with COPY, and each table is then compared on both sides: its row count and a SHA-256 over its
rows (each row's values in a canonical text, the row digests sorted, so the order rows come back
in does not matter).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from bot.errors import StoreError
from bot.store import POSTGRESQL, SQLITE, Store

# SQLite's own tables and the full-text index (PostgreSQL searches with trigram indexes instead).
_SQLITE_ONLY = ("sqlite_%", "reports_search%")


@dataclass(frozen=True)
class TableCheck:
    table: str
    source_rows: int
    target_rows: int
    source_sum: str
    target_sum: str

    @property
    def ok(self) -> bool:
        return self.source_rows == self.target_rows and self.source_sum == self.target_sum


def _canonical(value: Any) -> str:
    if value is None:
        return "N"
    if isinstance(value, bool | int):
        return f"i{int(value)}"
    if isinstance(value, float):
        return f"f{value!r}"
    if isinstance(value, bytes | bytearray | memoryview):
        return "b" + bytes(value).hex()
    return "s" + str(value).replace("\\", "\\\\").replace("|", "\\|")


def checksum(rows: Iterable[Sequence[Any]]) -> tuple[int, str]:
    """(rows, SHA-256) of a table's rows, whatever order they come in."""
    digests = sorted(hashlib.sha256("|".join(map(_canonical, row)).encode()).digest() for row in rows)
    total = hashlib.sha256()
    for digest in digests:
        total.update(digest)
    return len(digests), total.hexdigest()


async def tables(source: Store) -> list[str]:
    """The store's tables, in the order the migrations created them (a table before those citing it)."""
    not_like = " AND ".join("name NOT LIKE ?" for _ in _SQLITE_ONLY)
    rows = await (await source.db.execute(
        f"SELECT name FROM sqlite_master WHERE type = 'table' AND {not_like} ORDER BY rowid",  # noqa: S608
        _SQLITE_ONLY)).fetchall()
    return [r[0] for r in rows]


async def _columns(target: Store, table: str) -> list[str]:
    rows = await (await target.db.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
        "AND table_name = ? ORDER BY ordinal_position", (table,))).fetchall()
    return [r[0] for r in rows]


async def _rows(store: Store, table: str, columns: Sequence[str]) -> list[tuple[Any, ...]]:
    cur = await store.db.execute(f"SELECT {', '.join(columns)} FROM {table}")  # noqa: S608
    return [tuple(r) for r in await cur.fetchall()]


async def copy(source: Store, target: Store) -> list[TableCheck]:
    """Copy every row of `source` (SQLite) into `target` (PostgreSQL, empty); the check of each table."""
    if source.dialect is not SQLITE or target.dialect is not POSTGRESQL:
        raise StoreError("migrate-db copies a SQLite database into a PostgreSQL one")
    if await source.schema_version() != await target.schema_version():
        raise StoreError("the two databases are at different migrations")
    names = await tables(source)
    target_tables = {r[0] for r in await (await target.db.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
        "AND table_type = 'BASE TABLE' AND table_name != 'schema_version'")).fetchall()}
    if set(names) != target_tables:
        raise StoreError(f"the databases' tables differ: {sorted(set(names) ^ target_tables)}")
    columns = {name: await _columns(target, name) for name in names}
    for name in names:
        row = await (await target.db.execute(f"SELECT count(*) FROM {name}")).fetchone()  # noqa: S608
        if row and row[0]:
            raise StoreError(f"the PostgreSQL database is not empty (table {name} has rows)")
    data = {name: await _rows(source, name, columns[name]) for name in names}

    def write(conn: Any) -> None:
        raw = conn.raw
        with raw.transaction():
            for name in names:
                # Roll-up tables kept by triggers are copied as they are: the triggers wait.
                raw.execute(f"ALTER TABLE {name} DISABLE TRIGGER USER")
                with raw.cursor().copy(f"COPY {name} ({', '.join(columns[name])}) FROM STDIN") as out:
                    for row in data[name]:
                        out.write_row(row)
                raw.execute(f"ALTER TABLE {name} ENABLE TRIGGER USER")
                if "id" in columns[name]:   # new rows are numbered after the copied ones
                    raw.execute(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "  # noqa: S608
                                f"coalesce((SELECT max(id) FROM {name}), 0) + 1, false)")

    try:
        await target.db._execute(write, target.db._conn)
    except Exception as exc:
        # PostgreSQL's message may quote the failing row (a story, a phone): only its kind is shown.
        code = getattr(exc, "sqlstate", None) or ""
        raise StoreError(f"the copy failed and was undone ({exc.__class__.__name__} {code})".strip()) from None
    return await verify(source, target)


async def verify(source: Store, target: Store) -> list[TableCheck]:
    """Each table's row count and checksum on both sides, as they are now."""
    checks = []
    for name in await tables(source):
        columns = await _columns(target, name)
        source_rows, source_sum = checksum(await _rows(source, name, columns))
        target_rows, target_sum = checksum(await _rows(target, name, columns))
        checks.append(TableCheck(name, source_rows, target_rows, source_sum, target_sum))
    return checks

"""Which database a test gets: a SQLite file, or (DESA_TEST_DATABASE=postgresql) a schema of its own.

`make test` runs the suite twice: on SQLite, then on PostgreSQL. The PostgreSQL half starts one
throwaway cluster (Debian's `postgresql` package: initdb and pg_ctl) in a temporary folder on a
free port, for the whole session, and stops it at the end; DESA_TEST_POSTGRESQL_URL names an
existing server instead. Every test asks `database(path)` for its database: on PostgreSQL the
same path always gives the same schema, so a test that "restarts the process" reopens its data.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import os
import shutil
import socket
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ENGINE = os.environ.get("DESA_TEST_DATABASE", "sqlite")
POSTGRESQL = ENGINE == "postgresql"
_server: dict[str, str] = {}


def database(path: Path) -> str | Path:
    """The database a test stores in: `path` itself on SQLite, a schema named after it on PostgreSQL."""
    return schema(path) if POSTGRESQL else path


def schema(path: Path) -> str:
    """The URL of a schema of the session's PostgreSQL named after `path` (created when missing)."""
    import psycopg
    schema = "t_" + hashlib.sha1(str(path).encode()).hexdigest()[:24]
    with psycopg.connect(_server["url"], autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    return f"{_server['url']}?options=-csearch_path%3D{schema}%2Cpublic"


def read(target: str | Path, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Rows of one query on a test's database (from another process's point of view), either engine."""
    if not str(target).startswith("postgresql://"):
        with contextlib.closing(sqlite3.connect(target, timeout=5)) as conn:
            return conn.execute(sql, args).fetchall()
    import psycopg

    from bot.postgres import translate
    with psycopg.connect(str(target), autocommit=True, cursor_factory=psycopg.ClientCursor) as pg:
        return pg.execute(translate(sql), args).fetchall()


# What a statement refused by a lock raises, and the name the apology's log line gives it.
LOCKED = (sqlite3.OperationalError,)
LOCKED_NAME = "OperationalError"
if POSTGRESQL:
    from bot.postgres import DatabaseError
    LOCKED, LOCKED_NAME = (DatabaseError,), "DatabaseError"


async def wait_briefly_for_locks(store: Any, ms: int = 100) -> None:
    """A store that gives up on a lock after `ms` (not 5 s: a test would wait for it)."""
    if POSTGRESQL:
        await store.db.execute(f"SET lock_timeout = {int(ms)}")
    else:
        await store.db.execute(f"PRAGMA busy_timeout = {int(ms)}")


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Another process holds the test's database: SQLite's write lock, or every table locked on PostgreSQL."""
    target = database(path)
    if not POSTGRESQL:
        blocker = sqlite3.connect(path, timeout=0.1, isolation_level=None)
        blocker.execute("BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        return
    import psycopg
    with psycopg.connect(str(target), autocommit=True) as pg:
        tables = [r[0] for r in pg.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")]
        pg.execute("BEGIN")
        pg.execute("LOCK TABLE " + ", ".join(tables) + " IN ACCESS EXCLUSIVE MODE")
        try:
            yield
        finally:
            pg.execute("ROLLBACK")


def binaries() -> Path | None:
    """The folder of initdb and pg_ctl (Debian keeps them off PATH), or None when not installed."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("initdb")
    return Path(on_path).parent if on_path else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_owner(args: list[str]) -> list[str]:
    # initdb refuses to run as root (CI runs as root): the cluster belongs to the postgres user.
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


def start() -> str | None:
    """Start the session's cluster (or take DESA_TEST_POSTGRESQL_URL); None when there is no PostgreSQL."""
    if url := os.environ.get("DESA_TEST_POSTGRESQL_URL"):
        _server["url"] = url
    else:
        bin_dir = binaries()
        if bin_dir is None:
            return None
        folder = Path(tempfile.mkdtemp(prefix="desa-pg-"))
        if os.geteuid() == 0:
            shutil.chown(folder, "postgres")
        data, port = folder / "data", _free_port()
        subprocess.run(_as_owner([str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
                                  "-E", "UTF8", "--locale=C.UTF-8"]), check=True, capture_output=True)
        # A test database is thrown away: no fsync, and enough connections for the rigs' processes.
        options = (f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        subprocess.run(_as_owner([str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l",
                                  str(folder / "log"), "-w", "start"]), check=True, capture_output=True)
        _server.update(url=f"postgresql://postgres@127.0.0.1:{port}/postgres", folder=str(folder),
                       pg_ctl=str(bin_dir / "pg_ctl"), data=str(data))
    import psycopg
    for _ in range(50):
        with contextlib.suppress(psycopg.OperationalError), psycopg.connect(_server["url"], autocommit=True) as c:
            # Once, where every test's schema finds it (the migration's CREATE EXTENSION is then a no-op).
            c.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public")
            return _server["url"]
        time.sleep(0.1)
    raise RuntimeError("the test PostgreSQL cluster did not accept connections")


def stop() -> None:
    if "data" in _server:
        subprocess.run(_as_owner([_server["pg_ctl"], "-D", _server["data"], "-m", "immediate", "stop"]),
                       check=False, capture_output=True)
        shutil.rmtree(_server["folder"], ignore_errors=True)
    _server.clear()

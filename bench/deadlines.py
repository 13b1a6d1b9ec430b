"""Deadlines at scale: computing one, and a full escalation pass (and the digest) over 100,000 open cases.

Run: .venv/bin/python bench/deadlines.py [--cases 100000] [--rounds 5]     (about a minute)

1. Deadline computation: `Deadlines.current` for CASES cases filed at random moments of the past
   year (every risk level, new and handled), and the escalation pass's own arithmetic
   (`due_steps`: 18 cutoffs). Timed in-process, best of ROUNDS.
2. The escalation pass: a fresh temporary SQLite file (as Store opens it) holds CASES open cases
   of the 7 offices filed over the past 60 days (40 % new, 60 % handled; risk 20/40/40
   high/medium/low), inserted with plain SQL. The shipped config with the console tests' officers
   (tests/desk_rig.py: Kanim Sanggau has a group and a head, the Kanwil an officer). Timed: the
   first pass, which finds every overdue step at once (a backlog, as after a long outage or on
   the day this ships) and writes each step's row, timeline line and messages; then the passes
   of a normal minute, when nothing new fell due (best of ROUNDS); the first pass of a restarted
   process (no cutoff remembered: it reads every open case once); then one morning's digest for
   every alert chat (each office's, the Kanwil's).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import sqlite3
import tempfile
import time
from pathlib import Path

import _util  # noqa: F401  (puts the repository on sys.path)
from _util import machine

from bot.app import build_dialogue
from bot.deadlines import Deadlines
from bot.digest import Digest
from bot.escalation import Escalation
from bot.store import Store
from tests.desk_rig import make_console_config

OFFICES = ("PTK", "ETK", "SGU", "SBS", "PSB", "KTG", "SKW")
WIB = dt.timezone(dt.timedelta(hours=7))


def populate(db: Path, cases: int, now: dt.datetime) -> None:
    rng = random.Random(14)
    conn = sqlite3.connect(db)
    rows = []
    for i in range(cases):
        office = OFFICES[i % len(OFFICES)]
        created = now - dt.timedelta(seconds=rng.randrange(60 * 86400))
        status = "baru" if rng.random() < 0.4 else "ditangani"
        ack = created + dt.timedelta(hours=rng.uniform(0.2, 30)) if status == "ditangani" else None
        risk = rng.choices(("tinggi", "sedang", "rendah"), (2, 4, 4))[0]
        rows.append((f"{office}-{created.year}-{i:06d}", office, "semuntai" if office == "SGU" else "",
                     status, risk, "[]", "{}", "[]", f"Perekrut {i % 5000}", 0,
                     created.astimezone(dt.UTC).isoformat(timespec="seconds"),
                     ack.astimezone(dt.UTC).isoformat(timespec="seconds") if ack else None))
    conn.executemany(
        "INSERT INTO reports (case_no, office_id, village_id, status, risk, flags, answers, media, "
        "recruiter_name, contactable, created_at, acknowledged_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows)
    conn.commit()
    conn.execute("ANALYZE")
    conn.close()


def best(rounds: int, work) -> float:
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        work()
        times.append(time.perf_counter() - t0)
    return min(times)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-deadlines-"))
    knowledge = make_console_config(folder)
    print(f"# bench/deadlines.py: {args.cases:,} open cases; {machine()}")
    now = dt.datetime(2026, 11, 30, 9, 0, tzinfo=WIB)      # a Monday morning
    deadlines = Deadlines(knowledge.settings.deadlines)
    rng = random.Random(1)
    sample = [(rng.choice(("baru", "ditangani")), rng.choice(("tinggi", "sedang", "rendah")),
               now - dt.timedelta(seconds=rng.randrange(365 * 86400))) for _ in range(args.cases)]
    fresh = Deadlines(knowledge.settings.deadlines)       # no holiday looked up yet
    t0 = time.perf_counter()
    for status, risk, filed in sample:
        fresh.current(status, risk, filed)
    cold = time.perf_counter() - t0
    warm = best(args.rounds, lambda: [deadlines.current(s, r, f) for s, r, f in sample])
    cutoffs = best(args.rounds * 20, lambda: deadlines.due_steps(now, quiet=False))
    print("\n| computation | total | per case |\n|---|---|---|")
    print(f"| current deadline of {args.cases:,} cases, first time (holidays looked up) | {cold * 1000:.0f} ms "
          f"| {cold / args.cases * 1e6:.1f} µs |")
    print(f"| current deadline of {args.cases:,} cases, best of {args.rounds} | {warm * 1000:.0f} ms "
          f"| {warm / args.cases * 1e6:.1f} µs |")
    print(f"| the pass's 18 cutoffs (due_steps) | {cutoffs * 1000:.2f} ms | - |")

    async with Store.open(folder / "bot.sqlite3") as store:
        started = time.perf_counter()
        await asyncio.to_thread(populate, folder / "bot.sqlite3", args.cases, now)
        print(f"\npopulated in {time.perf_counter() - started:.1f} s")
        dialogue = build_dialogue(knowledge, store, lambda: now)
        escalation = Escalation(dialogue.casework)
        t0 = time.perf_counter()
        first = await escalation.run(now)
        backlog = time.perf_counter() - t0
        queued = sum((await store.outbox_counts()).values())
        steady = []
        for i in range(args.rounds):
            t0 = time.perf_counter()
            again = await escalation.run(now + dt.timedelta(seconds=i + 1))
            steady.append(time.perf_counter() - t0)
            assert again == 0, again
        t0 = time.perf_counter()
        restarted = await Escalation(dialogue.casework).run(now + dt.timedelta(seconds=args.rounds))
        after_restart = time.perf_counter() - t0
        assert restarted == 0, restarted
        digest = Digest(dialogue.casework, "https://bot.example/console/kasus")
        t0 = time.perf_counter()
        digests = await digest.run(now.replace(hour=7, minute=30))   # one per alert chat
        morning = time.perf_counter() - t0
    print("\n| escalation pass | time | written |\n|---|---|---|")
    print(f"| first pass, every overdue step at once | {backlog:.2f} s | {first:,} steps, {queued:,} messages |")
    print(f"| a normal minute, nothing new due (best of {args.rounds}) | {min(steady) * 1000:.0f} ms | 0 |")
    print(f"| the first pass after a restart, nothing new due (reads every open case once) "
          f"| {after_restart * 1000:.0f} ms | 0 |")
    print(f"| the morning digest, one per alert chat | {morning * 1000:.0f} ms | {digests} digests |")


if __name__ == "__main__":
    asyncio.run(main())

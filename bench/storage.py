"""The store on each engine: turns per second and the time of one turn's two calls, SQLite vs PostgreSQL.

Run: .venv/bin/python bench/storage.py [--senders 64] [--turns 3000] [--postgresql URL]

A turn is what every message costs the database: `begin_turn` (is the message id new? the
sender's profile and state) and `end_turn` (the message id, the new state, a FAQ decision, one
reply for the outbox), for `--senders` villagers talking at once, each one turn at a time. The
same code on a fresh SQLite file and on a fresh PostgreSQL schema: a throwaway local cluster
(Debian's postgresql package, as the tests start it: fsync off, so this measures the engine and
the trips, not a disk) unless --postgresql names a server. Printed: turns/s, and the p50 and
p99 of one turn's two calls in ms. Rounds alternate the engines (the machine is shared).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path

import _util

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from bot.models import Channel, Outgoing, Reply, Sender
from bot.store import Conversation, FaqDecision, Store, TurnEnd
from tests import databases

NOW = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)


async def run(target: str | Path, senders: int, turns: int) -> tuple[float, float, float]:
    now = NOW
    async with Store.open(target) as store:
        people = [Sender(Channel.WHATSAPP, f"whatsapp:+62812{i:07d}") for i in range(senders)]
        times: list[float] = []
        counter = iter(range(10**9))

        async def talk(who: Sender, n: int) -> None:
            for _ in range(n):
                key = f"whatsapp:SM{next(counter)}-{id(store)}"
                t0 = time.perf_counter()
                start = await store.begin_turn(who, key, now)
                assert start is not None
                end = TurnEnd("semuntai", Conversation("menu", {"asked": key}),
                              FaqDecision("answer", "paspor", "SGU"), message_key=key,
                              outgoing=[Outgoing(who, "jawaban", "reply")], kept_replies=[Reply("jawaban")],
                              seen=start.seen)
                await store.end_turn(who, end, now)
                times.append(time.perf_counter() - t0)

        started = time.perf_counter()
        await asyncio.gather(*(talk(who, turns // senders) for who in people))
        elapsed = time.perf_counter() - started
    times.sort()
    return len(times) / elapsed, statistics.median(times) * 1000, times[int(len(times) * 0.99)] * 1000


async def main(senders: int, turns: int, rounds: int, url: str | None) -> None:
    print(f"machine: {_util.machine()}")
    print(f"{senders} senders at once, {turns} turns per run, {rounds} rounds alternating the engines")
    if url:
        databases._server["url"] = url
    elif databases.start() is None:
        print("no PostgreSQL here (apt-get install postgresql, or --postgresql URL)")
        return
    results: dict[str, list[tuple[float, float, float]]] = {"sqlite": [], "postgresql": []}
    try:
        with tempfile.TemporaryDirectory(prefix="bench-storage-") as folder:
            for r in range(rounds):
                results["sqlite"].append(await run(Path(folder) / f"r{r}.sqlite3", senders, turns))
                results["postgresql"].append(await run(databases.schema(Path(folder) / f"r{r}"), senders, turns))
    finally:
        databases.stop()
    print(f"{'engine':<12}{'turns/s':>10}{'p50 ms':>10}{'p99 ms':>10}   (median over rounds)")
    for engine, rows in results.items():
        print(f"{engine:<12}{statistics.median(r[0] for r in rows):>10.0f}"
              f"{statistics.median(r[1] for r in rows):>10.2f}{statistics.median(r[2] for r in rows):>10.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--senders", type=int, default=64)
    parser.add_argument("--turns", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--postgresql", help="an existing server's URL (an empty database)")
    args = parser.parse_args()
    asyncio.run(main(args.senders, args.turns, args.rounds, args.postgresql))

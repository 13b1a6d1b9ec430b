"""WhatsApp webhooks on SQLite, and on PostgreSQL with one and with two instances: msg/s and latency.

Run: .venv/bin/python bench/instances.py [--concurrency 32] [--requests 2000] [--rounds 2]

The servers are bench/webhook.py's real one (`--serve real`: the shipped config, signature
checking on, the WhatsApp channel, the outbox loop), started as child processes: one on a fresh
SQLite file; one on a fresh PostgreSQL schema; two on one fresh PostgreSQL schema, each request
going to one of them in turn (a load balancer). PostgreSQL is a throwaway local cluster started as
the tests start theirs (Debian's postgresql package; fsync off: the engine and its round trips
are measured, not a disk). The 1,000 senders are registered beforehand; every request is a
signed Twilio form with a fresh MessageSid and a question from the sample file (as in
bench/webhook.py). Per setup and round: a warm-up of 200 requests, then `--requests` requests
(or 15 s) at `--concurrency`. Rounds alternate the setups; the table gives medians.
Nothing is pinned: on a machine of 2 cores, two instances, PostgreSQL and the load generator
share them, which is the figure's point and its limit.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
from pathlib import Path

import _util
import aiohttp
import yaml

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent] + \
    [str(Path(__file__).resolve().parent)]

import webhook

from tests import databases

SETUPS = (("sqlite", 1), ("postgresql", 1), ("postgresql", 2))


async def drive(ports: list[int], requests: list[tuple[bytes, str]], concurrency: int) -> dict[str, float]:
    """Like webhook.drive, each worker sending to one of `ports` (worker i to port i mod n)."""
    import time
    latencies: list[float] = []
    failed = 0
    it = iter(requests)
    deadline = time.perf_counter() + webhook.SECONDS
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:
        async def worker(i: int) -> None:
            nonlocal failed
            url = f"http://127.0.0.1:{ports[i % len(ports)]}/whatsapp"
            for body, sig in it:
                if time.perf_counter() > deadline:
                    return
                t0 = time.perf_counter()
                async with session.post(url, data=body, headers={
                        "X-Twilio-Signature": sig, "Content-Type": "application/x-www-form-urlencoded"}) as resp:
                    await resp.read()
                latencies.append((time.perf_counter() - t0) * 1000)
                failed += resp.status != 200

        start = time.perf_counter()
        await asyncio.gather(*(worker(i) for i in range(concurrency)))
        elapsed = time.perf_counter() - start
    return {"n": len(latencies), "rate": len(latencies) / elapsed, "p50": _util.pct(latencies, 50),
            "p99": _util.pct(latencies, 99), "failed": failed}


async def one(engine: str, instances: int, target: str | Path, config: Path, log: Path,
              batches: tuple[list[tuple[bytes, str]], list[tuple[bytes, str]]], concurrency: int
              ) -> dict[str, float]:
    await webhook.register(target, config)
    ports = [_util.free_port() for _ in range(instances)]
    procs = [webhook.start_server("real", port, config, target, log) for port in ports]
    try:
        for port, proc in zip(ports, procs, strict=True):
            await webhook.wait_ready(port, proc)
        await drive(ports, batches[0], 8)   # warm-up
        return await drive(ports, batches[1], concurrency)
    finally:
        for proc in procs:
            webhook.stop_server(proc)


async def main(concurrency: int, requests: int, rounds: int) -> None:
    from bot.evaluation import load_questions
    questions = [q.text for q in load_questions(webhook.SAMPLE)]
    tmp = Path(tempfile.mkdtemp(prefix="bench-instances-"))
    data = yaml.safe_load((_util.ROOT / "config.example.yaml").read_text())
    data["content_dir"] = str(_util.ROOT / "content")
    data.setdefault("whatsapp", {})["verify_signature"] = True
    config = tmp / "config.yaml"
    config.write_text(yaml.safe_dump(data, allow_unicode=True))
    print(f"machine: {_util.machine()}; nothing pinned")
    print(f"concurrency {concurrency}, {requests} requests per run (or {webhook.SECONDS:.0f} s) after a warm-up "
          f"of {webhook.WARMUP}; {rounds} rounds alternating the setups; server logs in {tmp}")
    if databases.start() is None:
        print("no PostgreSQL here (apt-get install postgresql)")
        return
    results: dict[tuple[str, int], list[dict[str, float]]] = {s: [] for s in SETUPS}
    sid = 0
    try:
        for r in range(rounds):
            for engine, instances in SETUPS:
                batches = (webhook.build_requests(webhook.WARMUP, questions, sid),
                           webhook.build_requests(requests, questions, sid + webhook.WARMUP))
                sid += webhook.WARMUP + requests
                name = f"r{r}-{engine}-{instances}"
                target = tmp / f"{name}.sqlite3" if engine == "sqlite" else databases.schema(tmp / name)
                results[(engine, instances)].append(
                    await one(engine, instances, target, config, tmp / f"{name}.log", batches, concurrency))
    finally:
        databases.stop()
    rows = []
    for (engine, instances), runs in results.items():
        rows.append((engine, instances, f"{statistics.median(x['rate'] for x in runs):.0f}",
                     f"{statistics.median(x['p50'] for x in runs):.1f}",
                     f"{statistics.median(x['p99'] for x in runs):.1f}", int(sum(x["failed"] for x in runs))))
    print(_util.table(("engine", "instances", "msg/s", "p50 ms", "p99 ms", "not 200"), rows))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    asyncio.run(main(args.concurrency, args.requests, args.rounds))

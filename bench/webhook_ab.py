"""Two checkouts' WhatsApp webhooks at one concurrency, interleaved, so a noisy machine hurts both alike.

Run: .venv/bin/python bench/webhook_ab.py /path/to/checkout-A /path/to/checkout-B   (about 1 min a round)
Env: ROUNDS (6), CONC (32), N (3000 requests per round and checkout), WARM (600).

Each round and checkout: a fresh temporary SQLite file with the 1,000 senders registered by that
checkout's own code (its migrations), then its `bench/webhook.py --serve real` (the app as
shipped: the same server, config and pinning to CPU 0 as bench/webhook.py), WARM requests at
concurrency 8, then N signed requests at concurrency CONC from this process (pinned to CPU 1).
The checkouts alternate A, B, B, A, ... Prints each run and the medians: msg/s, p50 / p99 ms,
server CPU ms per message. A checkout needs no venv of its own: this one's runs both.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import _util
import webhook
import yaml

ROUNDS = int(os.environ.get("ROUNDS", "6"))
CONC = int(os.environ.get("CONC", "32"))
N = int(os.environ.get("N", "3000"))
WARM = int(os.environ.get("WARM", "600"))
MARKER = "Pesan Anda terlalu banyak"


def prepare(tree: Path, tmp: Path) -> tuple[Path, Path]:
    """The shipped config with the signature check on, and a database that tree's code registered."""
    data = yaml.safe_load((tree / "config.example.yaml").read_text())
    data["content_dir"] = str(tree / "content")
    data.setdefault("whatsapp", {})["verify_signature"] = True
    config = tmp / "config.yaml"
    config.write_text(yaml.safe_dump(data, allow_unicode=True))
    db = tmp / "bench.sqlite3"
    code = ("import asyncio, sys; sys.path.insert(0, 'bench'); import webhook; from pathlib import Path; "
            f"asyncio.run(webhook.register(Path({str(db)!r}), Path({str(config)!r})))")
    subprocess.run([sys.executable, "-c", code], cwd=tree, env=webhook.env(), check=True)
    return config, db


async def one(tree: Path, warm: list[tuple[bytes, str]], requests: list[tuple[bytes, str]]) -> dict[str, object]:
    tmp = Path(tempfile.mkdtemp(prefix="bench-ab-"))
    config, db = prepare(tree, tmp)
    port = _util.free_port()
    cmd = [sys.executable, str(tree / "bench/webhook.py"), "--serve", "real", "--port", str(port),
           "--config", str(config), "--db", str(db)]
    if webhook.SERVER_CPU:
        cmd += ["--cpu", str(webhook.SERVER_CPU[0])]
    proc = subprocess.Popen(cmd, env=webhook.env(), cwd=str(tree), stdout=subprocess.DEVNULL,
                            stderr=(tmp / "server.log").open("ab"))
    try:
        await webhook.wait_ready(port, proc)
        await webhook.drive(port, warm, 8, 60.0, MARKER)
        cpu0 = webhook.cpu_seconds(proc.pid)
        result = await webhook.drive(port, requests, CONC, 120.0, MARKER)
        result["cpu_ms"] = (webhook.cpu_seconds(proc.pid) - cpu0) * 1000 / max(int(result["n"]), 1)  # type: ignore[call-overload]
    finally:
        webhook.stop_server(proc)
    return result


async def main(trees: list[Path]) -> None:
    from bot.evaluation import load_questions
    questions = [q.text for q in load_questions(webhook.SAMPLE)]
    print(f"machine: {_util.machine()}; rounds {ROUNDS}, concurrency {CONC}, {N} requests after {WARM} warm-up")
    results: dict[Path, list[dict[str, object]]] = {t: [] for t in trees}
    start = 0
    for number in range(ROUNDS):
        for tree in trees if number % 2 == 0 else trees[::-1]:
            warm = webhook.build_requests(WARM, questions, start)
            requests = webhook.build_requests(N, questions, start + WARM)
            start += WARM + N   # fresh MessageSids: a repeated one is answered as a redelivery
            r = await one(tree, warm, requests)
            results[tree].append(r)
            print(f"  round {number + 1} {tree}: {r['rate']:.0f} msg/s, p50 {r['p50']:.2f} / "
                  f"p99 {r['p99']:.2f} ms, server CPU {r['cpu_ms']:.3f} ms/msg, statuses {r['statuses']}",
                  flush=True)
    rows = []
    for tree, runs in results.items():
        def med(key: str, runs: list[dict[str, object]] = runs) -> float:
            return statistics.median(float(r[key]) for r in runs)  # type: ignore[arg-type]
        p99s = sorted(float(r["p99"]) for r in runs)  # type: ignore[arg-type]
        rows.append([str(tree), f"{med('rate'):.0f}", f"{med('p50'):.2f}", f"{med('p99'):.2f}",
                     f"{p99s[0]:.1f}-{p99s[-1]:.1f}", f"{med('cpu_ms'):.3f}"])
    print()
    print(_util.table(["checkout", "msg/s", "p50 ms", "p99 ms", "p99 range", "server CPU ms/msg"], rows))


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) >= 2:
        webhook.SERVER_CPU.append(cpus[0])
        os.sched_setaffinity(0, {cpus[1]})
    asyncio.run(main([Path(a).resolve() for a in sys.argv[1:]]))

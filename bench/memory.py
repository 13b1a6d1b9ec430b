"""Resident memory after start-up and while 100,000 messages from 10,000 senders go through the core.

Run: .venv/bin/python bench/memory.py          (at most about 4.5 minutes; stops by itself)

One process: build_knowledge (shipped config and content) + Store.open on a fresh temporary
SQLite file + build_dialogue; then Dialogue.handle for message i from sender i % 10,000
(WhatsApp-style ids, so one sender writes every 10,000th message), the text a question from the
sample file followed by the message's number (every text distinct, so the matcher's decision cache
fills to its bound: the worst case for memory), a unique message id; CONCURRENCY asyncio tasks
at once. The senders are registered first (village set, greeted), so every message is an FAQ
question. Logging is not configured (WARNING): only the core's own memory is measured.
RSS = VmRSS from /proc/self/status, read at 0, 25k, 50k, 75k and 100k messages; if the
4-minute budget runs out first, the last reading is taken where it stopped and the output says
so. Beside RSS: the sizes of the core's in-memory maps (FloodGuard, the per-sender locks, the matcher's
decision cache) and of the SQLite file.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import tempfile
import time
from pathlib import Path

import _util
from _util import ROOT, rss_mib, table

from bot.app import build_dialogue, build_knowledge
from bot.evaluation import load_questions
from bot.models import Channel, IncomingMessage, Sender
from bot.store import Store

SENDERS = 10_000
MESSAGES = 100_000
CHECKPOINTS = (25_000, 50_000, 75_000, 100_000)
CONCURRENCY = 32
BUDGET = 240.0
SAMPLE = ROOT.parent / "shared/eval/sample_questions.yaml"


def sender(i: int) -> Sender:
    return Sender(Channel.WHATSAPP, f"whatsapp:+62813{i % SENDERS:07d}")


async def main() -> None:
    rss_python = rss_mib()
    knowledge = build_knowledge(ROOT / "config.example.yaml", {})
    questions = [q.text for q in load_questions(SAMPLE)]
    tmp = Path(tempfile.mkdtemp(prefix="bench-memory-"))
    db = tmp / "memory.sqlite3"
    print("Configuration")
    print(f"  machine: {_util.machine()}")
    print(f"  core: build_knowledge(config.example.yaml) + Store.open({db}) + build_dialogue; "
          f"Dialogue.handle directly, {CONCURRENCY} concurrent tasks")
    print(f"  load: {MESSAGES} messages from {SENDERS} senders (round robin), questions from "
          f"{SAMPLE.relative_to(ROOT.parent)}; budget {BUDGET:.0f} s; no gc.collect() between readings")
    async with Store.open(db) as store:
        dialogue = build_dialogue(knowledge, store)
        rss_start = rss_mib()
        villages = [v.id for v in knowledge.settings.villages]
        now = dt.datetime.now(dt.UTC)
        for i in range(SENDERS):
            await store.save_profile(sender(i), village_id=villages[i % len(villages)], greeted=True, now=now)
        print(f"  RSS: python + imports {rss_python:.1f} MiB; after start-up (knowledge, store, dialogue) "
              f"{rss_start:.1f} MiB; after registering {SENDERS} senders {rss_mib():.1f} MiB")

        def cached() -> str:
            """Decisions cached / stems cached: each has a bound (the flood guard's is its sender count)."""
            info = dialogue.index._cached.cache_info() if dialogue.index._cached else None
            stems = dialogue.index.normalizer.stem.cache_info().currsize
            return f"{info.currsize if info else 0} / {stems}"

        rows = [["0", f"{rss_mib():.1f}", "-", "-", len(dialogue.flood), len(dialogue.locks),
                 cached(), f"{db.stat().st_size / 2**20:.1f}"]]
        done = 0
        stopped_early = False
        start = time.perf_counter()
        deadline = start + BUDGET
        replies = 0
        for target in CHECKPOINTS:
            nxt = done
            t0 = time.perf_counter()

            async def worker() -> None:
                nonlocal nxt, replies
                while nxt < target and time.perf_counter() < deadline:
                    i = nxt
                    nxt += 1
                    out = await dialogue.handle(IncomingMessage(
                        sender(i), f"{questions[(i // SENDERS + i * 7) % len(questions)]} {i}", f"mem-{i}"))
                    replies += len(out)

            await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
            n = nxt - done
            done = nxt
            elapsed = time.perf_counter() - t0
            rows.append([f"{done}", f"{rss_mib():.1f}", f"{n / elapsed:.0f}", f"{time.perf_counter() - start:.0f}",
                         len(dialogue.flood), len(dialogue.locks), cached(),
                         f"{db.stat().st_size / 2**20:.1f}"])
            if done < target:
                stopped_early = True
                break
        gc.collect()
        rss_gc = rss_mib()
        print()
        print(table(["messages", "RSS MiB", "msg/s", "elapsed s", "FloodGuard senders", "sender locks",
                     "decisions / stems", "SQLite MiB"], rows))
        print(f"\n  after gc.collect(): RSS {rss_gc:.1f} MiB; replies returned: {replies}")
        print(f"  bounds: decisions {knowledge.settings.match.cache_size}, stems 50,000 words, flood guard"
              " one token bucket (two floats) per sender for at most 50,000 senders")
        if stopped_early:
            print(f"  STOPPED EARLY: the {BUDGET:.0f} s budget ran out at {done} of {MESSAGES} messages "
                  f"({done / SENDERS:.1f} per sender).")
        wal = db.with_name(db.name + "-wal")
        if wal.exists():
            print(f"  SQLite WAL file: {wal.stat().st_size / 2**20:.1f} MiB")


if __name__ == "__main__":
    asyncio.run(main())

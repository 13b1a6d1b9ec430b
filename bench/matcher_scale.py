"""The matcher's build and decision time as the content grows, for this checkout or another one.

Run: .venv/bin/python bench/matcher_scale.py [CHECKOUT]     (about 1 minute; CHECKOUT e.g. ../main)
Content: the shipped entries, then grown to 1,000 and 5,000 entries with bench/matcher.py's
generator (same seed and order, so the same entries). Per size: the index build (wall and CPU
seconds, a fresh normaliser each time), then every dev question decided once to warm up and 5
times timed; p50 / p99 over the questions of each question's fastest pass (robust to a busy
machine) and of all passes; the decision hash of the dev set (bot.evaluation.decision_hash,
computed here so a checkout without it can be compared). Compare two checkouts in one window,
interleaved: A, B, A, B.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import random
import sys
import time
from pathlib import Path

CHECKOUT = Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent
sys.path[:0] = [str(CHECKOUT), str(CHECKOUT / "bench")]

import _util
import matcher as bench_matcher
from _util import pct

from bot.app import build_knowledge
from bot.evaluation import load_questions
from bot.faq import FaqIndex
from bot.textnorm import Normalizer, load_roots

SIZES = (1000, 5000)
PASSES = 5


def main() -> None:
    knowledge = build_knowledge(CHECKOUT / "config.example.yaml", {})
    settings = dataclasses.replace(knowledge.settings.match, cache_size=0)
    entries = list(knowledge.content.entries)
    dev = load_questions(CHECKOUT / "tests/data/dev_questions.yaml")
    roots = load_roots()
    rng = random.Random(bench_matcher.SEED)
    print(f"checkout {CHECKOUT}; {_util.machine()}; {len(dev)} dev questions, {PASSES} timed passes")
    for size in (len(entries), *SIZES):
        grown = entries if size == len(entries) else bench_matcher.scaled(entries, size, rng)
        normalizer = Normalizer(knowledge.content.lexicon, roots)
        wall, cpu = time.perf_counter(), time.process_time()
        index = FaqIndex(grown, normalizer, settings)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        lines = []
        for q in dev:
            m = index.match(q.text)
            lines.append(json.dumps([q.text, m.decision.value, [c.entry_id for c in m.candidates]],
                                    ensure_ascii=False))
        runs: list[list[float]] = [[] for _ in dev]
        for _ in range(PASSES):
            for i, q in enumerate(dev):
                start = time.perf_counter()
                index.match(q.text)
                runs[i].append((time.perf_counter() - start) * 1000)
        fastest = [min(r) for r in runs]
        every = [t for r in runs for t in r]
        digest = hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16]
        print(f"{size:>6} entries: build {wall:5.2f} s (CPU {cpu:5.2f} s); decision, fastest of {PASSES}: "
              f"p50 {pct(fastest, 50):.3f} p99 {pct(fastest, 99):.3f} ms; all passes: p50 {pct(every, 50):.3f} "
              f"p99 {pct(every, 99):.3f} ms; dev decisions {digest}")


if __name__ == "__main__":
    main()

"""The issue's other two-stage rank, measured: the top K entries by their score without phrasings, then
every phrasing of those K scored exactly; against the shipped (exact) first stage, at 5,000 entries.

Run: .venv/bin/python bench/matcher_candidates.py            (about 2 minutes)
Content: as bench/matcher_scale.py (the shipped entries first, then bench/matcher.py's generated
variants, same seed). For each K: how many dev and held-out decisions (decision and entry ids)
differ from the exact rank, and p50 / p99 of each dev question's fastest of 3 passes, as
bench/matcher_scale.py measures. K = 0 is the shipped first stage.
"""

from __future__ import annotations

import dataclasses
import random
import time

import _util
import matcher as bench_matcher
import numpy as np
from _util import ROOT, pct
from numpy.typing import NDArray

from bot import faq
from bot.app import build_knowledge
from bot.evaluation import load_questions
from bot.phrasings import Query
from bot.textnorm import Normalizer, load_roots

KS = (0, 16, 64, 256, 512)
PASSES = 3


class TopK(faq.FaqIndex):
    """The shipped index, but with k_entries > 0 only the best k_entries entries by their score
    without phrasings get their phrasings scored."""

    k_entries = 0

    def _add_phrasings(self, scores: NDArray[np.float64], acc_bag: NDArray[np.float64],
                       posterior: NDArray[np.float64] | None, q: Query, k: int, exhaustive: bool) -> float:
        if not self.k_entries or exhaustive:
            return super()._add_phrasings(scores, acc_bag, posterior, q, k, exhaustive)
        chosen = faq._largest(scores, self.k_entries)
        self._score_phrasings(scores, chosen, self.phrasings.best_of(chosen, q), acc_bag, posterior, q.total)
        return faq._kth_largest(scores[chosen], k)


def main() -> None:
    knowledge = build_knowledge(ROOT / "config.example.yaml", {})
    settings = dataclasses.replace(knowledge.settings.match, cache_size=0)
    entries = list(knowledge.content.entries)
    sets = {name: load_questions(ROOT / f"tests/data/{name}_questions.yaml") for name in ("dev", "holdout")}
    rng = random.Random(bench_matcher.SEED)
    bench_matcher.scaled(entries, 1000, rng)   # as bench/matcher_scale.py: the same 5,000 entries
    index = TopK(bench_matcher.scaled(entries, 5000, rng), Normalizer(knowledge.content.lexicon, load_roots()),
                 settings)
    print(f"{_util.machine()}; 5000 entries, {len(index.doc_tokens)} phrasings; "
          f"{PASSES} timed passes over {len(sets['dev'])} dev questions")

    def decisions(name: str) -> list[tuple[str, tuple[str, ...]]]:
        return [(m.decision.value, tuple(c.entry_id for c in m.candidates))
                for m in (index.match(q.text) for q in sets[name])]

    exact = {name: decisions(name) for name in sets}
    for k in KS:
        index.k_entries = k
        changed = {name: sum(a != b for a, b in zip(decisions(name), exact[name], strict=True)) for name in sets}
        runs: list[list[float]] = [[] for _ in sets["dev"]]
        for _ in range(PASSES):
            for i, q in enumerate(sets["dev"]):
                start = time.perf_counter()
                index.match(q.text)
                runs[i].append((time.perf_counter() - start) * 1000)
        fastest = [min(r) for r in runs]
        label = "exact first stage" if k == 0 else f"top {k} entries"
        print(f"  {label:>18}: decisions changed: dev {changed['dev']} of {len(sets['dev'])}, held out "
              f"{changed['holdout']} of {len(sets['holdout'])}; p50 {pct(fastest, 50):.3f} p99 "
              f"{pct(fastest, 99):.3f} ms")


if __name__ == "__main__":
    main()

"""Grid-search the matcher's settings on the development set; print the best and how it fares elsewhere.

Run: .venv/bin/python bench/tune_matcher.py
Selection uses tests/data/dev_questions.yaml only, under the issue's bounds (at most 3% wrong
answers, at least 95% answered or suggested) and a stricter one for off-topic (at most 1.5%
answered instead of 5%, as a safety margin for unseen near-misses). The sample and the
held-out set are printed for information only: tuning on them would make their figures
meaningless.
"""

from __future__ import annotations

import itertools
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.app import build_knowledge
from bot.evaluation import _verdict, load_questions

SETS = {
    "dev": ROOT / "tests/data/dev_questions.yaml",
    "sample": ROOT.parent / "shared/eval/sample_questions.yaml",
    "holdout": ROOT / "tests/data/holdout_questions.yaml",
}
RANKING = ((0.65, 0.5, 3.0),)
DECISION = itertools.product(
    (0.6, 0.7, 0.8, 0.9),                 # answer_score
    (0.04, 0.08, 0.12, 0.2),              # answer_margin
    (0.5, 0.6, 0.7),                      # answer_floor
    (0.4, 0.5, 0.6),                      # answer_ratio
    (0.1, 0.2),                           # suggest_score
    (0.8, 0.9),                           # nb_confidence
    (0.3,),                               # nb_alpha
)


def ranked(index, questions):
    return [(q, index.rank(q.text)) for q in questions]


def rates(index, rows):
    counts = {"answered_correct": 0, "answered_wrong": 0, "suggested_correct": 0,
              "off_topic_answered": 0}
    in_domain = off = 0
    for q, ranking in rows:
        m = index.decide(ranking)
        v = _verdict(q, m.decision, [c.entry_id for c in m.candidates])
        counts[v] = counts.get(v, 0) + 1
        in_domain += q.acceptable is not None
        off += q.acceptable is None
    return {
        "correct": counts["answered_correct"] / in_domain,
        "either": (counts["answered_correct"] + counts["suggested_correct"]) / in_domain,
        "wrong": counts["answered_wrong"] / in_domain,
        "off": counts["off_topic_answered"] / max(off, 1),
    }


def show(r):
    return (f"correct {r['correct']:.1%}  answered-or-suggested {r['either']:.1%}  "
            f"wrong {r['wrong']:.1%}  off-topic answered {r['off']:.1%}")


def main() -> None:
    index = build_knowledge(ROOT / "config.example.yaml", {}).index
    base = index.settings
    sets = {name: load_questions(path) for name, path in SETS.items() if path.exists()}
    decisions = list(DECISION)
    best = None
    for dw, cp, uw in RANKING:
        index.settings = replace(base, doc_weight=dw, coverage_power=cp, unknown_weight=uw)
        rows = ranked(index, sets["dev"])
        for a, mg, fl, ra, sg, nc, na in decisions:
            if sg >= fl:
                continue
            index.settings = replace(index.settings, answer_score=a, answer_margin=mg,
                                     answer_floor=fl, answer_ratio=ra, suggest_score=sg,
                                     nb_confidence=nc, nb_alpha=na)
            r = rates(index, rows)
            # Off-topic is held well below the 5%: the dev set has only 70 off-topic
            # questions, and unseen near-misses slip through more often than tuned ones.
            if r["wrong"] > 0.03 or r["off"] > 0.015 or r["either"] < 0.95:
                continue
            if best is None or (r["correct"], r["either"]) > best[0]:
                best = ((r["correct"], r["either"]), index.settings)
    if best is None:
        print("no setting meets the bounds on the dev set")
        return
    index.settings = s = best[1]
    print(f"best on dev: doc_weight={s.doc_weight} coverage_power={s.coverage_power} "
          f"unknown_weight={s.unknown_weight} answer_score={s.answer_score} "
          f"answer_margin={s.answer_margin} answer_floor={s.answer_floor} "
          f"answer_ratio={s.answer_ratio} suggest_score={s.suggest_score} "
          f"nb_confidence={s.nb_confidence} nb_alpha={s.nb_alpha}")
    for name, questions in sets.items():
        print(f"  {name:8} {show(rates(index, ranked(index, questions)))}")


if __name__ == "__main__":
    main()

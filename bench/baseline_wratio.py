"""Baseline: plain rapidfuzz extractOne with WRatio over the canonical questions, measured like ours.

Run: .venv/bin/python bench/baseline_wratio.py
The threshold (answer when the best score reaches it, else "none") is chosen on the development
set to maximise direct correct answers with at most 3% wrong answers, then applied unchanged to
the sample and the held-out set. The baseline has no "suggest": extractOne returns one entry.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from rapidfuzz import fuzz, process, utils

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.app import build_knowledge
from bot.evaluation import evaluate, load_questions
from bot.faq import Decision

SETS = {
    "dev": ROOT / "tests/data/dev_questions.yaml",
    "sample": ROOT.parent / "shared/eval/sample_questions.yaml",
    "holdout": ROOT / "tests/data/holdout_questions.yaml",
}


def main() -> None:
    content = build_knowledge(ROOT / "config.example.yaml", {}).content
    choices = {e.id: e.question for e in content.entries}
    sets = {name: load_questions(path) for name, path in SETS.items() if path.exists()}

    def decider(threshold: float):
        def decide(text: str):
            hit = process.extractOne(text, choices, scorer=fuzz.WRatio, processor=utils.default_process)
            if hit is None or hit[1] < threshold:
                return Decision.NONE, []
            return Decision.ANSWER, [hit[2]]
        return decide

    best = None
    for threshold in range(30, 100, 2):
        figures, _ = evaluate(sets["dev"], decider(threshold))
        rates = figures.rates()
        if rates["answered_wrong"] <= 0.03 and (best is None or rates["answered_correct"] > best[1]):
            best = (threshold, rates["answered_correct"])
    # With no threshold meeting the 3% bound, show the most accurate one instead.
    if best is None:
        best = max(((t, evaluate(sets["dev"], decider(t))[0].rates()["answered_correct"])
                    for t in range(30, 100, 2)), key=lambda b: b[1])
    loose = max(((t, evaluate(sets["dev"], decider(t))[0].rates()["answered_correct"])
                 for t in range(30, 100, 2)), key=lambda b: b[1])
    for label, threshold in (("at most 3% wrong on dev", best[0]), ("most correct on dev", loose[0])):
        print(f"WRatio threshold {threshold} ({label}):")
        for name, questions in sets.items():
            figures, _ = evaluate(questions, decider(threshold))
            print(f"  {name:8} {json.dumps(figures.as_dict())}")


if __name__ == "__main__":
    main()

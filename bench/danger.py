"""The danger detector on the question sets: alarms on ordinary questions, and hits on the emergency set.

Usage: .venv/bin/python bench/danger.py
"""

from __future__ import annotations

import time
from pathlib import Path

import yaml

from bot.app import build_knowledge
from bot.danger import DangerDetector

ROOT = Path(__file__).resolve().parent.parent
# Questions about a person in trouble now: an alarm on them is right, not false.
VICTIM_ENTRIES = {"tppo-korban", "bahaya-dokumen-ditahan"}


def labels(question: dict[str, object]) -> set[str]:
    raw = question["id"]
    return set(raw) if isinstance(raw, list) else {str(raw)}


def main() -> None:
    knowledge = build_knowledge(ROOT / "config.example.yaml", {})
    detector = DangerDetector(knowledge.content.danger, knowledge.index.normalizer)
    for name in ("tests/data/dev_questions.yaml", "tests/data/holdout_questions.yaml",
                 "../shared/eval/sample_questions.yaml", "tests/data/issue12_questions.yaml"):
        path = ROOT / name
        if not path.exists():
            print(f"{name}: not found, skipped")
            continue
        questions = yaml.safe_load(path.read_text())
        alarms = [q for q in questions if detector.detect(q["q"])]
        false = [q for q in alarms if not labels(q) & VICTIM_ENTRIES]
        victims = [q for q in questions if labels(q) & VICTIM_ENTRIES]
        print(f"{name}: {len(questions)} questions, {len(alarms)} alarms, {len(false)} false alarms; "
              f"{sum(1 for q in victims if detector.detect(q['q']))} of {len(victims)} questions "
              f"labelled {'/'.join(sorted(VICTIM_ENTRIES))} recognised")
        for q in false:
            print(f"  false alarm: {q['q']!r} ({q['id']})")
    emergencies = yaml.safe_load((ROOT / "tests/data/emergency_messages.yaml").read_text())
    start = time.perf_counter()
    hits = [m for m in emergencies if detector.detect(m)]
    per = (time.perf_counter() - start) / len(emergencies) * 1000
    print(f"tests/data/emergency_messages.yaml: {len(hits)} of {len(emergencies)} recognised "
          f"({per:.3f} ms per message)")
    for m in emergencies:
        if m not in hits:
            print(f"  missed: {m!r}")


if __name__ == "__main__":
    main()

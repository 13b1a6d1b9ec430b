"""What the report reading takes from the question sets: fields read per set, and each message's reading.

The sets are questions and cries for help, not reports, so every field read here is one a report
started from such a message would skip asking. Run it before and after a change to the reading and
compare: `--list` prints every message with what was read, sorted, ready for `diff`.

Usage: .venv/bin/python bench/reading.py [--list]
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import yaml

from bot.app import build_knowledge
from bot.conversation.reading import find_phone, read, read_urgent
from bot.conversation.words import Words

ROOT = Path(__file__).resolve().parent.parent
SETS = ("tests/data/dev_questions.yaml", "tests/data/holdout_questions.yaml",
        "../shared/eval/sample_questions.yaml", "tests/data/issue12_questions.yaml",
        "tests/data/emergency_messages.yaml")


def main() -> None:
    listing = "--list" in sys.argv[1:]
    knowledge = build_knowledge(ROOT / "config.example.yaml", {})
    content = knowledge.content
    words = Words(content.words, knowledge.index.normalizer)
    lines: list[str] = []
    for name in SETS:
        path = ROOT / name
        if not path.exists():
            print(f"{name}: not found, skipped")
            continue
        raw = yaml.safe_load(path.read_text())
        texts = [q["q"] if isinstance(q, dict) else str(q) for q in raw]
        fields: Counter[str] = Counter()
        with_any = 0
        for text in texts:
            reading = read(text, content.reporting, words)
            fields.update(reading.answers.keys())
            with_any += bool(reading.answers)
            if reading.answers:
                shown = ", ".join(f"{k}={v}" for k, v in sorted(reading.answers.items()))
                lines.append(f"{name}: {text!r} -> {shown}")
        counts = ", ".join(f"{k} {n}" for k, n in sorted(fields.items())) or "nothing"
        print(f"{name}: {len(texts)} messages, {with_any} with something read; {counts}")
        # As an urgent report reads them: a number is the recruiter's only when a recruiter word ties it.
        phones = [t for t in texts if find_phone(t)]
        tied = [t for t in phones if read_urgent(t, content.reporting, words).phone]
        names = sum(1 for t in texts if "nama" in read_urgent(t, content.reporting, words).answers)
        print(f"  as an urgent report: {len(phones)} with a phone number, {len(tied)} taken as the recruiter's; "
              f"{names} with a recruiter's name")
        lines.extend(f"{name}: {t!r} -> urgent phone" for t in tied)
    if listing:
        print("\n".join(sorted(lines)))


if __name__ == "__main__":
    main()

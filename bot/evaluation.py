"""Measuring the matcher on a labelled question file: accuracy figures and decision time."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.errors import ContentError
from bot.faq import Decision


@dataclass(frozen=True)
class Question:
    text: str
    acceptable: frozenset[str] | None   # None: off-topic, the FAQ must not answer it


@dataclass(frozen=True)
class Outcome:
    question: Question
    decision: Decision
    ids: tuple[str, ...]
    verdict: str   # answered_correct, answered_wrong, suggested_correct, missed, off_topic_ok, off_topic_answered


@dataclass(frozen=True)
class Figures:
    in_domain: int
    answered_correct: int
    answered_wrong: int
    suggested_correct: int
    missed: int
    off_topic: int
    off_topic_answered: int
    p50_ms: float
    p99_ms: float
    # Changes when any decision does (which kind, which entries, in which order): the proof that a
    # change to the matcher's speed left its answers alone.
    decision_hash: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def rates(self) -> dict[str, float]:
        d = max(self.in_domain, 1)
        return {
            "answered_correct": self.answered_correct / d,
            "answered_or_suggested": (self.answered_correct + self.suggested_correct) / d,
            "answered_wrong": self.answered_wrong / d,
            "off_topic_answered": self.off_topic_answered / max(self.off_topic, 1),
        }


# A decider maps one message to (decision, entry ids best first).
Decider = Callable[[str], tuple[Decision, Sequence[str]]]


def load_questions(path: Path) -> list[Question]:
    """Read a question file; raise ContentError naming each bad item."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ContentError([f"{path}: cannot be read ({exc.__class__.__name__})"]) from None
    except yaml.YAMLError:
        raise ContentError([f"{path}: not valid YAML"]) from None
    if not isinstance(data, list):
        raise ContentError([f"{path}: must be a list of {{q: TEXT, id: ID}} items"])
    problems: list[str] = []
    questions: list[Question] = []
    for i, item in enumerate(data):
        if not isinstance(item, dict) or not isinstance(item.get("q"), str) or "id" not in item:
            problems.append(f"{path}: item {i}: must be {{q: TEXT, id: ID}}")
            continue
        raw = item["id"]
        if raw is None:
            questions.append(Question(item["q"], None))
        elif isinstance(raw, str):
            questions.append(Question(item["q"], frozenset({raw})))
        elif isinstance(raw, list) and raw and all(isinstance(x, str) for x in raw):
            questions.append(Question(item["q"], frozenset(raw)))
        else:
            problems.append(f"{path}: item {i}: id must be an entry id, a list of ids, or null")
    if problems:
        raise ContentError(problems)
    return questions


def evaluate(questions: Sequence[Question], decide: Decider) -> tuple[Figures, list[Outcome]]:
    times: list[float] = []
    outcomes: list[Outcome] = []
    for q in questions:
        start = time.perf_counter()
        decision, ids = decide(q.text)
        times.append((time.perf_counter() - start) * 1000)
        outcomes.append(Outcome(q, decision, tuple(ids), _verdict(q, decision, ids)))
    count = {v: sum(o.verdict == v for o in outcomes) for v in (
        "answered_correct", "answered_wrong", "suggested_correct", "missed", "off_topic_answered")}
    times.sort()
    figures = Figures(
        in_domain=sum(q.acceptable is not None for q in questions),
        answered_correct=count["answered_correct"],
        answered_wrong=count["answered_wrong"],
        suggested_correct=count["suggested_correct"],
        missed=count["missed"],
        off_topic=sum(q.acceptable is None for q in questions),
        off_topic_answered=count["off_topic_answered"],
        p50_ms=round(_percentile(times, 50), 4),
        p99_ms=round(_percentile(times, 99), 4),
        decision_hash=decision_hash((o.question.text, o.decision, o.ids) for o in outcomes),
    )
    return figures, outcomes


def decision_hash(rows: Iterable[tuple[str, Decision, Sequence[str]]]) -> str:
    """16 hex digits of SHA-256 over each (question, decision, entry ids best first), in order."""
    lines = (json.dumps([text, decision.value, list(ids)], ensure_ascii=False)
             for text, decision, ids in rows)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16]


def _verdict(q: Question, decision: Decision, ids: Sequence[str]) -> str:
    if q.acceptable is None:
        return "off_topic_answered" if decision is Decision.ANSWER else "off_topic_ok"
    if decision is Decision.ANSWER:
        return "answered_correct" if ids and ids[0] in q.acceptable else "answered_wrong"
    if decision is Decision.SUGGEST and q.acceptable & set(ids):
        return "suggested_correct"
    return "missed"


def _percentile(sorted_values: list[float], pct: float) -> float:
    if not sorted_values:
        return 0.0
    rank = max(0, min(len(sorted_values) - 1, round(pct / 100 * (len(sorted_values) - 1))))
    return sorted_values[rank]

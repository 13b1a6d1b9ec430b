"""Report intake rules (questions, answer options) and the red-flag risk score, read from content."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import phonenumbers

from bot.textnorm import fold

KINDS = ("text", "phone", "choice", "story")
LEVELS = ("rendah", "sedang", "tinggi")


@dataclass(frozen=True)
class Question:
    key: str
    label: str                             # short, for summaries and alerts
    ask: str
    kind: str
    options: tuple[tuple[str, str], ...]   # (value, label)
    check: bool                            # also asked when checking an offer

    def label_of(self, value: str) -> str:
        return dict(self.options).get(value, value)


@dataclass(frozen=True)
class Flag:
    key: str
    when: Mapping[str, frozenset[str]]
    weight: int
    label: str
    why: str
    entry: str


@dataclass(frozen=True)
class Rules:
    questions: tuple[Question, ...]
    flags: tuple[Flag, ...]
    sedang: int
    tinggi: int

    @property
    def check_questions(self) -> tuple[Question, ...]:
        return tuple(q for q in self.questions if q.check)

    def question(self, key: str) -> Question:
        return next(q for q in self.questions if q.key == key)


@dataclass(frozen=True)
class Assessment:
    level: str
    score: int
    flags: tuple[Flag, ...]


def assess(rules: Rules, answers: Mapping[str, str]) -> Assessment:
    """The risk level and the flags that fired; weights and levels come from content."""
    fired = []
    for flag in rules.flags:
        for key, values in flag.when.items():
            answer = answers.get(key)
            if answer is None:
                continue
            words = set(fold(answer).split())
            if answer in values or words & values:
                fired.append(flag)
                break
    total = sum(f.weight for f in fired)
    level = "tinggi" if total >= rules.tinggi else "sedang" if total >= rules.sedang else "rendah"
    return Assessment(level, total, tuple(fired))


def normalize_phone(text: str, region: str = "ID") -> str | None:
    """E.164 form of a phone number typed in any local or international format, or None."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def parse_rules(data: Any, where: str, problems: list[str], entry_ids: set[str]) -> Rules | None:
    """Validate the parsed reporting.yaml; append every problem with its path."""
    if not isinstance(data, dict):
        problems.append(f"{where}: must be a mapping with questions, flags and levels")
        return None
    start = len(problems)
    questions = []
    raw_questions = data.get("questions")
    if not isinstance(raw_questions, list) or not raw_questions:
        problems.append(f"{where}: questions: must be a non-empty list")
        raw_questions = []
    for i, raw in enumerate(raw_questions):
        path = f"{where}: questions[{i}]"
        if not isinstance(raw, dict):
            problems.append(f"{path}: must be a mapping")
            continue
        key, ask, kind, label = raw.get("key"), raw.get("ask"), raw.get("kind"), raw.get("label")
        if not all(isinstance(v, str) and v for v in (key, ask, label)) or kind not in KINDS:
            problems.append(f"{path}: needs key, label, ask and kind ({', '.join(KINDS)})")
            continue
        assert isinstance(key, str) and isinstance(ask, str) and isinstance(label, str)
        options = raw.get("options") or {}
        if kind == "choice" and (not isinstance(options, dict) or not options):
            problems.append(f"{path} ({key}): options: a choice needs options")
            continue
        questions.append(Question(key, label, ask.strip(), kind,
                                  tuple((str(k), str(v)) for k, v in options.items()),
                                  bool(raw.get("check"))))
    keys = {q.key for q in questions}
    flags = []
    raw_flags = data.get("flags") or {}
    if not isinstance(raw_flags, dict):
        problems.append(f"{where}: flags: must be a mapping")
        raw_flags = {}
    for name, raw in raw_flags.items():
        path = f"{where}: flags.{name}"
        if not isinstance(raw, dict) or not isinstance(raw.get("when"), dict):
            problems.append(f"{path}: needs when, weight, label, why and entry")
            continue
        when: dict[str, frozenset[str]] = {}
        for q, values in raw["when"].items():
            if q not in keys:
                problems.append(f"{path}: when: '{q}' is not a question key")
            vals = values if isinstance(values, list) else [values]
            when[str(q)] = frozenset(str(v) for v in vals)
        weight = raw.get("weight")
        if isinstance(weight, bool) or not isinstance(weight, int) or weight < 0:
            problems.append(f"{path}: weight: must be a whole number, 0 or more")
            weight = 0
        texts = [raw.get(f) for f in ("label", "why", "entry")]
        if not all(isinstance(t, str) and t.strip() for t in texts):
            problems.append(f"{path}: label, why and entry must be non-empty texts")
            continue
        if texts[2] not in entry_ids:
            problems.append(f"{path}: entry: '{texts[2]}' is not an FAQ entry id")
        flags.append(Flag(str(name), when, weight, str(texts[0]), str(texts[1]), str(texts[2])))
    levels = data.get("levels") or {}
    sedang, tinggi = levels.get("sedang"), levels.get("tinggi") if isinstance(levels, dict) else None
    if not (isinstance(sedang, int) and isinstance(tinggi, int) and 0 < sedang <= tinggi):
        problems.append(f"{where}: levels: sedang and tinggi must be whole numbers, sedang <= tinggi")
        sedang, tinggi = 1, 1
    if len(problems) > start:
        return None
    return Rules(tuple(questions), tuple(flags), sedang, tinggi)

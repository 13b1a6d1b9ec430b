"""Report intake rules (fields, questions, answer words) and the red-flag risk score, read from content."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import phonenumbers

from bot.textnorm import fold

KINDS = ("text", "phone", "choice", "story")
COMBINED_KINDS = ("who", "checklist", "story")
LEVELS = ("rendah", "sedang", "tinggi")
MODES = ("report", "check", "urgent")


@dataclass(frozen=True)
class Sign:
    value: str      # the option the sign stands for
    label: str      # the checklist line
    also: tuple[str, ...] = ()   # other options that tick it, worded as told ("no passport needed")

    def ticked_by(self, answer: object) -> bool:
        return answer == self.value or answer in self.also


@dataclass(frozen=True)
class Question:
    """One field of a report, and how it is asked."""

    key: str
    label: str                                    # short, for summaries and alerts
    ask: str
    kind: str
    options: tuple[tuple[str, str], ...]          # (value, label)
    words: Mapping[str, tuple[str, ...]] = field(default_factory=dict)   # value -> typed forms
    read: Mapping[str, tuple[str, ...]] = field(default_factory=dict)    # value -> story phrases
    sign: Sign | None = None

    def label_of(self, value: str) -> str:
        return dict(self.options).get(value, value)

    def phrases(self) -> dict[str, tuple[str, ...]]:
        """What a typed answer may say for each option: its label, its value and its words."""
        return {value: (label, value.replace("_", " "), *self.words.get(value, ()))
                for value, label in self.options}


@dataclass(frozen=True)
class Step:
    """A question as asked: one field, or a combined question filling several."""

    key: str
    kind: str
    ask: str
    fills: tuple[str, ...]


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
    steps: Mapping[str, tuple[Step, ...]]     # per mode: report, check
    flags: tuple[Flag, ...]
    sedang: int
    tinggi: int

    def question(self, key: str) -> Question:
        return next(q for q in self.questions if q.key == key)

    @property
    def signs(self) -> tuple[Question, ...]:
        """The red-flag fields of the checklist, in order."""
        return tuple(q for q in self.questions if q.sign is not None)


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


def _phrase_map(raw: Any, path: str, problems: list[str]) -> dict[str, tuple[str, ...]]:
    if raw is None:
        return {}
    if not isinstance(raw, dict) or not all(isinstance(v, list) for v in raw.values()):
        problems.append(f"{path}: must map each value to a list of phrases")
        return {}
    return {str(k): tuple(str(p) for p in v) for k, v in raw.items()}


def _question(raw: Any, path: str, problems: list[str]) -> Question | None:
    if not isinstance(raw, dict):
        problems.append(f"{path}: must be a mapping")
        return None
    key, kind, label = raw.get("key"), raw.get("kind"), raw.get("label")
    ask = raw.get("ask") or ""
    if not all(isinstance(v, str) and v for v in (key, label)) or kind not in KINDS or not isinstance(ask, str):
        problems.append(f"{path}: needs key, label and kind ({', '.join(KINDS)})")
        return None
    assert isinstance(key, str) and isinstance(label, str) and isinstance(kind, str)
    options = raw.get("options") or {}
    if kind == "choice" and (not isinstance(options, dict) or not options):
        problems.append(f"{path} ({key}): options: a choice needs options")
        return None
    values = {str(k) for k in options}
    words = _phrase_map(raw.get("words"), f"{path} ({key}).words", problems)
    read = _phrase_map(raw.get("read"), f"{path} ({key}).read", problems)
    for name, mapping in (("words", words), ("read", read)):
        if kind == "choice" and set(mapping) - values:
            problems.append(f"{path} ({key}).{name}: {', '.join(sorted(set(mapping) - values))} "
                            "is not an option")
    sign = None
    raw_sign = raw.get("sign")
    if raw_sign is not None:
        also = raw_sign.get("also", []) if isinstance(raw_sign, dict) else []
        if not isinstance(raw_sign, dict) or str(raw_sign.get("value")) not in values or \
                not isinstance(raw_sign.get("label"), str) or not isinstance(also, list) or \
                {str(a) for a in also} - values:
            problems.append(f"{path} ({key}).sign: needs value and also (options) and label")
        else:
            sign = Sign(str(raw_sign["value"]), raw_sign["label"].strip(), tuple(str(a) for a in also))
    return Question(key, label, ask.strip(), kind,
                    tuple((str(k), str(v)) for k, v in options.items()), words, read, sign)


def parse_rules(data: Any, where: str, problems: list[str], entry_ids: set[str]) -> Rules | None:
    """Validate the parsed reporting.yaml; append every problem with its path."""
    if not isinstance(data, dict):
        problems.append(f"{where}: must be a mapping with fields, steps, flags and levels")
        return None
    start = len(problems)
    raw_fields = data.get("fields")
    if not isinstance(raw_fields, list) or not raw_fields:
        problems.append(f"{where}: fields: must be a non-empty list")
        raw_fields = []
    questions = [q for i, raw in enumerate(raw_fields)
                 if (q := _question(raw, f"{where}: fields[{i}]", problems)) is not None]
    by_key = {q.key: q for q in questions}
    combined: dict[str, Step] = {}
    raw_combined = data.get("combined") or {}
    if not isinstance(raw_combined, dict):
        problems.append(f"{where}: combined: must be a mapping")
        raw_combined = {}
    for name, raw in raw_combined.items():
        path = f"{where}: combined.{name}"
        if not isinstance(raw, dict) or raw.get("kind") not in COMBINED_KINDS or \
                not isinstance(raw.get("ask"), str) or not isinstance(raw.get("fills"), list):
            problems.append(f"{path}: needs kind ({', '.join(COMBINED_KINDS)}), ask and fills")
            continue
        fills = tuple(str(f) for f in raw["fills"])
        for f in fills:
            if f not in by_key:
                problems.append(f"{path}.fills: '{f}' is not a field key")
        combined[str(name)] = Step(str(name), raw["kind"], raw["ask"].strip(), fills)
    steps: dict[str, tuple[Step, ...]] = {}
    raw_steps = data.get("steps")
    if not isinstance(raw_steps, dict):
        problems.append(f"{where}: steps: must map {' and '.join(MODES)} to lists of questions")
        raw_steps = {}
    for mode in MODES:
        names = raw_steps.get(mode)
        if not isinstance(names, list) or not names:
            problems.append(f"{where}: steps.{mode}: must be a non-empty list")
            continue
        out = []
        for name in map(str, names):
            if name in combined:
                out.append(combined[name])
            elif name in by_key and by_key[name].ask:
                q = by_key[name]
                out.append(Step(q.key, q.kind, q.ask, (q.key,)))
            else:
                problems.append(f"{where}: steps.{mode}: '{name}' is not a combined question "
                                "or a field with ask")
        steps[mode] = tuple(out)
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
            if q not in by_key:
                problems.append(f"{path}: when: '{q}' is not a field key")
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
    return Rules(tuple(questions), steps, tuple(flags), sedang, tinggi)

"""Recognising a person in danger now, from the signs in `content/danger.yaml`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.textnorm import Normalizer

_ASKING_LAST = frozenset({"boleh", "bolehkah", "bisa", "bisakah", "benarkah", "kah", "apakah", "tidak", "aman"})


@dataclass(frozen=True)
class Sign:
    key: str
    groups: tuple[tuple[str, ...], ...]   # each group: alternative phrases; every group must match
    help: tuple[str, ...]
    unless: tuple[str, ...] = ()          # words that make it a plan, not something happening now
    fear_told: bool = False               # "sy takut, ..." opening it is fear told, not a question


@dataclass(frozen=True)
class HelpLine:
    key: str
    text: str
    source: str


@dataclass(frozen=True)
class DangerRules:
    signs: tuple[Sign, ...]
    person: tuple[str, ...]
    hypothetical: tuple[str, ...]
    child: tuple[str, ...]
    places: tuple[tuple[str, tuple[str, ...]], ...]   # (help line key, names of places)
    lines: tuple[HelpLine, ...]
    fear: tuple[str, ...] = ()   # the hypothetical words that a `fear_told` sign does not count

    def line(self, key: str) -> HelpLine | None:
        return next((line for line in self.lines if line.key == key), None)


@dataclass(frozen=True)
class Alarm:
    signs: tuple[str, ...]
    help: tuple[HelpLine, ...]     # the lines to show, most fitting first, each once


class DangerDetector:
    """Reads one message for a person in danger; phrases are compared as the FAQ compares words."""

    def __init__(self, rules: DangerRules, normalizer: Normalizer) -> None:
        self.rules = rules
        self.normalizer = normalizer
        self._cache: dict[str, tuple[str, ...]] = {}

    def _phrase(self, text: str) -> tuple[str, ...]:
        if text not in self._cache:
            self._cache[text] = tuple(self.normalizer.standard_words(text))
        return self._cache[text]

    def _has(self, words: Sequence[str], stems: Sequence[str], phrases: Sequence[str]) -> bool:
        for phrase in phrases:
            parts = self._phrase(phrase)
            if len(parts) == 1:
                # "kurung" matches "dikurung"; "menghilang" is not widened to every "hilang".
                word = parts[0]
                if word in words or word in stems:
                    return True
            elif parts and any(tuple(words[i:i + len(parts)]) == parts for i in range(len(words))):
                return True
        return False

    def _words(self, text: str) -> list[str]:
        # "dibawa nang urang" is "dibawa orang": a bare "yang" sits inside phrases, never in one.
        return [w for w in self.normalizer.standard_words(text) if w != "yang"]

    def detect(self, text: str) -> Alarm | None:
        words = self._words(text)
        if not words:
            return None
        stems = [self.normalizer.stem(w) for w in words]
        rules = self.rules
        # "kalau paspor ditahan agen gimana" asks; "diancam dijual kalau tidak bayar" tells; so does
        # a message that ends by asking whether it is allowed ("... mau diajak kerja, boleh?").
        opening = words[:3]
        asks_leave = text.rstrip().endswith("?") and words[-1] in _ASKING_LAST
        asking = tuple(h for h in rules.hypothetical if h not in rules.fear)
        if asks_leave or self._has(opening, stems[:3], asking) or not self._has(words, stems, rules.person):
            return None
        # "takut kalau ..." asks; "sy takut, agennya ngancam" tells; "sy takut diancam" is a fear.
        feared = next((i + 1 for i in range(min(3, len(words)))
                       if self._has(words[i:i + 1], stems[i:i + 1], rules.fear)), None)
        fired = [s for s in rules.signs if all(self._has(words, stems, g) for g in s.groups)
                 and not self._has(words, stems, s.unless) and (feared is None or (
                     s.fear_told and not self._has(words[feared:feared + 1], stems[feared:feared + 1],
                                                   s.groups[0])))]
        if not fired:
            return None
        keys: list[str] = []
        for sign in fired:
            keys.extend(k for k in sign.help if k not in keys)
        if self._has(words, stems, rules.child) and "sapa" not in keys:
            keys.append("sapa")
        for line_key, names in rules.places:
            if self._has(words, stems, names) and line_key not in keys:
                keys.append(line_key)
        lines = tuple(line for line in (rules.line(k) for k in keys) if line is not None)
        return Alarm(tuple(s.key for s in fired), lines)

    def place_lines(self, text: str) -> tuple[HelpLine, ...]:
        """The help lines of the places abroad a message names ("sy di sibu": KJRI Kuching)."""
        words = self._words(text)
        stems = [self.normalizer.stem(w) for w in words]
        keys = [key for key, names in self.rules.places if self._has(words, stems, names)]
        return tuple(line for line in (self.rules.line(k) for k in keys) if line is not None)


def parse_danger(data: Any, where: str, problems: list[str]) -> DangerRules | None:
    """Validate the parsed danger.yaml; append every problem with its path."""
    if not isinstance(data, dict):
        problems.append(f"{where}: must be a mapping with signs, person and lines")
        return None
    start = len(problems)

    def words(value: Any, path: str) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
            problems.append(f"{path}: must be a list of words")
            return ()
        return tuple(str(v) for v in value)

    lines = []
    raw_lines = data.get("lines")
    if not isinstance(raw_lines, dict) or not raw_lines:
        problems.append(f"{where}: lines: must map a key to a text and its source")
        raw_lines = {}
    for key, raw in raw_lines.items():
        if not isinstance(raw, dict) or not all(isinstance(raw.get(f), str) and raw[f].strip()
                                                for f in ("text", "source")):
            problems.append(f"{where}: lines.{key}: needs text and source")
            continue
        lines.append(HelpLine(str(key), raw["text"].strip(), raw["source"].strip()))
    line_keys = {line.key for line in lines}
    signs = []
    raw_signs = data.get("signs")
    if not isinstance(raw_signs, dict) or not raw_signs:
        problems.append(f"{where}: signs: must map a sign to its word groups")
        raw_signs = {}
    for key, raw in raw_signs.items():
        path = f"{where}: signs.{key}"
        if not isinstance(raw, dict) or not isinstance(raw.get("all"), list) or not raw["all"]:
            problems.append(f"{path}: all: must be a list of word groups")
            continue
        groups = tuple(words(g, f"{path}.all[{i}]") for i, g in enumerate(raw["all"]))
        help_keys = words(raw.get("help"), f"{path}.help")
        for k in help_keys:
            if k not in line_keys:
                problems.append(f"{path}.help: '{k}' is not a key under lines")
        unless = words(raw.get("unless", []), f"{path}.unless")
        signs.append(Sign(str(key), groups, help_keys, unless, raw.get("fear_told") is True))
    places = []
    raw_places = data.get("places") or {}
    if not isinstance(raw_places, dict):
        problems.append(f"{where}: places: must map a line key to place names")
        raw_places = {}
    for key, names in raw_places.items():
        places.append((str(key), words(names, f"{where}: places.{key}")))
    rules = DangerRules(tuple(signs), words(data.get("person"), f"{where}: person"),
                        words(data.get("hypothetical", []), f"{where}: hypothetical"),
                        words(data.get("child", []), f"{where}: child"), tuple(places), tuple(lines),
                        words(data.get("fear", []), f"{where}: fear"))
    return rules if len(problems) == start else None

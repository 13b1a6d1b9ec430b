"""The content in `content/`: FAQ entries, the bot's messages and the lexicon, loaded and checked."""

from __future__ import annotations

import datetime as dt
import functools
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.danger import DangerRules, parse_danger
from bot.errors import ContentError
from bot.reporting import Rules, parse_rules
from bot.textnorm import Lexicon

MAX_ANSWER_CHARS = 900
MIN_PHRASINGS = 6
CATEGORIES = ("paspor", "kerja", "bahaya", "bantuan")
# Values an answer may ask for; they come from the config of the asker's village.
PLACEHOLDERS = frozenset({"desa_nama", "kantor_nama", "kantor_alamat", "kantor_telepon", "kantor_jam",
                          "petugas_nama"})
# The word lists the conversation reads (content/words.yaml).
REQUIRED_WORDS = frozenset({"ya", "tidak", "tidak_tahu", "skip", "done", "cancel", "menu", "back", "forget",
                            "thanks", "filler", "start_report", "start_check", "start_status",
                            "start_village", "start_topics", "start_ask", "person", "status_hint", "plea",
                            "ack", "afraid", "change_village", "wrong", "refuse"})
_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
_FORMATTER = string.Formatter()
# Numbers an answer may only state when its `facts` name them with their source: fees
# (Rp350.000, Rp500 juta, RM600, USD 1.000–2.000), phone numbers (0-800-1000, +62 21 2924 4800,
# (0567) 21231) and short codes named as a number to call or text (polisi 110, SMS 1708).
_FEE = re.compile(r"(?<![\w.])(?:Rp|RM|USD|US\$)\s?\d(?:[\d.,]*\d)?(?:\s?[–-]\s?\d(?:[\d.,]*\d)?)?"
                  r"(?:\s?(?:juta|ribu|miliar|rb)\b)?", re.IGNORECASE)
_PHONE = re.compile(r"(?<![\w.,])(?:\+|\(0|0)[\d ().-]*\d(?![\w])")
_SHORT_CODE = re.compile(r"\b(?:telepon|telp|tel|sms|polisi|hotline|call center|whatsapp|wa)"
                         r"[\s:.]*(\d{3,5})(?![\d-]|\.\d|\s\d)", re.IGNORECASE)
_URL = re.compile(r"https?://\S+")


@dataclass(frozen=True)
class Fact:
    """A number an answer states (a fee, a phone number, a duration) and the source that states it."""

    number: str
    source: str


@dataclass(frozen=True)
class FaqEntry:
    id: str
    category: str
    question: str
    phrasings: tuple[str, ...]
    keywords: tuple[str, ...]
    answer: str
    answer_no_village: str | None
    source: tuple[str, ...]
    reviewed: dt.date
    related: tuple[str, ...]
    file: str
    facts: tuple[Fact, ...] = ()
    abroad: str | None = None        # the entry answering the same for someone abroad ("sy di kuching")

    @functools.cached_property
    def placeholders(self) -> frozenset[str]:
        """Parsed once: every answer given asks for them."""
        return placeholders_in(self.answer)

    def render(self, values: Mapping[str, str] | None) -> str:
        """The answer in markup, filled with the asker's village values where it needs them.

        A line that needs a value the config does not know is left out whole.
        """
        if not self.placeholders:
            return self.answer
        if values is None:
            return self.answer_no_village or self.answer
        return fill_lines(self.answer, values)


@dataclass(frozen=True)
class Content:
    entries: tuple[FaqEntry, ...]
    messages: Mapping[str, str]
    lexicon: Lexicon
    reporting: Rules
    version: str
    words: Mapping[str, tuple[str, ...]]
    danger: DangerRules

    def entry(self, entry_id: str) -> FaqEntry:
        return self.by_id[entry_id]

    @functools.cached_property
    def by_id(self) -> dict[str, FaqEntry]:
        """Built once: the dialogue looks entries up on every message."""
        return {e.id: e for e in self.entries}

    def message(self, key: str, **values: str | None) -> str:
        """A bot message from messages.yaml, filled with `values`.

        A value given as None is unknown: the lines that need it are left out.
        """
        if not values:
            return self.messages[key]
        given = {k: v for k, v in values.items() if v is not None}
        if len(given) == len(values):
            return self.messages[key].format_map(given)
        return fill_lines(self.messages[key], given)


def fill_lines(text: str, values: Mapping[str, str]) -> str:
    """`text` filled with `values`, without the lines that need a value `values` lacks."""
    kept = [line.format_map(dict(values)) for line in text.split("\n")
            if placeholders_in(line) <= values.keys()]
    return "\n".join(kept)


def placeholders_in(text: str) -> frozenset[str]:
    try:
        return frozenset(name for _, name, _, _ in _FORMATTER.parse(text) if name)
    except ValueError:
        return frozenset({"<unbalanced braces>"})


def stated_numbers(text: str) -> list[str]:
    """The fees and phone numbers `text` states, as written (without markup)."""
    plain = text.replace("*", "")
    found = [m.group(0).strip() for m in _FEE.finditer(plain)]
    found += [m.group(0).strip() for m in _PHONE.finditer(plain)
              if sum(c.isdigit() for c in m.group(0)) >= 6]
    found += [m.group(1) for m in _SHORT_CODE.finditer(plain)]
    return found


def _squash(text: str) -> str:
    """A number or text compared without markup, spaces, case or the kind of dash."""
    return re.sub(r"[\s*]+", "", text).replace("–", "-").replace("—", "-").lower()


def _check_facts(facts: tuple[Fact, ...], texts: list[str], sources: tuple[str, ...],
                 where: str, problems: list[str]) -> None:
    """Every fee or phone number in `texts` is a fact; every fact is stated and sourced."""
    known = {_squash(f.number) for f in facts}
    for number in dict.fromkeys(n for t in texts for n in stated_numbers(t)):
        if _squash(number) not in known:
            problems.append(f"{where}: answer: '{number}' looks like a fee or phone number but is "
                            "not in facts (add it with the source that states it)")
    stated = " ".join(_squash(t) for t in texts)
    entry_urls = {u.rstrip(".,;)") for s in sources for u in _URL.findall(s)}
    for i, fact in enumerate(facts):
        if _squash(fact.number) not in stated:
            problems.append(f"{where}: facts[{i}]: '{fact.number}' is not stated in the answer")
        urls = {u.rstrip(".,;)") for u in _URL.findall(fact.source)}
        if not urls & entry_urls and fact.source not in sources:
            problems.append(f"{where}: facts[{i}]: source must be one of the entry's sources "
                            f"(a URL from its source list), got '{fact.source}'")


def _parse_facts(raw: Any, where: str, problems: list[str]) -> tuple[Fact, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        problems.append(f"{where}: facts: must be a list of {{number: ..., source: ...}}")
        return ()
    facts = []
    for i, item in enumerate(raw):
        number = item.get("number") if isinstance(item, dict) else None
        source = item.get("source") if isinstance(item, dict) else None
        if isinstance(number, int) and not isinstance(number, bool):
            number = str(number)
        if (not isinstance(number, str) or not number.strip() or not isinstance(source, str)
                or not source.strip() or set(item) - {"number", "source"}):
            problems.append(f"{where}: facts[{i}]: must be {{number: <as in the answer>, "
                            "source: <a URL from the entry's source list>}")
            continue
        facts.append(Fact(number.strip(), source.strip()))
    return tuple(facts)


def load_content(directory: Path, required_messages: frozenset[str] = frozenset()) -> Content:
    """Load and validate everything under `directory`; raise ContentError listing every problem."""
    problems: list[str] = []
    if not directory.is_dir():
        raise ContentError([f"{directory}: content folder not found"])
    entries: list[FaqEntry] = []
    faq_files = sorted((directory / "faq").glob("*.yaml"))
    if not faq_files:
        problems.append(f"{directory / 'faq'}: no FAQ files (*.yaml)")
    for path in faq_files:
        data = _read_yaml(path, problems)
        if data is None:
            continue
        if not isinstance(data, dict) or not isinstance(data.get("entries"), list):
            problems.append(f"{path}: must be a mapping with a list under 'entries'")
            continue
        for i, raw in enumerate(data["entries"]):
            entry = _parse_entry(raw, f"{path}: entries[{i}]", str(path), problems)
            if entry is not None:
                entries.append(entry)
    _check_ids(entries, problems)
    messages = _load_messages(directory / "messages.yaml", required_messages, problems)
    lexicon = _load_lexicon(directory / "lexicon.yaml", problems)
    rules_path = directory / "reporting.yaml"
    rules_data = _read_yaml(rules_path, problems)
    rules = None
    if rules_data is not None:
        rules = parse_rules(rules_data, str(rules_path), problems, {e.id for e in entries})
    elif not rules_path.exists():
        problems.append(f"{rules_path}: missing")
    words = _load_words(directory / "words.yaml", problems)
    danger_path = directory / "danger.yaml"
    danger_data = _read_yaml(danger_path, problems)
    danger = parse_danger(danger_data, str(danger_path), problems) if danger_data is not None else None
    if danger_data is None and not danger_path.exists():
        problems.append(f"{danger_path}: missing")
    if problems:
        raise ContentError(problems)
    assert lexicon is not None and rules is not None and danger is not None
    version = max((e.reviewed for e in entries), default=dt.date.min).isoformat()
    return Content(entries=tuple(entries), messages=messages, lexicon=lexicon, reporting=rules,
                   version=f"{len(entries)} entri, ditinjau s.d. {version}", words=words, danger=danger)


class _StrictLoader(yaml.SafeLoader):
    """Refuses a key written twice in one mapping, which plain YAML silently overwrites."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key '{key}' appears twice", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _read_yaml(path: Path, problems: list[str]) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(f"{path}: cannot be read ({exc.__class__.__name__})")
        return None
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        problems.append(f"{path}: not valid YAML{where}: {problem}")
        return None


def _parse_entry(raw: Any, where: str, file: str, problems: list[str]) -> FaqEntry | None:
    if not isinstance(raw, dict):
        problems.append(f"{where}: must be a mapping of fields")
        return None
    entry_id = raw.get("id")
    if isinstance(entry_id, str) and entry_id:
        where = f"{where} ({entry_id})"
    start = len(problems)

    def text(field: str, *, required: bool = True) -> str | None:
        value = raw.get(field)
        if value is None:
            if required:
                problems.append(f"{where}: {field}: missing")
            return None
        if not isinstance(value, str) or not value.strip():
            problems.append(f"{where}: {field}: must be non-empty text")
            return None
        return value.strip()

    def text_list(field: str, *, required: bool) -> tuple[str, ...]:
        value = raw.get(field)
        if value is None:
            if required:
                problems.append(f"{where}: {field}: missing")
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            problems.append(f"{where}: {field}: must be a list of non-empty texts")
            return ()
        return tuple(v.strip() for v in value)

    unknown = set(raw) - {"id", "category", "question", "phrasings", "keywords", "answer",
                          "answer_no_village", "source", "reviewed", "related", "facts", "abroad"}
    for field in sorted(unknown):
        problems.append(f"{where}: {field}: unknown field")
    eid = text("id")
    if eid is not None and not _ID.match(eid):
        problems.append(f"{where}: id: use lowercase letters, digits and '-' only")
    category = text("category")
    if category is not None and category not in CATEGORIES:
        problems.append(f"{where}: category: '{category}' is not one of {', '.join(CATEGORIES)}")
    question = text("question")
    phrasings = text_list("phrasings", required=True)
    if raw.get("phrasings") is not None and len(phrasings) < MIN_PHRASINGS:
        problems.append(f"{where}: phrasings: {len(phrasings)} given, at least {MIN_PHRASINGS} needed")
    keywords = text_list("keywords", required=False)
    answer = text("answer")
    no_village = text("answer_no_village", required=False)
    for field, value in (("answer", answer), ("answer_no_village", no_village)):
        if value is None:
            continue
        if len(value) > MAX_ANSWER_CHARS:
            problems.append(f"{where}: {field}: {len(value)} characters, at most "
                            f"{MAX_ANSWER_CHARS} (one WhatsApp message)")
        unknown_ph = placeholders_in(value) - PLACEHOLDERS
        if unknown_ph:
            problems.append(f"{where}: {field}: unknown placeholder(s) "
                            f"{', '.join(sorted(unknown_ph))}; allowed: {', '.join(sorted(PLACEHOLDERS))}")
    if answer is not None and placeholders_in(answer) and no_village is None:
        problems.append(f"{where}: answer_no_village: missing (the answer needs the asker's village)")
    if no_village is not None and placeholders_in(no_village):
        problems.append(f"{where}: answer_no_village: must not use placeholders")
    sources = text_list("source", required=True)
    if raw.get("source") is not None and not sources:
        problems.append(f"{where}: source: name at least one source for the facts in the answer")
    reviewed = raw.get("reviewed")
    if reviewed is None:
        problems.append(f"{where}: reviewed: missing (the date the answer was last checked)")
    elif isinstance(reviewed, str):
        try:
            reviewed = dt.date.fromisoformat(reviewed)
        except ValueError:
            problems.append(f"{where}: reviewed: '{reviewed}' is not a date like 2026-11-28")
    elif not isinstance(reviewed, dt.date):
        problems.append(f"{where}: reviewed: must be a date like 2026-11-28")
    related = text_list("related", required=False)
    abroad = text("abroad", required=False)
    facts = _parse_facts(raw.get("facts"), where, problems)
    if answer is not None:
        _check_facts(facts, [answer] + ([no_village] if no_village else []), sources, where, problems)
    if len(problems) > start:
        return None
    assert eid and category and question and answer and isinstance(reviewed, dt.date)
    return FaqEntry(id=eid, category=category, question=question, phrasings=phrasings,
                    keywords=keywords, answer=answer, answer_no_village=no_village,
                    source=sources, reviewed=reviewed, related=related, file=file, facts=facts, abroad=abroad)


def _check_ids(entries: list[FaqEntry], problems: list[str]) -> None:
    seen: dict[str, str] = {}
    for e in entries:
        if e.id in seen:
            problems.append(f"{e.file} ({e.id}): id: duplicate, also in {seen[e.id]}")
        seen.setdefault(e.id, e.file)
    for e in entries:
        for rel in e.related:
            if rel not in seen:
                problems.append(f"{e.file} ({e.id}): related: '{rel}' is not an entry id")
            elif rel == e.id:
                problems.append(f"{e.file} ({e.id}): related: an entry cannot relate to itself")
        if e.abroad is not None and (e.abroad not in seen or e.abroad == e.id):
            problems.append(f"{e.file} ({e.id}): abroad: '{e.abroad}' is not another entry's id")


def _load_messages(path: Path, required: frozenset[str], problems: list[str]) -> dict[str, str]:
    data = _read_yaml(path, problems)
    if data is None:
        if path.exists():
            return {}
        problems.append(f"{path}: missing")
        return {}
    if not isinstance(data, dict):
        problems.append(f"{path}: must be a mapping of message keys to texts")
        return {}
    messages: dict[str, str] = {}
    for key, value in data.items():
        if not isinstance(value, str) or not value.strip():
            problems.append(f"{path}: {key}: must be non-empty text")
            continue
        if placeholders_in(value) == frozenset({"<unbalanced braces>"}):
            problems.append(f"{path}: {key}: unbalanced {{ or }}")
            continue
        messages[str(key)] = value.strip()
    for key in sorted(required - set(messages)):
        problems.append(f"{path}: {key}: missing (the bot needs this message)")
    return messages


def _load_words(path: Path, problems: list[str]) -> dict[str, tuple[str, ...]]:
    data = _read_yaml(path, problems)
    if data is None:
        if not path.exists():
            problems.append(f"{path}: missing")
        return {}
    if not isinstance(data, dict):
        problems.append(f"{path}: must map a meaning to a list of typed words")
        return {}
    words: dict[str, tuple[str, ...]] = {}
    for key, value in data.items():
        if not isinstance(value, list) or not all(isinstance(v, str | int) and str(v).strip() for v in value):
            problems.append(f"{path}: {key}: must be a list of words")
            continue
        words[str(key)] = tuple(str(v).strip() for v in value)
    for key in sorted(REQUIRED_WORDS - set(words)):
        problems.append(f"{path}: {key}: missing (the bot needs this list)")
    return words


def _load_lexicon(path: Path, problems: list[str]) -> Lexicon | None:
    data = _read_yaml(path, problems)
    if data is None:
        if not path.exists():
            problems.append(f"{path}: missing")
        return None
    if not isinstance(data, dict):
        problems.append(f"{path}: must be a mapping")
        return None
    ok = True
    for field in ("replacements", "phrases"):
        value = data.get(field) or {}
        if not isinstance(value, dict) or not all(
            isinstance(v, list | str) or v is None for v in value.values()
        ):
            problems.append(f"{path}: {field}: must map a word to a list of typed forms")
            ok = False
    for field in ("stopwords", "chitchat"):
        value = data.get(field) or []
        if not isinstance(value, list):
            problems.append(f"{path}: {field}: must be a list of words")
            ok = False
    return Lexicon.from_mapping(data) if ok else None


@dataclass(frozen=True)
class ConsoleText:
    """The words of the office console (content/console.yaml): page labels and the closing outcomes."""

    labels: Mapping[str, str]
    outcomes: tuple[str, ...]

    def __call__(self, key: str, **values: str) -> str:
        return self.labels[key].format_map(values) if values else self.labels[key]


def load_console(directory: Path) -> ConsoleText:
    """content/console.yaml, checked: raises ContentError naming the file and the key."""
    problems: list[str] = []
    path = directory / "console.yaml"
    data = _read_yaml(path, problems)
    if data is None and not problems:
        problems.append(f"{path}: missing")
    labels: dict[str, str] = {}
    outcomes: list[str] = []
    if isinstance(data, dict):
        raw_labels = data.get("labels")
        if not isinstance(raw_labels, dict):
            problems.append(f"{path}: labels: must be a mapping of keys to texts")
        else:
            for key, value in raw_labels.items():
                if not isinstance(value, str) or not value.strip():
                    problems.append(f"{path}: labels.{key}: must be non-empty text")
                else:
                    labels[str(key)] = value.strip()
        raw_outcomes = data.get("outcomes")
        if not isinstance(raw_outcomes, list) or not raw_outcomes:
            problems.append(f"{path}: outcomes: must be a list of texts")
        else:
            for i, value in enumerate(raw_outcomes):
                if not isinstance(value, str) or not value.strip():
                    problems.append(f"{path}: outcomes[{i}]: must be non-empty text")
                else:
                    outcomes.append(value.strip())
    elif data is not None:
        problems.append(f"{path}: must be a mapping with 'labels' and 'outcomes'")
    if problems:
        raise ContentError(problems)
    return ConsoleText(labels, tuple(outcomes))

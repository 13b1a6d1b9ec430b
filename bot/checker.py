"""The content checks that need the whole bot: config values in answers, and phrasing collisions.

Problems make `check-content` fail. Warnings do not, except under `--strict`, where a config
value a villager would need that is still a `GANTI:` placeholder is a problem too: `run` uses
that, so a live bot cannot start with them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from bot.config import Settings, known
from bot.content import MAX_ANSWER_CHARS, PLACEHOLDERS, Content, placeholders_in
from bot.faq import FaqIndex
from bot.routing import alert_gaps
from bot.villages import place_of, village_values

REVIEW_MAX_AGE = dt.timedelta(days=365)


@dataclass(frozen=True)
class CheckReport:
    problems: tuple[str, ...]
    phrasings_checked: int
    warnings: tuple[str, ...] = ()


def check(content: Content, settings: Settings, index: FaqIndex, *, strict: bool = False,
          today: dt.date | None = None) -> CheckReport:
    problems: list[str] = []
    warnings = alert_gaps(settings) + review_warnings(content, today or dt.date.today())
    unknown = unknown_config_values(content, settings)
    (problems if strict else warnings).extend(unknown)
    for entry in content.entries:
        if not entry.placeholders:
            continue
        for village in settings.villages:
            text = entry.render(village_values(settings, place_of(village)))
            if len(text) > MAX_ANSWER_CHARS:
                problems.append(f"{entry.file} ({entry.id}): answer: {len(text)} characters once "
                                f"filled for village {village.id}, at most {MAX_ANSWER_CHARS}")
    checked = 0
    for doc, tokens in enumerate(index.doc_tokens):
        entry = index.entries[int(index.doc_entry[doc])]
        first_doc = int(index.entry_starts[int(index.doc_entry[doc])])
        position = doc - first_doc  # 0 is the canonical question, then the phrasings
        text = entry.question if position == 0 else entry.phrasings[position - 1]
        label = "question" if position == 0 else f"phrasings[{position - 1}]"
        checked += 1
        if not tokens:
            problems.append(f"{entry.file} ({entry.id}): {label}: '{text}' has no meaningful word "
                            "left after normalisation")
            continue
        match = index.match(text, skip_doc=doc)
        if match.best is not None and match.best != entry.id:
            problems.append(f"{entry.file} ({entry.id}): {label}: '{text}' matches "
                            f"{match.best} better than its own entry")
    return CheckReport(tuple(problems), checked, tuple(warnings))


def review_warnings(content: Content, today: dt.date) -> list[str]:
    """Entries without a source, or last reviewed more than 12 months before `today`."""
    warnings = []
    for entry in content.entries:
        if not entry.source:
            warnings.append(f"{entry.file} ({entry.id}): source: empty; name the source of every "
                            "fact in the answer")
        if today - entry.reviewed > REVIEW_MAX_AGE:
            warnings.append(f"{entry.file} ({entry.id}): reviewed: {entry.reviewed.isoformat()} is "
                            "more than 12 months ago; check the answer against its sources again")
    return warnings


def unknown_config_values(content: Content, settings: Settings) -> list[str]:
    """Every config value an answer or a message would show a villager that is still unknown.

    One line per config key and user (an FAQ entry or a message), naming the villages affected.
    Such a line is left out of what the villager sees; a live bot must not need to.
    """
    users = [(f"{e.file} ({e.id})", e.placeholders) for e in content.entries]
    users += [(f"messages.yaml ({key})", placeholders_in(text))
              for key, text in sorted(content.messages.items())]
    findings: dict[tuple[str, str, str], list[str]] = {}
    for user, names in users:
        for name in sorted(names & PLACEHOLDERS):
            for key_path, village_ids in _unknown_sources(settings, name):
                findings.setdefault((key_path, user, name), []).extend(village_ids)
    return [f"config {key_path}: still unknown (empty or GANTI), needed by {user} {{{name}}} "
            f"for village(s) {', '.join(villages)}"
            for (key_path, user, name), villages in sorted(findings.items())]


def _unknown_sources(settings: Settings, placeholder: str) -> Iterable[tuple[str, list[str]]]:
    """(config key path, village ids) for each unknown value behind `placeholder`."""
    office_paths = {o.id: f"offices[{i}]" for i, o in enumerate(settings.offices)}
    if settings.regional_office is not None:
        office_paths[settings.regional_office.id] = "regional_office"
    by_path: dict[str, list[str]] = {}
    for i, village in enumerate(settings.villages):
        office = settings.office(village.office_id)
        value, path = {
            "desa_nama": (village.name, f"villages[{i}].name"),
            "petugas_nama": (", ".join(n for n in village.officer_names if known(n)),
                             f"villages[{i}].officers"),
            "kantor_nama": (office.name, f"{office_paths[office.id]}.name"),
            "kantor_alamat": (office.address, f"{office_paths[office.id]}.address"),
            "kantor_telepon": (office.phone, f"{office_paths[office.id]}.phone"),
            "kantor_jam": (office.hours, f"{office_paths[office.id]}.hours"),
        }[placeholder]
        if not known(value):
            by_path.setdefault(path, []).append(village.id)
    return sorted(by_path.items())

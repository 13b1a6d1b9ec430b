"""The content checks that need the whole bot: config values in answers, and phrasing collisions."""

from __future__ import annotations

from dataclasses import dataclass

from bot.config import Settings
from bot.content import MAX_ANSWER_CHARS, Content
from bot.faq import FaqIndex
from bot.villages import place_of, village_values


@dataclass(frozen=True)
class CheckReport:
    problems: tuple[str, ...]
    phrasings_checked: int


def check(content: Content, settings: Settings, index: FaqIndex) -> CheckReport:
    problems: list[str] = []
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
    return CheckReport(tuple(problems), checked)

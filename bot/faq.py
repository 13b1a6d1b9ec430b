"""The FAQ index: for one message, answer with one entry, suggest a few, or say it is not in the FAQ.

Scoring is lexical and built once: every phrasing of every entry becomes a set of word stems
weighted by how rare the stem is across entries (IDF). A query scores against each phrasing by
how much of the query it explains and how much of the phrasing the query covers, and against
each entry's whole vocabulary. Unknown query words are first corrected to the closest content
word with rapidfuzz, so typos like "pasport" or "kerje" still count; words that stay unknown
count against the match, which is what keeps "harga cabai di pasar" out of the FAQ.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from numpy.typing import NDArray
from rapidfuzz import fuzz, process

from bot.content import FaqEntry
from bot.textnorm import Normalized, Normalizer


class Decision(StrEnum):
    ANSWER = "answer"
    SUGGEST = "suggest"
    NONE = "none"


@dataclass(frozen=True)
class MatchSettings:
    """Thresholds of the decision; defaults tuned on tests/data/dev_questions.yaml."""

    answer_score: float = 0.50
    answer_margin: float = 0.10
    suggest_score: float = 0.30
    suggest_window: float = 0.20
    max_suggestions: int = 3
    fuzzy_cutoff: float = 80.0
    doc_weight: float = 0.65
    coverage_power: float = 0.5


@dataclass(frozen=True)
class Scored:
    entry_id: str
    score: float


@dataclass(frozen=True)
class Match:
    decision: Decision
    candidates: tuple[Scored, ...]
    reason: str
    normalized: Normalized

    @property
    def best(self) -> str | None:
        return self.candidates[0].entry_id if self.candidates else None


class FaqIndex:
    """Built once from the entries; a match touches no disk and allocates little."""

    def __init__(self, entries: Sequence[FaqEntry], normalizer: Normalizer,
                 settings: MatchSettings | None = None) -> None:
        self.settings = settings or MatchSettings()
        self.entries = tuple(entries)
        content_words = {
            w for e in entries for text in (e.question, *e.phrasings, *e.keywords)
            for w in normalizer.standard_words(text)
        }
        self.normalizer = normalizer.with_roots(content_words)
        self.ids = [e.id for e in self.entries]

        doc_tokens: list[frozenset[str]] = []
        doc_entry: list[int] = []
        bag_counts: list[Counter[str]] = []
        for ei, entry in enumerate(self.entries):
            counts: Counter[str] = Counter()
            for text in (entry.question, *entry.phrasings):
                tokens = frozenset(self.normalizer.normalize(text).tokens)
                doc_tokens.append(tokens)
                doc_entry.append(ei)
                counts.update(tokens)
            for kw in entry.keywords:
                counts.update(set(self.normalizer.normalize(kw).tokens) - set(counts))
            bag_counts.append(counts)
        self.doc_tokens = doc_tokens
        self.bag_counts = bag_counts
        self.doc_entry = np.array(doc_entry, dtype=np.intp)
        self.entry_starts = np.searchsorted(self.doc_entry, np.arange(len(self.entries)))

        n = max(len(self.entries), 1)
        df: Counter[str] = Counter()
        for counts in bag_counts:
            df.update(counts.keys())
        self.idf = {t: math.log(1.0 + n / c) for t, c in df.items()}
        self.unknown_weight = math.log(1.0 + n / 0.5)
        self.vocab = sorted(self.idf)
        doc_post: dict[str, list[int]] = {}
        for di, tokens in enumerate(doc_tokens):
            for t in tokens:
                doc_post.setdefault(t, []).append(di)
        bag_post: dict[str, list[int]] = {}
        for ei, counts in enumerate(bag_counts):
            for t in counts:
                bag_post.setdefault(t, []).append(ei)
        self.doc_post = {t: np.array(v, dtype=np.intp) for t, v in doc_post.items()}
        self.bag_post = {t: np.array(v, dtype=np.intp) for t, v in bag_post.items()}
        self.doc_weight = np.array(
            [sum(self.idf[t] for t in tokens) or 1.0 for tokens in doc_tokens], dtype=np.float64
        )

    def _known(self, token: str) -> str | None:
        if token in self.idf:
            return token
        if len(token) < 4 or token.isdigit():
            return None
        hit = process.extractOne(token, self.vocab, scorer=fuzz.ratio,
                                 score_cutoff=self.settings.fuzzy_cutoff)
        return str(hit[0]) if hit else None

    def match(self, text: str, *, skip_doc: int | None = None) -> Match:
        """Decide for one message; `skip_doc` leaves one phrasing out (for the content checker)."""
        norm = self.normalizer.normalize(text[:2000])
        if not norm.tokens:
            return Match(Decision.NONE, (), "chitchat" if norm.chitchat else "no-words", norm)
        query: dict[str, float] = {}
        unknown = 0.0
        for token in norm.tokens:
            known = self._known(token)
            if known is None:
                unknown += self.unknown_weight
            else:
                query[known] = self.idf[known]
        total = sum(query.values()) + unknown
        if not query:
            return Match(Decision.NONE, (), "unknown-words", norm)

        acc_doc = np.zeros(len(self.doc_tokens))
        acc_bag = np.zeros(len(self.entries))
        for token, weight in query.items():
            if token in self.doc_post:
                acc_doc[self.doc_post[token]] += weight
            acc_bag[self.bag_post[token]] += weight
        if skip_doc is not None:
            acc_doc[skip_doc] = 0.0
            owner = int(self.doc_entry[skip_doc])
            for token in self.doc_tokens[skip_doc] & query.keys():
                if self.bag_counts[owner][token] == 1:
                    acc_bag[owner] -= query[token]
        s = self.settings
        doc_scores = (acc_doc / total) * np.power(acc_doc / self.doc_weight, s.coverage_power)
        best_doc = np.maximum.reduceat(doc_scores, self.entry_starts)
        scores: NDArray[np.float64] = s.doc_weight * best_doc + (1 - s.doc_weight) * acc_bag / total
        return self._decide(scores, norm)

    def _decide(self, scores: NDArray[np.float64], norm: Normalized) -> Match:
        s = self.settings
        order = np.argsort(-scores)[: max(s.max_suggestions, 2)]
        ranked = tuple(Scored(self.ids[i], round(float(scores[i]), 3)) for i in order
                       if scores[i] > 0)
        if not ranked or ranked[0].score < s.suggest_score:
            return Match(Decision.NONE, ranked, "low-score", norm)
        top = ranked[0].score
        second = ranked[1].score if len(ranked) > 1 else 0.0
        # One meaningful word ("paspor", "agen") is never enough to answer on its own.
        if top >= s.answer_score and top - second >= s.answer_margin and len(norm.tokens) > 1:
            return Match(Decision.ANSWER, ranked[:1], "confident", norm)
        window = tuple(c for c in ranked if c.score >= max(s.suggest_score, top - s.suggest_window))
        return Match(Decision.SUGGEST, window[: s.max_suggestions], "close-call", norm)

"""The FAQ index: for one message, answer with one entry, suggest a few, or say it is not in the FAQ.

Scoring is lexical and built once: every phrasing of every entry becomes a set of word stems
weighted by how rare the stem is across entries (IDF). A query scores against each phrasing by
how much of the query it explains and how much of the phrasing the query covers, and against
each entry's whole vocabulary. Unknown query words are first corrected to the closest content
word with rapidfuzz, so typos like "pasport" or "kerje" still count; words that stay unknown
count against the match, which is what keeps "harga cabai di pasar" out of the FAQ.
"""

from __future__ import annotations

import functools
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

MAX_TEXT = 2000   # characters of a message the matcher reads


class Decision(StrEnum):
    ANSWER = "answer"
    SUGGEST = "suggest"
    NONE = "none"


@dataclass(frozen=True)
class MatchSettings:
    """Thresholds of the decision; defaults tuned on tests/data/dev_questions.yaml."""

    answer_score: float = 0.70
    answer_margin: float = 0.12
    # A lower score still answers when the runner-up is far behind (long, chatty messages).
    answer_floor: float = 0.70
    answer_ratio: float = 0.40
    suggest_score: float = 0.10
    suggest_window: float = 0.20
    # Suggestions below this score are a guess: the bot says the question may not be in the FAQ.
    weak_score: float = 0.30
    max_suggestions: int = 3
    fuzzy_cutoff: float = 80.0
    doc_weight: float = 0.65
    coverage_power: float = 0.5
    unknown_weight: float = 3.0
    # A message this close (rapidfuzz token_sort_ratio) to a phrasing of the top entry answers.
    echo_score: float = 80.0
    # A naive-Bayes posterior over entries (from phrasing word counts) that agrees with the top
    # entry at this probability also answers; nb_alpha is its additive smoothing.
    nb_confidence: float = 0.9
    nb_alpha: float = 0.3
    nb_weight: float = 0.3
    answer_weight: float = 0.5
    # Decisions kept for the most recent distinct messages: a message forwarded round a village
    # group arrives word for word from hundreds of people. 0 turns it off.
    cache_size: int = 1024


@dataclass(frozen=True)
class Scored:
    entry_id: str
    score: float


@dataclass(frozen=True)
class Ranking:
    """Every entry's score for one message, before the decision."""

    normalized: Normalized
    scores: NDArray[np.float64] | None   # None when no word of the message is known
    reason: str
    known: tuple[str, ...]               # the message's words as the index knows them
    posterior: NDArray[np.float64] | None = None   # the naive-Bayes posterior, when computed


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
        # Per index, so re-read content never answers from the old one's decisions. Safe to share:
        # a Match is immutable and depends on nothing but the text and this index.
        self._cached = functools.lru_cache(maxsize=self.settings.cache_size)(self._match_text) \
            if self.settings.cache_size else None
        content_words = {
            w for e in entries for text in (e.question, *e.phrasings, *e.keywords)
            for w in normalizer.standard_words(text)
        }
        self.normalizer = normalizer.with_roots(content_words)
        self.ids = [e.id for e in self.entries]
        self._position = {e.id: i for i, e in enumerate(self.entries)}

        doc_tokens: list[frozenset[str]] = []
        self.doc_texts: list[str] = []
        doc_entry: list[int] = []
        bag_counts: list[Counter[str]] = []
        answer_bags: list[frozenset[str]] = []
        for ei, entry in enumerate(self.entries):
            counts: Counter[str] = Counter()
            for text in (entry.question, *entry.phrasings):
                stems = self.normalizer.normalize(text).tokens
                tokens = frozenset(stems)
                doc_tokens.append(tokens)
                self.doc_texts.append(" ".join(stems))
                doc_entry.append(ei)
                counts.update(tokens)
            for kw in entry.keywords:
                counts.update(set(self.normalizer.normalize(kw).tokens) - set(counts))
            bag_counts.append(counts)
            answer_bags.append(frozenset(self.normalizer.normalize(
                entry.answer_no_village or entry.answer).tokens) - set(counts))
        self.doc_tokens = doc_tokens
        self.bag_counts = bag_counts
        self.doc_entry = np.array(doc_entry, dtype=np.intp)
        self.entry_starts = np.searchsorted(self.doc_entry, np.arange(len(self.entries)))

        n = max(len(self.entries), 1)
        df: Counter[str] = Counter()
        for counts, answer_words in zip(bag_counts, answer_bags, strict=True):
            df.update(set(counts) | answer_words)
        self.idf = {t: math.log(1.0 + n / c) for t, c in df.items()}
        # In how many entries' phrasings and keywords a word stands (answers left out).
        self.phrase_df = Counter(t for counts in bag_counts for t in counts)
        self.vocab = sorted(self.idf)
        doc_post: dict[str, list[int]] = {}
        for di, tokens in enumerate(doc_tokens):
            for t in tokens:
                doc_post.setdefault(t, []).append(di)
        # The answer's own words back an entry too, but less than what askers type.
        bag_post: dict[str, list[tuple[int, float]]] = {}
        for ei, counts in enumerate(bag_counts):
            for t in counts:
                bag_post.setdefault(t, []).append((ei, 1.0))
        for ei, words in enumerate(answer_bags):
            for t in words:
                if t in df:
                    bag_post.setdefault(t, []).append((ei, self.settings.answer_weight))
        self.doc_post = {t: np.array(v, dtype=np.intp) for t, v in doc_post.items()}
        self.bag_post = {
            t: (np.array([e for e, _ in v], dtype=np.intp), np.array([w for _, w in v]))
            for t, v in bag_post.items()
        }
        nb_post: dict[str, list[tuple[int, int]]] = {}
        for ei, counts in enumerate(bag_counts):
            for t, c in counts.items():
                nb_post.setdefault(t, []).append((ei, c))
        self.nb_post = {t: (np.array([e for e, _ in v], dtype=np.intp),
                            np.array([c for _, c in v], dtype=np.float64)) for t, v in nb_post.items()}
        self.nb_totals = np.array([sum(c.values()) for c in bag_counts], dtype=np.float64)
        # What posterior() adds per word and subtracts per message, computed once for all messages.
        self._nb_gain = {t: self._word_gain(counts) for t, (_, counts) in self.nb_post.items()}
        self._nb_norm = self._normaliser(self.nb_totals)
        self.doc_weight = np.array(
            [sum(self.idf[t] for t in tokens) or 1.0 for tokens in doc_tokens], dtype=np.float64
        )

    def _known(self, token: str) -> str | None:
        if token in self.idf:
            return token
        # A real word the content lacks ("hujan", "cabai") is not a typo of one it has
        # ("hutan", "capai"); only unknown spellings are corrected.
        if len(token) < 4 or token.isdigit() or self.normalizer.is_word(token):
            return None
        cutoff = self.settings.fuzzy_cutoff + (8 if len(token) <= 5 else 0)
        hit = process.extractOne(token, self.vocab, scorer=fuzz.ratio, score_cutoff=cutoff)
        return str(hit[0]) if hit else None

    def match(self, text: str, *, skip_doc: int | None = None) -> Match:
        """Decide for one message; `skip_doc` leaves one phrasing out (for the content checker)."""
        if skip_doc is None and self._cached is not None:
            return self._cached(text[:MAX_TEXT])
        return self.decide(self.rank(text, skip_doc=skip_doc))

    def _match_text(self, text: str) -> Match:
        return self.decide(self.rank(text))

    def rank(self, text: str, *, skip_doc: int | None = None) -> Ranking:
        """Every entry's score for `text`, and why there is none."""
        norm = self.normalizer.normalize(text[:MAX_TEXT])
        if not norm.tokens:
            return Ranking(norm, None, "chitchat" if norm.chitchat else "no-words", ())
        query: dict[str, float] = {}
        unknown = 0.0
        for token in norm.tokens:
            known = self._known(token)
            if known is None:
                unknown += self.settings.unknown_weight
            else:
                query[known] = self.idf[known]
        total = sum(query.values()) + unknown
        if not query:
            return Ranking(norm, None, "unknown-words", ())

        acc_doc = np.zeros(len(self.doc_tokens))
        acc_bag = np.zeros(len(self.entries))
        for token, weight in query.items():
            if token in self.doc_post:
                acc_doc[self.doc_post[token]] += weight
            entries, strength = self.bag_post[token]
            acc_bag[entries] += weight * strength
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
        # The posterior ranks better than either score alone (dev top-1 89% -> 92%).
        posterior = self.posterior(tuple(query), skip_doc) if s.nb_weight else None
        if posterior is not None:
            scores = scores + s.nb_weight * posterior
        return Ranking(norm, scores, "ranked", tuple(query), posterior if skip_doc is None else None)

    def posterior(self, known: tuple[str, ...], skip_doc: int | None = None) -> NDArray[np.float64]:
        """P(entry | words) under multinomial naive Bayes over the phrasings' word counts.

        `skip_doc` takes one phrasing's words out of the counts (the content checker's
        leave-one-out), so a phrasing cannot vouch for itself.
        """
        alpha = self.settings.nb_alpha
        logp = np.full(len(self.entries), len(known) * math.log(alpha))
        totals = self.nb_totals
        skipped: frozenset[str] = frozenset()
        owner = -1
        if skip_doc is not None:
            owner = int(self.doc_entry[skip_doc])
            skipped = self.doc_tokens[skip_doc]
            totals = totals.copy()
            totals[owner] -= len(skipped)
        for token in known:
            if token in self.nb_post:
                entries, counts = self.nb_post[token]
                if token in skipped:
                    logp[entries] += self._word_gain(counts - (entries == owner))
                else:
                    logp[entries] += self._nb_gain[token]
        logp -= len(known) * (self._nb_norm if skip_doc is None else self._normaliser(totals))
        logp -= logp.max()
        p: NDArray[np.float64] = np.exp(logp)
        p /= p.sum()
        return p

    def _word_gain(self, counts: NDArray[np.float64]) -> NDArray[np.float64]:
        """What one word adds to each entry's log-probability, from its counts there (smoothed)."""
        alpha = self.settings.nb_alpha
        return np.log(counts + alpha) - math.log(alpha)

    def _normaliser(self, totals: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.log(totals + self.settings.nb_alpha * max(len(self.vocab), 1))

    def _echoes(self, norm: Normalized, ranked: tuple[Scored, ...]) -> bool:
        """The message nearly repeats a phrasing of the top entry, and none of the runner-up."""
        query = " ".join(norm.tokens)
        best = [self._closest_phrasing(query, c.entry_id) for c in ranked[:2]]
        return best[0] >= self.settings.echo_score and (len(best) < 2 or best[0] > best[1])

    def _closest_phrasing(self, query: str, entry_id: str) -> float:
        entry = self._position[entry_id]
        start = int(self.entry_starts[entry])
        end = int(self.entry_starts[entry + 1]) if entry + 1 < len(self.ids) else len(self.doc_texts)
        hit = process.extractOne(query, self.doc_texts[start:end], scorer=fuzz.token_sort_ratio)
        return float(hit[1]) if hit else 0.0

    def decide(self, ranking: Ranking) -> Match:
        norm, scores = ranking.normalized, ranking.scores
        if scores is None:
            return Match(Decision.NONE, (), ranking.reason, norm)
        s = self.settings
        order = np.argsort(-scores)[: max(s.max_suggestions, 2)]
        ranked = tuple(Scored(self.ids[i], round(float(scores[i]), 3)) for i in order
                       if scores[i] > 0)
        if not ranked or ranked[0].score < s.suggest_score:
            return Match(Decision.NONE, ranked, "low-score", norm)
        top = ranked[0].score
        second = ranked[1].score if len(ranked) > 1 else 0.0
        # One word answers only when it belongs to a single entry ("pimpasa", "kamboja");
        # a common one ("paspor", "agen") gets suggestions instead.
        enough_words = len(norm.tokens) > 1 or self.phrase_df.get(norm.tokens[0]) == 1
        clear = (top >= s.answer_score and top - second >= s.answer_margin) or (
            top >= s.answer_floor and second <= s.answer_ratio * top)
        if clear and enough_words:
            return Match(Decision.ANSWER, ranked[:1], "confident", norm)
        if len(norm.tokens) > 1 and self._echoes(norm, ranked):
            return Match(Decision.ANSWER, ranked[:1], "near-phrasing", norm)
        if len(ranking.known) > 1:
            p = ranking.posterior if ranking.posterior is not None else self.posterior(ranking.known)
            best = int(np.argmax(p))
            if self.ids[best] == ranked[0].entry_id and p[best] >= s.nb_confidence:
                return Match(Decision.ANSWER, ranked[:1], "probable", norm)
        window = tuple(c for c in ranked if c.score >= max(s.suggest_score, top - s.suggest_window))
        reason = "weak" if top < s.weak_score else "close-call"
        return Match(Decision.SUGGEST, window[: s.max_suggestions], reason, norm)

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
from itertools import chain

import numpy as np
from numpy.typing import NDArray
from rapidfuzz import fuzz, process

from bot.content import FaqEntry
from bot.phrasings import Phrasings, Query
from bot.textnorm import Normalized, Normalizer

MAX_TEXT = 2000   # characters of a message the matcher reads
_SEEDS = 16       # entries scored in full first, to set the bar the others must reach
_DENSE = 8192     # phrasings few enough to score all of them for every message
_ROW_SHARE = 4    # a word in at least 1/4 of the entries is added as a row over all entries
_BLOCK = 64       # values per block when finding the largest few


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
    """The best entries for one message, before the decision."""

    normalized: Normalized
    top: tuple[Scored, ...] | None   # best first, scores above 0; None when no word of the message is known
    reason: str
    known: tuple[str, ...]               # the message's words as the index knows them
    likeliest: tuple[str, float] | None = None   # the naive-Bayes posterior's top entry, when computed


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
        self.settings = s = settings or MatchSettings()
        if not (0.0 <= s.doc_weight <= 1.0 and s.coverage_power >= 0.0):
            # The first stage's bound on a phrasing's score (see rank) holds only then.
            raise ValueError("doc_weight must be within 0..1 and coverage_power at least 0")
        self.entries = tuple(entries)
        # Per index, so re-read content never answers from the old one's decisions. Safe to share:
        # a Match is immutable and depends on nothing but the text and this index.
        self._cached = functools.lru_cache(maxsize=s.cache_size)(self._match_text) \
            if s.cache_size else None
        # Each text is read into words once: the words name the content's own roots, and the
        # normaliser that knows those roots then stems the same words.
        texts = [[normalizer.standard_words(t) for t in (e.question, *e.phrasings)] for e in self.entries]
        keywords = [[normalizer.standard_words(k) for k in e.keywords] for e in self.entries]
        content_words = set(chain.from_iterable(chain.from_iterable((*texts, *keywords))))
        self.normalizer = normalizer.with_roots(content_words)
        self.ids = [e.id for e in self.entries]
        self._position = {e.id: i for i, e in enumerate(self.entries)}

        doc_tokens: list[frozenset[str]] = []
        self.doc_texts: list[str] = []
        doc_entry: list[int] = []
        bag_counts: list[Counter[str]] = []
        answer_bags: list[frozenset[str]] = []
        answers: dict[str, frozenset[str]] = {}   # entries may share an answer word for word
        for ei, entry in enumerate(self.entries):
            stems = [self.normalizer.stems(words) for words in texts[ei]]
            tokens = [frozenset(st) for st in stems]
            doc_tokens.extend(tokens)
            self.doc_texts.extend(" ".join(st) for st in stems)
            doc_entry.extend([ei] * len(tokens))
            counts = Counter(t for ts in tokens for t in ts)
            for words in keywords[ei]:
                counts.update(set(self.normalizer.stems(words)) - set(counts))
            bag_counts.append(counts)
            answer = entry.answer_no_village or entry.answer
            if answer not in answers:
                answers[answer] = frozenset(self.normalizer.normalize(answer).tokens)
            answer_bags.append(answers[answer] - set(counts))
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
        self._token_id = {t: i for i, t in enumerate(self.vocab)}
        # The answer's own words back an entry too, but less than what askers type. Postings are
        # made as flat arrays grouped by word: far faster than a list per word at national size.
        tid = self._token_id
        bag_entry = [ei for ei, counts in enumerate(bag_counts) for _ in counts]
        bag_word = [tid[t] for counts in bag_counts for t in counts]
        bag_count = [c for counts in bag_counts for c in counts.values()]
        answer_entry = [ei for ei, words in enumerate(answer_bags) for _ in words]
        answer_word = [tid[t] for words in answer_bags for t in words]
        self.bag_post = _postings(self.vocab, np.array(bag_entry + answer_entry, dtype=np.intp),
                                  np.array(bag_word + answer_word, dtype=np.intp),
                                  np.array([1.0] * len(bag_entry) + [s.answer_weight] * len(answer_entry)))
        self.nb_post = _postings(self.vocab, np.array(bag_entry, dtype=np.intp),
                                 np.array(bag_word, dtype=np.intp), np.array(bag_count, dtype=np.float64))
        self.nb_totals = np.array([sum(c.values()) for c in bag_counts], dtype=np.float64)
        # What posterior() adds per word and subtracts per message, computed once for all messages.
        self._nb_gain = {t: self._word_gain(counts) for t, (_, counts) in self.nb_post.items()}
        # A word in many entries is added as a whole row: at national size an add over every
        # entry costs about a quarter of one through an index. Zero elsewhere, so every sum is the same.
        self._bag_rows = _rows(self.bag_post, len(self.entries))
        self._nb_rows = _rows({t: (e, self._nb_gain[t]) for t, (e, _) in self.nb_post.items()},
                              len(self.entries))
        self._nb_norm = self._normaliser(self.nb_totals)
        idf = self.idf.__getitem__
        self.doc_weight = np.array([sum(map(idf, tokens)) or 1.0 for tokens in doc_tokens], dtype=np.float64)
        self.phrasings = Phrasings(doc_tokens, self._token_id, self.doc_entry, self.doc_weight,
                                   s.coverage_power)

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

    def rank(self, text: str, *, skip_doc: int | None = None, exhaustive: bool = False) -> Ranking:
        """The best entries for `text`, and why there are none.

        An entry's score is `doc_weight` times its best phrasing's score plus the rest (its whole
        vocabulary and the posterior), which costs little for every entry at once. With more
        than _DENSE phrasings, a few likely entries are scored in full first; their k-th score
        is a bar, and only phrasings that could lift another entry over it are scored (see
        bot/phrasings.py), so the top k is exactly what scoring every phrasing gives.
        `exhaustive` scores every phrasing anyway (for tests and benchmarks of that claim).
        """
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

        acc_bag = np.zeros(len(self.entries))
        for token, weight in query.items():
            row = self._bag_rows.get(token)
            if row is not None:
                acc_bag += weight * row
            else:
                entries, strength = self.bag_post[token]
                acc_bag[entries] += weight * strength
        if skip_doc is not None:
            owner = int(self.doc_entry[skip_doc])
            for token in self.doc_tokens[skip_doc] & query.keys():
                if self.bag_counts[owner][token] == 1:
                    acc_bag[owner] -= query[token]
        s = self.settings
        # Every entry's score without its best phrasing: exact for an entry no phrasing of which
        # shares a word with the message, a lower bound for the others.
        scores: NDArray[np.float64] = (1 - s.doc_weight) * acc_bag / total
        # The posterior ranks better than either score alone (dev top-1 89% -> 92%).
        posterior = self.posterior(tuple(query), skip_doc) if s.nb_weight else None
        if posterior is not None:
            scores = scores + s.nb_weight * posterior
        k = min(max(s.max_suggestions, 2), len(self.entries))
        if s.doc_weight > 0:
            q = Query([self._token_id[t] for t in query], list(query.values()), total, skip_doc)
            bar = self._add_phrasings(scores, acc_bag, posterior, q, k, exhaustive)
        else:
            bar = -np.inf
        # The top k, ties in content order; only entries at or above the bar can be among them.
        if bar == -np.inf:
            order = np.argsort(-scores, kind="stable")[:k]
        else:
            contenders = np.flatnonzero(scores >= bar)
            if contenders.size > k:
                contenders = contenders[scores[contenders] >= _kth_largest(scores[contenders], k)]
            order = contenders[np.argsort(-scores[contenders], kind="stable")[:k]]
        top = tuple(Scored(self.ids[i], round(float(scores[i]), 3)) for i in order if scores[i] > 0)
        likeliest = None
        if posterior is not None and skip_doc is None:
            best = int(np.argmax(posterior))
            likeliest = (self.ids[best], float(posterior[best]))
        return Ranking(norm, top, "ranked", tuple(query), likeliest)

    def _add_phrasings(self, scores: NDArray[np.float64], acc_bag: NDArray[np.float64],
                       posterior: NDArray[np.float64] | None, q: Query, k: int, exhaustive: bool) -> float:
        """Add each entry's best phrasing to `scores` wherever it can change the top `k`.

        Returns a score the k-th best reaches (every entry at or above it is exact).
        """
        s = self.settings
        if exhaustive or len(self.doc_tokens) <= _DENSE:
            self._score_phrasings(scores, slice(None), self.phrasings.dense(q), acc_bag, posterior, q.total)
            return -np.inf
        rest = scores.copy()
        # The entries likeliest to lead are scored first: their exact scores set the bar.
        seeds = _largest(rest, _SEEDS)
        self._score_phrasings(scores, seeds, self.phrasings.best_of(seeds, q), acc_bag, posterior, q.total)
        bar = _kth_largest(scores[seeds], k)
        # Another entry reaches the bar only through a phrasing scoring (bar - rest) / doc_weight.
        need = (bar - rest) / s.doc_weight - 1e-9
        need[seeds] = np.inf
        owners, best = self.phrasings.reaching(q, need)
        self._score_phrasings(scores, owners, best, acc_bag, posterior, q.total)
        return float(bar)

    def _score_phrasings(self, scores: NDArray[np.float64], entries: NDArray[np.intp] | slice,
                         best_doc: NDArray[np.float64], acc_bag: NDArray[np.float64],
                         posterior: NDArray[np.float64] | None, total: float) -> None:
        s = self.settings
        scores[entries] = s.doc_weight * best_doc + (1 - s.doc_weight) * acc_bag[entries] / total
        if posterior is not None:
            scores[entries] = scores[entries] + s.nb_weight * posterior[entries]

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
                elif token in self._nb_rows:
                    logp += self._nb_rows[token]
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
        norm, ranked = ranking.normalized, ranking.top
        if ranked is None:
            return Match(Decision.NONE, (), ranking.reason, norm)
        s = self.settings
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
            likeliest = ranking.likeliest
            if likeliest is None:
                p = self.posterior(ranking.known)
                best = int(np.argmax(p))
                likeliest = (self.ids[best], float(p[best]))
            if likeliest[0] == ranked[0].entry_id and likeliest[1] >= s.nb_confidence:
                return Match(Decision.ANSWER, ranked[:1], "probable", norm)
        window = tuple(c for c in ranked if c.score >= max(s.suggest_score, top - s.suggest_window))
        reason = "weak" if top < s.weak_score else "close-call"
        return Match(Decision.SUGGEST, window[: s.max_suggestions], reason, norm)


def _postings(vocab: Sequence[str], entries: NDArray[np.intp], words: NDArray[np.intp],
              values: NDArray[np.float64]) -> dict[str, tuple[NDArray[np.intp], NDArray[np.float64]]]:
    """Per word, the entries it stands in and a value for each, from flat (entry, word, value)."""
    order = np.argsort(words, kind="stable")
    bounds = np.searchsorted(words[order], np.arange(len(vocab) + 1))
    entries, values = entries[order], values[order]
    return {vocab[w]: (entries[bounds[w]:bounds[w + 1]], values[bounds[w]:bounds[w + 1]])
            for w in range(len(vocab)) if bounds[w + 1] > bounds[w]}


def _rows(postings: dict[str, tuple[NDArray[np.intp], NDArray[np.float64]]], n_entries: int
          ) -> dict[str, NDArray[np.float64]]:
    """Each posting over at least a quarter of the entries as a row over all of them (0 elsewhere)."""
    rows = {}
    for word, (entries, values) in postings.items():
        if entries.size * _ROW_SHARE >= n_entries:
            row = np.zeros(n_entries)
            row[entries] = values
            rows[word] = row
    return rows


def _largest(values: NDArray[np.float64], n: int) -> NDArray[np.intp]:
    """Positions of `n` largest values (all of them when there are fewer), in no order.

    The n largest lie in the n blocks of _BLOCK with the largest maxima, so only those are
    partitioned (about a third of the time of partitioning all 5,000 at national size).
    """
    if values.size <= n * _BLOCK:
        if values.size <= n:
            return np.arange(values.size)
        return np.argpartition(values, values.size - n)[values.size - n:]
    blocks = -(-values.size // _BLOCK)
    padded = np.full(blocks * _BLOCK, -np.inf)
    padded[:values.size] = values
    tops = _largest(padded.reshape(blocks, _BLOCK).max(axis=1), n)
    where = (tops[:, None] * _BLOCK + np.arange(_BLOCK)).ravel()
    return where[_largest(padded[where], n)]


def _kth_largest(values: NDArray[np.float64], k: int) -> float:
    return float(np.partition(values, values.size - k)[values.size - k])

"""The FAQ's phrasings as postings: each entry's best phrasing score, for the entries that need one.

A phrasing scores `(held / total) * (held / weight) ** power`: `held` is the weight of the
message's words it holds, `weight` its own. At national size most phrasings share some word
with a message, so scoring them all costs time in proportion to the content. A phrasing that must
reach a score needs enough of the message's weight, so it holds one of the message's heavier
(rarer) words (MaxScore), and it must be light enough for what it can hold to cover it; postings
are kept lightest first, so the phrasings worth a look are a slice of each such word's postings.
Those are scored exactly, with a bitmap for each common word. Every bound carries a margin for
rounding, and `dense` scores every phrasing (the definition, and the path for small content).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import NDArray

_BITMAP_SHARE = 64   # a word in at least 1/64 of the phrasings gets a bitmap
_MARGIN = 1e-9   # relative slack on every bound, far above float rounding, far below any score gap


class Phrasings:
    """Built once from the phrasings' stems; numpy arrays only, no per-word Python objects."""

    def __init__(self, doc_tokens: Sequence[frozenset[str]], token_id: Mapping[str, int],
                 doc_entry: NDArray[np.intp], doc_weight: NDArray[np.float64], power: float) -> None:
        self.power = power
        self.doc_weight = doc_weight
        self.doc_entry = doc_entry
        n_entries = int(doc_entry[-1]) + 1 if len(doc_entry) else 0
        self.entry_first = np.searchsorted(doc_entry, np.arange(n_entries)).astype(np.intp)
        self.entry_count = np.diff(np.append(self.entry_first, len(doc_entry))).astype(np.intp)
        # Which phrasings hold each word, lightest first (CSR over word numbers).
        lengths = np.fromiter((len(t) for t in doc_tokens), dtype=np.intp, count=len(doc_tokens))
        words = np.fromiter((token_id[t] for tokens in doc_tokens for t in tokens),
                            dtype=np.intp, count=int(lengths.sum()))
        holder = np.repeat(np.arange(len(doc_tokens), dtype=np.intp), lengths)
        order = np.lexsort((doc_weight[holder], words))
        self.post_doc = holder[order]
        self.post_weight = doc_weight[self.post_doc]
        self.post_start = np.zeros(len(token_id) + 1, dtype=np.intp)
        np.cumsum(np.bincount(words, minlength=len(token_id)), out=self.post_start[1:])
        # Words in many phrasings also get a bitmap over all phrasings (no bigger than their
        # postings), so the first stage can tell whether a phrasing holds one without a search.
        counts = np.diff(self.post_start)
        self.bitmap: dict[int, NDArray[np.uint8]] = {}
        for word in np.flatnonzero(counts >= max(len(doc_tokens) // _BITMAP_SHARE, 1)).tolist():
            held = np.zeros(len(doc_tokens), dtype=bool)
            held[self.post_doc[self.post_start[word]:self.post_start[word + 1]]] = True
            self.bitmap[word] = np.packbits(held)

    def dense(self, query: Query) -> NDArray[np.float64]:
        """Every entry's phrasing score, scoring every phrasing (the definition; for small content)."""
        held = np.zeros(len(self.doc_weight))
        for word, weight in zip(query.word_ids, query.weights.tolist(), strict=True):
            held[self.post_doc[self.post_start[word]:self.post_start[word + 1]]] += weight
        if query.skip is not None:
            held[query.skip] = 0.0
        scores = (held / query.total) * np.power(held / self.doc_weight, self.power)
        best: NDArray[np.float64] = np.maximum.reduceat(scores, self.entry_first)
        return best

    def best_of(self, entries: NDArray[np.intp], query: Query) -> NDArray[np.float64]:
        """Each entry's exact phrasing score (all its phrasings)."""
        docs = _ranges(self.entry_first[entries], self.entry_count[entries])
        scores = self.scores(docs, query)
        best: NDArray[np.float64] = np.maximum.reduceat(scores, np.cumsum(self.entry_count[entries])
                                                        - self.entry_count[entries])
        return best

    def reaching(self, query: Query, need: NDArray[np.float64]) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
        """The entries with a phrasing scoring at least `need[entry]`, and each one's best score.

        A phrasing holding none of the message's heavier words holds at most the weight of the
        lighter ones, so each word is looked up only among phrasings light enough for what the
        words up to it could cover (postings are lightest first: a slice; MaxScore). Those
        phrasings are then scored exactly, from the bitmaps of common words and a scratch mark
        of the others' postings.
        """
        weights = query.weights.tolist()
        floor = max(float(need.min()), 0.0) if need.size else 0.0
        # A phrasing holds at most its own weight, so it must weigh floor * total at least.
        lightest = floor * query.total / (1 + _MARGIN)
        parts, reaches, counts = [], [], []
        lighter = 0.0
        for j in sorted(range(len(weights)), key=weights.__getitem__):
            lighter += weights[j]
            most = lighter * (1 + _MARGIN)   # what a phrasing with no heavier word holds at most
            if most / query.total < floor:
                continue
            heaviest = np.inf
            if self.power > 0 and floor > 0:
                heaviest = most * (most / (query.total * floor)) ** (1 / self.power) * (1 + _MARGIN)
            word = query.word_ids[j]
            lo, hi = int(self.post_start[word]), int(self.post_start[word + 1])
            by_weight = self.post_weight[lo:hi]
            lo, hi = lo + int(by_weight.searchsorted(lightest)), \
                lo + int(by_weight.searchsorted(heaviest, "right"))
            if hi > lo:
                parts.append(self.post_doc[lo:hi])
                reaches.append(most)
                counts.append(hi - lo)
        if not parts:
            return np.zeros(0, dtype=np.intp), np.zeros(0)
        docs = np.concatenate(parts)   # a phrasing with two of the words comes twice: harmless
        # First what its entry needs against what its word could let it hold at most.
        weight = self.doc_weight[docs]
        most_held = np.minimum(np.repeat(reaches, counts), weight)
        bound = (most_held / query.total) * (most_held / weight) ** self.power
        docs = docs[bound * (1 + _MARGIN) + _MARGIN >= need[self.doc_entry[docs]]]
        scores = self.scores(docs, query)
        owners = self.doc_entry[docs]
        keep = scores >= need[owners] - _MARGIN
        owners, scores = owners[keep], scores[keep]
        by_entry = np.lexsort((-scores, owners))
        owners, scores = owners[by_entry], scores[by_entry]
        first = np.ones(owners.size, dtype=bool)
        first[1:] = owners[1:] != owners[:-1]
        return owners[first], scores[first]

    def scores(self, docs: NDArray[np.intp], query: Query) -> NDArray[np.float64]:
        """Each phrasing's score: share of the message it explains x share of it covered.

        From the bitmaps of common words and a scratch mark of the others' postings; word by
        word in the message's order, adding 0 where a phrasing lacks the word, so each sum is
        made exactly as the dense one was.
        """
        held = np.zeros(docs.size)
        byte, bit = docs >> 3, (128 >> (docs & 7)).astype(np.uint8)
        mark: NDArray[np.bool_] | None = None
        for word, weight in zip(query.word_ids, query.weights.tolist(), strict=True):
            bits = self.bitmap.get(word)
            if bits is not None:
                held += weight * (bits[byte] & bit).astype(bool)
                continue
            if mark is None:
                mark = np.zeros(len(self.doc_weight), dtype=bool)
            postings = self.post_doc[self.post_start[word]:self.post_start[word + 1]]
            mark[postings] = True
            held += weight * mark[docs]
            mark[postings] = False
        if query.skip is not None:
            held[docs == query.skip] = 0.0
        scores: NDArray[np.float64] = (held / query.total) * np.power(held / self.doc_weight[docs], self.power)
        return scores


class Query:
    """One message's known words for the phrasings: word numbers and weights, in message order."""

    def __init__(self, word_ids: Sequence[int], weights: Sequence[float], total: float,
                 skip: int | None) -> None:
        self.word_ids = list(word_ids)
        self.weights = np.array(weights, dtype=np.float64)
        self.total = total
        self.skip = skip


def _ranges(starts: NDArray[np.intp], lengths: NDArray[np.intp]) -> NDArray[np.intp]:
    """The integers of [start, start + length) for each pair, one range after the other."""
    ends = np.cumsum(lengths)
    return np.repeat(starts - (ends - lengths), lengths) + np.arange(int(ends[-1]) if ends.size else 0)

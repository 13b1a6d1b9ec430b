"""Indonesian text normalisation: how villagers type, reduced to comparable word stems.

The lexicon (chat abbreviations, local Malay, misspellings, stopwords) is data in
`content/lexicon.yaml`, so editors can teach the bot a new spelling without touching code.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from itertools import chain, compress, count

_WORD = re.compile(r"[^\W_]+", re.UNICODE)   # a run of letters and digits; all else separates words
# "2thn" -> "2 thn"; letters before digits stay together ("p3mi", "sapa129").
_DIGIT_LETTER = re.compile(r"\b(\d+)(?=[^\W\d_])", re.UNICODE)
# Chat reduplication: "anak2" means "anak-anak".
_REDUP = re.compile(r"\b([^\W\d_]{2,})2\b", re.UNICODE)
_RUN3 = re.compile(r"(\w)\1{2,}", re.UNICODE)

# Affixes of Indonesian morphology, longest first. Stripping is only accepted when it lands
# on a known root, so a wrong strip can never invent a word.
_PARTICLES = ("lah", "kah", "pun", "tah")
_POSSESSIVES = ("nya", "nye", "ku", "mu")  # -nye: the Malay -nya
_SUFFIXES = ("kan", "an", "in", "i")
_PREFIXES = (
    ("meny", "s"), ("peny", "s"), ("meng", "k"), ("peng", "k"), ("mem", "p"), ("pem", "p"),
    ("men", "t"), ("pen", "t"), ("meng", ""), ("peng", ""), ("mem", ""), ("pem", ""),
    ("men", ""), ("pen", ""), ("nge", ""), ("ng", "k"), ("ng", ""), ("ny", "s"),
    ("ber", ""), ("be", ""), ("per", ""), ("pe", ""), ("ter", ""), ("me", ""),
    ("di", ""), ("ke", ""), ("se", ""),
)


@dataclass(frozen=True)
class Lexicon:
    """Word-level knowledge: what a typed word stands for, and which words carry no meaning."""

    replacements: Mapping[str, tuple[str, ...]]
    phrases: Mapping[tuple[str, str], str]
    stopwords: frozenset[str]
    chitchat: frozenset[str]

    @classmethod
    def from_mapping(cls, data: Mapping[str, object]) -> Lexicon:
        """Build from the parsed YAML; the content loader has already checked the shapes."""
        replacements: dict[str, tuple[str, ...]] = {}
        raw_repl = data.get("replacements") or {}
        assert isinstance(raw_repl, Mapping)
        for target, sources in raw_repl.items():
            words = tuple(str(target).split())
            for src in _as_list(sources):
                replacements[fold(src)] = words
        phrases: dict[tuple[str, str], str] = {}
        raw_phr = data.get("phrases") or {}
        assert isinstance(raw_phr, Mapping)
        for target, sources in raw_phr.items():
            for src in _as_list(sources):
                parts = fold(src).split()
                if len(parts) == 2:
                    phrases[(parts[0], parts[1])] = str(target)
        return cls(
            replacements=replacements,
            phrases=phrases,
            stopwords=frozenset(fold(w) for w in _as_list(data.get("stopwords"))),
            chitchat=frozenset(fold(w) for w in _as_list(data.get("chitchat"))),
        )


def _as_list(value: object) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    assert isinstance(value, Iterable)
    return [str(v) for v in value]


def fold_piece(piece: str) -> tuple[str, ...]:
    """Fold runs of letters and digits (joined by spaces): reduplication, "2thn", "bangettt"."""
    piece = _REDUP.sub(r"\1", piece)
    piece = _DIGIT_LETTER.sub(r"\1 ", piece)
    return tuple(_RUN3.sub(r"\1", piece).split())


def fold(text: str) -> str:
    """Lower-case, strip accents and punctuation, split "2thn" into "2 thn", collapse "bangettt"."""
    return " ".join(fold_piece(" ".join(_pieces(text))))


def folded_words(text: str, fold_one: Callable[[str], tuple[str, ...]] = fold_piece) -> list[str]:
    """The words of `fold(text)`, folding each run of letters and digits with `fold_one`.

    Each pattern of `fold_piece` stays inside one run, so run by run gives what the whole text
    gives; a caller that folds the same words again and again passes a cached `fold_piece`.
    """
    return list(chain.from_iterable(map(fold_one, _pieces(text))))


def _pieces(text: str) -> list[str]:
    text = unicodedata.normalize("NFKC", text).casefold()
    if not text.isascii():   # most messages are plain ASCII: nothing to strip, and it is per character
        text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return _WORD.findall(text)


def load_roots() -> frozenset[str]:
    """The Indonesian root-word list that ships with PySastrawi (about 30,000 words)."""
    path = resources.files("Sastrawi.Stemmer").joinpath("data/kata-dasar.txt")
    return frozenset(w.strip() for w in path.read_text(encoding="utf-8").splitlines() if w.strip())


@dataclass(frozen=True)
class Normalized:
    """One message after normalisation."""

    folded: str               # lower-case words, for grouping and display
    tokens: tuple[str, ...]   # meaningful stems, stopwords and chit-chat removed
    chitchat: bool            # the message held only greetings, thanks and filler


class Normalizer:
    """Turns a typed message into the stems the FAQ index compares."""

    def __init__(self, lexicon: Lexicon, roots: frozenset[str], extra_roots: Iterable[str] = ()):
        self.lexicon = lexicon
        self.roots = roots | frozenset(extra_roots)
        # Bounded, so a flood of unique junk words cannot grow memory without limit.
        self.stem = functools.lru_cache(maxsize=50_000)(self._stem)
        self._fold_piece = functools.lru_cache(maxsize=50_000)(fold_piece)
        self._word_stems = functools.lru_cache(maxsize=50_000)(self._stems_of)
        self._replaced = functools.lru_cache(maxsize=50_000)(self._replacement)
        self._phrase_starts = frozenset(first for first, _ in lexicon.phrases)

    def with_roots(self, extra: Iterable[str]) -> Normalizer:
        """A normaliser that also knows the content's own roots (names like "kamboja").

        Only words that do not already reduce to a known root are added, so "syaratnya" in
        the content still becomes "syarat" instead of standing apart as a root of its own.
        """
        return Normalizer(self.lexicon, self.roots, (w for w in extra if self.stem(w) == w))

    def is_word(self, token: str) -> bool:
        """A known Indonesian root or content word: real, even when the content lacks it."""
        return token in self.roots

    def standard_words(self, text: str) -> list[str]:
        """Folded words with phrases joined and abbreviations and local forms replaced."""
        words = self._join_phrases(folded_words(text, self._fold_piece))
        return list(chain.from_iterable(map(self._replaced, words)))

    def _join_phrases(self, words: list[str]) -> list[str]:
        """Two words the lexicon reads as one ("m paspor" -> "mpaspor"), left to right."""
        starts = self._phrase_starts
        if starts.isdisjoint(words):
            return words
        phrases = self.lexicon.phrases
        joined: list[str] = []
        done, last = 0, len(words) - 1
        for i in compress(count(), map(starts.__contains__, words)):
            if i >= done and i < last and (words[i], words[i + 1]) in phrases:
                joined.extend(words[done:i])
                joined.extend(phrases[(words[i], words[i + 1])].split())
                done = i + 2
        joined.extend(words[done:])
        return joined

    def normalize(self, text: str) -> Normalized:
        return self.normalize_words(self.standard_words(text))

    def normalize_words(self, words: list[str]) -> Normalized:
        """`normalize` from the standard words, for a caller that already has them."""
        tokens = self.stems(words)
        return Normalized(
            folded=" ".join(words),
            tokens=tokens,
            chitchat=not tokens and not self.lexicon.chitchat.isdisjoint(words),
        )

    def stems(self, words: list[str]) -> tuple[str, ...]:
        """The stems of standard words: `normalize_words(words).tokens`, for the index build."""
        return tuple(chain.from_iterable(map(self._word_stems, words)))

    def _stems_of(self, word: str) -> tuple[str, ...]:
        if word in self.lexicon.chitchat or word in self.lexicon.stopwords:
            return ()
        stem = self.stem(word)
        # A local root under an affix ("kerjenye" -> "kerje") is looked up once more.
        replaced = self.lexicon.replacements.get(stem, (stem,))
        return tuple(t for t in replaced if t not in self.lexicon.stopwords)

    def _replacement(self, word: str) -> tuple[str, ...]:
        return self.lexicon.replacements.get(word, (word,))

    def _stem(self, word: str) -> str:
        if word in self.roots or len(word) <= 3 or word.isdigit():
            return word
        for candidate in _candidates(word):
            if candidate in self.roots and len(candidate) >= 3:
                return candidate
        return word


def _strip_suffixes(word: str) -> list[str]:
    forms = [word]
    for group in (_PARTICLES, _POSSESSIVES, _SUFFIXES):
        for form in list(forms):
            for suffix in group:
                if form.endswith(suffix) and len(form) - len(suffix) >= 3:
                    forms.append(form[: -len(suffix)])
    return forms


def _strip_prefix(word: str) -> list[str]:
    out = []
    for prefix, replacement in _PREFIXES:
        if word.startswith(prefix) and len(word) - len(prefix) >= 2:
            out.append(replacement + word[len(prefix):])
    return out


def _candidates(word: str) -> Iterable[str]:
    """Possible roots, most conservative first: suffixes, then one prefix, then two."""
    suffixless = _strip_suffixes(word)
    yield from suffixless[1:]
    for form in suffixless:
        for once in _strip_prefix(form):
            yield once
            for inner in _strip_suffixes(once):
                yield inner
                yield from _strip_prefix(inner)

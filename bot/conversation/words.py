"""The everyday words a villager types for yes, no, don't know, done, cancel and the like."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence

from bot.textnorm import Normalizer

# Variation selectors and skin tones: "👍🏽" is "👍".
_EMOJI_NOISE = dict.fromkeys([0xFE0F, 0x200D, *range(0x1F3FB, 0x1F400)])
# Only a short answer is read for a word it contains: in a long sentence "tidak" is no answer
# ("dia datang langsung ke kampung" is short enough).
_CONTAINED_MAX_EXTRA = 4
# Texts whose words are remembered: one message is read against a dozen lists in a turn, and
# the lists' own phrases again and again; bounded, so a flood of unique messages cannot grow it.
_REMEMBERED = 256


def _emoji_key(text: str) -> str:
    return "".join(text.split()).translate(_EMOJI_NOISE)


class Words:
    """Word lists from `content/words.yaml`, compared after the FAQ's own clean-up."""

    def __init__(self, lists: Mapping[str, Sequence[str]], normalizer: Normalizer) -> None:
        self.normalizer = normalizer
        self.tokens = functools.lru_cache(maxsize=_REMEMBERED)(self._tokens)
        self.filler = frozenset(w for f in lists.get("filler", ()) for w in normalizer.standard_words(f))
        self.lists: dict[str, frozenset[tuple[str, ...]]] = {}
        self.emoji: dict[str, frozenset[str]] = {}
        # Each list's phrases by length, longest first: `choose` looks a message's runs up in
        # them instead of trying every phrase of a list in turn.
        self.by_length: dict[str, tuple[tuple[int, frozenset[tuple[str, ...]]], ...]] = {}
        for name, phrases in lists.items():
            self.lists[name] = frozenset(k for k in (self.tokens(p) for p in phrases) if k)
            self.emoji[name] = frozenset(_emoji_key(p) for p in phrases if not self.tokens(p))
            lengths = sorted({len(k) for k in self.lists[name]}, reverse=True)
            self.by_length[name] = tuple((n, frozenset(k for k in self.lists[name] if len(k) == n))
                                         for n in lengths)

    def _tokens(self, text: str) -> tuple[str, ...]:
        """The words that carry the answer: abbreviations read, polite filler dropped."""
        words = self.normalizer.standard_words(text)
        kept = tuple(w for w in words if w not in self.filler)
        return kept or tuple(words)

    def phrases(self, name: str) -> frozenset[tuple[str, ...]]:
        return self.lists.get(name, frozenset())

    def is_(self, name: str, text: str) -> bool:
        """The whole message means `name` ("gak jadi deh" is cancel)."""
        key = self.tokens(text)
        if key:
            return key in self.phrases(name)
        return _emoji_key(text) in self.emoji.get(name, frozenset())

    def emoji_among(self, name: str, text: str) -> bool:
        """A message of emoji only with one of list `name` among them ("😭😭😭", "🙏😢")."""
        if self.tokens(text):
            return False
        key = _emoji_key(text)
        return any(e in key for e in self.emoji.get(name, frozenset()))

    def emoji_only(self, text: str) -> bool:
        """Something typed, but no word in it ("🙏", "😭😭")."""
        return bool(text.strip()) and not self.tokens(text)

    def starts(self, name: str, text: str) -> bool:
        """The message opens with a phrase of `name` ("mau lapor agen di desa" starts a report)."""
        key = self.tokens(text)
        return any(key[:len(p)] == p for p in self.phrases(name))

    def within(self, name: str, text: str) -> bool:
        """A phrase of `name` stands anywhere in the message, however long."""
        key = self.tokens(text)
        return any(key[i:i + len(p)] == p for p in self.phrases(name) for i in range(len(key) - len(p) + 1))

    def choose(self, text: str, options: Mapping[str, Iterable[str]]) -> str | None:
        """The option a short answer means, or None when it means none or several.

        `options` maps an option's value to its phrases; a phrase "@name" stands for the list `name`.
        """
        key = self.tokens(text)
        emoji = _emoji_key(text)
        best: dict[str, int] = {}
        for value, phrases in options.items():
            for phrase in phrases:
                if phrase.startswith("@"):
                    length = self._found_in(phrase[1:], key)
                    if not key and emoji in self.emoji.get(phrase[1:], frozenset()):
                        best[value] = max(best.get(value, 0), 1)
                else:
                    length = _found(self.tokens(phrase), key)
                if length:
                    best[value] = max(best.get(value, 0), length)
        if not best:
            return None
        top = max(best.values())
        winners = [v for v, n in best.items() if n == top]
        return winners[0] if len(winners) == 1 else None


    def _found_in(self, name: str, key: tuple[str, ...]) -> int:
        """The best `_found` of any phrase of list `name`."""
        if key in self.phrases(name):
            return 100 + len(key)
        for length, phrases in self.by_length.get(name, ()):
            if len(key) - length > _CONTAINED_MAX_EXTRA:
                break   # shorter phrases are further still from the whole message
            if any(key[i:i + length] in phrases for i in range(len(key) - length + 1)):
                return length
        return 0


def _found(phrase: tuple[str, ...], key: tuple[str, ...]) -> int:
    """How many words `phrase` explains: all of `key`, or a run inside a short `key`."""
    if not phrase:
        return 0
    if phrase == key:
        return 100 + len(phrase)   # a whole-message match beats any contained one
    if len(key) - len(phrase) > _CONTAINED_MAX_EXTRA:
        return 0
    for i in range(len(key) - len(phrase) + 1):
        if key[i:i + len(phrase)] == phrase:
            return len(phrase)
    return 0

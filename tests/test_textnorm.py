"""How villagers type, reduced to the same stems as the content."""

from __future__ import annotations

import functools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.app import Knowledge
from bot.textnorm import Normalizer, fold, fold_piece, folded_words


@pytest.fixture(scope="module")
def norm(knowledge: Knowledge) -> Normalizer:
    return knowledge.index.normalizer


def test_fold_lowercases_strips_punctuation_and_collapses_repeats() -> None:
    assert fold("Paspor   HILANGGG!!! di Kuching??") == "paspor hilang di kuching"
    assert fold("anak umur 2thn") == "anak umur 2 thn"
    assert fold("😀🙏") == ""
    junk = fold("\x00\x01binary\x7f\ufffd")
    assert junk == "binary"


@pytest.mark.parametrize(
    ("typed", "standard"),
    [
        ("gmn cara bkin pasport", ["buat", "paspor"]),
        ("camane kamek nak kerje ke malaysia", ["kerja", "malaysia"]),
        ("brp biaya paspor", ["biaya", "paspor"]),
        ("agen TKI resmi", ["agen", "pmi", "resmi"]),
        ("masuk lewat jalan tikus", ["masuk", "lewat", "jalurtikus"]),
        ("daftar di m paspor", ["daftar", "mpaspor"]),
    ],
)
def test_abbreviations_local_malay_and_misspellings_become_standard_words(
    norm: Normalizer, typed: str, standard: list[str]
) -> None:
    assert list(norm.normalize(typed).tokens) == standard


def test_affixed_words_reduce_to_their_root(norm: Normalizer) -> None:
    assert norm.normalize("pembuatan perpanjangan kehilangan penipuan").tokens == (
        "buat", "panjang", "hilang", "tipu")


def test_greetings_and_thanks_are_chitchat_not_questions(norm: Normalizer) -> None:
    for text in ("halo", "selamat pagi bang", "makasih ya", "wkwkwk", "ok siap"):
        n = norm.normalize(text)
        assert n.chitchat and not n.tokens, text


def test_empty_emoji_and_junk_leave_no_words(norm: Normalizer) -> None:
    for text in ("", "   ", "🙏🙏🙏", "?!.,"):
        n = norm.normalize(text)
        assert n.tokens == () and not n.chitchat


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab2 3_-.xéÉ\u0301ßİ²①ﬁ٣\n")), max_size=30) | st.text(max_size=30))
def test_folding_word_by_word_gives_what_folding_the_whole_text_gives(text: str) -> None:
    """The index folds each word once and reuses it; a message must come out the same."""
    cached = functools.lru_cache(maxsize=None)(fold_piece)
    assert " ".join(folded_words(text, cached)) == fold(text)

"""The FAQ matcher: answers what it knows, suggests when unsure, stays quiet otherwise."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Sequence

import pytest

from bot import faq
from bot.app import Knowledge
from bot.content import FaqEntry
from bot.evaluation import evaluate, load_questions
from bot.faq import Decision, FaqIndex
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def index(knowledge: Knowledge) -> FaqIndex:
    return knowledge.index


@pytest.mark.parametrize(
    ("text", "entry"),
    [
        ("paspor sy ilang di kuching gmn", "paspor-hilang-luar-negeri"),
        ("paspor sy ilang di rumah gmn", "paspor-hilang"),
        ("pasport anak umur 3 thn syaratnya apa", "paspor-anak"),
        ("ditawari kerja online di kamboja jadi admin judi", "bahaya-online-scam"),
        ("agen nyuruh berangkat pake visa turis", "bahaya-visa-turis"),
    ],
)
def test_clear_questions_get_one_confident_answer(index: FaqIndex, text: str, entry: str) -> None:
    match = index.match(text)
    assert match.decision is Decision.ANSWER, match
    assert match.best == entry


@pytest.mark.parametrize("text", ["paspor", "agen", "kerja", "visa"])
def test_a_single_word_is_never_answered_outright(index: FaqIndex, text: str) -> None:
    assert index.match(text).decision is not Decision.ANSWER


@pytest.mark.parametrize(
    "text",
    ["halo", "selamat pagi", "makasih banyak", "wkwkwk", "ok", "", "🙏🙏", "x" * 10_000,
     "resep kue lapis legit", "\x00\x01\x02 \ufffd"],
)
def test_chitchat_and_junk_are_not_in_the_faq(index: FaqIndex, text: str) -> None:
    assert index.match(text).decision is Decision.NONE


@pytest.mark.parametrize(
    "text", ["harga cabai di pasar hari ini", "jadwal bola nanti malam", "sim motor hilang gmn ngurusnya",
             "jam berape sholat jumat"])
def test_near_misses_are_never_answered_outright(index: FaqIndex, text: str) -> None:
    assert index.match(text).decision is not Decision.ANSWER


def test_a_long_message_is_handled_without_error(index: FaqIndex) -> None:
    match = index.match("paspor hilang " * 2000)
    assert match.decision in (Decision.ANSWER, Decision.SUGGEST)


def test_suggestions_are_two_or_three_entries_in_score_order(index: FaqIndex) -> None:
    match = index.match("paspor biaya")
    assert match.decision in (Decision.ANSWER, Decision.SUGGEST)
    if match.decision is Decision.SUGGEST:
        assert 1 <= len(match.candidates) <= 3
        scores = [c.score for c in match.candidates]
        assert scores == sorted(scores, reverse=True)


# Questions of the development set whose right entry changed when issue 12 added entries: ID
# cards, family cards and birth certificates were off-topic and now have their answer (where to
# go: Disdukcapil), and a passport lost abroad has its own entry (SPLP, the way home) beside the
# general one. The set itself is left as written; the new scope is applied here, in the open.


def test_id_card_questions_go_to_disdukcapil_without_a_warning_about_fake_ages(index: FaqIndex,
                                                                              knowledge: Knowledge) -> None:
    for text in ("anak sy blm ada ktp", "KK sy rusak kena air", "akta lahir hilang", "ktp hilang gmn ngurusnya"):
        match = index.match(text)
        assert match.decision is Decision.ANSWER and match.best == "dokumen-kependudukan", (text, match)
    answer = knowledge.content.entry("dokumen-kependudukan").answer
    assert "Disdukcapil" in answer and "dipidana" not in answer and "penjara" not in answer


def test_every_issue12_question_gets_its_entry(index: FaqIndex) -> None:
    """The questions quoted in issue 12 and the audit topics (tests/data/issue12_questions.yaml).

    One question fits two entries' words about equally and gets both offered; every other one is
    answered outright with its entry, and none is answered wrongly.
    """
    offered_only = {"bayar paspor sebelum atau sesudah wawancara"}
    for question in load_questions(ROOT / "tests" / "data" / "issue12_questions.yaml"):
        match = index.match(question.text)
        if question.acceptable is None:
            assert match.decision is not Decision.ANSWER, (question.text, match)
        elif question.text in offered_only:
            assert match.decision is Decision.SUGGEST, (question.text, match)
            assert question.acceptable & {c.entry_id for c in match.candidates}, (question.text, match)
        else:
            assert match.decision is Decision.ANSWER, (question.text, match)
            assert match.best in question.acceptable, (question.text, match)


def test_matcher_holds_its_measured_level_on_the_development_set(index: FaqIndex) -> None:
    """Guards against regressions at the level measured on 2026-11-30, with the issue-12 scope
    above (87.0% / 96.7% / 2.0% / 1.5%); as written, without that scope: 86.1% / 96.0% / 2.6% / 7.1%.

    Unseen questions are measured on tests/data/holdout_questions.yaml; see the README.
    """
    questions = load_questions(ROOT / "tests" / "data" / "dev_questions.yaml")

    def decide(text: str) -> tuple[Decision, list[str]]:
        m = index.match(text)
        return m.decision, [c.entry_id for c in m.candidates]

    figures, _ = evaluate(questions, decide)
    rates = figures.rates()
    assert figures.in_domain >= 6 * 43
    assert rates["answered_correct"] >= 0.85, figures
    assert rates["answered_or_suggested"] >= 0.95, figures
    assert rates["answered_wrong"] <= 0.03, figures
    assert rates["off_topic_answered"] <= 0.05, figures


def test_a_forwarded_message_is_decided_once_and_new_content_decides_afresh(knowledge: Knowledge) -> None:
    text = "agen nyuruh berangkat pake visa turis"
    index = knowledge.index
    first = index.match(text)
    assert index.match(text) is first                       # the same words: the same decision, kept
    without = [e for e in knowledge.content.entries if e.id != "bahaya-visa-turis"]
    reread = FaqIndex(without, knowledge.index.normalizer, index.settings)
    assert reread.match(text).best != "bahaya-visa-turis"   # never answered from the old content
    uncached = FaqIndex(knowledge.content.entries, knowledge.index.normalizer,
                        dataclasses.replace(index.settings, cache_size=0))
    again = uncached.match(text)
    assert again is not uncached.match(text) and again == first


def _planted(entries: Sequence[FaqEntry], size: int, seed: int) -> list[FaqEntry]:
    """The real entries among generated ones: copies of each with words swapped for words of the
    whole content, and mixes of two entries' phrasings (near-ties between different entries)."""
    rng = random.Random(seed)
    pool = [w for e in entries for text in (e.question, *e.phrasings) for w in text.split()]

    def vary(text: str) -> str:
        words = text.split() or ["paspor"]
        for _ in range(2):
            words[rng.randrange(len(words))] = rng.choice(pool)
        i, j = rng.randrange(len(words)), rng.randrange(len(words))
        words[i], words[j] = words[j], words[i]
        return " ".join(words)

    out = list(entries)
    while len(out) < size:
        base, other = rng.choice(entries), rng.choice(entries)
        phrasings = [vary(p) for p in base.phrasings]
        if len(out) % 2:
            phrasings += [vary(p) for p in other.phrasings[: len(other.phrasings) // 2]]
        out.append(dataclasses.replace(base, id=f"{base.id}-g{len(out)}", question=vary(base.question),
                                       phrasings=tuple(phrasings), related=()))
    rng.shuffle(out)
    return out


def test_the_first_stage_never_drops_an_entry_that_belongs_in_the_top(knowledge: Knowledge) -> None:
    """At national size only the phrasings that could change the top three are scored; every
    development question must rank exactly as when every phrasing is scored."""
    grown = _planted(knowledge.content.entries, 3000, seed=15)
    index = FaqIndex(grown, knowledge.index.normalizer,
                     dataclasses.replace(knowledge.index.settings, cache_size=0))
    assert len(index.doc_tokens) > faq._DENSE   # the first stage runs
    questions = load_questions(ROOT / "tests" / "data" / "dev_questions.yaml")
    for q in questions:
        pruned, every = index.rank(q.text), index.rank(q.text, exhaustive=True)
        assert pruned == every, q.text
        assert index.decide(pruned) == index.decide(every), q.text
    # The content checker's leave-one-out takes the same path.
    for doc in range(0, len(index.doc_tokens), 997):
        text = index.doc_texts[doc]
        assert index.rank(text, skip_doc=doc) == index.rank(text, skip_doc=doc, exhaustive=True), text

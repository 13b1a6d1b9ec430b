"""The shipped content loads and passes its own rules; broken content is refused with clear messages."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.app import REQUIRED_MESSAGES, Knowledge
from bot.content import MAX_ANSWER_CHARS, load_content
from bot.errors import ContentError
from tests.conftest import ROOT

REQUIRED_IDS = [
    "paspor-syarat", "paspor-anak", "paspor-mpaspor", "paspor-biaya", "paspor-masa-berlaku",
    "paspor-lama-proses", "paspor-hilang", "paspor-rusak", "paspor-perpanjang",
    "paspor-elektronik", "paspor-wawancara", "paspor-ditolak", "paspor-pmi", "paspor-tempat",
    "paspor-calo", "paspor-data-beda", "kerja-prosedural", "kerja-cek-perusahaan", "kerja-biaya",
    "kerja-visa", "kerja-kontrak", "kerja-bpjs", "kerja-pelatihan", "kerja-malaysia", "kerja-umur",
    "bahaya-ciri", "bahaya-visa-turis", "bahaya-bayar-dulu", "bahaya-gaji-tinggi", "bahaya-medsos",
    "bahaya-dokumen-ditahan", "bahaya-jalur-tikus", "bahaya-online-scam", "bahaya-data-palsu",
    "tppo-pengertian", "tppo-korban", "lapor-cara", "lapor-kerahasiaan", "kontak-darurat",
    "kontak-kantor", "desa-imigrasi", "petugas-pembina",
]


def test_every_required_entry_exists_with_sources_and_a_review_date(knowledge: Knowledge) -> None:
    by_id = knowledge.content.by_id
    assert sorted(set(REQUIRED_IDS) - set(by_id)) == []
    for entry in knowledge.content.entries:
        assert entry.source, entry.id
        assert len(entry.phrasings) >= 6, entry.id
        assert len(entry.answer) <= MAX_ANSWER_CHARS, entry.id


def test_current_passport_fees_are_the_ones_stated(knowledge: Knowledge) -> None:
    answer = knowledge.content.entry("paspor-biaya").answer
    for fee in ("350.000", "650.000", "950.000"):
        assert fee in answer
    assert "2024" in answer  # the date the fees apply from


def test_office_answers_are_filled_from_the_village(knowledge: Knowledge) -> None:
    from bot.villages import find_village, place_of, village_values

    settings = knowledge.settings
    village = find_village(settings, "desa sutera")
    assert village is not None and village.office_id == "KTG"
    text = knowledge.content.entry("kontak-kantor").render(village_values(settings, place_of(village)))
    assert "Ketapang" in text and "{" not in text
    unknown = knowledge.content.entry("kontak-kantor").render(None)
    assert "{" not in unknown


def _copy_content(tmp_path: Path) -> Path:
    target = tmp_path / "content"
    shutil.copytree(ROOT / "content", target)
    return target


def test_malformed_yaml_names_the_file_and_line(tmp_path: Path) -> None:
    content = _copy_content(tmp_path)
    (content / "faq" / "paspor.yaml").write_text("entries:\n  - id: x\n    answer: [unclosed\n")
    with pytest.raises(ContentError) as err:
        load_content(content, REQUIRED_MESSAGES)
    assert "paspor.yaml: not valid YAML at line" in str(err.value)


def test_every_problem_is_reported_at_once_by_file_entry_and_field(tmp_path: Path) -> None:
    content = _copy_content(tmp_path)
    (content / "faq" / "extra.yaml").write_text(
        "entries:\n"
        "  - id: paspor-syarat\n"          # duplicate id
        "    category: lain\n"             # unknown category
        "    question: Apa?\n"
        "    phrasings: [a, b]\n"          # too few
        f"    answer: '{'x' * 950}'\n"      # too long
        "    reviewed: kemarin\n"          # not a date; source missing
        "    related: [tidak-ada]\n"
    )
    with pytest.raises(ContentError) as err:
        load_content(content, REQUIRED_MESSAGES)
    text = str(err.value)
    for expected in (
        "extra.yaml: entries[0] (paspor-syarat): category: 'lain' is not one of",
        "phrasings: 2 given, at least 6 needed",
        "answer: 950 characters, at most 900",
        "source: missing",
        "reviewed: 'kemarin' is not a date",
    ):
        assert expected in text


def test_duplicate_ids_and_dangling_related_are_refused(tmp_path: Path) -> None:
    content = _copy_content(tmp_path)
    paspor = (content / "faq" / "paspor.yaml").read_text()
    (content / "faq" / "copy.yaml").write_text(paspor.replace("related: [", "related: [hilang-entah, "))
    with pytest.raises(ContentError) as err:
        load_content(content, REQUIRED_MESSAGES)
    assert "id: duplicate, also in" in str(err.value)
    assert "related: 'hilang-entah' is not an entry id" in str(err.value)


def test_a_missing_bot_message_is_named(tmp_path: Path) -> None:
    content = _copy_content(tmp_path)
    (content / "messages.yaml").write_text("faq_none: Maaf.\n")
    with pytest.raises(ContentError) as err:
        load_content(content, REQUIRED_MESSAGES)
    assert "messages.yaml: faq_suggest: missing" in str(err.value)

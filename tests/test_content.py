"""The shipped content loads and passes its own rules; broken content is refused with clear messages."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from bot.app import REQUIRED_MESSAGES, Knowledge
from bot.content import MAX_ANSWER_CHARS, load_content
from bot.errors import ContentError
from tests.conftest import ROOT
from tests.databases import database

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
    # issue 12
    "dokumen-kependudukan", "paspor-hilang-luar-negeri", "kantor-jam", "perwakilan-ri",
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


def _run(*args: str, cwd: Path = ROOT, env: dict[str, str] | None = None,
         stdin: str = "") -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "TWILIO_"))}
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=cwd, input=stdin,
                          env={**base, **(env or {})}, capture_output=True, text=True,
                          timeout=120, check=False)


def _with_entry_answer(tmp_path: Path, entry_id: str, old: str, new: str) -> Path:
    content = _copy_content(tmp_path)
    for path in (content / "faq").glob("*.yaml"):
        text = path.read_text()
        if f"id: {entry_id}\n" in text:
            assert old in text
            path.write_text(text.replace(old, new, 1))
    return content


def test_a_fee_or_phone_number_without_its_source_in_facts_is_refused(tmp_path: Path) -> None:
    content = _with_entry_answer(tmp_path, "paspor-biaya", "Paspor 10 tahun hanya",
                                 "Biaya foto Rp75.000, tanya 0812-3456-7890. Paspor 10 tahun hanya")
    with pytest.raises(ContentError) as err:
        load_content(content, REQUIRED_MESSAGES)
    text = str(err.value)
    assert "(paspor-biaya): answer: 'Rp75.000' looks like a fee or phone number but is not in facts" in text
    assert "(paspor-biaya): answer: '0812-3456-7890' looks like a fee or phone number" in text


def test_a_fact_must_be_stated_and_come_from_one_of_the_entrys_sources(tmp_path: Path) -> None:
    content = _copy_content(tmp_path)
    faq = content / "faq" / "paspor.yaml"
    text = faq.read_text()
    old = '      - {number: "Rp0", source: "https://ekonomi.republika.co.id/'
    assert old in text
    text = text.replace(old, '      - {number: "Rp1.234.000", source: "https://contoh.invalid/x"}\n' + old, 1)
    faq.write_text(text)
    with pytest.raises(ContentError) as err:
        load_content(content, REQUIRED_MESSAGES)
    assert "facts[4]: 'Rp1.234.000' is not stated in the answer" in str(err.value)
    assert "facts[4]: source must be one of the entry's sources" in str(err.value)


def test_every_number_villagers_read_is_a_named_fact(knowledge: Knowledge) -> None:
    from bot.content import stated_numbers

    for entry in knowledge.content.entries:
        facts = {f.number.replace(" ", "") for f in entry.facts}
        for text in (entry.answer, entry.answer_no_village or ""):
            for number in stated_numbers(text):
                assert number.replace(" ", "") in facts, (entry.id, number)


def test_check_content_warns_about_an_answer_not_reviewed_for_a_year(tmp_path: Path) -> None:
    content = _copy_content(tmp_path)
    shutil.copy(ROOT / "config.example.yaml", tmp_path / "config.yaml")
    faq = content / "faq" / "kerja.yaml"
    faq.write_text(re.sub(r"reviewed: [\d-]+", "reviewed: 2024-01-15", faq.read_text(), count=1))
    result = _run("check-content", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert ("kerja.yaml (kerja-prosedural): reviewed: 2024-01-15 is more than 12 months ago; "
            "check the answer against its sources again") in result.stdout
    assert "content OK" in result.stdout


def test_unknown_config_values_villagers_need_are_warnings_and_errors_when_strict() -> None:
    line = ("config offices[2].phone: still unknown (empty or GANTI), needed by "
            "content/faq/bantuan.yaml (kontak-kantor) {kantor_telepon} for village(s) "
            "nanga-mahap, semuntai, sungai-kelik, sungai-batu")
    relaxed = _run("check-content")
    assert relaxed.returncode == 0 and f"warning: {line}" in relaxed.stdout
    assert "messages.yaml (faq_none_office) {kantor_telepon}" in relaxed.stdout
    strict = _run("check-content", "--strict")
    assert strict.returncode == 1
    assert f"\n{line}\n" in strict.stdout


def test_a_live_channel_does_not_start_while_villagers_would_need_unknown_values(tmp_path: Path) -> None:
    result = _run("run", "--db", str(database(tmp_path / "bot.sqlite3")), env={"TELEGRAM_BOT_TOKEN": "123:fake"})
    assert result.returncode == 1
    # The shipped config's officers are placeholders: a live bot could alert nobody.
    assert "Not starting: a channel is configured, but no office has an alert chat" in result.stderr
    assert "reports would reach nobody" in result.stderr
    assert "config offices[2].phone: still unknown" in result.stderr
    assert "desa-imigrasi check-content --strict" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "bot.sqlite3").exists()


def test_the_terminal_chat_still_starts_on_the_example_config(tmp_path: Path) -> None:
    with socket.socket() as probe:   # a free port: someone's `make run` may hold 8080
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = _run("run", "--db", str(database(tmp_path / "bot.sqlite3")), stdin="halo\n",
                  env={"PORT": str(port)})
    assert result.returncode == 0, result.stderr
    assert "terminal chat" in result.stderr
    assert "Not starting" not in result.stderr


def test_office_hours_show_only_what_the_config_knows(knowledge: Knowledge) -> None:
    from bot.villages import find_village, place_of, village_values

    entry = knowledge.content.entry("kantor-jam")
    village = find_village(knowledge.settings, "sutera")
    assert village is not None
    text = entry.render(village_values(knowledge.settings, place_of(village)))   # Ketapang: hours unknown
    assert "Kantor Imigrasi Kelas II Non TPI Ketapang" in text
    assert "GANTI" not in text and "Jam layanan:" not in text and "Telepon:" not in text
    known = entry.render({"desa_nama": "Contoh", "kantor_nama": "Kantor Imigrasi Kelas III TPI Putussibau",
                          "kantor_jam": "07.30–16.00 WIB", "kantor_telepon": "(0567) 21231"})
    assert "Jam layanan: 07.30–16.00 WIB" in known and "Telepon: (0567) 21231" in known
    assert "Alamat:" not in known
    assert "07.30–16.00" in (entry.answer_no_village or "")   # the one office hours with a source


def test_an_abroad_entry_that_does_not_exist_is_refused(tmp_path: Path) -> None:
    content = _copy_content(tmp_path)
    paspor = content / "faq" / "paspor.yaml"
    paspor.write_text(paspor.read_text().replace("abroad: paspor-hilang-luar-negeri", "abroad: paspor-di-bulan"))
    with pytest.raises(ContentError) as err:
        load_content(content, REQUIRED_MESSAGES)
    assert "abroad: 'paspor-di-bulan' is not another entry's id" in str(err.value)

"""The editors' commands: ask, check-content and eval, run as a person would run them."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT


def run(*args: str, cwd: Path = ROOT, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=cwd, input=stdin,
                          capture_output=True, text=True, timeout=120, check=False)


def test_ask_shows_the_decision_scores_and_the_answer_as_villagers_see_it() -> None:
    result = run("ask", "brp biaya bikin paspor baru sekarang")
    assert result.returncode == 0, result.stderr
    assert "decision: answer" in result.stdout
    assert "paspor-biaya" in result.stdout
    assert "950.000" in result.stdout
    assert "**" not in result.stdout  # markup is rendered, not shown raw


def test_ask_fills_the_village_office_and_refuses_an_unknown_village() -> None:
    result = run("ask", "alamat kantor imigrasi yg bina desa kami", "--village", "Desa Sutra")
    assert result.returncode == 0, result.stderr
    assert "Ketapang" in result.stdout
    bad = run("ask", "alamat kantor", "--village", "Atlantis")
    assert bad.returncode == 1 and "unknown village" in bad.stderr


def test_ask_handles_empty_emoji_and_junk_without_a_traceback() -> None:
    for text in ("", "🙏🙏🙏", "\x01\x02", "a" * 10_000):
        result = run("ask", text)
        assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr
        assert "decision: none" in result.stdout


def test_ask_reads_one_question_per_line_from_a_pipe() -> None:
    result = run("ask", stdin="paspor hilang di malaysia\nhalo\n")
    assert result.returncode == 0
    assert result.stdout.count("decision:") == 2


def test_check_content_passes_on_the_shipped_content() -> None:
    result = run("check-content")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "content OK" in result.stdout


def test_check_content_fails_with_file_entry_and_field(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "content", tmp_path / "content")
    shutil.copy(ROOT / "config.example.yaml", tmp_path / "config.yaml")
    faq = tmp_path / "content" / "faq" / "paspor.yaml"
    faq.write_text(re.sub(r"reviewed: [\d-]+", "reviewed: besok", faq.read_text(), count=1))
    result = run("check-content", cwd=tmp_path)
    assert result.returncode == 1
    assert "paspor.yaml: entries[0] (paspor-syarat): reviewed: 'besok' is not a date" in result.stderr
    assert "Traceback" not in result.stderr


def test_check_content_flags_a_phrasing_that_belongs_to_another_entry(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "content", tmp_path / "content")
    shutil.copy(ROOT / "config.example.yaml", tmp_path / "config.yaml")
    faq = tmp_path / "content" / "faq" / "paspor.yaml"
    faq.write_text(faq.read_text().replace(
        "    phrasings:\n", "    phrasings:\n      - ditawari kerja jadi admin judi online di kamboja\n", 1))
    result = run("check-content", cwd=tmp_path)
    assert result.returncode == 1
    assert "(paspor-syarat): phrasings[0]: 'ditawari kerja jadi admin judi online di kamboja' " \
           "matches bahaya-online-scam better than its own entry" in result.stdout


def test_a_config_with_a_missing_office_is_one_clear_message(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "content", tmp_path / "content")
    text = (ROOT / "config.example.yaml").read_text().replace("office: KTG", "office: XYZ")
    (tmp_path / "config.yaml").write_text(text)
    result = run("ask", "halo", cwd=tmp_path)
    assert result.returncode == 1
    assert "villages[6].office: 'XYZ' is not the id of an office in offices" in result.stderr
    assert "Traceback" not in result.stderr


def test_eval_json_prints_exactly_one_object_with_the_agreed_fields() -> None:
    result = run("eval", str(ROOT / "tests" / "data" / "dev_questions.yaml"), "--json")
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert set(figures) == {"in_domain", "answered_correct", "answered_wrong", "suggested_correct",
                            "missed", "off_topic", "off_topic_answered", "p50_ms", "p99_ms",
                            "decision_hash"}
    assert figures["in_domain"] == (figures["answered_correct"] + figures["answered_wrong"]
                                    + figures["suggested_correct"] + figures["missed"])


def test_eval_refuses_a_file_with_unknown_ids(tmp_path: Path) -> None:
    path = tmp_path / "q.yaml"
    path.write_text("- {q: halo, id: tidak-ada}\n")
    result = run("eval", str(path))
    assert result.returncode == 1 and "tidak-ada" in result.stderr

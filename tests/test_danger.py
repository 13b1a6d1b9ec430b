"""A person in danger now: recognised before any FAQ answer, help lines at once, an urgent report in one tap."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.app import Knowledge
from bot.danger import DangerDetector
from tests.conftest import ROOT
from tests.fakes import villager
from tests.villagers import SGU_GROUP, Bot, register

DATA = ROOT / "tests" / "data"
# The FAQ entries whose questions are themselves about a person in trouble now: the detector may
# (and should) fire on them. On every other question of the sets it is a false alarm.
VICTIM_ENTRIES = {"tppo-korban", "bahaya-dokumen-ditahan"}


@pytest.fixture(scope="module")
def detector(knowledge: Knowledge) -> DangerDetector:
    return DangerDetector(knowledge.content.danger, knowledge.index.normalizer)


def test_every_emergency_phrasing_is_recognised(detector: DangerDetector) -> None:
    messages = yaml.safe_load((DATA / "emergency_messages.yaml").read_text())
    missed = [m for m in messages if detector.detect(m) is None]
    assert len(messages) >= 15 and missed == []


@pytest.mark.parametrize("name", ["dev_questions.yaml", "holdout_questions.yaml"])
def test_no_false_alarm_on_the_ordinary_questions(detector: DangerDetector, name: str) -> None:
    questions = yaml.safe_load((DATA / name).read_text())
    alarms = [(q["id"], q["q"]) for q in questions if detector.detect(q["q"])]
    false_alarms = [a for a in alarms if not set(a[0] if isinstance(a[0], list) else [a[0]]) & VICTIM_ENTRIES]
    assert false_alarms == []
    assert alarms   # the sets do hold a few people in trouble, and those are recognised


def test_questions_about_the_rules_are_not_alarms(detector: DangerDetector) -> None:
    for question in ("kalau paspor ditahan agen gimana", "apakah boleh majikan pegang paspor",
                     "ciri korban tppo apa aja", "paspor sy ilang di kuching gmn",
                     "kamek takut kene ancam mun melapor", "syarat bawa anak ke malaysia",
                     "sy takut diancam agen kalau lapor", "sy bisa diancam pidana gk kalau pake visa turis"):
        assert detector.detect(question) is None, question


async def test_a_person_confined_gets_help_lines_first_and_sends_an_urgent_report_in_one_tap(bot: Bot) -> None:
    chat = bot.chat(villager())
    await register(chat)
    said = await chat.say("tolong sy dikurung majikan di kuching paspor sy diambil")
    assert "Maksud Anda" not in said and "bahaya" in said
    assert "110" in said and "0-800-1000" in said and "Safe Travel" in said and "KJRI Kuching" in said
    assert "SAPA 129" not in said                                    # no child, no woman named
    done = await chat.tap("Kirim laporan darurat sekarang")
    assert "SGU-2026-0001" in done
    report = await bot.dialogue.store.report_by_case("SGU-2026-0001")
    assert report is not None and report.risk == "tinggi" and "darurat" in report.flags
    assert report.contactable and "dikurung majikan" in report.answers["cerita"]
    alerts = (await bot.deliver()).to(SGU_GROUP)
    assert "Orang dalam bahaya saat ini" in alerts[0] and "dikurung majikan" in alerts[0]
    assert (await bot.deliver()).to("3003")                          # the regional office gets a copy


async def test_a_lost_child_abroad_names_the_help_that_fits_and_is_sent_at_once(bot: Bot) -> None:
    chat = bot.chat(villager())
    await chat.say("halo")
    said = await chat.say("anak sy hilang kontak sdh 2 bulan kerja di kamboja")
    assert "SAPA 129" in said and "+62 21 2924 4800" in said and "Maksud Anda" not in said
    said = await chat.tap("Kirim laporan darurat sekarang")
    # The village is unknown: sent now to the regional office, which sees every office's cases.
    assert "KWL-2026-0001" in said and "Kantor Wilayah" in said
    said = await chat.say("sy di desa semuntai")               # added at once, as the bot said it would be
    assert "ditambahkan ke laporan darurat KWL-2026-0001" in said and "Desa Anda saya catat: Semuntai" in said


async def test_an_urgent_report_with_more_details_asks_for_the_story_not_for_a_recruiter(bot: Bot) -> None:
    chat = bot.chat(villager())
    await register(chat)
    await chat.say("anak sy umur 16 mau dibawa agen ke malaysia besok pagi")
    said = await chat.tap("keterangan lebih lengkap")
    assert "Laporan darurat" in said and "Di bawah 18 tahun: Ya" in said   # read from the first message
    assert "Negara tujuan: Malaysia" in said and "siapa yang dalam bahaya" in said
    await chat.say("agennya Pak Rudi 0812 9999 1111, jemput di simpang jam 5")
    said = await chat.tap("Selesai")
    assert "boleh menghubungi" in said
    await chat.tap("hubungi saya")
    done = await chat.tap("Kirim")
    assert "SGU-2026-0001" in done
    report = await bot.dialogue.store.report_by_case("SGU-2026-0001")
    assert report is not None and {"darurat", "di_bawah_umur"} <= set(report.flags)
    assert "Pak Rudi 0812 9999 1111" in report.answers["cerita"]


async def test_a_missing_daughter_is_never_recorded_as_the_recruiter(bot: Bot) -> None:
    """From the hands-on trial: a mother's detailed emergency report named her daughter first."""
    chat = bot.chat(villager())
    await chat.say("pak anak sy kerja di malaysia udh 3 bulan gak ada kabar, hp nya gak aktif")
    await chat.tap("keterangan lebih lengkap")
    await chat.say("sutera")
    await chat.say("namanya siti aminah umur 22, kerja di kedai makan di miri. berangkat lewat agen pak hendra "
                   "0813 4455 6677")
    await chat.say("terakhir telpon bulan agustus")
    await chat.tap("Selesai")
    await chat.tap("hubungi saya")
    await chat.tap("Kirim")
    report = await bot.dialogue.store.report_by_case("KTG-2026-0001")
    # The daughter is not the recruiter; the agent the words tie the number to is (play test E1).
    assert report is not None and report.recruiter_name == "Pak Hendra"
    assert report.recruiter_phone == "+6281344556677"
    story = report.answers["cerita"]
    for piece in ("gak ada kabar", "siti aminah", "kedai makan di miri", "pak hendra 0813 4455 6677",
                  "bulan agustus"):
        assert piece in story
    alert = (await bot.deliver()).to("-100222")[0]
    assert "Nama: Pak Hendra" in alert and "siti aminah" in alert.split("Cerita:")[1]


def test_every_help_line_names_its_source(knowledge: Knowledge) -> None:
    lines = knowledge.content.danger.lines
    assert lines and all(line.source for line in lines)
    text = Path(ROOT / "content" / "danger.yaml").read_text()
    assert "GANTI" not in text

"""What a villager's own words already say, read as transcripts: the ages, signs and details a report takes."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.conversation.reading import find_company, read_who
from tests.fakes import villager
from tests.villagers import SGU_GROUP, Bot, register


@pytest.mark.parametrize("age", ["umurnya baru 16", "umur 15", "baru 16 thn", "msh 17"])
async def test_an_age_told_in_its_own_message_ticks_under_18_and_makes_the_case_urgent(bot: Bot, age: str) -> None:
    chat = bot.chat(villager())
    await register(chat)
    await chat.say("lapor")
    await chat.say("adek sy dtawarin kerja di restoran di johor")
    await chat.say(age)
    await chat.say("yg nawarin mak ijah, katanya paspor diurus dia smua")
    said = await chat.say("selesai")
    assert "Di bawah 18 tahun: Ya" in said, age
    await chat.tap("Lewati semua")
    await chat.tap("hubungi saya")
    await chat.tap("Kirim")
    alert = (await bot.deliver()).to(SGU_GROUP)[0]
    assert "Risiko: **tinggi**" in alert and "Orang yang direkrut di bawah 18 tahun" in alert
    report = await bot.dialogue.store.report_by_case("SGU-2026-0001")
    assert report is not None and report.risk == "tinggi"
    # A child's case is to be taken up within 4 hours, nights and weekends too, not 3 working days.
    due = bot.dialogue.deadlines.acknowledge_by(report.risk, report.created_at)
    assert due - report.created_at == dt.timedelta(hours=4)


async def test_numbers_that_are_not_ages_tick_nothing(bot: Bot) -> None:
    chat = bot.chat(villager())
    await register(chat)
    await chat.say("lapor")
    await chat.say("suami sy ditawari kerja di malaysia, baru 2 thn kerja di sana katanya")
    await chat.say("umur paspornya 5 tahun")
    said = await chat.say("selesai")
    assert "Di bawah 18 tahun" not in said


async def test_the_long_story_of_a_husband_gone_reads_the_signs_it_tells_and_not_his_children(bot: Bot) -> None:
    chat = bot.chat(villager())
    await register(chat)
    await chat.say("lapor")
    await chat.say("suami sy diajak tetangga kerja di kebun sawit di malaysia, katanya gaji 5 juta sebulan. "
                   "orangnya datang ke rumah, suruh bayar 3 juta dulu.")
    await chat.say("paspornya nanti dipegang sama majikan")
    await chat.say("skrg udh 2 bulan gk ada kabar")
    await chat.say("anak sy 3 masih sekolah, sy bingung pak")
    said = await chat.say("selesai")
    for line in ("Diminta bayar dulu: Ya", "Paspor/KTP ditahan: Ya", "Pekerjaan: kebun atau ladang",
                 "Gaji dijanjikan: 5 juta sebulan", "Dihubungi lewat: Bertemu langsung"):
        assert line in said, line
    assert "Di bawah 18 tahun" not in said                   # her three children at school are not the recruit
    assert "Bagaimana dia menghubungi" not in said            # "came to the house" was the answer


async def test_a_child_still_at_school_is_still_a_child(bot: Bot) -> None:
    chat = bot.chat(villager())
    await register(chat)
    await chat.say("lapor")
    await chat.say("adik sy masih sekolah diajak kerja ke kuching sama calo")
    assert "Di bawah 18 tahun: Ya" in await chat.say("selesai")


def test_nya_after_a_word_is_not_a_name_or_a_company() -> None:
    said = read_who("no wa nya 0813 5221 7788")
    assert said.phone == "+6281352217788" and "nama" not in said.answers
    assert find_company("PT nya PT Sinar Jaya") == "PT Sinar Jaya"
    assert find_company("PT nya") is None

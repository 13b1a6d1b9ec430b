"""What the third hands-on trial found, read as transcripts (see the closing note of issue 11)."""

from __future__ import annotations

from bot.conversation.reading import find_phone
from tests.fakes import villager
from tests.villagers import SGU_OFFICER, Bot, file_report, register


async def test_a_cry_for_help_in_short_messages_is_gathered_and_sent_whole(bot: Bot) -> None:
    chat = bot.chat(villager())
    await register(chat)
    said = await chat.say("tolong")
    assert "Apa yang terjadi" in said and "110" in said
    await chat.say("sy di kurung")
    said = await chat.say("di sibu")
    assert "Tercatat" in said and "Kirim laporan darurat sekarang" in said
    await chat.say("hp mau diambil")
    done = await chat.tap("Kirim laporan darurat sekarang")
    report = await bot.dialogue.store.report_by_case("SGU-2026-0001")
    assert report is not None and "SGU-2026-0001" in done
    for piece in ("tolong", "sy di kurung", "di sibu", "hp mau diambil"):
        assert piece in report.answers["cerita"]


async def test_after_an_urgent_report_the_next_cry_goes_to_that_report_first(bot: Bot) -> None:
    chat = bot.chat(villager())
    await register(chat)
    await chat.say("tolong sy dikurung majikan paspor diambil")
    await chat.tap("Kirim laporan darurat sekarang")
    said = await chat.say("alamatnya di taman sri, sibu. majikan mau pukul sy")
    assert "1. Kirim pesan ini ke petugas (laporan SGU-2026-0001)" in said
    assert "ditambahkan ke laporan SGU-2026-0001" in await chat.say("1")


async def test_an_answer_to_the_officer_goes_to_the_case_even_when_the_faq_knows_the_words(bot: Bot) -> None:
    chat = bot.chat(villager())
    await register(chat)
    await file_report(chat)
    await bot.chat(SGU_OFFICER).say("CATATAN SGU-2026-1 umur anak ibu brp? siapa nama org yg ngajak?")
    said = await chat.say("umurnya 16, yg ngajak namanya bang edi")
    assert "ditambahkan ke laporan SGU-2026-0001" in said


def test_the_reporters_own_number_is_not_the_recruiters() -> None:
    text = ("sy siti dr semuntai, no sy 081355566677. sy ditawari kerja jd pembantu di brunei sm ibu rosa, "
            "no nya 085299988877")
    found = find_phone(text)
    assert found is not None and found[0] == "+6285299988877"


async def test_unpaid_and_held_abroad_in_malay_is_danger_and_months_are_not_a_wage(bot: Bot) -> None:
    chat = bot.chat(villager())
    await register(chat)
    said = await chat.say("kamek kerja kat ladang di bintulu, gaji sik dibayar 4 bulan, passport kena pegang "
                          "towkay, nak balik")
    assert "bahaya" in said and "KP2MI" in said
    await chat.tap("keterangan lebih lengkap")
    data = (await bot.dialogue.store.conversation(chat.sender)).data
    assert "gaji" not in data["answers"]


async def test_small_things_from_the_third_trial(bot: Bot) -> None:
    chat = bot.chat(villager())
    await chat.say("halo")
    assert "Pilih topik" in await chat.say("dua")                       # "dua" is 2
    assert "Sama-sama" in await chat.say("terima kasih banyak pak")
    assert "desa mana" in await chat.say("eh jadi deh, mau lapor")   # the report starts: its village first
    other = bot.chat(villager(2))
    await other.say("halo")
    await other.say("SGU-2026-0001")
    said = await other.say("sy lupa kodenya")
    assert "Tanpa kode cek" in said
    reporter = bot.chat(villager(3))
    await register(reporter)
    await file_report(reporter)
    assert "Riwayat" in await bot.chat(SGU_OFFICER).say("SGU-2026-1")  # a case number alone, from an officer

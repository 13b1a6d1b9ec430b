"""A report and an offer check typed the way villagers type (round three of the play tests of 2026-11-30)."""

from __future__ import annotations

import pytest

from tests.fakes import Chat, villager
from tests.villagers import SGU_GROUP, Bot, register


async def _state(bot: Bot, chat: Chat) -> str:
    return (await bot.dialogue.store.conversation(chat.sender)).state


async def _to_contact_question(chat: Chat) -> str:
    await chat.say("lapor")
    await chat.say("ada tawaran kerja di restoran")
    await chat.say("selesai")
    await chat.say("lewati")
    await chat.say("malaysia")
    await chat.say("wa")
    return await chat.say("tidak ada")


# N14 ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("typed", ["gk usah", "gak usah", "ga usah", "tidak usah", "nggak", "gak", "tidak"])
async def test_no_at_the_contact_question_is_an_anonymous_report_never_a_cancel(bot: Bot, typed: str) -> None:
    chat = bot.chat(villager())
    await register(chat)
    assert "boleh menghubungi" in await _to_contact_question(chat)
    said = await chat.say(typed)
    assert "Dibatalkan" not in said
    assert "Ringkasan laporan Anda" in said and "Anonim" in said
    said = await chat.say("kirim")
    assert "tercatat dengan nomor SGU-" in said and "Kode cek" in said
    assert "LAPORAN BARU" in (await bot.deliver()).to(SGU_GROUP)[-1]


async def test_gk_usah_at_another_question_of_the_report_asks_before_anything_is_thrown_away(bot: Bot) -> None:
    chat = bot.chat(villager())
    await register(chat)
    await chat.say("lapor")
    await chat.say("ada tawaran kerja di restoran")
    await chat.say("selesai")
    said = await chat.say("gk usah")                                  # at "who offered it?"
    assert "Dibatalkan" not in said and "Laporan Anda belum dikirim" in said
    said = await chat.say("lanjutkan laporan")
    assert "Siapa yang menawarkan" in said


# N19 ------------------------------------------------------------------------------------------
async def test_a_frightened_gk_jd_deh_is_asked_and_told_the_anonymous_way_not_added_to_the_story(bot: Bot) -> None:
    chat = bot.chat(villager())
    await register(chat)
    await chat.say("lapor")
    await chat.say("ada tetangga ditawari kerja di brunei")
    said = await chat.say("eh gk jd deh, takut salah")
    assert "Tercatat" not in said and "Dibatalkan" not in said
    assert "anonim" in said and "Laporan Anda belum dikirim" in said
    said = await chat.say("lanjutkan laporan")
    said = await chat.say("selesai")
    said = await chat.say("lewati")
    said = await chat.say("kirim")
    said = await chat.say("anonim")
    assert "ada tetangga ditawari kerja di brunei" in said
    assert "takut salah" not in said


async def test_jadi_deh_lapor_aja_right_after_a_cancel_brings_the_story_back(bot: Bot) -> None:
    chat = bot.chat(villager())
    await register(chat)
    await chat.say("lapor")
    await chat.say("ada tetangga ditawari kerja di brunei")
    said = await chat.say("gk jadi")
    assert "Dibatalkan" in said
    said = await chat.say("eh jadi deh, lapor aja")
    assert "Ceritakan apa yang terjadi" not in said
    assert "batalkan" in said.lower()
    said = await chat.tap("Lanjutkan laporan itu")
    assert "ada tetangga ditawari kerja di brunei" in said
    said = await chat.say("selesai")
    assert "Siapa yang menawarkan" in said


async def test_a_cancelled_report_is_let_go_once_the_villager_does_something_else(bot: Bot) -> None:
    chat = bot.chat(villager())
    await register(chat)
    await chat.say("lapor")
    await chat.say("ada tetangga ditawari kerja di brunei")
    await chat.say("batal")
    said = await chat.say("halo")
    assert "Lanjutkan laporan" not in said
    said = await chat.say("lapor")
    assert "Ceritakan apa yang terjadi" in said and "batalkan" not in said


# N20 ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("when", ["story", "checklist"])
async def test_fear_of_being_known_is_answered_aside_and_not_sent_to_the_officer(bot: Bot, when: str) -> None:
    chat = bot.chat(villager())
    await register(chat)
    await chat.say("lapor")
    await chat.say("ada yg nawarin kerja di kuching, minta bayar 3jt")
    if when == "checklist":
        await chat.say("selesai")
        await chat.say("lewati")
        await chat.say("wa")
    said = await chat.say("sy takut nanti agennya tau sy yg lapor 😟")
    assert "anonim" in said and "Tercatat" not in said and "saya catat" not in said
    assert "Selesai" in said if when == "story" else "Mana yang terjadi" in said
    if when == "story":
        await chat.say("selesai")
        await chat.say("lewati")
        await chat.say("wa")
    await chat.say("selesai")
    said = await chat.say("anonim")
    assert "takut" not in said
    await chat.say("kirim")
    assert "takut" not in (await bot.deliver()).to(SGU_GROUP)[-1]


# N18 ------------------------------------------------------------------------------------------
async def test_an_offer_check_with_work_on_a_plb_is_a_danger_sign(bot: Bot) -> None:
    chat = bot.chat(villager())
    await register(chat)
    await chat.say("cek tawaran")
    await chat.say("serikin")
    await chat.say("kawan kampung")
    await chat.say("pake plb aja katanya")
    said = await chat.say("6")
    assert "tidak ada tanda bahaya" not in said and "risiko rendah" not in said
    assert "PLB" in said and "tidak untuk bekerja" in said


async def test_a_report_story_of_work_on_a_plb_carries_the_sign_to_the_officer(bot: Bot) -> None:
    chat = bot.chat(villager())
    await register(chat)
    await chat.say("lapor")
    await chat.say("suami ditawari kerja kebun di serikin, katanya cukup pakai plb")
    await chat.say("selesai")
    await chat.say("lewati")
    await chat.say("langsung")
    await chat.say("tidak ada")
    said = await chat.say("anonim")
    assert "PLB" in said
    await chat.say("kirim")
    assert "PLB" in (await bot.deliver()).to(SGU_GROUP)[-1].split("Perekrut:")[0]


# R1-small -------------------------------------------------------------------------------------
async def test_no_passport_needed_is_summarised_as_said_not_as_a_crossing_by_jalan_tikus(bot: Bot) -> None:
    chat = bot.chat(villager())
    await register(chat)
    await chat.say("lapor")
    await chat.say("ada yg nawarin kerja di kuching, katanya gk perlu paspor")
    await chat.say("selesai")
    await chat.say("lewati")
    await chat.say("wa")
    await chat.say("selesai")
    said = await chat.say("anonim")
    assert "jalan tikus" not in said.split("Anonim:")[0]
    assert "tidak perlu paspor" in said


# Small ----------------------------------------------------------------------------------------
async def test_batal_in_an_offer_check_does_not_speak_of_a_report(bot: Bot) -> None:
    chat = bot.chat(villager())
    await register(chat)
    await chat.say("cek tawaran")
    said = await chat.say("batal")
    assert "dibatalkan" in said and "Laporan tidak dikirim" not in said


async def test_udah_at_how_he_got_in_touch_moves_on(bot: Bot) -> None:
    chat = bot.chat(villager())
    await register(chat)
    await chat.say("lapor")
    await chat.say("ada yg nawarin kerja di kuching")
    await chat.say("selesai")
    await chat.say("lewati")
    said = await chat.say("udah")
    assert "belum paham" not in said and "Mana yang terjadi" in said


async def test_contact_by_phone_or_whatsapp_is_not_called_social_media(bot: Bot) -> None:
    chat = bot.chat(villager())
    await register(chat)
    await chat.say("cek tawaran")
    await chat.say("malaysia")
    await chat.say("4")
    said = await chat.say("6")
    assert "media sosial" not in said


async def test_a_sign_taken_off_in_an_offer_check_is_taken_off_the_check_not_a_report(bot: Bot) -> None:
    chat = bot.chat(villager())
    await register(chat)
    await chat.say("cek tawaran")
    await chat.say("malaysia")
    await chat.say("kawan kampung")
    await chat.say("adik sy umur 16")                            # at the checklist: under 18 ticked
    said = await chat.say("bukan anak2, yg dibawah 18 itu salah")
    assert '"Di bawah 18 tahun" saya hapus dari cek tawaran ini' in said and "dari laporan" not in said


async def test_dont_know_his_name_only_the_pt_is_not_a_name(bot: Bot) -> None:
    """Play test round 4: the officer's alert said 'Nama: Ya' ('namanya' read as 'nama' + 'nya')."""
    chat = bot.chat(villager())
    await register(chat)
    await chat.say("lapor")
    await chat.say("ada PT Maju Jaya nawarin kerja di pabrik kuching gaji 5jt")
    await chat.tap("Selesai")
    said = await chat.say("gatau namanya, cuma tau pt nya")     # at "Bagaimana dia menghubungi"
    assert "Nama perekrut: Ya" not in said


async def test_a_name_then_what_is_not_known_keeps_the_name(bot: Bot) -> None:
    """Play test round 4: 'tante ani, no hp gk tau' at 'who offered it' was dropped as 'don't know'."""
    chat = bot.chat(villager())
    await register(chat)
    await chat.say("lapor")
    await chat.say("ada yg nawarin kerja di kuching")
    await chat.tap("Selesai")
    await chat.say("tante ani, no hp gk tau")                   # at "Siapa yang menawarkan?"
    await chat.say("wa")
    await chat.say("tidak ada")
    said = await chat.say("iya")
    assert "Nama perekrut: Tante Ani" in said and "Tante Ani Gk" not in said


async def test_numbers_then_words_at_the_checklist_pick_and_keep_the_words(bot: Bot) -> None:
    """Play test round 4: '5 ponakan sy baru 16' went into the story and the list was asked again."""
    chat = bot.chat(villager())
    await register(chat)
    await chat.say("lapor")
    await chat.say("ada yg nawarin kerja di kuching")
    await chat.tap("Selesai")
    await chat.say("lewati")
    await chat.say("wa")
    said = await chat.say("5 ponakan sy baru 16")
    assert "Apakah petugas boleh menghubungi Anda" in said and "Mana yang terjadi" not in said
    said = await chat.say("iya")
    assert "Di bawah 18 tahun: Ya" in said and "ponakan sy baru 16" in said


async def test_a_count_at_the_checklist_is_not_an_option_number(bot: Bot) -> None:
    """Review: '3 orang teman sy juga diajak' ticked the third sign (passport held)."""
    chat = bot.chat(villager())
    await register(chat)
    await chat.say("lapor")
    await chat.say("ada yg nawarin kerja di kuching")
    await chat.tap("Selesai")
    await chat.say("lewati")
    await chat.say("wa")
    said = await chat.say("3 orang teman sy juga diajak, katanya bayar 5 juta")
    assert "Mana yang terjadi" in said or "Ada lagi" in said          # still at the checklist
    said = await chat.say("tidak ada")
    said = await chat.say("iya")
    assert "Paspor/KTP ditahan: Ya" not in said and "3 orang teman sy juga diajak" in said


async def test_laporkan_aja_after_telling_of_an_offer_takes_that_message_as_the_story(bot: Bot) -> None:
    """Play test round 5: typed instead of tapped, 'laporkan aja' started an empty report."""
    chat = bot.chat(villager())
    await chat.say("no ini resmi gk? 0812 9999 0000 ngaku dr PT Sinar Jaya")
    await chat.say("laporkan aja")
    said = await chat.say("semuntai")                             # the village first, then the report
    assert "Telepon perekrut: 0812 9999 0000" in said and "PT Sinar Jaya" in said

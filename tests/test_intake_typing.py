"""A report typed the way villagers type (round two of the play tests of 2026-11-30), read as transcripts."""

from __future__ import annotations

import pytest

from tests.fakes import Chat, villager
from tests.villagers import SGU_GROUP, Bot, register


async def _answers(bot: Bot, chat: Chat) -> dict[str, str]:
    return dict((await bot.dialogue.store.conversation(chat.sender)).data.get("answers") or {})


async def _state(bot: Bot, chat: Chat) -> tuple[str, str | None]:
    conv = await bot.dialogue.store.conversation(chat.sender)
    return conv.state, conv.data.get("step")


async def _to_contact_question(chat: Chat) -> str:
    await chat.say("lapor")
    await chat.say("ada yg nawarin kerja di kebun sawit di malaysia")
    await chat.say("selesai")
    return await chat.say("pak budi 0812 3456 7890")


# R1 -------------------------------------------------------------------------------------------
async def test_an_offer_check_hears_no_passport_needed_as_a_danger_sign(bot: Bot) -> None:
    chat = bot.chat(villager())
    await register(chat)
    await chat.say("cek tawaran")
    said = await chat.say("gk perlu paspor katanya")            # at "which country?"
    assert "Kerjanya di negara mana" in said                      # not taken as the country
    assert "itu saya catat" in said and "laporan" not in said     # a check sends no report
    assert "negara" not in await _answers(bot, chat)
    await chat.say("kuching")
    said = await chat.say("gk perlu paspor")                      # at "how did he contact you?"
    assert "Bagaimana dia menghubungi" in said
    assert "kontak" not in await _answers(bot, chat)              # not "Lainnya" ("gk" is no way of contact)
    said = await chat.say("lewati semua")
    assert "risiko tinggi" in said and "Lewat jalur tidak resmi" in said


async def test_no_passport_needed_typed_at_the_checklist_ticks_the_crossing_sign(bot: Bot) -> None:
    chat = bot.chat(villager())
    await register(chat)
    await chat.say("cek tawaran")
    await chat.say("malaysia")
    await chat.say("wa")
    said = await chat.say("gak usah bikin paspor katanya")
    assert "✓ Menyeberang lewat jalan tikus" in said
    assert "risiko tinggi" in await chat.say("selesai")


async def test_no_passport_needed_at_who_offered_it_is_a_sign_not_a_name(bot: Bot) -> None:
    chat = bot.chat(villager())
    await register(chat)
    await chat.say("lapor")
    await chat.say("ada yg nawarin kerja di malaysia")
    await chat.say("selesai")
    said = await chat.say("gk perlu paspor")
    assert "Siapa yang menawarkan" in said                         # asked again
    answers = await _answers(bot, chat)
    # the crossing sign, worded as told (round three, R1-small)
    assert "nama" not in answers and answers["perbatasan"] == "tanpa_paspor"


# R2 -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("typed", ["org yg dtg ke rumah", "orangnya datang ke rumah", "dia dtg kerumah"])
async def test_someone_who_came_to_the_house_was_met_in_person(bot: Bot, typed: str) -> None:
    chat = bot.chat(villager())
    await register(chat)
    assert "Bagaimana dia menghubungi" in await _to_contact_question(chat)
    said = await chat.say(typed)
    assert "Mana yang terjadi" in said                            # on to the next question
    assert (await _answers(bot, chat))["kontak"] == "langsung"


async def test_a_story_that_says_he_came_to_the_house_is_not_asked_how_he_got_in_touch(bot: Bot) -> None:
    chat = bot.chat(villager())
    await register(chat)
    await chat.say("lapor")
    await chat.say("org yg dtg ke rumah pak budi 0812 3456 7890, nawarin kerja di kuching")
    said = await chat.say("selesai")
    assert "Dihubungi lewat: Bertemu langsung" in said and "Bagaimana dia menghubungi" not in said


# R3 -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("typed", "next_question"), [
    ("kirim", "petugas boleh menghubungi"), ("lanjut", "Mana yang terjadi"),
    ("skip", "Mana yang terjadi"), ("gatau", "Mana yang terjadi"),
    ("kirim aja", "petugas boleh menghubungi"), ("lewatin semua", "petugas boleh menghubungi"),
    ("lanjut aja pak", "Mana yang terjadi")])
async def test_a_villager_can_move_on_from_how_he_got_in_touch(bot: Bot, typed: str, next_question: str) -> None:
    chat = bot.chat(villager())
    await register(chat)
    await _to_contact_question(chat)
    said = await chat.say(typed)
    assert "belum paham" not in said and next_question in said
    assert "kontak" not in await _answers(bot, chat)


async def test_kirim_or_lanjut_at_who_offered_it_is_no_name(bot: Bot) -> None:
    chat = bot.chat(villager())
    await register(chat)
    await chat.say("lapor")
    await chat.say("ada yg nawarin kerja di malaysia")
    assert "Siapa yang menawarkan" in await chat.say("selesai")
    said = await chat.say("lanjut")
    assert "Bagaimana dia menghubungi" in said and "nama" not in await _answers(bot, chat)
    await chat.say("kembali")
    said = await chat.say("kirim")
    assert "petugas boleh menghubungi" in said and "nama" not in await _answers(bot, chat)


# R4 -------------------------------------------------------------------------------------------
async def test_boleh_at_the_checklist_is_asked_again_plainly_and_records_nothing(bot: Bot) -> None:
    chat = bot.chat(villager())
    await register(chat)
    await _to_contact_question(chat)
    await chat.say("wa")
    said = await chat.say("boleh")
    assert "Silakan" in said and "Mana yang terjadi" in said
    assert await _state(bot, chat) == ("report", "checklist")
    said = await chat.say("1")
    assert "petugas boleh menghubungi" in said and (await _answers(bot, chat))["bayar"] == "ya"


async def test_boleh_at_the_checklist_after_signs_from_the_story_does_not_close_it(bot: Bot) -> None:
    chat = bot.chat(villager())
    await register(chat)
    await chat.say("lapor")
    await chat.say("pak budi 0812 3456 7890 nawarin kerja di malaysia, suruh bayar 3 juta dulu")
    await chat.say("selesai")
    said = await chat.say("wa")
    assert "✓ Diminta membayar" in said
    said = await chat.say("boleh")
    assert "Silakan" in said and "Selesai, itu saja" in said
    assert await _state(bot, chat) == ("report", "checklist")     # not taken as "that is all"


# R5 -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("typed", ["lewati semua, lanjut kirim", "Lewati semua lanjut kirim", "lanjut kirim"])
async def test_the_label_of_skip_all_typed_chooses_it_and_is_not_the_story(bot: Bot, typed: str) -> None:
    chat = bot.chat(villager())
    await register(chat)
    await chat.say("lapor")
    await chat.say("ada yg nawarin kerja di malaysia")
    await chat.say("selesai")
    said = await chat.say(typed)                                   # at "who offered it?"
    assert "petugas boleh menghubungi" in said
    data = (await bot.dialogue.store.conversation(chat.sender)).data
    assert data["story"] == ["ada yg nawarin kerja di malaysia"] and "nama" not in data["answers"]


async def test_labels_typed_at_the_country_and_the_checklist_choose_their_options(bot: Bot) -> None:
    chat = bot.chat(villager())
    await register(chat)
    await chat.say("cek tawaran")
    said = await chat.say("lewati semua, lihat hasilnya")          # typed at "which country?"
    assert "Hasil cek tawaran" in said
    await chat.say("menu")
    await chat.say("lapor")
    await chat.say("ada yg nawarin kerja")
    await chat.say("selesai")
    await chat.say("lewati")
    await chat.say("lewati")
    await chat.say("whatsapp atau telepon")
    said = await chat.say("diminta membayar uang dulu")            # most of the first sign's label
    assert "petugas boleh menghubungi" in said
    answers = await _answers(bot, chat)
    assert answers["bayar"] == "ya" and answers["kontak"] == "whatsapp" and "negara" not in answers


# R6 -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("when", ["in the story", "after the story"])
async def test_a_number_taken_back_is_marked_wrong_in_the_story_the_officer_reads(bot: Bot, when: str) -> None:
    chat = bot.chat(villager())
    await register(chat)
    await chat.say("lapor")
    await chat.say("ada agen pak budi 0812 3456 7890 nawarin kerja di malaysia")
    if when == "in the story":
        await chat.say("eh bkn 0812 3456 7890, nomornya 0821 1111 2222")
        await chat.say("selesai")
    else:
        await chat.say("selesai")
        await chat.say("eh bkn 0812 3456 7890, nomornya 0821 1111 2222")
    await chat.say("wa")
    await chat.say("tidak ada")
    await chat.say("boleh")
    await chat.say("kirim")
    alert = (await bot.deliver()).to(SGU_GROUP)[0]
    assert "Telepon: +6282111112222" in alert
    story = alert.split("Cerita:", 1)[1]
    assert "0812 3456 7890 (nomor ini salah, sudah diralat pelapor) nawarin" in story
    report = await bot.dialogue.store.report_by_case("SGU-2026-0001")
    assert report is not None and report.recruiter_phone == "+6282111112222"


# R7 -------------------------------------------------------------------------------------------
async def _summary_with_a_child(chat: Chat) -> str:
    await chat.say("lapor")
    await chat.say("adik sy umur 16 ditawari kerja di malaysia sama pak budi 0812 3456 7890")
    await chat.say("selesai")
    await chat.say("wa")
    await chat.say("tidak ada")
    return await chat.say("boleh")


@pytest.mark.parametrize("route", [(), ("ubah",), ("ubah", "Tanda bahaya")])
async def test_a_child_sign_said_wrong_is_taken_off_after_ubah_too(bot: Bot, route: tuple[str, ...]) -> None:
    chat = bot.chat(villager())
    await register(chat)
    assert "Di bawah 18 tahun: Ya" in await _summary_with_a_child(chat)
    for step in route:
        await (chat.tap(step) if step[0].isupper() else chat.say(step))
    said = await chat.say("bukan anak2, yg dibawah 18 itu salah")
    assert '"Di bawah 18 tahun" saya hapus' in said
    if route and route[-1] == "Tanda bahaya":
        said = await chat.tap("Tidak ada")                         # no sign left ticked: that is all
    assert "Di bawah 18 tahun: Tidak" in said
    await chat.tap("Kirim")
    alert = (await bot.deliver()).to(SGU_GROUP)[0]
    assert "di bawah 18 tahun" not in alert.split("Perekrut:")[0]
    story = alert.split("Cerita:", 1)[1]
    assert "itu salah" not in story                                # a correction, not a piece of the story


async def test_a_crossing_told_with_bukan_is_not_taken_off(bot: Bot) -> None:
    chat = bot.chat(villager())
    await register(chat)
    await chat.say("lapor")
    await chat.say("pak budi 0812 3456 7890 ngajak kerja di kuching lewat jalan tikus")
    await chat.say("selesai")
    await chat.say("wa")
    said = await chat.say("iya lewat jalan tikus, bukan pos resmi")
    assert "saya hapus" not in said
    assert (await _answers(bot, chat))["perbatasan"] == "tidak_resmi"


"""Outside any flow, read as transcripts: a way to a person, thanks, voice notes, screenshots, numbers."""

from __future__ import annotations

from bot.models import Media
from bot.store import Conversation
from tests.fakes import villager
from tests.villagers import Bot, file_report, register


async def test_asking_for_a_person_gives_the_office_and_never_a_placeholder(bot: Bot) -> None:
    chat = bot.chat(villager())
    said = await chat.say("mau bicara dengan petugas")
    assert "menulis pesan untuk petugas" in said and "www.imigrasi.go.id" in said and "GANTI" not in said
    assert "0-800-1000" in said                                  # KP2MI, from the help lines' source
    said = await chat.say("sutera")                             # the village asked at once
    assert "Kantor Imigrasi Kelas II Non TPI Ketapang" in said and "GANTI" not in said
    assert "Alamat:" not in said and "Telepon:" not in said     # unknown in config: left out, not shown


async def test_my_village_shows_no_placeholder_for_an_unknown_officer(bot: Bot) -> None:
    chat = bot.chat(villager())
    await register(chat)                                          # Semuntai: its PIMPASA is not known
    said = await chat.say("desa saya")
    assert "Semuntai" in said and "Sanggau" in said
    assert "GANTI" not in said and "Petugas pembina desa" not in said
    sutera = bot.chat(villager(2))
    await register(sutera, "sutera")
    assert "Petugas pembina desa: Umar Akib" in await sutera.say("desa saya")


async def test_thanks_and_emoji_are_answered_kindly(bot: Bot) -> None:
    chat = bot.chat(villager())
    await chat.say("halo")
    for typed in ("👍", "terimakasih bah", "makasih ya pak", "tq"):
        said = await chat.say(typed)
        assert "Sama-sama" in said and "belum punya jawaban" not in said, typed


async def test_a_voice_note_is_not_understood_but_can_become_a_report(bot: Bot) -> None:
    chat = bot.chat(villager())
    await register(chat)
    said = await chat.say("", media=(Media("voice-1", "audio/ogg"),))
    assert "belum bisa mendengarkan" in said and "Foto dan lampiran hanya" not in said
    said = await chat.tap("Laporkan ke petugas")
    assert "Ceritakan" in said                                    # a story typed is still welcome
    await chat.tap("Selesai")
    await chat.tap("Lewati semua")
    await chat.tap("hubungi saya")
    await chat.tap("Kirim")
    report = await bot.dialogue.store.report_by_case("SGU-2026-0001")
    assert report is not None and report.media == ("audio:voice-1",)


async def test_a_voice_note_in_a_report_joins_it(bot: Bot) -> None:
    chat = bot.chat(villager())
    await register(chat)
    await chat.say("lapor")
    assert "(jumlah: 1)" in await chat.say("", media=(Media("voice-2", "audio/ogg"),))
    data = (await bot.dialogue.store.conversation(chat.sender)).data
    assert data["media"] == ["audio:voice-2"]


async def test_a_screenshot_with_a_question_is_offered_a_check_or_a_report(bot: Bot) -> None:
    chat = bot.chat(villager())
    await register(chat)
    said = await chat.say("ini iklan nya pak aman kah", media=(Media("shot-1", "image/jpeg"),))
    assert "Cek apakah tawaran ini aman" in said and "Laporkan ke petugas dengan lampiran ini" in said
    said = await chat.tap("Cek apakah")
    assert "negara" in said.lower()
    other = bot.chat(villager(2))
    await register(other)
    await other.say("ini iklan nya pak aman kah", media=(Media("shot-2", "image/jpeg"),))
    await other.tap("Laporkan")
    data = (await bot.dialogue.store.conversation(other.sender)).data
    assert data["media"] == ["shot-2"] and data["story"] == ["ini iklan nya pak aman kah"]


async def test_ya_to_a_single_suggestion_opens_it(bot: Bot) -> None:
    chat = bot.chat(villager())
    await chat.say("halo")
    await bot.dialogue.store.save_conversation(chat.sender, Conversation("menu", {"options": [
        ["Berapa biaya resmi membuat paspor?", "faq:paspor-biaya"], ["Menu utama", "menu"]]}), bot.clock())
    said = await chat.say("iya")
    assert "Rp" in said and "Menu utama. Balas" not in said
    said = await chat.say("sy mau tanya")
    assert "Silakan tulis pertanyaan" in said
    said = await chat.say("ya")                                   # only the menu is offered: not a pick
    assert "Silakan tulis pertanyaan" not in said


async def test_numbers_after_a_report_or_deleting_data_still_mean_the_menu(bot: Bot) -> None:
    chat = bot.chat(villager())
    await register(chat)
    await file_report(chat)
    assert "Menu utama" in await chat.say("0")
    assert "Pilih topik" in await chat.say("2")
    await chat.say("hapus data")
    said = await chat.tap("Ya, hapus")
    assert "sudah dihapus" in said and "1. Tanya tentang paspor" in said
    assert "Pilih topik" in await chat.say("2")


async def test_options_are_set_apart_from_numbered_steps(bot: Bot) -> None:
    said = await bot.chat(villager()).say("syarat bikin paspor")
    steps, _, options = said.rpartition("────────────")
    assert "1." in steps and options.strip().startswith("1. ")


async def test_a_lone_word_and_suggestions_always_leave_a_way_back(bot: Bot) -> None:
    chat = bot.chat(villager())
    await chat.say("halo")
    assert "Menu utama. Balas" in await chat.say("pak")
    said = await chat.say("paspor")
    assert "Maksud Anda" in said and said.rstrip().endswith("Menu utama")


async def test_saying_where_one_is_abroad_after_the_lost_passport_answer_gets_the_consulate_answer(
        bot: Bot) -> None:
    chat = bot.chat(villager())
    await register(chat)
    said = await chat.say("paspor sy hilang")
    assert "Jika paspor hilang di Indonesia" in said
    said = await chat.say("sy skrg msh di kuching")
    assert said.startswith("Jika paspor hilang atau dicuri di luar negeri") and "SPLP" in said
    assert "Maksud Anda" not in said
    # Without the lost passport just before, the same words are no such follow-up.
    other = bot.chat(villager(2))
    await register(other)
    await other.say("brp biaya bikin paspor?")
    assert "di luar negeri" not in (await other.say("sy skrg msh di kuching")).split("────────────")[0]

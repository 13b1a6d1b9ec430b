"""Which village a villager lives in, read as transcripts: listed villages, and every other one."""

from __future__ import annotations

from bot.routing import console_officer
from tests.fakes import villager
from tests.villagers import Bot


async def test_a_village_not_in_the_list_is_asked_its_kabupaten_and_can_report(bot: Bot) -> None:
    chat = bot.chat(villager())
    await chat.say("halo")
    said = await chat.say("sy mau lapor")
    assert "desa mana" in said and "Sambas" in said and "Bengkayang" in said   # all 14 kabupaten/kota
    said = await chat.say("temajuk")
    assert 'Desa "temajuk" belum termasuk Desa Imigrasi' in said and "kabupaten mana" in said
    said = await chat.tap("Sambas")
    assert "Kantor Imigrasi Kelas II TPI Sambas" in said and "Ceritakan" in said
    await chat.say("ada org nawarin kerja kebun di sarawak lewat jalan tikus")
    await chat.tap("Selesai")
    await chat.tap("Lewati semua")
    await chat.tap("hubungi saya")
    done = await chat.tap("Kirim")
    assert "SBS-2026-0001" in done
    report = await bot.dialogue.store.report_by_case("SBS-2026-0001")
    assert report is not None and report.village_id == "" and report.office_id == "SBS"
    assert report.place == {"name": "Temajuk", "kecamatan": "", "kabupaten": "Sambas", "office_id": "SBS",
                            "village_id": None}
    detail = await bot.chat(console_officer("SBS")).say("KASUS SBS-2026-1")
    assert "Temajuk (di luar daftar Desa Imigrasi)" in detail and "Kabupaten: Sambas" in detail


async def test_typing_the_kabupaten_or_a_kecamatan_instead_of_the_village_is_understood(bot: Bot) -> None:
    chat = bot.chat(villager())
    await chat.say("halo")
    await chat.tap("Desa saya")
    said = await chat.say("Sanggau")
    assert "Semuntai" in said and "Sungai Batu" in said and "tidak ada di daftar" in said
    said = await chat.tap("tidak ada di daftar")
    assert "Desa Anda di Kabupaten Sanggau apa namanya" in said
    said = await chat.say("Sei Tekam")
    # Kab. Sanggau is served by two offices: the kecamatan decides which.
    assert "kecamatan" in said.lower() and "Sekayam" in said
    said = await chat.tap("Sekayam")
    assert "Sei Tekam" in said and "Entikong" in said
    other = bot.chat(villager(2))
    await other.say("halo")
    await other.tap("Desa saya")
    said = await other.say("kec sekayam")
    assert "Bungkang" in said                                    # the villages of that kecamatan
    said = await other.say("Lubuk Sabuk")
    assert "Lubuk Sabuk" in said and "Entikong" in said          # the kecamatan was already known


async def test_short_forms_of_village_names_are_understood(bot: Bot) -> None:
    for n, typed, expected in ((1, "sei batu", "Sungai Batu"), (2, "Ds. Semuntai", "Semuntai"),
                               (3, "desa sg kelik", "Sungai Kelik"), (4, "nga mahap", "Nanga Mahap")):
        chat = bot.chat(villager(n))
        await chat.say("halo")
        await chat.tap("Desa saya")
        assert f"Desa Anda tercatat {expected}." in await chat.say(typed)


async def test_a_kabupaten_typed_wrong_is_asked_again_with_the_list(bot: Bot) -> None:
    chat = bot.chat(villager())
    await chat.say("halo")
    await chat.tap("Desa saya")
    await chat.say("Kampung Baru Jaya")
    said = await chat.say("atlantis")
    assert 'Kabupaten "atlantis" tidak saya kenal' in said and "Sintang" in said
    said = await chat.say("kab sintang")
    assert "Kampung Baru Jaya" in said and "Sanggau" in said     # Sintang is served by Kanim Sanggau


async def test_a_village_removed_from_the_config_mid_report_is_asked_again_and_nothing_is_lost(
        bot: Bot) -> None:
    from dataclasses import replace

    from bot.conversation import Dialogue
    chat = bot.chat(villager())
    await chat.say("halo")
    await chat.tap("Desa saya")
    await chat.say("semuntai")
    await chat.say("lapor")
    await chat.say("Pak Budi 0812 3456 7890 ajak kerja ke Brunei")
    await chat.tap("Selesai")
    await chat.tap("WhatsApp")
    await chat.say("tidak ada")
    await chat.tap("hubungi saya")
    settings = bot.dialogue.settings
    fewer = replace(settings, villages=tuple(v for v in settings.villages if v.id != "semuntai"))
    # The office edited its config and restarted: the same store, a new dialogue.
    chat.dialogue = Dialogue(fewer, bot.dialogue.content, bot.dialogue.index, bot.dialogue.store, bot.clock)
    said = await chat.tap("Kirim")
    assert "desa mana" in said
    said = await chat.say("sungai batu")
    assert "Ringkasan laporan" in said and "Pak Budi" in said and "Brunei" in said
    assert "SGU-2026-0001" in await chat.tap("Kirim")


async def test_a_question_or_a_story_is_never_recorded_as_a_village(bot: Bot) -> None:
    """From the hands-on trial: "sabtu buka gak" and a whole story were once saved as place names."""
    chat = bot.chat(villager())
    await chat.say("kantor imigrasi buka jam brp")
    said = await chat.say("sabtu buka gak?")                     # a question while the village is asked
    assert "belum termasuk Desa Imigrasi" not in said and "desa mana" not in said.split("\n")[0]
    reporter = bot.chat(villager(2))
    await reporter.say("lapor")
    await reporter.say("sanggau")
    await reporter.tap("tidak ada di daftar")
    said = await reporter.say("ada calo di pasar nawarin kerja ke malaysia tiap minggu")
    assert "saya simpan untuk laporan" in said
    said = await reporter.say("sy di sei tekam")
    assert "kecamatan" in said.lower()
    said = await reporter.say("gatau")
    assert "Desa Anda tercatat Sei Tekam" in said and "Tambah cerita" in said   # the story waited
    data = (await bot.dialogue.store.conversation(reporter.sender)).data
    assert data["story"] == ["ada calo di pasar nawarin kerja ke malaysia tiap minggu"]


async def test_dont_know_the_village_name_still_reaches_an_office(bot: Bot) -> None:
    chat = bot.chat(villager())
    await chat.say("halo")
    await chat.tap("Desa saya")
    said = await chat.say("gak tau")
    assert "kabupaten mana" in said
    said = await chat.say("sambas")
    assert "Anda tercatat di Kabupaten Sambas" in said and "Sambas" in said

"""What the second hands-on trial found, read as transcripts (see the closing note of issue 11)."""

from __future__ import annotations

from tests.fakes import villager
from tests.villagers import SGU_OFFICER, Bot, file_report, register


async def test_an_urgent_report_is_sent_even_when_neither_village_nor_kabupaten_is_known(bot: Bot) -> None:
    chat = bot.chat(villager())
    await chat.say("adek sy dibawa org ke malaysia gak pamit, umur 15")
    said = await chat.tap("Kirim laporan darurat sekarang")
    assert "Kantor Wilayah" in said and "KWL-2026-0001" in said
    report = await bot.dialogue.store.report_by_case("KWL-2026-0001")
    assert report is not None and "darurat" in report.flags
    assert (await bot.deliver()).to("3003")                      # the regional office's officer


async def test_a_child_named_in_a_report_is_never_the_recruiter(bot: Bot) -> None:
    chat = bot.chat(villager())
    await register(chat)
    said = await chat.say("lapor, anak sy namanya siti aminah umur 17 dibawa agen ke serawak, "
                          "hp agen 081345678901")
    assert "bahaya" in said                                      # a child taken by an agent: danger first
    said = await chat.tap("keterangan lebih lengkap")
    assert "Siti Aminah" not in said.split("Dari cerita Anda")[-1].split("\n\n")[0]
    other = bot.chat(villager(2))
    await register(other)
    await other.say("lapor")
    await other.say("istri sy namanya sri wahyuni diajak kerja ke bintulu sama agen pak joko 0812 1111 2222")
    said = await other.tap("Selesai")
    assert "Nama perekrut: Pak Joko" in said and "Sri Wahyuni" not in said.split("Bila ada")[0]


async def test_a_reporter_answers_the_officer_and_it_reaches_the_case(bot: Bot) -> None:
    reporter = bot.chat(villager())
    await register(reporter)
    await file_report(reporter)
    await bot.chat(SGU_OFFICER).say("CATATAN SGU-2026-1 ibu, bisa kirim nomor hp anak ibu?")
    said = await reporter.say("ini pak nomornya 0821 5566 7788")   # the officer asked: no detour
    assert "sudah ditambahkan ke laporan SGU-2026-0001" in said
    alerts = [o.text for o in (await bot.deliver()).sent if "Tambahan dari pelapor" in o.text]
    assert alerts and "0821 5566 7788" in alerts[0]
    events = await bot.dialogue.store.case_events(1)
    assert [e.kind for e in events][-1] == "tambahan"


async def test_a_story_typed_at_who_offered_it_is_kept(bot: Bot) -> None:
    chat = bot.chat(villager())
    await register(chat)
    await chat.say("lapor")
    await chat.say("lewati")
    said = await chat.say("ada yg tawarin kerja di malaysia lewat fb, gaji 8jt, suruh berangkat lewat jalan tikus")
    assert "saya catat di cerita" in said
    data = (await bot.dialogue.store.conversation(chat.sender)).data
    assert data["answers"]["perbatasan"] == "tidak_resmi" and data["answers"]["negara"] == "Malaysia"
    assert "sy gak tau" not in str(data)
    said = await chat.say("sy gak tau namanya pak")
    assert "Nama perekrut: Pak" not in said


async def test_asking_for_a_person_then_giving_the_village_shows_the_person(bot: Bot) -> None:
    chat = bot.chat(villager())
    await chat.say("mau ngomong sama petugas")
    said = await chat.say("sutera")                               # the village is asked at once
    assert "Petugas imigrasi untuk desa Anda ada di" in said and "Umar Akib" in said


async def test_a_question_at_the_village_prompt_is_not_a_village(bot: Bot) -> None:
    chat = bot.chat(villager())
    await chat.say("halo")
    await chat.tap("Desa saya")
    said = await chat.say("sabtu buka gak")
    assert "belum termasuk Desa Imigrasi" not in said and "Sabtu Buka" not in said


async def test_the_signs_with_sama_and_the_code_with_a_space(bot: Bot) -> None:
    chat = bot.chat(villager())
    await register(chat)
    await chat.say("lapor")
    await chat.say("Pak Edi 0812 5656 7878 ajak kerja ke Malaysia")
    await chat.tap("Selesai")
    await chat.tap("WhatsApp")
    assert "boleh menghubungi" in await chat.say("1 sama 3")
    await chat.tap("anonim")
    done = await chat.tap("Kirim")
    code = done.split("Kode cek Anda: ")[1][:6]
    await chat.say("cek laporan")
    await chat.tap("Saya punya nomor")
    await chat.say("SGU-2026-0001")
    assert "diterima" in await chat.say(f"{code[:3]} {code[3:]}")


async def test_an_officer_picks_a_case_from_the_list_by_its_number(bot: Bot) -> None:
    for n in (1, 2):
        chat = bot.chat(villager(n))
        await register(chat)
        await file_report(chat, phone=f"0812-3456-789{n}")
    officer = bot.chat(SGU_OFFICER)
    said = await officer.say("KASUS")
    assert "1. SGU-2026-0001" in said and "2. SGU-2026-0002" in said
    detail = await officer.say("2")
    assert "SGU-2026-0002" in detail and "Riwayat" in detail

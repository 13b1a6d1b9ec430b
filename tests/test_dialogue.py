"""Conversations with the bot, read as transcripts: villager says, bot answers, officer gets."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from bot.app import Knowledge, build_dialogue
from bot.models import Channel, Media
from bot.store import Store
from tests.conftest import ROOT
from tests.databases import LOCKED, database, locked, wait_briefly_for_locks
from tests.fakes import Chat, villager
from tests.villagers import KTG_OFFICER, REGIONAL, SGU_GROUP, SGU_OFFICER, Bot, file_report, register


async def test_first_contact_greets_explains_and_shows_the_menu(bot: Bot) -> None:
    said = await bot.chat(villager()).say("halo")
    assert "Selamat datang" in said and "kantor imigrasi" in said
    assert "1. Tanya tentang paspor" in said and "4. Laporkan tawaran mencurigakan" in said


async def test_menu_and_cancel_work_from_the_middle_of_a_report(bot: Bot) -> None:
    chat = bot.chat(villager())
    await register(chat)
    assert "ceritakan" in (await chat.say("lapor")).lower()
    await chat.say("agen dari PT Sinar mau bawa orang ke Sabah")
    assert "belum dikirim" in await chat.say("menu")
    said = await chat.tap("Simpan dulu")
    assert "Menu utama" in said and "Lanjutkan laporan yang belum selesai" in said
    assert "belum selesai" in await chat.say("lapor")
    assert "Tambah cerita" in await chat.tap("Lanjutkan laporan itu")
    said = await chat.say("gak jadi deh")
    assert "Dibatalkan" in said and "Menu utama" in said
    assert "Lanjutkan laporan" not in said
    assert not (await bot.deliver()).sent


async def test_a_clear_question_gets_the_answer_and_related_topics(bot: Bot) -> None:
    said = await bot.chat(villager()).say("paspor sy ilang di kuching gmn")
    assert "polisi" in said.lower()
    assert "Menu utama" in said   # the last option
    assert said.count("\n1. ") >= 1


async def test_suggestions_are_picked_by_number(bot: Bot) -> None:
    chat = bot.chat(villager())
    said = await chat.say("paspor")
    assert "Maksud Anda:" in said
    first_option = chat.last[-1].options[0]
    await chat.say("1")
    assert chat.last[0].text == bot.dialogue.content.entry(first_option.payload[4:]).answer


async def test_unknown_question_gets_the_office_contact_and_is_kept_without_identity(bot: Bot) -> None:
    chat = bot.chat(villager("whatsapp:+6281299990000", Channel.WHATSAPP))
    await register(chat, "desa sutera")
    said = await chat.say("resep kue lapis legit 081299990000")
    assert "belum punya jawaban" in said
    assert "Kantor Imigrasi Kelas II Non TPI Ketapang" in said
    rows = await bot.dialogue.store.unanswered()
    assert rows and rows[0][2] == 1
    stored = " ".join(str(v) for row in rows for v in row)
    assert "6281299990000" not in stored and "081299990000" not in stored


async def test_a_stranger_without_village_gets_the_general_help(bot: Bot) -> None:
    said = await bot.chat(villager()).say("jadwal kapal ke jakarta besok")
    assert "nomor bantuan" in said


async def test_village_typed_with_typos_or_picked_from_the_list(bot: Bot) -> None:
    typed = bot.chat(villager(1))
    await typed.say("halo")
    await typed.tap("Desa saya")
    assert "kabupaten mana" in await typed.say("Atlantis")
    assert "Sungai Kelik" in await typed.say("ds sei kelikk")     # a typo, and the short form of Sungai
    picked = bot.chat(villager(2))
    await picked.say("halo")
    await picked.tap("Desa saya")
    await picked.tap("Sanggau")
    said = await picked.tap("Bungkang")
    assert "Bungkang" in said and "Entikong" in said
    assert "Bungkang" in await picked.say("kontak kantor imigrasi yg bina desa sy")


async def test_office_answer_asks_for_the_village_when_it_is_unknown(bot: Bot) -> None:
    chat = bot.chat(villager())
    said = await chat.say("alamat kantor imigrasi yg bina desa kami")
    assert "desa mana" in said
    said = await chat.say("Malenggang")
    assert "Entikong" in said


async def test_a_full_contactable_report_reaches_the_office_group_with_flags(bot: Bot) -> None:
    chat = bot.chat(villager())
    await register(chat)
    done = await file_report(chat)
    assert "SGU-2026-0001" in done and "110" in done
    assert "visa turis" in done.lower()   # advice that fits the flags, not a verdict
    sent = await bot.deliver()
    alert = sent.to(SGU_GROUP)[0]
    assert "SGU-2026-0001" in alert and "Semuntai" in alert and "Risiko: **tinggi**" in alert
    assert "+6281234567890" in alert and "PT Maju Jaya" in alert
    assert "boleh dihubungi" in alert and str(500001) in alert
    # High risk: the regional office gets a copy.
    assert sent.to("3003")


async def test_an_anonymous_report_carries_no_trace_of_the_reporter(bot: Bot) -> None:
    chat = bot.chat(villager(7))
    await register(chat)
    await file_report(chat, anonymous=True, visa="kerja")
    alert = (await bot.deliver()).to(SGU_GROUP)[0]
    assert "anonim" in alert and "500007" not in alert
    report = await bot.dialogue.store.report_by_case("SGU-2026-0001")
    assert report is not None and report.reporter_key is None
    async with bot.dialogue.store.db.execute("SELECT * FROM reports") as cur:
        rows = await cur.fetchall()
    assert "500007" not in repr(rows)


async def test_back_goes_to_the_previous_question_and_skip_leaves_it_empty(bot: Bot) -> None:
    chat = bot.chat(villager())
    await register(chat)
    assert "ceritakan" in (await chat.say("lapor")).lower()
    assert "siapa yang menawarkan" in (await chat.say("lewati")).lower()
    assert "ceritakan" in (await chat.say("kembali")).lower()
    await chat.say("Pak Ali menawarkan kerja kebun")
    assert "negara" in (await chat.tap("Selesai")).lower()       # the name came from the story


async def test_a_restart_in_the_middle_of_a_report_continues_where_it_was(desk: Knowledge, tmp_path: Path) -> None:
    path = tmp_path / "restart.sqlite3"
    async with Store.open(database(path)) as store:
        chat = Chat(build_dialogue(desk, store), villager())
        await register(chat)
        await chat.say("lapor")
        await chat.say("Pak Budi 0812 3456 7890 mau bawa orang kerja ke Brunei")
    async with Store.open(database(path)) as store:   # the process started again
        chat = Chat(build_dialogue(desk, store), villager())
        said = await chat.say("selesai")
        assert "Pak Budi" in said and "Brunei" in said         # read from the story before the restart
        assert "menghubungi" in said.lower()


async def test_officer_acknowledges_notes_and_closes_while_the_reporter_is_told(bot: Bot) -> None:
    reporter = bot.chat(villager())
    await register(reporter)
    await file_report(reporter)
    officer = bot.chat(SGU_OFFICER)
    assert "SGU-2026-0001" in await officer.say("/kasus")
    assert "DITANGANI" in await officer.say("TANGANI SGU-2026-0001")
    assert "prompt" not in await officer.say("", payload="case:catatan:SGU-2026-0001")
    assert "tersimpan" in await officer.say("Mohon datang ke kantor hari Senin.")
    assert "DITUTUP" in await officer.say("tutup sgu-2026-0001 perekrut sudah diperiksa")
    updates = (await bot.deliver()).to("500001")
    assert any("sedang ditangani" in u for u in updates)
    assert any("hari Senin" in u for u in updates)
    assert any("perekrut sudah diperiksa" in u for u in updates)
    status = await reporter.say("", payload="menu:status")
    assert "SGU-2026-0001" in status and "selesai" in status and "hari Senin" in status
    events = await bot.dialogue.store.case_events(1)
    assert [e.kind for e in events] == ["ditangani", "catatan", "ditutup"]
    assert all(e.actor == "Petugas Sanggau" for e in events)


async def test_another_office_and_villagers_are_refused_and_nothing_changes(bot: Bot) -> None:
    reporter = bot.chat(villager())
    await register(reporter)
    await file_report(reporter)
    other = bot.chat(KTG_OFFICER)
    assert "bukan kantor Anda" in await other.say("TANGANI SGU-2026-0001")
    assert "SGU-2026-0001" not in await other.say("KASUS")
    assert "bukan kantor Anda" in await other.say("", payload="case:tutup:SGU-2026-0001")
    stranger = bot.chat(villager(99))
    assert "hanya untuk petugas" in await stranger.say("TUTUP SGU-2026-0001 selesai")
    assert "hanya untuk petugas" in await stranger.say("", payload="case:tangani:SGU-2026-0001")
    report = await bot.dialogue.store.report_by_case("SGU-2026-0001")
    assert report is not None and report.status == "baru"
    # The regional office sees every office's cases.
    assert "SGU-2026-0001" in await bot.chat(REGIONAL).say("kasus")


async def test_a_recruiter_active_in_two_villages_is_linked_at_once(bot: Bot) -> None:
    first = bot.chat(villager(1))
    await register(first, "semuntai")                      # Sanggau office
    await file_report(first, phone="0812-3456-7890")
    second = bot.chat(villager(2))
    await register(second, "sutera")                       # Ketapang office
    await file_report(second, name="budi", phone="+62 812 3456 7890", company="CV Lain")
    sent = await bot.deliver()
    alert = sent.to("-100222")[0]
    assert "KTG-2026-0001" in alert and "1 laporan: SGU-2026-0001" in alert


async def test_check_an_offer_then_turn_it_into_a_report_without_answering_again(bot: Bot) -> None:
    chat = bot.chat(villager())
    await register(chat)
    await chat.say("", payload="menu:check")
    await chat.say("Kamboja")
    await chat.tap("Facebook")
    said = await chat.say("1 2 3 4")     # pay, tourist visa, documents held, jalan tikus
    assert "risiko **tinggi**" not in said and "tingkat risiko tinggi" in said
    assert "kerja online" in said.lower() or "kamboja" in said.lower()
    assert bot.telegram.sent == []
    said = await chat.tap("Jadikan laporan")
    assert "ceritakan" in said.lower()
    await chat.say("Ibu Sari 0813 1111 2222 ajak kerja admin")
    after = await chat.tap("Selesai")   # who, country, contact and signs are known already
    assert "boleh menghubungi" in after.lower()
    summary = await chat.tap("hubungi saya")
    assert "Kamboja" in summary and "Facebook" in summary and "Sari" in summary


async def test_deleting_my_data_keeps_the_report_for_the_office_without_me(bot: Bot) -> None:
    chat = bot.chat(villager())
    await register(chat)
    await file_report(chat)
    assert "Hapus data Anda?" in await chat.say("hapus data")
    assert "sudah dihapus" in await chat.tap("Ya, hapus")
    report = await bot.dialogue.store.report_by_case("SGU-2026-0001")
    assert report is not None and report.reporter_key is None and not report.contactable
    assert (await bot.dialogue.store.profile(villager())).village_id is None
    for table in ("profiles", "conversations"):   # not even the number is kept
        async with bot.dialogue.store.db.execute(
                f"SELECT count(*) FROM {table} WHERE sender_key = ?", (villager().key,)) as cur:
            assert (await cur.fetchone()) == (0,), table
    assert "Belum ada laporan" in await chat.say("", payload="menu:status")


async def test_bad_input_anywhere_gets_a_clear_reply_and_keeps_the_state(bot: Bot) -> None:
    chat = bot.chat(villager())
    await register(chat)
    await chat.say("lapor")
    assert "terlalu panjang" in await chat.say("x" * 10_000)
    await chat.say("selesai")
    assert "tulis nama" in (await chat.say("Pasti")).lower()       # not a name, a number or a company
    assert "negara" in (await chat.say("Pak Budi (0812) 3456-7890 PT X")).lower()
    await chat.say("Malaysia")
    assert "tidak ada" in await chat.say("9")           # only 6 options under the contact question
    assert "belum paham" in await chat.say("🙏🙏")
    assert "nomor-nomornya" in (await chat.say("2")).lower()  # Facebook; the flow went on


async def test_empty_emoji_and_huge_messages_outside_a_flow(bot: Bot) -> None:
    chat = bot.chat(villager())
    await chat.say("halo")
    assert "tulisan" in await chat.say("")
    said = await chat.say("😀😀😀")                              # no words: the menu, not "no answer"
    assert "Ada yang bisa saya bantu?" in said and "1. Tanya tentang paspor" in said
    assert "terlalu panjang" in await chat.say("a" * 10_000)
    assert "tidak ada" in await chat.say("42")


async def test_photos_are_attached_to_the_report_and_counted_in_the_alert(bot: Bot) -> None:
    chat = bot.chat(villager())
    await register(chat)
    await chat.say("lapor")
    assert "(jumlah: 1)" in await chat.say("", media=(Media("photo-file-1", "image/jpeg"),))
    await chat.say("", media=(Media("photo-file-2", "image/jpeg"),))
    await chat.tap("Selesai")
    await chat.tap("Lewati semua")
    await chat.tap("anonim")
    await chat.tap("Kirim")
    report = await bot.dialogue.store.report_by_case("SGU-2026-0001")
    assert report is not None and report.media == ("photo-file-1", "photo-file-2")
    assert "Lampiran: 2" in (await bot.deliver()).to(SGU_GROUP)[0]


async def test_a_redelivered_message_changes_nothing(bot: Bot) -> None:
    chat = bot.chat(villager())
    assert await chat.say("halo", message_id="tg-77")
    assert await chat.say("halo", message_id="tg-77") == ""


async def test_two_hundred_villagers_interleaved_keep_their_own_state(bot: Bot) -> None:
    chats = [bot.chat(villager(i)) for i in range(200)]
    await asyncio.gather(*(c.say("halo") for c in chats))
    await asyncio.gather(*(c.say("", payload="menu:report") for c in chats))
    await asyncio.gather(*(c.say(["semuntai", "sutera"][i % 2]) for i, c in enumerate(chats)))
    replies = await asyncio.gather(*(c.say(f"Perekrut {i}") for i, c in enumerate(chats)))
    assert all("Tercatat" in r for r in replies)
    for i in (0, 57, 199):
        conv = await bot.dialogue.store.conversation(villager(i))
        assert conv.data["story"] == [f"Perekrut {i}"]
        profile = await bot.dialogue.store.profile(villager(i))
        assert profile.village_id == ["semuntai", "sutera"][i % 2]


async def test_a_locked_database_gets_an_apology_not_a_crash(bot: Bot, tmp_path: Path) -> None:
    await wait_briefly_for_locks(bot.dialogue.store)
    with locked(tmp_path / "bot.sqlite3"), pytest.raises(LOCKED):
        await bot.chat(villager()).say("halo")
    assert "Selamat datang" in await bot.chat(villager()).say("halo")


def test_the_core_imports_no_channel_library() -> None:
    import subprocess
    code = ("import sys, bot.conversation, bot.store, bot.outbox, bot.casework, bot.faq;"
            "print([m for m in ('telegram', 'twilio', 'aiohttp') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"


async def test_a_flood_from_one_sender_is_limited_politely_while_others_are_unaffected(
        desk: Knowledge, tmp_path: Path) -> None:
    from dataclasses import replace
    strict = Knowledge(replace(desk.settings, rate_limit_messages=3, rate_limit_burst=3), desk.content,
                       desk.index)
    async with Store.open(database(tmp_path / "flood.sqlite3")) as store:
        dialogue = build_dialogue(strict, store)
        flooder, neighbour = Chat(dialogue, villager(1)), Chat(dialogue, villager(2))
        for _ in range(3):
            assert await flooder.say("halo")
        assert "Mohon tunggu" in await flooder.say("halo")
        assert await flooder.say("halo") == ""          # one polite reply, not one per message
        assert "Menu utama" in await neighbour.say("halo")


async def test_retention_and_deletion_leave_no_copy_of_the_reporter_in_sent_alerts(bot: Bot) -> None:
    import datetime as dt
    chat = bot.chat(villager(42))
    await register(chat)
    await file_report(chat)
    await bot.deliver()
    store = bot.dialogue.store
    async with store.db.execute("SELECT text FROM outbox WHERE kind = 'alert'") as cur:
        assert "500042" in " ".join(r[0] for r in await cur.fetchall())
    assert await store.anonymise_reports_before(bot.clock() - dt.timedelta(days=1)) == 0
    assert await store.anonymise_reports_before(bot.clock() + dt.timedelta(seconds=1)) == 1
    report = await store.report_by_case("SGU-2026-0001")
    assert report is not None and report.reporter_key is None and not report.contactable
    async with store.db.execute("SELECT text FROM outbox") as cur:
        assert "500042" not in " ".join(r[0] for r in await cur.fetchall())


async def test_an_officer_asked_for_an_outcome_can_still_cancel(bot: Bot) -> None:
    reporter = bot.chat(villager())
    await register(reporter)
    await file_report(reporter)
    officer = bot.chat(SGU_OFFICER)
    assert "Tulis hasil" in await officer.say("", payload="case:tutup:SGU-2026-0001")
    assert "Dibatalkan" in await officer.say("batal")
    report = await bot.dialogue.store.report_by_case("SGU-2026-0001")
    assert report is not None and report.status == "baru"
    # A refused button leaves no half-open prompt behind.
    other = bot.chat(KTG_OFFICER)
    await other.say("", payload="case:catatan:SGU-2026-0001")
    assert (await bot.dialogue.store.conversation(KTG_OFFICER)).state == "menu"


async def test_several_officers_acknowledging_tell_the_reporter_once(bot: Bot) -> None:
    reporter = bot.chat(villager())
    await register(reporter)
    await file_report(reporter)
    officer = bot.chat(SGU_OFFICER)
    for _ in range(3):
        assert "DITANGANI" in await officer.say("", payload="case:tangani:SGU-2026-0001")
    updates = [t for t in (await bot.deliver()).to("500001") if "sedang ditangani" in t]
    assert len(updates) == 1


async def test_two_villagers_sending_at_the_same_moment_both_get_their_case(bot: Bot) -> None:
    chats = [bot.chat(villager(i)) for i in (1, 2)]
    for chat in chats:
        await register(chat)
    for chat in chats:
        await chat.say("lapor")
        await chat.tap("Selesai")
        await chat.tap("Lewati semua")
        await chat.tap("anonim")
    done = await asyncio.gather(*(c.say("", payload="report:send") for c in chats),
                                bot.outbox.deliver_due())
    assert {"SGU-2026-0001", "SGU-2026-0002"} == {
        n for text in done[:2] for n in ("SGU-2026-0001", "SGU-2026-0002") if n in text}


async def test_a_photo_after_the_story_still_joins_the_report_and_zero_is_the_menu(bot: Bot) -> None:
    chat = bot.chat(villager())
    await register(chat)
    await chat.say("lapor")
    await chat.say("Dia minta uang.")
    await chat.tap("Selesai")
    await chat.tap("Lewati semua")
    assert "(jumlah: 1)" in await chat.say("", media=(Media("late-photo", "image/jpeg"),))
    await chat.tap("anonim")
    await chat.tap("Kirim")
    report = await bot.dialogue.store.report_by_case("SGU-2026-0001")
    assert report is not None and report.media == ("late-photo",)
    await chat.tap("Menu utama")
    await chat.say("2")
    assert "Menu utama" in await chat.say("0")


async def test_phone_numbers_never_reach_the_unanswered_list(bot: Bot) -> None:
    await bot.chat(villager()).say("resep kue lapis 0812 3456 7890 atau +62-812-3456-7890")
    stored = repr(await bot.dialogue.store.unanswered())
    assert "3456" not in stored and "7890" not in stored


async def test_a_message_of_spaces_only_is_called_empty_not_a_message_without_text(bot: Bot) -> None:
    chat = bot.chat(villager())
    await register(chat)
    said = await chat.say("   ")
    assert "kosong" in said and "hanya bisa membaca pesan tulisan" not in said
    assert "Menu utama" in said
    said = await chat.say("")                                             # a sticker: no text at all
    assert "hanya bisa membaca pesan tulisan" in said

"""The officers' side in chat, read as transcripts: typed option numbers, help, headings, links."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
import yaml

from bot.app import Knowledge, build_knowledge
from bot.routing import console_officer
from tests.conftest import ROOT
from tests.fakes import villager
from tests.faults_rigs import SGU_WA, Desk, case_in, wa_file_report
from tests.villagers import KTG_OFFICER, REGIONAL, SGU_GROUP, SGU_OFFICER, Bot, file_report, open_bot, register


async def test_an_officer_on_whatsapp_answers_an_alert_with_its_option_number(channels: Desk) -> None:
    officer = channels.wa_chat(SGU_WA)
    await officer.say("KASUS")                                   # inside the 24-hour window
    case_no = case_in(await wa_file_report(channels.wa_chat("whatsapp:+6281200000101")))
    await channels.outbox.deliver_due()
    [alert] = [m["Body"] for m in channels.twilio.to(SGU_WA) if case_no in m.get("Body", "")]
    assert "1. Tangani" in alert
    assert "DITANGANI" in await officer.say("1")
    report = await channels.store.report_by_case(case_no)
    assert report is not None and report.status == "ditangani"


async def test_bantuan_gives_an_officer_the_officer_help(bot: Bot) -> None:
    said = await bot.chat(SGU_OFFICER).say("bantuan")
    assert "TANGANI <nomor>" in said and "SGU-2026-1" in said and "Tanya tentang paspor" not in said
    assert "Menu utama" in await bot.chat(SGU_OFFICER).say("menu")   # officers may still ask the FAQ


async def test_a_closed_case_is_not_headed_as_new_and_short_case_numbers_work(bot: Bot) -> None:
    reporter = bot.chat(villager())
    await register(reporter)
    await file_report(reporter)
    officer = bot.chat(SGU_OFFICER)
    assert "LAPORAN BARU SGU-2026-0001" in await officer.say("kasus sgu-2026-1")
    await officer.say("TUTUP SGU-2026-01 selesai diperiksa")
    await officer.tap("Ya, tutup kasus")              # nobody had acknowledged it: asked first
    detail = await officer.say("KASUS SGU-2026-1")
    assert "LAPORAN SGU-2026-0001" in detail and "BARU" not in detail and "selesai" in detail


async def test_a_repeat_recruiter_link_names_the_office_that_holds_the_other_case(bot: Bot) -> None:
    first = bot.chat(villager(1))
    await register(first, "semuntai")
    await file_report(first)
    second = bot.chat(villager(2))
    await register(second, "sutera")
    await file_report(second, name="Pak Budi", phone="+62 812 3456 7890", company="CV Lain")
    detail = await bot.chat(KTG_OFFICER).say("KASUS KTG-2026-1")
    assert "SGU-2026-0001 (Kantor Imigrasi Kelas II TPI Sanggau)" in detail


async def test_an_officer_whose_name_is_unknown_is_shown_as_the_office(tmp_path: Path) -> None:
    data = yaml.safe_load((ROOT / "config.example.yaml").read_text())
    data["content_dir"] = str(ROOT / "content")
    data["limits"] = {"messages_per_minute": 1000, "burst": 1000}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    async with open_bot(build_knowledge(path, {}), tmp_path) as plain:
        reporter = plain.chat(villager())
        await register(reporter)
        await file_report(reporter)
        said = await plain.chat(console_officer("SGU")).say("TANGANI SGU-2026-1")
        assert "oleh petugas Kantor Imigrasi Kelas II TPI Sanggau" in said and "GANTI" not in said
        updates = [o.text for o in (await plain.deliver()).sent if o.kind == "status"]
        assert updates and all("GANTI" not in u for u in updates)


async def test_a_command_without_a_case_number_lists_the_cases_to_pick(bot: Bot) -> None:
    reporter = bot.chat(villager())
    await register(reporter)
    await file_report(reporter)
    said = await bot.chat(SGU_OFFICER).say("TANGANI")
    assert "Tulis juga nomor kasusnya" in said and "SGU-2026-0001" in said
    said = await bot.chat(SGU_OFFICER).say("1")                          # the case listed as 1
    assert "SGU-2026-0001" in said and "Perintah petugas" not in said


async def test_a_stray_digit_at_the_outcome_prompt_does_not_close_the_case(bot: Bot) -> None:
    """From the play test: "3" (Tutup) under the alert, then a stray "7", closed a high-risk case."""
    reporter = bot.chat(villager())
    await register(reporter)
    await file_report(reporter)
    officer = bot.chat(SGU_OFFICER)
    await officer.say("TANGANI SGU-2026-1")
    said = await officer.say("", payload="case:tutup:SGU-2026-0001")        # "3" under the alert
    assert "Tulis hasil penanganan kasus SGU-2026-0001" in said
    for stray in ("7", "ok", "selesai", "👍"):
        said = await officer.say(stray)
        assert "belum ditutup" in said and "terlalu singkat" in said and "DITUTUP" not in said
    said = await officer.say("perekrut sudah diperiksa polisi")
    assert "DITUTUP" in said
    updates = [u for u in (await bot.deliver()).to("500001") if "selesai ditangani" in u]
    assert len(updates) == 1 and "perekrut sudah diperiksa polisi" in updates[0]


async def test_a_stray_digit_is_not_sent_to_the_reporter_as_a_note(bot: Bot) -> None:
    reporter = bot.chat(villager())
    await register(reporter)
    await file_report(reporter)
    officer = bot.chat(SGU_OFFICER)
    await officer.say("", payload="case:catatan:SGU-2026-0001")
    assert "Catatan belum dikirim" in await officer.say("2")
    assert "tersimpan dan dikirim" in await officer.say("Mohon datang ke kantor hari Senin.")
    notes = [u for u in (await bot.deliver()).to("500001") if "Pesan petugas" in u]
    assert len(notes) == 1 and "Senin" in notes[0]


async def test_closing_a_case_nobody_acknowledged_asks_first(bot: Bot) -> None:
    reporter = bot.chat(villager())
    await register(reporter)
    await file_report(reporter)
    officer = bot.chat(SGU_OFFICER)
    said = await officer.say("TUTUP SGU-2026-1 laporan ganda, sudah ada di kasus lain")
    assert "belum ditandai DITANGANI" in said and "laporan ganda" in said and "DITUTUP" not in said
    assert "tidak ditutup" in await officer.say("2")
    report = await bot.dialogue.store.report_by_case("SGU-2026-0001")
    assert report is not None and report.status == "baru"
    await officer.say("TUTUP SGU-2026-1 laporan ganda, sudah ada di kasus lain")
    assert "Pilih 1 untuk menutup" in await officer.say("7")          # a stray digit asks again
    assert "DITUTUP" in await officer.tap("Ya, tutup kasus")
    report = await bot.dialogue.store.report_by_case("SGU-2026-0001")
    assert report is not None and report.status == "ditutup"
    assert report.outcome == "laporan ganda, sudah ada di kasus lain"
    assert "sudah ditutup" in await officer.say("TANGANI SGU-2026-1")   # closed stays closed


async def test_a_command_without_a_number_gives_an_example_with_that_command_and_the_office(bot: Bot) -> None:
    """From the play test: an Entikong officer's "catatan" was answered "contoh TANGANI SGU-2026-1"."""
    entikong = console_officer("ETK")
    said = await bot.chat(entikong).say("catatan")
    assert f"contoh CATATAN ETK-{bot.clock().year}-1" in said and "SGU" not in said and "TANGANI" not in said
    assert f"contoh TUTUP SGU-{bot.clock().year}-1" in await bot.chat(SGU_OFFICER).say("tutup")
    assert f"misalnya ETK-{bot.clock().year}-1" in await bot.chat(entikong).say("bantuan")


async def test_the_terminal_officer_types_the_alerts_numbers_after_a_case_list(knowledge: Knowledge,
                                                                              tmp_path: Path) -> None:
    """The play test's `petugas> KASUS`, `petugas> 3` (Tutup under the alert), `petugas> 7`."""
    async with open_bot(knowledge, tmp_path) as plain:
        reporter = plain.chat(villager())
        await register(reporter)
        await file_report(reporter)
        officer = plain.chat(console_officer("SGU"))
        assert "SGU-2026-0001" in await officer.say("KASUS")                 # a list of one case
        assert "Tulis hasil penanganan kasus SGU-2026-0001" in await officer.say("3")
        assert "belum ditutup" in await officer.say("7")
        report = await plain.dialogue.store.report_by_case("SGU-2026-0001")
        assert report is not None and report.status == "baru"


async def test_two_officers_closing_at_once_close_the_case_once(bot: Bot,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    """Both decide on the open case; the second turn finds it closed at its commit and is decided again."""
    caplog.set_level(logging.INFO, logger="bot.conversation.dialogue")
    reporter = bot.chat(villager())
    await register(reporter)
    case_no = case_in(await file_report(reporter))
    await bot.chat(SGU_OFFICER).say(f"TANGANI {case_no}")
    regional = bot.chat(REGIONAL)
    answers = await asyncio.gather(bot.chat(SGU_OFFICER).say(f"TUTUP {case_no} sudah diperiksa di kantor"),
                                   regional.say(f"TUTUP {case_no} perekrut sudah dipanggil"))
    assert sum("sudah ditutup" in a.lower() for a in answers) == 1, answers
    report = await bot.dialogue.store.report_by_case(case_no)
    assert report is not None and report.status == "ditutup"
    events = await bot.dialogue.store.case_events(report.id)
    assert [e.kind for e in events] == ["ditangani", "ditutup"]
    await bot.deliver()
    updates = [o.text for o in bot.telegram.sent if o.kind == "status" and o.recipient == villager()]
    assert len(updates) == 2 and sum("Hasil:" in u for u in updates) == 1   # acknowledged, closed once
    assert "turn decided again" in caplog.text                               # the race did happen


async def test_petugas_lets_a_villager_write_to_the_office_and_the_officer_answers_in_the_chat(bot: Bot) -> None:
    """Round 3, N21: the welcome's "Ketik petugas" leads to an officer, not to a dead end."""
    chat = bot.chat(villager())
    await register(chat, "semuntai")
    said = await chat.say("petugas")
    assert "menulis pesan untuk petugas" in said and "GANTI" not in said
    said = await chat.say("kapan ada pelayanan paspor keliling di desa kami pak?")
    assert "sudah dikirim ke petugas Kantor Imigrasi Kelas II TPI Sanggau" in said and "SGU-2026-0001" in said
    alerts = (await bot.deliver()).to(SGU_GROUP)
    assert len(alerts) == 1 and "PESAN WARGA SGU-2026-0001" in alerts[0]
    assert "pelayanan paspor keliling" in alerts[0] and "CATATAN SGU-2026-0001" in alerts[0]
    assert "Perekrut" not in alerts[0]                  # a question, not a report about a recruiter
    assert "tersimpan dan dikirim" in await bot.chat(SGU_OFFICER).say(
        "CATATAN SGU-2026-1 Bulan depan ada, nanti diumumkan lewat kantor desa. Untuk siapa paspornya?")
    answers = [o.text for o in (await bot.deliver()).sent if o.recipient == villager() and o.kind == "status"]
    assert answers and "Bulan depan ada" in answers[-1]
    # Their reply to the officer's question goes to the officer too.
    assert "SGU-2026-0001" in await chat.say("untuk anak sy yg umur 7 thn")
    assert "untuk anak sy" in (await bot.deliver()).to(SGU_GROUP)[-1]


async def test_petugas_before_the_village_is_known_asks_it_then_offers_to_write(bot: Bot) -> None:
    chat = bot.chat(villager())
    said = await chat.say("petugas")
    assert "desa" in said.lower()
    said = await chat.say("semuntai")                      # typed at once, no "Desa saya" first
    assert "menulis pesan untuk petugas" in said
    said = await chat.say("pak sy mau tanya buat plb dmn ya")
    assert "sudah dikirim ke petugas" in said


async def test_an_officer_chatting_gets_the_officers_help_and_open_cases_not_the_villagers_welcome(
        bot: Bot) -> None:
    """Round 3, N25."""
    reporter = bot.chat(villager())
    await register(reporter)
    await file_report(reporter)
    said = await bot.chat(SGU_OFFICER).say("halo, ada laporan baru?")
    assert "Selamat datang" not in said and "Anda bisa melaporkan" not in said
    assert "KASUS <nomor>" in said and "SGU-2026-0001" in said


async def test_another_offices_case_is_said_to_be_held_there_without_its_details(bot: Bot) -> None:
    """Round 3, N25: a case the officer's alert links to is not "not found"; its details stay with its office."""
    first = bot.chat(villager(1))
    await register(first, "semuntai")
    await file_report(first)
    said = await bot.chat(KTG_OFFICER).say("KASUS SGU-2026-1")
    assert "tidak ditemukan" not in said and "Kantor Imigrasi Kelas II TPI Sanggau" in said
    assert "Pak Budi" not in said and "restoran" not in said and "Tangani" not in said
    said = await bot.chat(KTG_OFFICER).say("TUTUP SGU-2026-1 sudah selesai diperiksa")
    assert "Kantor Imigrasi Kelas II TPI Sanggau" in said and "DITUTUP" not in said
    report = await bot.dialogue.store.report_by_case("SGU-2026-0001")
    assert report is not None and report.status == "baru"
    assert "tidak ditemukan" in await bot.chat(KTG_OFFICER).say("KASUS SGU-2026-9")


async def test_kasus_lists_urgent_cases_first(bot: Bot) -> None:
    """Round 3: the urgent case was listed last."""
    reporter = bot.chat(villager(1))
    await register(reporter)
    await file_report(reporter, visa="kerja")                   # asked to pay: risk sedang
    urgent = bot.chat(villager(2))
    await register(urgent)
    await urgent.say("tolong adik sy dikurung majikan di kuching, hp nya diambil")
    await urgent.tap("Kirim laporan darurat sekarang")
    listed = await bot.chat(SGU_OFFICER).say("KASUS")
    assert listed.index("SGU-2026-0002") < listed.index("SGU-2026-0001")


async def test_a_message_answered_is_taken_up_and_thanks_or_a_recruiter_are_not_filed_as_messages(
        bot: Bot) -> None:
    """Review of round 3: an answered message escalated as 'belum ditangani'; 'makasih pak' after
    reading the office's details became a case; a recruiter told after 'petugas' was a low-risk note."""
    chat = bot.chat(villager())
    await register(chat, "semuntai")
    await chat.say("petugas")
    said = await chat.say("makasih pak")
    assert "SGU-2026" not in said
    assert (await bot.deliver()).to(SGU_GROUP) == []
    await chat.say("petugas")
    await chat.say("kapan ada pelayanan paspor keliling di desa kami pak?")
    await bot.deliver()
    await bot.chat(SGU_OFFICER).say("CATATAN SGU-2026-1 Bulan depan, diumumkan lewat kantor desa.")
    report = await bot.dialogue.store.report_by_case("SGU-2026-0001")
    assert report is not None and report.status == "ditangani"      # no 'belum ditangani' escalation
    await chat.say("petugas")
    said = await chat.say("ada agen bang Rudi 0812 3456 7890 nawarin kerja di kuching, suruh bayar dulu 5 juta")
    assert "saya catat sebagai laporan" in said and "PESAN WARGA" not in said


async def test_a_number_under_a_pick_list_acts_on_the_case_listed_not_on_the_last_alert(bot: Bot) -> None:
    """Play test round 5: '1' under the pick list of 'TANGANI' without a number handled another case."""
    for n in (1, 2, 3):
        chat = bot.chat(villager(n))
        await register(chat, "semuntai")
        await file_report(chat, name=f"Pak Agen{n}", phone=f"0813 1111 22{n}{n}")
    await bot.deliver()                                   # the last alert (SGU-2026-0003) has its buttons
    officer = bot.chat(SGU_OFFICER)
    said = await officer.say("TANGANI")
    first = said.split("\n1. ")[1].split("\n")[0]
    case_no = "SGU-2026-000" + first.split("SGU-2026-000")[1][0]
    said = await officer.say("1")                          # opens the case listed first
    assert case_no in said.split("\n")[0] or case_no in said
    for n in (1, 2, 3):
        report = await bot.dialogue.store.report_by_case(f"SGU-2026-000{n}")
        assert report is not None and report.status == "baru", report.case_no   # the last alert's case untouched

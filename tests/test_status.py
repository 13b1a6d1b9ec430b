"""A villager's own reports, and an anonymous reporter's check code, read as transcripts."""

from __future__ import annotations

import re

from tests.fakes import villager
from tests.villagers import KTG_OFFICER, SGU_OFFICER, Bot, file_report, register


async def test_an_anonymous_reporter_is_told_the_truth_and_checks_with_the_code(bot: Bot) -> None:
    chat = bot.chat(villager())
    await register(chat)
    await chat.say("lapor")
    await chat.say("Pak Budi 0812 3456 7890 ajak kerja ke Malaysia")
    await chat.tap("Selesai")
    await chat.tap("WhatsApp")
    await chat.say("1")
    summary = await chat.tap("anonim")
    assert "tidak bisa memberi kabar" in summary and "kode cek" in summary
    done = await chat.tap("Kirim")
    assert "diberi kabar di chat ini" not in done and "tidak bisa memberi kabar" in done
    code = re.search(r"Kode cek Anda: (\d{6})", done)
    assert code is not None and "cek laporan SGU-2026-0001" in done
    assert "Belum ada laporan" in await chat.say("Cek laporan saya")   # nothing links them to it
    officer = bot.chat(SGU_OFFICER)
    said = await officer.say("CATATAN SGU-2026-1 Terima kasih, sudah kami cek ke lapangan.")
    assert "tidak bisa dikirim" in said and "tersimpan dan dikirim" not in said
    stranger = bot.chat(villager(9))
    said = await stranger.say(f"cek laporan sgu-2026-1 {code.group(1)}")
    assert "SGU-2026-0001" in said and "sudah kami cek ke lapangan" in said
    wrong = f"{(int(code.group(1)) + 1) % 1_000_000:06d}"
    said = await stranger.say(f"cek laporan SGU-2026-0001 {wrong}")
    assert "tidak cocok" in said and "lapangan" not in said
    assert "tidak cocok" in await stranger.say("cek laporan KTG-2026-0009 123456")   # the same for no case
    row = await bot.dialogue.store.report_by_case("SGU-2026-0001")
    assert row is not None and row.check_hash and code.group(1) not in row.check_hash


async def test_a_contactable_reporter_sees_status_note_and_outcome(bot: Bot) -> None:
    chat = bot.chat(villager())
    await register(chat)
    await file_report(chat)
    officer = bot.chat(SGU_OFFICER)
    await officer.say("TANGANI SGU-2026-1")
    await officer.say("TUTUP SGU-2026-0001 perekrut sudah diperiksa polisi")
    said = await chat.say("cek laporan")
    assert "SGU-2026-0001" in said and "selesai" in said and "perekrut sudah diperiksa polisi" in said
    elsewhere = await bot.chat(KTG_OFFICER).say("KASUS SGU-2026-1")   # held by Sanggau: none of its details
    assert "bukan kantor Anda" in elsewhere and "diperiksa polisi" not in elsewhere and "Pak Budi" not in elsewhere


async def test_an_anonymous_reporter_is_led_step_by_step_to_the_status(bot: Bot) -> None:
    """From the hands-on trial: the number and the code typed one at a time, or with spaces."""
    chat = bot.chat(villager())
    await register(chat)
    await chat.say("lapor")
    await chat.say("ada agen nawarin kerja ke brunei")
    await chat.tap("Selesai")
    await chat.tap("Lewati semua")
    await chat.tap("anonim")
    done = await chat.tap("Kirim")
    code = re.search(r"Kode cek Anda: (\d{6})", done)
    assert code is not None
    said = await chat.say("6")                                   # "Cek laporan saya" from the menu
    assert "Saya punya nomor laporan dan kode cek" in said
    assert "Tulis nomor laporan" in await chat.tap("Saya punya nomor")
    assert "kode cek 6 angka" in await chat.say("SGU-2026-0001")
    assert "diterima, menunggu petugas" in await chat.say(code.group(1))
    other = bot.chat(villager(2))
    assert "kode cek 6 angka" in await other.say("SGU-2026-0001")  # a number alone, from anyone
    assert "diterima" in await other.say(f"sgu 2026 1 {code.group(1)}")

"""Play test round 3 (2026-11-30): messages while an officer's question is open, and after a case is closed."""

from __future__ import annotations

import re

from tests.fakes import villager
from tests.villagers import KTG_OFFICER, SGU_OFFICER, Bot, file_report, register


async def _added(bot: Bot, case_no: str) -> list[str]:
    report = await bot.dialogue.store.report_by_case(case_no)
    assert report is not None
    return [e.text for e in await bot.dialogue.store.case_events(report.id) if e.kind == "tambahan"]


async def test_greetings_questions_and_menu_are_not_swallowed_by_an_open_question(bot: Bot) -> None:
    """N15: "halo", a question, "menu" are what they are; the answer still reaches the case."""
    chat = bot.chat(villager())
    await register(chat)
    await file_report(chat)
    await bot.chat(SGU_OFFICER).say("CATATAN SGU-2026-1 Bu, adiknya umur brp? Ada foto?")
    said = await chat.say("halo")
    assert "ditambahkan" not in said and "adiknya umur brp" in said   # greeted, and reminded of the question
    said = await chat.say("nama sy dirahasiain gk klo lapor? 😥")
    assert "ditambahkan" not in said and "anonim" in said.split("1.")[0]   # the answer itself
    said = await chat.say("no ini agen resmi gk? 0813 5221 7788")
    assert "ditambahkan" not in said and "Kirim pesan ini ke petugas (laporan SGU-2026-0001)" in said
    assert "ditambahkan" not in await chat.say("🙏")
    assert "Menu utama" in await chat.say("menu")
    assert await _added(bot, "SGU-2026-0001") == []
    said = await chat.say("umur 19 pak")                      # the answer: offered after the menu, one tap
    if "ditambahkan" not in said:
        said = await chat.tap("Kirim pesan ini ke petugas")
    assert "ditambahkan ke laporan SGU-2026-0001" in said
    assert await _added(bot, "SGU-2026-0001") == ["umur 19 pak"]
    said = await chat.say("di kampung dkt pasar serikin, alamat persisnya sy gk tau")   # more of the answer
    assert "ditambahkan ke laporan SGU-2026-0001" in said


async def test_an_answer_never_goes_silently_to_another_offices_case(bot: Bot) -> None:
    """N16: two cases, two offices, two questions: the villager is asked which case."""
    chat = bot.chat(villager())
    await register(chat)
    await file_report(chat)                                     # SGU-2026-0001
    await chat.say("ganti desa")
    await chat.say("sutera")
    said = await file_report(chat, name="Pak Joni", phone="0813 1111 2222")
    assert "KTG-" in said
    ktg = "KTG-" + said.split("KTG-")[1][:9]
    await bot.chat(SGU_OFFICER).say("CATATAN SGU-2026-1 Bu, adiknya umur brp?")
    await chat.say("umur 19 pak")
    await bot.chat(KTG_OFFICER).say(f"CATATAN {ktg} Pak, kapan dia minta uangnya? sudah dibayar?")
    said = await chat.say("minggu lalu pak, blm sy bayar")
    assert "ditambahkan" not in said and "SGU-2026-0001" in said and ktg in said
    assert said.index(ktg) < said.index("SGU-2026-0001")       # the question asked last, first
    assert "kapan dia minta uangnya" in said                    # each case with its question, to tell them apart
    assert await _added(bot, ktg) == []
    said = await chat.say("dia minta 5 juta")                  # typed on instead of picking: kept with it
    said = await chat.tap(ktg)
    assert f"ditambahkan ke laporan {ktg}" in said
    assert await _added(bot, ktg) == ["minggu lalu pak, blm sy bayar\ndia minta 5 juta"]
    assert await _added(bot, "SGU-2026-0001") == ["umur 19 pak"]


async def test_the_answer_to_the_only_open_question_goes_to_its_case_not_the_newest(bot: Bot) -> None:
    """N16: the officer who asked is on the older case; the newer case's office asked nothing."""
    chat = bot.chat(villager())
    await register(chat)
    await file_report(chat)                                     # SGU-2026-0001
    await chat.say("ganti desa")
    await chat.say("sutera")
    said = await file_report(chat, name="Pak Joni", phone="0813 1111 2222")
    ktg = "KTG-" + said.split("KTG-")[1][:9]
    await bot.chat(SGU_OFFICER).say("CATATAN SGU-2026-1 Bu, adiknya umur brp?")
    said = await chat.say("umur 19 pak")
    assert "ditambahkan ke laporan SGU-2026-0001" in said
    assert await _added(bot, ktg) == []


async def test_a_recruiters_threat_gets_the_help_lines_first(bot: Bot) -> None:
    """N17: a threat is danger: police 110 before anything else, then the case."""
    chat = bot.chat(villager())
    await register(chat)
    await file_report(chat)
    said = await chat.say("agennya ngancam sy, katanya dia tau rumah sy 😰")
    assert "110" in said.split("1.")[0]
    assert "Kirim pesan ini ke petugas (laporan SGU-2026-0001)" in said
    await bot.chat(SGU_OFFICER).say("CATATAN SGU-2026-1 Bu, adiknya umur brp?")
    said = await chat.say("sy takut, agennya ngancam klo sy lapor dia tau rumah sy")
    assert "110" in said.split("1.")[0] and "ditambahkan" not in said


async def test_a_question_about_a_case_just_closed_is_told_it_is_closed(bot: Bot) -> None:
    """N24: "trs agennya gmn pak?" after TUTUP: the case is closed, and what can be done now."""
    chat = bot.chat(villager())
    await register(chat)
    await file_report(chat)
    officer = bot.chat(SGU_OFFICER)
    await officer.say("TANGANI SGU-2026-1")
    await officer.say("TUTUP SGU-2026-1 adik pelapor sudah ditemukan KJRI Kuching dan dipulangkan")
    said = await chat.say("trs agennya gmn pak? ditangkap gk?")
    assert "SGU-2026-0001" in said and "ditutup" in said
    assert "petugas" in said.lower() and "Menu utama" in said


async def test_an_answer_to_a_question_read_with_the_check_code_is_not_sent_elsewhere(bot: Bot) -> None:
    """N16 as played: the question was read with the check code; the answer went to another office's case."""
    chat = bot.chat(villager())
    await register(chat)
    await file_report(chat)                                     # SGU-2026-0001, contactable
    await bot.chat(SGU_OFFICER).say("CATATAN SGU-2026-1 Bu, adiknya umur brp?")
    await chat.say("umur 19 pak")
    await chat.say("ganti desa")
    await chat.say("sutera")
    said = await file_report(chat, name="Pak Joni", phone="0813 1111 2222", anonymous=True)
    check = re.search(r"cek laporan (KTG-\d{4}-\d{4}) (\d{6})", said.replace("*", ""))
    assert check is not None
    ktg, code = check.groups()
    await bot.chat(KTG_OFFICER).say(f"CATATAN {ktg} Pak, kapan dia minta uangnya? sudah dibayar?")
    assert "kapan dia minta uangnya" in await chat.say(f"cek laporan {ktg} {code}")
    said = await chat.say("minggu lalu pak, blm sy bayar")
    if "ditambahkan" not in said:                               # asked which case: KTG is among them
        said = await chat.tap(ktg)
    assert f"ditambahkan ke laporan {ktg}" in said
    assert await _added(bot, ktg) == ["minggu lalu pak, blm sy bayar"]
    assert await _added(bot, "SGU-2026-0001") == ["umur 19 pak"]
    officer_view = "\n".join(m.text for m in (await bot.deliver()).sent if ktg in m.text)
    assert "0812" not in officer_view and chat.sender.user_id not in officer_view   # still anonymous


async def test_halo_after_answering_the_officer_is_not_told_the_officer_still_waits(bot: Bot) -> None:
    """Review: 'halo' minutes after the answer was told 'Petugas sedang menunggu jawaban Anda'."""
    chat = bot.chat(villager())
    await register(chat)
    await file_report(chat)
    await bot.chat(SGU_OFFICER).say("CATATAN SGU-2026-1 Bu, adiknya umur brp?")
    said = await chat.say("halo")
    assert "menunggu jawaban Anda" in said and "adiknya umur brp" in said
    said = await chat.say("umur 19 pak")
    assert "ditambahkan" in said
    said = await chat.say("halo")
    assert "menunggu jawaban Anda" not in said and "ditambahkan" not in said
    assert await _added(bot, "SGU-2026-0001") == ["umur 19 pak"]


async def test_a_short_thanks_after_the_officers_answer_is_not_added_to_the_case(bot: Bot) -> None:
    """Play test round 5: 'ok mksh 🙏' went to the officer as an addition."""
    chat = bot.chat(villager())
    await register(chat)
    await file_report(chat)
    await bot.chat(SGU_OFFICER).say("CATATAN SGU-2026-1 Bu, adiknya umur brp?")
    await chat.say("umur 19 pak")
    said = await chat.say("ok mksh 🙏")
    assert "ditambahkan" not in said and "Sama-sama" in said
    assert await _added(bot, "SGU-2026-0001") == ["umur 19 pak"]

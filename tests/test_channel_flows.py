"""The danger and report flows over the real channel adapters: Telegram and WhatsApp fakes on loopback."""

from __future__ import annotations

from tests.faults_rigs import SGU_GROUP, SGU_WA, Desk, case_in

VILLAGER_WA = "whatsapp:+6281200000301"
VILLAGER_TG = 500301
DANGER = "tolong sy dikurung majikan di kuching paspor sy diambil"


async def test_whatsapp_danger_gets_help_lines_and_one_number_sends_the_urgent_report(channels: Desk) -> None:
    officer = channels.wa_chat(SGU_WA)
    await officer.say("KASUS")
    chat = channels.wa_chat(VILLAGER_WA)
    await chat.say("halo")
    await chat.tap("Desa saya")
    await chat.say("semuntai")
    said = await chat.say(DANGER)
    assert "*polisi 110*" in said and "0-800-1000" in said and "1. Kirim laporan darurat" in said
    done = await chat.say("1")
    case_no = case_in(done)
    await channels.outbox.deliver_due()
    [alert] = [m["Body"] for m in channels.twilio.to(SGU_WA) if case_no in m.get("Body", "")]
    assert "Orang dalam bahaya saat ini" in alert and "dikurung majikan" in alert


async def test_telegram_danger_gets_help_lines_and_one_tap_sends_the_urgent_report(channels: Desk) -> None:
    await channels.tg_say(VILLAGER_TG, "halo")
    await channels.tg_tap(VILLAGER_TG, "Desa saya")
    await channels.tg_say(VILLAGER_TG, "semuntai")
    await channels.tg_say(VILLAGER_TG, DANGER)
    said = channels.tg_texts(VILLAGER_TG)[-1]
    assert "<b>polisi 110</b>" in said and "Safe Travel" in said
    await channels.tg_tap(VILLAGER_TG, "Kirim laporan darurat")
    case_no = case_in(channels.tg_texts(VILLAGER_TG)[-1])
    await channels.outbox.deliver_due()
    alerts = [t for t in channels.tg_texts(SGU_GROUP) if case_no in t]
    assert alerts and "Orang dalam bahaya saat ini" in alerts[0]


async def test_whatsapp_report_from_a_village_outside_the_list_in_words_villagers_type(channels: Desk) -> None:
    officer = channels.wa_chat(SGU_WA)
    await officer.say("KASUS")
    chat = channels.wa_chat(VILLAGER_WA)
    said = await chat.say("sy mau lapor")
    assert "desa mana" in said
    said = await chat.say("kampung baru")
    assert "belum termasuk Desa Imigrasi" in said
    said = await chat.say("kab sintang")
    assert "Sanggau" in said and "Ceritakan" in said
    await chat.say("ada calo namanya bang Udin no 0852 1111 2222 ngajak kerja ke sarawak lewat jalan tikus")
    said = await chat.say("udah")
    assert "Lewat pos resmi: Tidak, lewat jalan tikus" in said
    await chat.say("fb")
    await chat.say("gk ada")
    await chat.say("iya")
    case_no = case_in(await chat.say("ok"))
    await channels.outbox.deliver_due()
    [alert] = [m["Body"] for m in channels.twilio.to(SGU_WA) if case_no in m.get("Body", "")]
    assert "Kampung Baru (di luar daftar Desa Imigrasi)" in alert and "Kabupaten: Sintang" in alert


async def test_telegram_report_with_a_voice_note_reaches_the_group_as_a_voice_note(channels: Desk) -> None:
    import json

    from tests.faults_rigs import TG_PAYLOADS
    await channels.tg_say(VILLAGER_TG, "halo")
    await channels.tg_tap(VILLAGER_TG, "Desa saya")
    await channels.tg_say(VILLAGER_TG, "semuntai")
    await channels.tg_say(VILLAGER_TG, "lapor")
    voice = json.loads((TG_PAYLOADS / "voice.json").read_text())
    voice["update_id"] = 990100001
    voice["message"]["from"]["id"] = voice["message"]["chat"]["id"] = VILLAGER_TG
    await channels.tg_post(voice)
    assert "(jumlah: 1)" in channels.tg_texts(VILLAGER_TG)[-1]
    await channels.tg_tap(VILLAGER_TG, "Selesai")
    await channels.tg_tap(VILLAGER_TG, "Lewati semua")
    await channels.tg_tap(VILLAGER_TG, "hubungi saya")
    await channels.tg_tap(VILLAGER_TG, "Kirim")
    await channels.outbox.deliver_due()
    voices = channels.telegram.made("sendVoice", SGU_GROUP)
    assert voices and voices[0].params["voice"] == "AwACAgUAAxkBAAIBvoicefake"

"""A forgiving report, read as transcripts: everyday words, stories in pieces, slips and second thoughts."""

from __future__ import annotations

import datetime as dt

from bot.conversation.dialogue import FloodGuard
from bot.models import Media
from tests.fakes import Chat, villager
from tests.villagers import SGU_GROUP, Bot, register

LONG_STORY = (
    "pak sy mau cerita, kemarin ada orang namanya Pak Hendra datang ke kampung, dia bilang dari PT Sinar "
    "Borneo Jaya, nomor wa nya 0813 4567 8910. dia nawarin kerja di kebun sawit di sabah gaji 6 juta "
    "sebulan. anak tetangga sy umur 17 tahun juga ditawari, katanya umurnya nanti dituakan di paspor. "
    "berangkatnya lewat jalan tikus supaya cepat, dan paspor nanti dipegang agen sampai kontrak habis. "
    "kami disuruh bayar 2 juta dulu buat ongkos. sy curiga ini penipuan, gimana ya pak")


class Counting(Chat):
    """A villager whose messages are counted, to measure how long filing a report takes."""

    sent = 0

    async def say(self, text: str = "", **kwargs):  # type: ignore[no-untyped-def, override]
        self.sent += 1
        return await super().say(text, **kwargs)


async def test_a_story_that_names_the_recruiter_phone_country_and_two_flags_is_filed_in_8_messages(
        bot: Bot) -> None:
    chat = Counting(bot.dialogue, villager())
    said = await chat.say("sy mau lapor, ada agen namanya Pak Budi 0812 3456 7890 nawarin kerja restoran di "
                          "kuching, suruh bayar 3 juta dulu, berangkat pake visa turis")
    assert "desa mana" in said
    said = await chat.say("semuntai")
    assert "Pak Budi" in said and "0812 3456 7890" in said and "Malaysia" in said      # understood
    assert "Diminta bayar dulu: Ya" in said and "Visa turis" in said
    await chat.say("wa")                                   # how he got in touch
    await chat.say("gak ada lagi")                         # the signs: the two from the story stay ticked
    await chat.say("iya")                                  # officers may contact me
    done = await chat.say("kirim")
    assert "SGU-2026-0001" in done and chat.sent <= 8
    print(f"\nmessages to file a report whose story names the recruiter: {chat.sent}")
    report = await bot.dialogue.store.report_by_case("SGU-2026-0001")
    # "wa" is WhatsApp or a phone call: no social-media flag (play test round three)
    assert report is not None and {"bayar_dulu", "visa_turis"} <= set(report.flags)
    assert "lewat_medsos" not in report.flags
    assert report.recruiter_phone == "+6281234567890" and report.recruiter_name == "Pak Budi"


async def test_a_report_that_skips_everything_is_filed_in_6_messages(bot: Bot) -> None:
    chat = Counting(bot.dialogue, villager())
    await chat.say("lapor")
    await chat.say("sungai batu")
    await chat.say("lewati")                                # no story
    await chat.say("2")                                     # "Lewati semua, lanjut kirim"
    await chat.say("gak")                                   # anonymous
    done = await chat.say("ok")
    assert "SGU-2026-0001" in done and "Kode cek" in done and chat.sent <= 6
    print(f"\nmessages to file a report that skips everything: {chat.sent}")


async def test_everyday_words_answer_every_multiple_choice_question(bot: Bot) -> None:
    chat = bot.chat(villager())
    await register(chat)
    await chat.say("lapor")
    await chat.say("ada yg nawarin kerja")
    await chat.say("udah")                                  # the story is done
    await chat.say("gak tau")                               # who: don't know
    await chat.say("gatau")                                 # country: don't know
    for typed, expected in (("tik tok", "tiktok"), ("fb", "facebook"), ("ketemu langsung", "langsung"),
                            ("lewat wa", "whatsapp"), ("ig", "lain")):
        state = await bot.dialogue.store.conversation(chat.sender)
        assert state.data["step"] == "kontak"
        await chat.say(typed)
        answers = (await bot.dialogue.store.conversation(chat.sender)).data["answers"]
        assert answers["kontak"] == expected, typed
        await chat.say("kembali")
    await chat.say("👍")                                    # not a way of being contacted: asked again
    assert (await bot.dialogue.store.conversation(chat.sender)).data["step"] == "kontak"
    await chat.say("wa")
    assert "boleh menghubungi" in (await chat.say("tdk ada"))  # the signs: none
    assert "Anonim" in await chat.say("gak")
    await chat.say("ubah")
    await chat.tap("Dihubungi lewat")
    summary = await chat.say("fesbuk")
    assert "Dihubungi lewat: Facebook" in summary
    assert "SGU-2026-0001" in await chat.say("👍")


async def test_a_story_in_several_messages_and_captioned_photos_reaches_the_officer_whole(bot: Bot) -> None:
    chat = bot.chat(villager())
    await register(chat)
    assert "Selesai" in await chat.say("lapor")
    assert "Tercatat" in await chat.say("jadi gini pak")
    await chat.say("anak sy umur 15 diajak kerja di kedai makan di sibu")
    await chat.say("", media=(Media("photo-1", "image/jpeg"),))
    await chat.say("ini iklannya", media=(Media("photo-2", "image/jpeg"),))
    await chat.say("katanya umurnya mau dituakan biar bisa bikin paspor")
    said = await chat.say("selesai")
    assert "Di bawah 18 tahun: Ya" in said
    await chat.tap("Lewati semua")
    await chat.tap("hubungi saya")
    await chat.tap("Kirim")
    alert = (await bot.deliver()).to(SGU_GROUP)[0]
    for piece in ("jadi gini pak", "umur 15", "ini iklannya", "dituakan"):
        assert piece in alert
    assert "Lampiran: 2" in alert


async def test_a_question_in_the_middle_is_answered_and_never_saved_as_an_answer(bot: Bot) -> None:
    chat = bot.chat(villager())
    await register(chat)
    await chat.say("lapor")
    await chat.tap("Selesai")                                # no story
    said = await chat.say("eh bentar, biaya buat paspor brp ya?")
    assert "Berapa biaya resmi membuat paspor" in said and "Siapa yang menawarkan" in said
    said = await chat.tap("Berapa biaya resmi")               # the question's answer, inside the report
    assert "Rp" in said and "Kembali ke laporan" in said and "Siapa yang menawarkan" in said
    said = await chat.say("kalau agen nya gak jelas gmn ya?")  # a question the FAQ cannot settle
    assert "Siapa yang menawarkan" in said
    await chat.say("Pak Anto")
    data = (await bot.dialogue.store.conversation(chat.sender)).data
    assert data["answers"].get("nama") == "Pak Anto" and "perusahaan" not in data["answers"]
    said = await chat.say("9")                               # not an option, not an answer
    assert "bukan pilihan" in said and "negara" in said.lower()
    assert "negara" not in (await bot.dialogue.store.conversation(chat.sender)).data["answers"]


async def test_a_caption_joins_the_story_not_the_question_that_is_open(bot: Bot) -> None:
    chat = bot.chat(villager())
    await register(chat)
    await chat.say("lapor")
    await chat.tap("Selesai")
    await chat.say("ini iklan nya pak", media=(Media("shot-1", "image/jpeg"),))
    data = (await bot.dialogue.store.conversation(chat.sender)).data
    assert data["story"] == ["ini iklan nya pak"] and data["media"] == ["shot-1"]
    assert "nama" not in data["answers"] and data["step"] == "who"


async def test_menu_mid_report_asks_first_and_a_kept_report_is_offered_again_until_it_expires(bot: Bot) -> None:
    chat = bot.chat(villager())
    await register(chat)
    await chat.say("lapor")
    await chat.say("Pak Joni dari CV Untung ajak kerja ke Brunei")
    said = await chat.say("0")
    assert "belum dikirim" in said and "Lanjutkan laporan" in said
    assert "Tambah cerita" in await chat.say("lanjut")        # continue: back where it was
    await chat.say("menu")
    said = await chat.tap("Simpan dulu")
    assert "disimpan 7 hari" in said and "7. Lanjutkan laporan yang belum selesai" in said
    said = await chat.say("7")
    assert "Tambah cerita" in said
    await chat.say("cek laporan saya")                       # another flow typed mid-report
    said = await chat.tap("Simpan dulu")
    assert "Belum ada laporan" in said
    bot.clock.advance(days=8)
    said = await chat.say("lapor")
    assert "belum selesai" not in said and "Ceritakan" in said   # too old: a new report starts


async def test_gak_jadi_cancels_and_nothing_is_sent(bot: Bot) -> None:
    for n, words in enumerate(("gak jadi", "ga jadi lapor", "tidak jadi", "batal"), 1):
        chat = bot.chat(villager(n))
        await register(chat)
        await chat.say("lapor")
        await chat.say("ada calo nawarin kerja")
        said = await chat.say(words)
        assert "Dibatalkan" in said and "Menu utama" in said, words
    assert await bot.dialogue.store.open_reports(None) == []


async def test_plain_requests_start_the_right_flow(bot: Bot) -> None:
    chat = bot.chat(villager())
    await register(chat)
    for typed, expected in (("sy mau lapor", "Ceritakan"), ("mau lapor agen", "Ceritakan"),
                            ("Laporkan tawaran mencurigakan", "Ceritakan"), ("cek tawaran kerja", "negara"),
                            ("Cek laporan saya", "Belum ada laporan"), ("desa saya", "Semuntai"),
                            ("lihat topik", "Pilih topik")):
        await chat.say("batal")
        assert expected in await chat.say(typed), typed


async def test_a_long_first_message_is_read_and_becomes_a_report_without_typing_it_again(bot: Bot) -> None:
    chat = bot.chat(villager())
    await register(chat)
    said = await chat.say(LONG_STORY)
    assert "Laporkan ini ke petugas" in said
    said = await chat.tap("Laporkan ini")
    for understood in ("Pak Hendra", "0813 4567 8910", "PT Sinar Borneo Jaya", "Malaysia", "kebun atau ladang",
                       "6 juta", "Di bawah 18 tahun: Ya", "Paspor/KTP ditahan: Ya", "Lewat pos resmi: Tidak",
                       "Diminta bayar dulu: Ya", "Dihubungi lewat: WhatsApp"):
        assert understood in said, understood
    assert "Mana yang terjadi" in said                       # only the signs are asked, four ticked
    await chat.tap("Selesai, itu saja")
    await chat.tap("hubungi saya")
    done = await chat.tap("Kirim")
    report = await bot.dialogue.store.report_by_case("SGU-2026-0001")
    assert report is not None and report.risk == "tinggi" and "SGU-2026-0001" in done
    assert {"di_bawah_umur", "jalur_tidak_resmi", "dokumen_ditahan", "bayar_dulu"} <= set(report.flags)


async def test_the_summary_lets_the_villager_change_one_answer(bot: Bot) -> None:
    chat = bot.chat(villager())
    await register(chat)
    await chat.say("lapor")
    await chat.say("Pak Budi 0812 3456 7890 ajak kerja di Brunei")
    await chat.tap("Selesai")
    await chat.tap("WhatsApp")
    await chat.say("tidak ada")
    summary = await chat.tap("hubungi saya")
    assert "Negara tujuan: Brunei" in summary
    await chat.tap("Ubah jawaban")
    assert "negara" in (await chat.tap("Negara tujuan")).lower()
    summary = await chat.say("Malaysia, di Miri")
    assert "Negara tujuan: Malaysia" in summary and "Brunei" not in summary.split("Cerita")[0]
    assert "Kirim laporan" in summary


def test_a_villager_tapping_once_a_second_never_meets_the_flood_limit() -> None:
    guard = FloodGuard(per_minute=60, burst=20)
    assert all(guard.allow("warga", float(t))[0] for t in range(300))       # five minutes at tap speed
    flood = [guard.allow("banjir", 1000 + i / 100) for i in range(100)]     # 100 messages in a second
    assert sum(ok for ok, _ in flood) == 20 and sum(first for _, first in flood) == 1


async def test_the_draft_keeps_for_the_configured_days(bot: Bot) -> None:
    assert bot.dialogue.settings.draft_days == 7
    chat = bot.chat(villager())
    await register(chat)
    await chat.say("lapor")
    await chat.say("menu")
    await chat.tap("Simpan dulu")
    bot.clock.advance(days=6, hours=23)
    assert "belum selesai" in await chat.say("lapor")
    _ = dt   # the clock is a datetime


async def test_a_report_waiting_for_the_village_is_not_thrown_away_by_menu(bot: Bot) -> None:
    chat = bot.chat(villager())
    await chat.say("halo")
    await chat.say("mau lapor, ada calo Pak Amin 0812 7777 8888 ngajak anak2 kerja ke malaysia")
    assert "belum dikirim" in await chat.say("menu")
    said = await chat.tap("Lanjutkan laporan")
    assert "desa mana" in said
    said = await chat.say("semuntai")
    assert "Pak Amin" in said and "0812 7777 8888" in said


async def test_every_everyday_word_from_the_trial_answers_the_question(bot: Bot) -> None:
    """The words villagers typed in the hands-on trial, each at the question it answers."""
    kit = bot.dialogue.kit
    yes_no = kit.content.reporting.question("bayar").phrases()
    for typed in ("iya", "y", "ok", "👍", "ya pak", "iye"):
        assert kit.words.choose(typed, yes_no) == "ya", typed
    for typed in ("tdk", "gak", "ga", "nggak", "tak", "ndak", "gak pak"):
        assert kit.words.choose(typed, yes_no) == "tidak", typed
    for typed in ("gatau", "gk tau", "tak tau", "blm tau", "gak tau bu", "entah"):
        assert kit.words.choose(typed, yes_no) == "tidak_tahu", typed
    contact = kit.content.reporting.question("kontak").phrases()
    for typed, value in (("wa", "whatsapp"), ("fb", "facebook"), ("tik tok", "tiktok"),
                         ("ketemu langsung", "langsung"), ("ig", "lain")):
        assert kit.words.choose(typed, contact) == value, typed
    for typed in ("gak ada", "lupa", "kosong", "tidak tahu", "lewati"):
        assert kit.words.is_("skip", typed), typed


async def test_what_is_typed_instead_of_picked_is_read_and_kept(bot: Bot) -> None:
    """From the hands-on trial: sentences at a choice, at the signs and at "may we contact you"."""
    chat = bot.chat(villager())
    await register(chat)
    await chat.say("lapor")
    await chat.say("Pak Amir 0812 1212 3434 ajak kerja ke Malaysia")
    await chat.tap("Selesai")
    said = await chat.say("dia datang langsung ke kampung")
    assert "Mana yang terjadi" in said                           # contacted in person: understood
    said = await chat.say("dia minta duit 2jt utk tiket")
    assert "✓ Diminta membayar uang dulu" in said and "saya catat di cerita" in said
    await chat.say("udah itu aja")
    said = await chat.say("eh pak kalau ke brunei perlu visa gak?")
    assert "boleh menghubungi" in said and "belum paham" not in said
    await chat.say("iya")
    summary = await chat.say("ok")
    data = (await bot.dialogue.store.report_by_case("SGU-2026-0001"))
    assert "SGU-2026-0001" in summary and data is not None
    assert data.answers["kontak"] == "langsung" and data.answers["bayar"] == "ya"
    assert "dia minta duit 2jt utk tiket" in data.answers["cerita"]


async def test_trial_findings_on_the_report_are_fixed(bot: Bot) -> None:
    """From the hands-on trial: names after "nya", an empty report, the check's own words, a recap."""
    chat = bot.chat(villager())
    await register(chat)
    said = await chat.say("mau lapor, ada calo nama nya pak anton hp 081234567890 gaji RM1500, kerja ladang")
    assert "Nama perekrut: Pak Anton" in said and "Gaji dijanjikan: RM1500\n" in said
    assert "kebun atau ladang" in said and "Nya" not in said
    empty = bot.chat(villager(2))
    await register(empty)
    await empty.say("lapor")
    await empty.tap("Selesai")
    await empty.tap("Lewati semua")
    assert "belum berisi keterangan" in await empty.tap("hubungi saya")
    check = bot.chat(villager(3))
    await register(check)
    said = await check.say("cek tawaran kerja")
    assert "Lewati semua, lihat hasilnya" in said and "lanjut kirim" not in said
    said = await check.say("ada tawaran kerja di kamboja, jadi admin online gaji 15jt, tiket dibayarin")
    await check.tap("Facebook")
    await check.say("tidak ada")
    said = await check.tap("Jadikan laporan")
    assert "Negara tujuan: Kamboja\n" in said
    await chat.say("menu")
    assert "Lanjutkan laporan" not in await chat.say("batal")   # the report above was cancelled
    later = bot.chat(villager(4))
    await register(later)
    await later.say("lapor")
    await later.say("agen dari PT Sinar mau bawa orang ke Sabah")
    await later.say("menu")
    await later.tap("Simpan dulu")
    said = await later.tap("Lanjutkan laporan yang belum selesai")
    assert "Ini laporan Anda yang belum selesai" in said and "PT Sinar" in said

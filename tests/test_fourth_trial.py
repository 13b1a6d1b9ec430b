"""What the play test of 2026-11-30 found in reports and replies to officers, read as transcripts."""

from __future__ import annotations

from tests.fakes import villager
from tests.villagers import SGU_OFFICER, Bot, file_report, register


async def _to_who(chat) -> str:  # type: ignore[no-untyped-def]
    await chat.say("lapor")
    await chat.say("ada yg nawarin kerja di kebun sawit di sibu")
    return await chat.say("udah")


async def test_the_phone_typed_after_the_name_is_kept(bot: Bot) -> None:
    chat = bot.chat(villager())
    await register(chat)
    assert "Siapa yang menawarkan" in await _to_who(chat)
    await chat.say("namanya bang rudi")
    said = await chat.say("no wa nya 0813 5221 7788")
    assert "belum paham" not in said and "0813 5221 7788" in said
    data = (await bot.dialogue.store.conversation(chat.sender)).data
    assert data["phone"] == "+6281352217788" and data["answers"]["nama"].lower() == "bang rudi"
    await chat.say("wa")
    await chat.say("tidak ada")
    said = await chat.say("oh iya dia dari PT Sinar Jaya")            # remembered at the consent question
    assert "PT Sinar Jaya" in said and "petugas boleh menghubungi" in said
    said = await chat.say("iya")
    assert "0813 5221 7788" in said and "PT Sinar Jaya" in said     # all of it in the summary


async def test_short_words_and_clear_questions_after_a_report_are_not_sent_to_the_officer(bot: Bot) -> None:
    chat = bot.chat(villager())
    await register(chat)
    await file_report(chat)
    for typed in ("ok", "iya", "wkwkwk", "visa"):
        said = await chat.say(typed)
        assert "Apakah pesan ini untuk petugas" not in said, typed
    said = await chat.say("apa itu tppo")
    assert "Apakah pesan ini untuk petugas" not in said
    assert "perdagangan orang" in said.lower().split("1.")[0]   # the answer itself, not an option
    said = await chat.say("biaya paspor berapa sih sebenernya pak, agen yg datang kemarin minta 3 juta")
    assert "Maksud Anda" not in said and "Apakah pesan ini" not in said   # the answer first
    assert "1. Kirim pesan ini ke petugas" not in said and "Kirim pesan ini ke petugas" in said   # then, at most


async def test_a_reply_to_the_officers_question_goes_to_the_case_at_once(bot: Bot) -> None:
    chat = bot.chat(villager())
    await register(chat)
    await file_report(chat)
    await bot.chat(SGU_OFFICER).say("CATATAN SGU-2026-1 apakah ada akun media sosial yang dipakai orang itu?")
    said = await chat.say("ada pak, dia pakai akun fb 'rudi kerja malaysia', sering posting lowongan")
    assert "ditambahkan ke laporan SGU-2026-0001" in said and "Apakah pesan ini" not in said
    events = await bot.dialogue.store.case_events(
        (await bot.dialogue.store.report_by_case("SGU-2026-0001")).id)  # type: ignore[union-attr]
    assert any(e.kind == "tambahan" and "rudi kerja malaysia" in e.text for e in events)
    said = await chat.say("makasih pak")                     # a thanks afterwards is only thanked
    assert "Sama-sama" in said and "ditambahkan" not in said


async def test_a_reply_in_two_messages_goes_whole_and_an_old_question_is_not_waited_on(bot: Bot) -> None:
    chat = bot.chat(villager())
    await register(chat)
    await file_report(chat)
    await bot.chat(SGU_OFFICER).say("CATATAN SGU-2026-1 kapan orang itu datang ke desa?")
    assert "ditambahkan" in await chat.say("minggu lalu pak, hari selasa")
    bot.clock.advance(minutes=5)
    assert "ditambahkan" in await chat.say("dia datang sama 2 orang temannya naik mobil hitam")
    bot.clock.advance(days=1)
    said = await chat.say("anak sy blm pulang dari pontianak")   # a day later: news, offered, not sent
    assert "Apakah pesan ini untuk petugas" in said and "ditambahkan" not in said
    await bot.chat(SGU_OFFICER).say("CATATAN SGU-2026-1 apakah anak ibu sudah pulang?")
    bot.clock.advance(days=4)
    said = await chat.say("blm ada kabar sama sekali pak")        # days after the question: asked first
    assert "Apakah pesan ini untuk petugas" in said


async def test_lanjut_resumes_a_kept_report(bot: Bot) -> None:
    chat = bot.chat(villager())
    await register(chat)
    await file_report(chat)
    await chat.say("lapor")
    await chat.say("ada agen nawarin kerja di brunei")
    await chat.say("menu")
    await chat.tap("Simpan")
    assert "belum selesai" in await chat.say("lapor")
    said = await chat.say("lanjut")
    assert "brunei" in said and "Apakah pesan ini" not in said
    assert (await bot.dialogue.store.conversation(chat.sender)).state == "report"


async def test_a_question_typed_in_the_story_is_answered_and_not_kept(bot: Bot) -> None:
    chat = bot.chat(villager())
    await register(chat)
    await chat.say("lapor")
    await chat.say("ada agen nawarin kerja di kebun sawit di sabah")
    said = await chat.say("bayar brp sih bikin paspor?")
    assert "Tercatat" not in said and "laporan" in said.lower()
    data = (await bot.dialogue.store.conversation(chat.sender)).data
    assert data["story"] == ["ada agen nawarin kerja di kebun sawit di sabah"]


async def test_a_question_at_the_summary_keeps_send_as_option_1(bot: Bot) -> None:
    chat = bot.chat(villager())
    await register(chat)
    await chat.say("lapor")
    await chat.say("lewati")
    await chat.say("2")
    await chat.say("gak")
    said = await chat.say("syarat paspor apa aja?")
    assert "1. Kirim laporan" in said and "4. " in said      # the guesses after the report's own options
    assert "SGU-2026-0001" in await chat.say("1")


async def test_a_false_sign_is_corrected_at_the_summary(bot: Bot) -> None:
    chat = bot.chat(villager())
    await register(chat)
    await chat.say("lapor")
    # "masih sekolah" is read as under 18; here the villager meant someone else
    await chat.say("ada agen nawarin kerja di sawit malaysia, adik sy masih sekolah, bayar 3 juta")
    await chat.say("udah")
    await chat.say("gak tau")
    await chat.say("wa")
    await chat.say("ya")
    said = await chat.say("iya")
    assert "Di bawah 18 tahun: Ya" in said
    said = await chat.say("bukan anak2, yg dibawah 18 itu salah")
    assert '"Di bawah 18 tahun" saya hapus' in said and "Di bawah 18 tahun: Ya" not in said
    assert "Kirim laporan" in said
    said = await chat.tap("Ubah jawaban")
    assert "Tanda bahaya" in said
    said = await chat.tap("Tanda bahaya")
    assert "✓ Diminta membayar" in said
    said = await chat.tap("Diminta membayar")                # tapped again: the tick is taken back
    assert "✓ Diminta membayar" not in said
    said = await chat.say("selesai")
    assert "Diminta bayar dulu: Ya" not in said and "Kirim laporan" in said
    await chat.tap("Kirim")
    report = await bot.dialogue.store.report_by_case("SGU-2026-0001")
    assert report is not None and "di_bawah_umur" not in report.flags and "bayar_dulu" not in report.flags


async def test_kembali_at_the_consent_question_goes_back(bot: Bot) -> None:
    chat = bot.chat(villager())
    await register(chat)
    await chat.say("lapor")
    await chat.say("lewati")
    await chat.say("gak tau")
    await chat.say("malaysia")
    await chat.say("wa")
    assert "petugas boleh menghubungi" in await chat.say("tidak ada")
    said = await chat.say("kembali")
    assert "belum paham" not in said and "Mana yang terjadi" in said


async def test_a_frightened_cancel_is_understood_kindly(bot: Bot) -> None:
    chat = bot.chat(villager())
    await register(chat)
    await chat.say("lapor")
    await chat.say("lewati")
    await chat.say("2")
    await chat.say("gak")
    said = await chat.say("gak jadi deh takut")
    # asked, not dropped at once (round three, N19): the anonymous way named, the report kept
    assert "belum paham" not in said and "belum dikirim" in said and "anonim" in said.lower()
    assert (await bot.dialogue.store.conversation(chat.sender)).state == "guard"


async def test_a_village_corrected_during_the_story_changes_the_village(bot: Bot) -> None:
    chat = bot.chat(villager())
    await register(chat, "semuntai")
    await chat.say("lapor")
    await chat.say("ada agen nawarin kerja di kebun sawit")
    assert "Tercatat" in await chat.say("desa sy di sanggau sana banyak yg berangkat")   # the story, not a move
    said = await chat.say("eh salah, desa sy sebenernya bungkang")
    assert "Bungkang" in said and "Tercatat" not in said and "Tambah cerita lagi" in said
    await chat.say("udah")
    await chat.say("gak tau")
    await chat.say("malaysia")
    await chat.say("wa")
    await chat.say("tidak ada")
    said = await chat.say("iya")
    assert "Entikong" in said
    await chat.tap("Kirim")
    report = await bot.dialogue.store.report_by_case("ETK-2026-0001")
    assert report is not None and report.village_id == "bungkang"
    assert report.answers["cerita"].splitlines() == ["ada agen nawarin kerja di kebun sawit",
                                                     "desa sy di sanggau sana banyak yg berangkat"]


async def test_a_kecamatan_corrected_during_the_story_asks_which_village(bot: Bot) -> None:
    chat = bot.chat(villager())
    await register(chat, "semuntai")
    await chat.say("lapor")
    await chat.say("ada agen nawarin kerja di kebun sawit")
    said = await chat.say("eh salah, desa sy sebenernya sajingan besar")
    assert "Tercatat" not in said and "Sajingan Besar" in said


async def test_ganti_desa_asks_the_new_village_at_once(bot: Bot) -> None:
    chat = bot.chat(villager())
    await register(chat)
    said = await chat.say("ganti desa")
    assert "Anda tinggal di desa mana?" in said and "Desa Anda:" not in said
    said = await chat.say("temajuk")
    assert 'Desa "temajuk"' in said and "kabupaten mana" in said


# The second play test (same day, after the fixes above).

async def test_dont_contact_me_is_a_refusal_even_though_it_names_contact(bot: Bot) -> None:
    for refusal in ("gk usah hubungi sy", "jgn hubungi sy"):
        chat = bot.chat(villager())
        await register(chat)
        await _to_who(chat)
        await chat.say("gak tau")
        await chat.say("wa")
        await chat.say("tidak ada")
        said = await chat.say(refusal)
        assert "Petugas boleh menghubungi Anda" not in said
        data = (await bot.dialogue.store.conversation(chat.sender)).data
        assert data["contactable"] is False
        await chat.say("batal")


async def test_a_corrected_phone_number_replaces_the_wrong_one(bot: Bot) -> None:
    chat = bot.chat(villager())
    await register(chat)
    await _to_who(chat)
    await chat.say("pak andi 0812 9999 8888")
    await chat.say("wa")
    await chat.say("tidak ada")
    said = await chat.say("iya")
    assert "0812 9999 8888" in said
    said = await chat.say("eh bkn 0812 9999 8888, nomornya 0821 1111 2222")
    assert "0821 1111 2222" in said and "0812 9999 8888" not in said
    assert (await bot.dialogue.store.conversation(chat.sender)).data["phone"] == "+6282111112222"


async def test_a_child_taken_away_told_in_malay_is_an_emergency(bot: Bot) -> None:
    chat = bot.chat(villager())
    said = await chat.say("adik kamek umur 14 dibawa nang urang ke serikin mok dijadikan kerje, tolong 🙏")
    assert "129" in said and "110" in said          # SAPA 129 for a child, and the police


async def test_a_village_named_before_any_is_known_is_their_village(bot: Bot) -> None:
    for n, first in enumerate(("semuntai", "sy di desa semuntai")):
        chat = bot.chat(villager(40 + n))
        said = await chat.say(first)
        assert "Desa Anda tercatat Semuntai" in said and "belum punya jawaban" not in said
    chat = bot.chat(villager(42))
    await register(chat)                                    # a village known: a name is not taken again
    assert "tercatat Sungai Batu" not in await chat.say("sungai batu")


async def test_deleting_ones_data_with_a_report_still_open_says_its_news_will_stop(bot: Bot) -> None:
    chat = bot.chat(villager(43))
    await register(chat)
    assert "SGU-2026-0001" in await file_report(chat)
    said = await chat.say("hapus data")
    assert "SGU-2026-0001" in said and "tidak akan menerima kabar" in said
    assert "tanpa identitas Anda.\n\nLaporan Anda SGU-2026-0001" in said

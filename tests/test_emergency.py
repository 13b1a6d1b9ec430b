"""After the help lines, read as transcripts: what is added to an urgent report, and where a cry goes."""

from __future__ import annotations

from tests.fakes import villager
from tests.villagers import KTG_OFFICER, SGU_GROUP, SGU_OFFICER, Bot, file_report, register

REGIONAL_OFFICER = "3003"


async def _neighbour_reports_pak_rudi(bot: Bot) -> str:
    """A neighbour reports Pak Rudi and his number in the usual way: the office's alert about it."""
    neighbour = bot.chat(villager(2))
    await register(neighbour)
    await file_report(neighbour, name="Pak Rudi", phone="0813-5221-7788", company="PT Baru")
    return (await bot.deliver()).to(SGU_GROUP)[-1]


async def test_where_the_villager_is_after_an_urgent_report_to_the_regional_office_is_added_to_it(
        bot: Bot) -> None:
    chat = bot.chat(villager())
    await chat.say("halo")
    await chat.say("tolong paspor saya ditahan majikan di sibu")
    said = await chat.tap("Kirim laporan darurat sekarang")
    assert "KWL-2026-0001" in said and "Pesan Anda akan ditambahkan ke laporan" in said
    await bot.deliver()
    said = await chat.say("sy di sibu, kerja di kebun sawit, asal sy dr desa sebunga")
    assert "ditambahkan ke laporan darurat KWL-2026-0001" in said
    assert "bisa secara resmi" not in said                      # no FAQ answer about working in Malaysia
    more = (await bot.deliver()).to(REGIONAL_OFFICER)
    assert any("Tambahan dari pelapor KWL-2026-0001" in m and "desa sebunga" in m for m in more)
    # A village of the programme is read: it is the villager's village from now on.
    said = await chat.say("eh desa sy semuntai pak")
    assert "ditambahkan ke laporan darurat KWL-2026-0001" in said and "Desa Anda saya catat: Semuntai" in said
    assert (await bot.dialogue.store.profile(chat.sender)).village_id == "semuntai"
    # A question is still answered, not sent to the officer.
    said = await chat.say("brp biaya bikin paspor?")
    assert "Rp650.000" in said and "ditambahkan" not in said


async def test_an_agent_named_with_a_phone_after_the_help_lines_is_the_recruiter_and_links_later_reports(
        bot: Bot) -> None:
    chat = bot.chat(villager())
    await register(chat)
    await chat.say("tolong adik sy dibawa lari org ke kuching, hp nya gak aktif")
    await chat.say("yg bawa dia agen pak rudi 0813 5221 7788")
    await chat.tap("Kirim laporan darurat sekarang")
    alert = (await bot.deliver()).to(SGU_GROUP)[0]
    assert "Nama: Pak Rudi" in alert and "Telepon: +6281352217788" in alert
    # A neighbour reports the same agent weeks later: the officer sees the urgent case beside it.
    assert "Laporan lain tentang perekrut ini: 1 laporan: SGU-2026-0001" in await _neighbour_reports_pak_rudi(bot)


async def test_the_number_of_the_one_in_danger_is_not_taken_as_the_recruiters(bot: Bot) -> None:
    chat = bot.chat(villager())
    await register(chat)
    await chat.say("anak sy dibawa agen ke malaysia gak pamit")
    await chat.say("no hp anak sy 0812 3456 7890 gak aktif")
    await chat.tap("Kirim laporan darurat sekarang")
    alert = (await bot.deliver()).to(SGU_GROUP)[0]
    assert "Telepon: -" in alert and "0812 3456 7890" in alert           # in the story, for the officer


async def test_a_child_in_danger_is_sent_as_urgent_first_never_to_an_old_report_of_another_office(
        bot: Bot) -> None:
    chat = bot.chat(villager())
    await register(chat, "bungkang")                                     # Kanim Entikong
    await file_report(chat)
    assert (await bot.dialogue.store.report_by_case("ETK-2026-0001")) is not None
    await chat.say("menu")
    await chat.tap("Desa saya")
    await chat.tap("Ganti desa")
    await chat.say("semuntai")                                           # now Kanim Sanggau
    said = await chat.say("anak perempuan sy umur 15 mau dibawa org ke kuching malam ini")
    assert said.split("────────────")[1].lstrip().startswith("1. Kirim laporan darurat sekarang")
    assert "ETK-2026-0001" not in said
    done = await chat.say("1")
    assert "SGU-2026-0001" in done


async def test_an_old_report_of_the_same_office_comes_after_the_urgent_report(bot: Bot) -> None:
    chat = bot.chat(villager())
    await register(chat)
    await file_report(chat)
    said = await chat.say("anak perempuan sy umur 15 mau dibawa org ke kuching malam ini")
    options = said.split("────────────")[1]
    assert options.index("1. Kirim laporan darurat sekarang") < options.index(
        "2. Kirim pesan ini ke petugas (laporan SGU-2026-0001)")


async def test_the_long_story_sent_as_urgent_carries_the_job_wage_contact_and_held_passport(bot: Bot) -> None:
    chat = bot.chat(villager())
    await register(chat)
    said = await chat.say("pak suami sy diajak kerja di kebun sawit di malaysia sama tetangga, katanya gaji "
                          "5 juta sebulan. orangnya datang ke rumah, suruh bayar 3 juta. paspornya nanti dipegang "
                          "sama majikan. udh 2 bulan gk ada kabar. anak sy 3 masih sekolah")
    assert "bahaya" in said
    await chat.tap("Kirim laporan darurat sekarang")
    alert = (await bot.deliver()).to(SGU_GROUP)[0]
    for line in ("Paspor/KTP ditahan", "Diminta bayar di muka", "Dihubungi lewat: Bertemu langsung",
                 "Pekerjaan: kebun atau ladang", "Gaji dijanjikan: 5 juta sebulan"):
        assert line in alert, line
    assert "di bawah 18" not in alert                      # her three children at school are not the recruit


async def test_the_recruiter_named_at_the_urgent_reports_story_step_is_the_recruiter_and_links_later_reports(
        bot: Bot) -> None:
    chat = bot.chat(villager())
    await register(chat)
    await chat.say("tolong adik sy dibawa lari org ke kuching, hp nya gak aktif")
    await chat.tap("keterangan lebih lengkap")                   # the story step is open
    await chat.say("yg bawa dia agen pak rudi 0813 5221 7788")
    said = await chat.tap("Selesai")
    assert "Nama perekrut: Pak Rudi" in said and "0813 5221 7788" in said
    await chat.tap("hubungi saya")
    said = await chat.tap("Kirim")
    alert = (await bot.deliver()).to(SGU_GROUP)[0]
    assert "Nama: Pak Rudi" in alert and "Telepon: +6281352217788" in alert
    assert "Laporan lain tentang perekrut ini: 1 laporan: SGU-2026-0001" in await _neighbour_reports_pak_rudi(bot)


async def test_the_danger_replys_options_typed_out_choose_them_and_the_help_lines_are_not_repeated(
        bot: Bot) -> None:
    chat = bot.chat(villager())
    await register(chat)
    said = await chat.say("tolong adik sy dikurung majikan di kuching hp nya diambil")
    assert "110" in said
    said = await chat.say("di mess dekat pasar")
    assert "Tercatat" in said and "Bantuan yang bisa dihubungi sekarang" not in said
    said = await chat.say("kirim")                               # typed, not tapped: sent
    assert "SGU-2026-0001" in said
    alert = (await bot.deliver()).to(SGU_GROUP)[0]
    assert "di mess dekat pasar" in alert and "\nkirim" not in alert
    other = bot.chat(villager(2))
    await register(other)
    await other.say("tolong kakak sy dikurung majikan di kuching hp nya diambil")
    said = await other.say("keterangan lebih lengkap")           # the detailed report, not a story line
    assert "Pesan Anda tadi sudah tercatat. Bila bisa, tambahkan" in said
    assert "Tercatat. Pesan Anda ikut dikirim" not in said


async def test_a_crying_emoji_after_an_urgent_report_is_heard_and_what_follows_still_goes_to_the_report(
        bot: Bot) -> None:
    chat = bot.chat(villager())
    await chat.say("tolong paspor saya ditahan majikan di sibu")
    await chat.tap("Kirim laporan darurat sekarang")
    await bot.deliver()
    said = await chat.say("😭😭😭")
    assert "Saya di sini. Laporan darurat KWL-2026-0001 sudah dikirim" in said and "110" in said
    assert "belum punya jawaban" not in said
    said = await chat.say("sy dikunci di mess, di jalan sibu")
    assert "ditambahkan ke laporan darurat KWL-2026-0001" in said


async def test_a_recruiters_number_taken_back_in_an_urgent_story_gives_way_to_the_right_one(bot: Bot) -> None:
    chat = bot.chat(villager())
    await register(chat)
    await chat.say("tolong adik sy dibawa lari org ke kuching, hp nya gak aktif")
    await chat.tap("keterangan lebih lengkap")
    await chat.say("yg bawa dia agen pak rudi 0813 5221 7788")
    await chat.say("eh bkn 0813 5221 7788, nomornya 0821 1111 2222")
    said = await chat.tap("Selesai")
    assert "Nama perekrut: Pak Rudi" in said and "0821 1111 2222" in said
    await chat.tap("hubungi saya")
    await chat.tap("Kirim")
    alert = (await bot.deliver()).to(SGU_GROUP)[0]
    assert "Telepon: +6282111112222" in alert and "Telepon: +6281352217788" not in alert
    assert "0813 5221 7788 (nomor ini salah, sudah diralat pelapor)" in alert


async def test_kirim_at_an_urgent_story_step_keeps_the_recruiter_it_names(bot: Bot) -> None:
    chat = bot.chat(villager())
    await register(chat)
    await chat.say("tolong adik sy dibawa lari org ke kuching, hp nya gak aktif")
    await chat.tap("keterangan lebih lengkap")
    await chat.say("yg bawa dia agen pak rudi 0813 5221 7788")
    await chat.say("kirim")                                      # the rest skipped, the story read all the same
    await chat.tap("hubungi saya")
    await chat.tap("Kirim")
    alert = (await bot.deliver()).to(SGU_GROUP)[0]
    assert "Nama: Pak Rudi" in alert and "Telepon: +6281352217788" in alert


async def test_a_crying_emoji_is_asked_gently_what_happened_with_the_way_to_report_and_the_help_lines(
        bot: Bot) -> None:
    chat = bot.chat(villager())
    await register(chat)
    for typed in ("😭😭😭", "😢", "🙏😭"):
        said = await chat.say(typed)
        assert "Ada apa?" in said and "Ceritakan" in said, typed
        assert "110" in said and "0-800-1000" in said, typed               # the police and KP2MI
        assert "Laporkan tawaran mencurigakan" in said, typed
        assert "Tanya tentang paspor" not in said, typed                   # no bare menu
    # What they write next is read as anywhere: a person in danger gets the urgent report.
    said = await chat.say("anak sy dibawa agen ke malaysia gak pamit")
    assert "Kirim laporan darurat sekarang" in said


async def test_a_folded_hands_emoji_alone_is_asked_how_to_help_not_shown_a_bare_menu(bot: Bot) -> None:
    chat = bot.chat(villager())
    await register(chat)
    said = await chat.say("🙏")
    assert said.startswith("Ada yang bisa saya bantu?")
    assert "Tanya tentang paspor" in said                                 # the ways on, under the question


async def test_serikin_across_the_border_is_malaysia_in_a_report_and_in_the_help_lines(bot: Bot) -> None:
    chat = bot.chat(villager())
    await register(chat)
    said = await chat.say("tolong adik kamek dibawa lari urang ke serikin, hp nya gak aktif")
    assert "KJRI Kuching" in said                                        # the consulate of Sarawak
    await chat.say("menu")
    await chat.say("lapor")
    await chat.say("ada agen nawarin kerja di serikin gaji 3 juta sebulan")
    said = await chat.say("udah")
    assert "Negara tujuan: Malaysia" in said


async def test_a_recruiter_named_after_an_urgent_report_sent_at_once_is_written_into_it_and_linked(
        bot: Bot) -> None:
    """Round 3, E1-rest: "yg bawa dia agen pak rudi 0813..." after the report went reached the officer only
    as an addition; the case kept "Nama: - Telepon: -" and no link to another office's report of that agent."""
    other = bot.chat(villager(2))
    await register(other, "sutera")                               # Ketapang's village
    await file_report(other, name="Pak Rudi", phone="0813-5221-7788", company="PT Baru")
    chat = bot.chat(villager())
    await register(chat)
    await chat.say("tolong adik sy dikurung majikan di kuching, hp nya diambil")
    await chat.tap("Kirim laporan darurat sekarang")
    await chat.say("yg bawa dia agen pak rudi 0813 5221 7788")
    await chat.tap("Kirim pesan ini ke petugas")
    added = (await bot.deliver()).to(SGU_GROUP)[-1]
    assert "Tambahan" in added and "dicatat di kasus SGU-2026-0001: Pak Rudi, +6281352217788" in added
    detail = await bot.chat(SGU_OFFICER).say("KASUS SGU-2026-1")
    assert "Nama: Pak Rudi" in detail and "Telepon: +6281352217788" in detail
    assert "Laporan lain tentang perekrut ini: 1 laporan: KTG-2026-0001" in detail
    # And the other office sees the urgent case beside its own.
    assert "SGU-2026-0001" in await bot.chat(KTG_OFFICER).say("KASUS KTG-2026-1")

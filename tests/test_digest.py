"""The morning digest: once per office per working day, never on a holiday, overdue cases first."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from bot.app import Knowledge, build_knowledge
from bot.digest import Digest
from bot.store import NewReport, Report
from tests.fakes import villager
from tests.villagers import REGIONAL, SGU_GROUP, Bot, make_desk, open_bot

KTG_GROUP = -100222

WIB = ZoneInfo("Asia/Pontianak")


def wib(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=WIB)   # type: ignore[misc]


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory) -> Knowledge:
    return make_desk(tmp_path_factory.mktemp("digest"))


async def filed(bot: Bot, risk: str, at: dt.datetime, village: str = "semuntai", office_id: str = "SGU") -> Report:
    # A village outside every office's area is the Kantor Wilayah's: a typed place, no village id.
    place = None if village else {"name": "Dusun Jauh", "kecamatan": "", "kabupaten": "", "office_id": office_id}
    new = NewReport(office_id=office_id, village_id=village, risk=risk, flags=(), answers={}, media=(),
                    recruiter_phone=None, recruiter_name="Pak Budi", recruiter_company=None, reporter_key=None,
                    contactable=False, place=place)
    return await bot.dialogue.store.file_report(new, [], at.year, at)


async def digest_at(bot: Bot, at: dt.datetime, url: str | None = None) -> int:
    bot.clock.now = at
    return await Digest(bot.dialogue.casework, url).run(at)


def digests_to_group(bot: Bot) -> list[str]:
    return [o.text for o in bot.telegram.sent if o.kind == "digest" and o.recipient.user_id == SGU_GROUP]


async def test_one_digest_per_office_per_working_day_also_after_a_restart(office: Knowledge,
                                                                         tmp_path: Path) -> None:
    async with open_bot(office, tmp_path) as bot:
        assert await digest_at(bot, wib(2026, 11, 9, 7, 29)) == 0        # Monday, before 07:30
        first = await digest_at(bot, wib(2026, 11, 9, 7, 30))
        assert first == len(office.settings.all_offices)                  # every office, the Kanwil too
        assert await digest_at(bot, wib(2026, 11, 9, 7, 31)) == 0
    async with open_bot(office, tmp_path) as bot:                        # restarted at 09:00
        assert await digest_at(bot, wib(2026, 11, 9, 9, 0)) == 0
        assert await digest_at(bot, wib(2026, 11, 10, 7, 45)) == first    # Tuesday's
        await bot.deliver()
        assert len(digests_to_group(bot)) == 2


async def test_no_digest_on_a_weekend_or_a_holiday_or_in_the_evening(office: Knowledge, tmp_path: Path) -> None:
    async with open_bot(office, tmp_path) as bot:
        assert await digest_at(bot, wib(2026, 11, 14, 8, 0)) == 0       # Saturday
        assert await digest_at(bot, wib(2026, 12, 24, 8, 0)) == 0       # cuti bersama Natal
        assert await digest_at(bot, wib(2026, 12, 25, 8, 0)) == 0       # Natal
        assert await digest_at(bot, wib(2026, 11, 9, 16, 0)) == 0       # a bot started after office hours
        assert await digest_at(bot, wib(2026, 12, 28, 8, 0)) > 0        # the next working day


async def test_the_digest_lists_overdue_cases_first_with_their_age_and_opens_them(office: Knowledge,
                                                                                   tmp_path: Path) -> None:
    async with open_bot(office, tmp_path) as bot:
        old = await filed(bot, "rendah", wib(2026, 11, 2, 9, 0))        # due Thursday 5 Nov: overdue
        fresh = await filed(bot, "tinggi", wib(2026, 11, 9, 7, 0))       # due 11:00 today
        await filed(bot, "sedang", wib(2026, 11, 6, 10, 0))       # Friday: due 10:00 today
        assert await digest_at(bot, wib(2026, 11, 9, 7, 30), url="https://bot.example/console/kasus") > 0
        await bot.deliver()
        item = next(o for o in bot.telegram.sent if o.kind == "digest" and o.recipient.user_id == SGU_GROUP)
        text = item.text
        assert "Kasus terbuka: 3, lewat batas waktu: 1" in text
        lines = [line for line in text.splitlines() if "KASUS SGU-" in line]
        assert lines[0].startswith("- ❗") and old.case_no in lines[0] and "LEWAT 3 hari" in lines[0]
        assert fresh.case_no in lines[-1] and "❗" not in lines[-1] and "batas 09-11-2026 11:00 WIB" in lines[-1]
        assert "https://bot.example/console/kasus" in text
        # One tap opens the case, as KASUS <nomor> does.
        option = next(o for o in item.options if o.label == old.case_no)
        detail = await bot.chat(villager("1001")).say("", payload=option.payload)
        assert f"LAPORAN BARU {old.case_no}" in detail and "Riwayat" in detail


async def test_without_a_public_url_the_digest_has_no_console_line(office: Knowledge, tmp_path: Path) -> None:
    async with open_bot(office, tmp_path) as bot:
        await digest_at(bot, wib(2026, 11, 9, 7, 30))
        await bot.deliver()
        text = digests_to_group(bot)[0]
        assert "Konsol kantor" not in text and "Tidak ada kasus terbuka." in text


async def test_a_digest_can_be_turned_off(office: Knowledge, tmp_path: Path) -> None:
    settings = dataclasses.replace(office.settings, deadlines=dataclasses.replace(
        office.settings.deadlines, digest=False))
    async with open_bot(dataclasses.replace(office, settings=settings), tmp_path) as bot:
        assert await digest_at(bot, wib(2026, 11, 9, 7, 30)) == 0


def digests_to(bot: Bot, user_id: str) -> list[str]:
    return [o.text for o in bot.telegram.sent if o.kind == "digest" and o.recipient.user_id == user_id]


def live_desk(folder: Path, *, kanwil_officer: bool = True) -> Knowledge:
    """The test office with a live Telegram bot: the offices with only placeholder officers have
    no recipient of their own, so their alerts (and digests) go to the Kantor Wilayah's officer,
    or without one to every office that has a chat."""
    folder.mkdir()
    make_desk(folder)
    path = folder / "config.yaml"
    if not kanwil_officer:
        data = yaml.safe_load(path.read_text())
        data["regional_office"]["officers"] = []
        path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return build_knowledge(path, {"TELEGRAM_BOT_TOKEN": "123456:TEST-token"})


async def test_the_kanwil_gets_its_own_cases_and_no_other_offices(office: Knowledge, tmp_path: Path) -> None:
    async with open_bot(office, tmp_path) as bot:
        kanwil = await filed(bot, "sedang", wib(2026, 11, 6, 10, 0), village="", office_id="KWL")
        sanggau = await filed(bot, "rendah", wib(2026, 11, 6, 11, 0))
        await digest_at(bot, wib(2026, 11, 9, 7, 30))
        await bot.deliver()
        [to_kanwil] = digests_to(bot, REGIONAL.user_id)
        assert "Ringkasan pagi Kantor Wilayah" in to_kanwil and kanwil.case_no in to_kanwil
        assert "Kasus terbuka: 1" in to_kanwil and sanggau.case_no not in to_kanwil and "Termasuk" not in to_kanwil
        [to_sanggau] = digests_to_group(bot)
        assert sanggau.case_no in to_sanggau and kanwil.case_no not in to_sanggau


async def test_offices_without_a_chat_are_in_the_kanwils_one_digest(tmp_path: Path) -> None:
    live = live_desk(tmp_path / "config")
    async with open_bot(live, tmp_path) as bot:
        kanwil = await filed(bot, "sedang", wib(2026, 11, 6, 10, 0), village="", office_id="KWL")
        pontianak = await filed(bot, "rendah", wib(2026, 11, 5, 9, 0), village="sungai-raya", office_id="PTK")
        sanggau = await filed(bot, "rendah", wib(2026, 11, 6, 11, 0))
        assert await digest_at(bot, wib(2026, 11, 9, 7, 30)) == 3     # Sanggau, Ketapang, the Kanwil
        assert await digest_at(bot, wib(2026, 11, 9, 8, 0)) == 0
        await bot.deliver()
        [to_kanwil] = digests_to(bot, REGIONAL.user_id)              # one message, not one per office
        assert "Ringkasan pagi Kantor Wilayah" in to_kanwil
        assert "Termasuk kasus Kantor Imigrasi Kelas I TPI Pontianak" in to_kanwil
        assert to_kanwil.count(kanwil.case_no) == 1 and to_kanwil.count(pontianak.case_no) == 1
        assert sanggau.case_no not in to_kanwil and "Kasus terbuka: 2" in to_kanwil
        [to_sanggau] = digests_to_group(bot)
        assert sanggau.case_no in to_sanggau and kanwil.case_no not in to_sanggau
        assert pontianak.case_no not in to_sanggau and "Termasuk" not in to_sanggau
        # One tap opens a covered office's case for the Kanwil's officer.
        detail = await bot.chat(REGIONAL).say("", payload=f"case:kasus:{pontianak.case_no}")
        assert f"LAPORAN BARU {pontianak.case_no}" in detail


async def test_without_a_kanwil_chat_every_office_with_one_gets_the_uncovered_cases_once(tmp_path: Path) -> None:
    live = live_desk(tmp_path / "config", kanwil_officer=False)
    async with open_bot(live, tmp_path) as bot:
        kanwil = await filed(bot, "sedang", wib(2026, 11, 6, 10, 0), village="", office_id="KWL")
        pontianak = await filed(bot, "rendah", wib(2026, 11, 5, 9, 0), village="sungai-raya", office_id="PTK")
        sanggau = await filed(bot, "rendah", wib(2026, 11, 6, 11, 0))
        assert await digest_at(bot, wib(2026, 11, 9, 7, 30)) == 2     # Sanggau's chat, Ketapang's
        await bot.deliver()
        [to_sanggau] = digests_to_group(bot)
        [to_ketapang] = digests_to(bot, str(KTG_GROUP))
        for text in (to_sanggau, to_ketapang):
            assert text.count(kanwil.case_no) == 1 and text.count(pontianak.case_no) == 1
            assert "Termasuk kasus" in text and "Kantor Wilayah" in text
        assert sanggau.case_no in to_sanggau and sanggau.case_no not in to_ketapang
        assert "Kasus terbuka: 3" in to_sanggau and "Kasus terbuka: 2" in to_ketapang


async def test_a_chat_two_offices_name_gets_one_digest_with_both_offices_cases(tmp_path: Path) -> None:
    folder = tmp_path / "config"
    folder.mkdir()
    make_desk(folder)
    data = yaml.safe_load((folder / "config.yaml").read_text())
    ketapang = next(o for o in data["offices"] if o["id"] == "KTG")
    ketapang["alerts"]["telegram_chat_ids"] = [int(SGU_GROUP)]      # one group for both offices
    (folder / "config.yaml").write_text(yaml.safe_dump(data, allow_unicode=True))
    shared = build_knowledge(folder / "config.yaml", {"TELEGRAM_BOT_TOKEN": "123456:TEST-token"})
    async with open_bot(shared, tmp_path) as bot:
        sanggau = await filed(bot, "rendah", wib(2026, 11, 6, 11, 0))
        ketapang_case = await filed(bot, "rendah", wib(2026, 11, 6, 12, 0), village="kendawangan-kiri",
                                    office_id="KTG")
        assert await digest_at(bot, wib(2026, 11, 9, 7, 30)) == 2      # the shared group, the Kanwil
        await bot.deliver()
        [text] = digests_to_group(bot)
        assert "TPI Sanggau, Kantor Imigrasi Kelas II Non TPI Ketapang" in text
        assert text.count(sanggau.case_no) == 1 and text.count(ketapang_case.case_no) == 1
        assert "Kasus terbuka: 2" in text

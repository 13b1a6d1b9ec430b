"""Deadlines in the console: time left on each case, the inbox by urgency, the overdue tab, the regional view."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from bs4 import BeautifulSoup

from bot.app import Knowledge
from bot.store import NewReport, Report
from tests.desk_rig import KTG_OFFICER, REGIONAL, SGU_OFFICER, Rig, make_console_config, open_rig

WIB = ZoneInfo("Asia/Pontianak")
NOW = dt.datetime(2026, 11, 12, 10, 0, tzinfo=WIB)     # a Thursday morning


@pytest.fixture(scope="module")
def cdesk(tmp_path_factory: pytest.TempPathFactory) -> Knowledge:
    return make_console_config(tmp_path_factory.mktemp("console"))


@pytest.fixture
async def rig(cdesk: Knowledge, tmp_path: Path):
    async with open_rig(cdesk, tmp_path) as r:
        yield r


async def filed(rig: Rig, office: str, village: str, risk: str, at: dt.datetime, name: str) -> Report:
    new = NewReport(office_id=office, village_id=village, risk=risk, flags=(), answers={}, media=(),
                    recruiter_phone=None, recruiter_name=name, recruiter_company=None, reporter_key=None,
                    contactable=False)
    return await rig.bot.dialogue.store.file_report(new, [], at.year, at)


async def seeded(rig: Rig) -> dict[str, Report]:
    """Kanim Sanggau: one overdue low-risk case, one fresh high-risk, one medium due tomorrow; one of Ketapang."""
    cases = {
        "late": await filed(rig, "SGU", "semuntai", "rendah", dt.datetime(2026, 11, 4, 9, 0, tzinfo=WIB),
                            "Lambat"),
        "danger": await filed(rig, "SGU", "semuntai", "tinggi", dt.datetime(2026, 11, 12, 9, 0, tzinfo=WIB),
                              "Bahaya"),
        "soon": await filed(rig, "SGU", "sungai-kelik", "sedang", dt.datetime(2026, 11, 12, 8, 0, tzinfo=WIB),
                            "Sedang"),
        "foreign": await filed(rig, "KTG", "sutera", "rendah", dt.datetime(2026, 11, 2, 9, 0, tzinfo=WIB),
                               "Ketapang"),
    }
    rig.bot.clock.now = NOW
    return cases


def rows(html: str) -> list[list[str]]:
    page = BeautifulSoup(html, "html.parser")
    return [[td.get_text(" ", strip=True) for td in tr.select("td")] for tr in page.select("table.cases tbody tr")]


async def test_the_inbox_comes_by_deadline_with_the_time_left(rig: Rig) -> None:
    c = await seeded(rig)
    client, _ = await rig.login(SGU_OFFICER)
    table = rows(await (await client.get("/console/kasus")).text())
    assert [r[0] for r in table] == [c["late"].case_no, c["danger"].case_no, c["soon"].case_no]
    assert "lewat" in table[0][4] and "sisa 3 jam" in table[1][4] and "13-11-2026 08:00" in table[2][4]
    newest_first = rows(await (await client.get("/console/kasus?urut=umur")).text())
    assert newest_first[0][0] == c["danger"].case_no


async def test_the_overdue_tab_holds_only_the_office_s_overdue_cases(rig: Rig) -> None:
    c = await seeded(rig)
    client, _ = await rig.login(SGU_OFFICER)
    html = await (await client.get("/console/kasus?tab=lewat")).text()
    assert [r[0] for r in rows(html)] == [c["late"].case_no]
    count = BeautifulSoup(html, "html.parser").select_one('[data-count="lewat"]')
    assert count is not None and count.get_text() == "1"
    rig.bot.clock.now = NOW + dt.timedelta(hours=4)    # 14:00: the high-risk case is past its 4 hours
    client, csrf = await rig.login(SGU_OFFICER)         # (the idle session ended meanwhile)
    html = await (await client.get("/console/kasus?tab=lewat")).text()
    assert [r[0] for r in rows(html)] == [c["late"].case_no, c["danger"].case_no]
    # A search keeps the overdue count to what it found.
    await client.post("/console/kasus/cari", data={"q": "Bahaya", "tab": "lewat", "_csrf": csrf})
    html = await (await client.get("/console/kasus?tab=lewat&cari=1")).text()
    assert [r[0] for r in rows(html)] == [c["danger"].case_no]
    count = BeautifulSoup(html, "html.parser").select_one('[data-count="lewat"]')
    assert count is not None and count.get_text() == "1"
    foreign, _ = await rig.login(KTG_OFFICER)
    html = await (await foreign.get("/console/kasus?tab=lewat")).text()
    assert [r[0] for r in rows(html)] == [c["foreign"].case_no]


async def test_the_case_page_shows_both_deadlines_and_whether_they_were_kept(rig: Rig) -> None:
    c = await seeded(rig)
    client, csrf = await rig.login(SGU_OFFICER)
    case = c["danger"].case_no
    page = BeautifulSoup(await (await client.get(f"/console/kasus/{case}")).text(), "html.parser")
    assert "12-11-2026 13:00" in page.select_one("#deadline-tanggap").get_text() and \
        "sisa 3 jam" in page.select_one("#deadline-tanggap").get_text()
    assert "sisa" in page.select_one("#deadline-tutup").get_text()
    await client.post(f"/console/kasus/{case}/tangani", data={"_csrf": csrf})
    page = BeautifulSoup(await (await client.get(f"/console/kasus/{case}")).text(), "html.parser")
    assert "tepat waktu" in page.select_one("#deadline-tanggap").get_text()


async def test_the_regional_view_has_a_row_per_office_and_village_and_a_csv(rig: Rig) -> None:
    c = await seeded(rig)
    client, csrf = await rig.login(SGU_OFFICER)
    await client.post(f"/console/kasus/{c['soon'].case_no}/tangani", data={"_csrf": csrf})   # in time
    assert (await client.get("/console/wilayah")).status == 404
    kanwil, _ = await rig.login(REGIONAL)
    page = BeautifulSoup(await (await kanwil.get("/console/wilayah?dari=2026-10-01")).text(), "html.parser")
    offices = {r[0]: r for r in ([td.get_text(strip=True) for td in tr.select("td")]
                                 for tr in page.select("#table-wilayah_kantor tbody tr"))}
    sanggau = offices["Kantor Imigrasi Kelas II TPI Sanggau"]
    # filed, open, overdue, median hours to acknowledge, to close, share within deadline
    assert sanggau[1:4] == ["3", "3", "1"]
    assert sanggau[6] == "50"           # of the two that can be judged, one kept its deadline
    assert offices["Kantor Imigrasi Kelas II Non TPI Ketapang"][1:4] == ["1", "1", "1"]
    villages = [[td.get_text(strip=True) for td in tr.select("td")]
                for tr in page.select("#table-wilayah_desa tbody tr")]
    assert ["Semuntai", "SGU", "2", "1", "0", "1", "12-11-2026 09:00"] in villages
    assert page.select("canvas[data-chart]")
    body = await (await kanwil.get("/console/wilayah.csv?dari=2026-10-01")).text()
    keys = {row[0] for row in csv.reader(io.StringIO(body))}
    assert {"wilayah_kantor", "wilayah_desa", "wilayah_tren_laporan", "wilayah_tren_tepat_waktu"} <= keys


async def test_each_escalation_step_is_on_the_case_timeline(rig: Rig) -> None:
    from bot.escalation import Escalation
    c = await seeded(rig)
    assert await Escalation(rig.bot.dialogue.casework).run(NOW) >= 1
    client, _ = await rig.login(SGU_OFFICER)
    timeline = BeautifulSoup(await (await client.get(f"/console/kasus/{c['late'].case_no}")).text(),
                             "html.parser").select_one("section.timeline")
    assert timeline is not None
    text = timeline.get_text(" ", strip=True)
    assert "Batas waktu lewat · pengingat otomatis" in text
    assert "diberitahukan kepada petugas kantor" in text and "diberitahukan kepada kepala kantor" in text

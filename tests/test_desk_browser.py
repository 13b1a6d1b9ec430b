"""A real browser on the console: Debian's Chromium, driven by Playwright, against a real server on loopback.

It logs in with a code caught from the outbox, opens the inbox and a case, acknowledges it (the
villager's status message lands in the outbox), and loads the figures and checks the charts
drew. Any console error (a Content-Security-Policy violation is one) fails it. Screenshots go to
$DESK_SCREENSHOTS when set (the README's come from there), else to the test's temporary folder.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from bot.app import Knowledge
from bot.reporting import Assessment
from bot.store import NewReport
from tests.desk_rig import REGIONAL, SGU_OFFICER, make_console_config, open_rig
from tests.fakes import villager
from tests.villagers import file_report, register

CHROMIUM = Path(os.environ.get("DESK_CHROMIUM", "/usr/bin/chromium"))   # Debian's package
if not CHROMIUM.exists():
    if os.environ.get("DESK_BROWSER_REQUIRED"):
        raise RuntimeError("the browser test must run here: apt-get install -y chromium")
    pytest.skip("browser test skipped: Chromium not installed (apt-get install -y chromium)",
                allow_module_level=True)

from playwright.async_api import Page, async_playwright  # noqa: E402

SAMPLES = [("tinggi", "Pak Rahmat", "PT Sinar Jaya Abadi", "semuntai"),
           ("sedang", "Bu Lina", None, "semuntai"),
           ("rendah", None, "CV Kerja Mudah", "semuntai"),
           ("tinggi", "Agen Ahong", "Ahong Recruitment Sdn Bhd", "semuntai")]


@pytest.fixture(scope="module")
def cdesk(tmp_path_factory: pytest.TempPathFactory) -> Knowledge:
    return make_console_config(tmp_path_factory.mktemp("console"))


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("DESK_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


async def test_an_officer_works_a_case_in_a_real_browser(cdesk: Knowledge, tmp_path: Path, shots: Path) -> None:
    async with open_rig(cdesk, tmp_path) as rig:
        casework = rig.bot.dialogue.casework
        for i, (risk, name, company, village) in enumerate(SAMPLES):
            rig.bot.clock.advance(hours=-30 + i * 5)
            await casework.file(NewReport(
                office_id="SGU", village_id=village, risk=risk, flags=("bayar",) if risk == "tinggi" else (),
                answers={"cerita": f"{name or company} menawarkan kerja di kebun sawit Sarawak."},
                media=(), recruiter_phone=None, recruiter_name=name, recruiter_company=company,
                reporter_key=None, contactable=False), Assessment(risk, 0, ()), rig.bot.clock())
            rig.bot.clock.advance(hours=30 - i * 5)
        chat = rig.bot.chat(villager(1))
        await register(chat)
        await file_report(chat)
        await chat.say("resep kue lapis legit")
        await rig.bot.deliver()
        case_no = (await rig.bot.dialogue.store.reports_of(villager(1).key))[0].case_no
        problems: list[str] = []
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
            page = await browser.new_page(viewport={"width": 1280, "height": 860})
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)
            base = rig.server.make_url("/console")
            await page.goto(f"{base}/masuk")
            await page.fill("#alamat", SGU_OFFICER)
            await page.click("button[type=submit]")
            await page.wait_for_url("**/console/kode")
            await page.fill("#kode", await rig.last_code_for(SGU_OFFICER))
            await page.click("main button[type=submit]")
            await page.wait_for_url("**/console/kasus")
            assert case_no in await page.inner_text("table.cases")
            await page.screenshot(path=str(shots / "inbox.png"), full_page=True)

            await page.click(f"text={case_no}")
            await page.wait_for_url(f"**/console/kasus/{case_no}")
            await page.screenshot(path=str(shots / "case.png"), full_page=True)
            await page.click("#btn-tangani")
            await page.wait_for_selector(".flash")
            assert "DITANGANI" in await page.inner_text(".flash")
            sent = await rig.bot.deliver()
            assert any(o.recipient == villager(1) and o.kind == "status" and case_no in o.text for o in sent.sent)

            phone = await browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
            await phone.context.add_cookies(await page.context.cookies())
            await phone.goto(f"{base}/kasus?tab=ditangani")
            assert case_no in await phone.inner_text("table.cases")
            await phone.screenshot(path=str(shots / "inbox-phone.png"), full_page=True)

            await page.goto(f"{base}/angka")
            await page.wait_for_function("Number(document.body.dataset.chartsDrawn || 0) >= 5")
            drawn = await page.eval_on_selector_all(
                "canvas[data-drawn]", "cs => cs.filter(c => c.width > 0 && c.height > 0).length")
            assert drawn >= 5
            await page.screenshot(path=str(shots / "figures.png"), full_page=True)
            await browser.close()
        assert problems == [], problems


OFFICES = (("SGU", ["semuntai", "sungai-kelik", "nanga-mahap"]), ("KTG", ["sutera", "kendawangan-kiri"]),
           ("ETK", ["bungkang", "malenggang"]))


async def seed_weeks(rig: object, weeks: int = 8) -> None:
    """Cases over `weeks` weeks in three offices: some acknowledged and closed in time, some late, some open."""
    from bot.store import Store
    store: Store = rig.bot.dialogue.store   # type: ignore[attr-defined]
    now = rig.bot.clock()                   # type: ignore[attr-defined]
    risks = ("rendah", "sedang", "tinggi", "sedang", "rendah")
    n = 0
    for week in range(weeks, 0, -1):
        for o, (office, villages) in enumerate(OFFICES):
            for i in range(2 + (week + o) % 3):
                n += 1
                filed = now - dt.timedelta(days=7 * week - i - o, hours=3 * i)
                report = await store.file_report(NewReport(
                    office_id=office, village_id=villages[(n + i) % len(villages)], risk=risks[n % 5], flags=(),
                    answers={}, media=(), recruiter_phone=None, recruiter_name=f"Perekrut {n}",
                    recruiter_company=None, reporter_key=None, contactable=False), [], filed.year, filed)
                if n % 3 == 1 and week < 3:
                    continue                                   # nobody touched it
                late = (n + o) % (3 + o) == 0                  # Ketapang and Entikong are slower
                ack = filed + dt.timedelta(hours=30 if late else 2)
                report = await store.record_case_event(report, actor="Petugas", kind="ditangani", text="",
                                                       status="ditangani", public_note=None, outgoing=(), now=ack)
                if week > 2:
                    await store.record_case_event(report, actor="Petugas", kind="ditutup", text="selesai",
                                                  status="ditutup", public_note=None, outgoing=(),
                                                  now=filed + dt.timedelta(days=25 if late else 6))


async def test_the_overdue_tab_and_the_regional_view_in_a_real_browser(cdesk: Knowledge, tmp_path: Path,
                                                                        shots: Path) -> None:
    async with open_rig(cdesk, tmp_path) as rig:
        rig.bot.clock.now = dt.datetime(2026, 11, 26, 2, 0, tzinfo=dt.UTC)    # Thursday 09:00 WIB
        await seed_weeks(rig)
        problems: list[str] = []
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
            base = rig.server.make_url("/console")

            async def logged_in(address: str) -> Page:
                page = await browser.new_page(viewport={"width": 1280, "height": 860})
                page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
                page.on("pageerror", lambda e: problems.append(str(e)))
                page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)
                await page.goto(f"{base}/masuk")
                await page.fill("#alamat", address)
                await page.click("button[type=submit]")
                await page.wait_for_url("**/console/kode")
                await page.fill("#kode", await rig.last_code_for(address))
                await page.click("main button[type=submit]")
                await page.wait_for_url("**/console/kasus")
                return page

            page = await logged_in(SGU_OFFICER)
            await page.click("text=Lewat batas waktu")
            await page.wait_for_url("**/console/kasus?tab=lewat")
            overdue = await page.inner_text("table.cases")
            assert "lewat" in overdue and "SGU-" in overdue and "KTG-" not in overdue
            await page.screenshot(path=str(shots / "overdue.png"), full_page=True)

            kanwil = await logged_in(REGIONAL)
            await kanwil.click("header nav >> text=Wilayah")
            await kanwil.wait_for_url("**/console/wilayah")
            await kanwil.wait_for_function("Number(document.body.dataset.chartsDrawn || 0) >= 2")
            offices = await kanwil.inner_text("#table-wilayah_kantor")
            assert "Sanggau" in offices and "Ketapang" in offices and "Entikong" in offices
            assert "Semuntai" in await kanwil.inner_text("#table-wilayah_desa")
            await kanwil.screenshot(path=str(shots / "regional.png"), full_page=True)
            await browser.close()
        assert problems == [], problems

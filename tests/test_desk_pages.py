"""The office console as officers use it: login, inbox, a case, actions through casework, figures, trail."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from bot.app import Knowledge
from tests.desk_rig import (
    KTG_OFFICER,
    REGIONAL,
    SGU_EDITOR,
    SGU_HEAD,
    SGU_OFFICER,
    Rig,
    make_console_config,
    open_rig,
)
from tests.fakes import villager
from tests.villagers import file_report, register


@pytest.fixture(scope="module")
def cdesk(tmp_path_factory: pytest.TempPathFactory) -> Knowledge:
    return make_console_config(tmp_path_factory.mktemp("console"))


@pytest.fixture
async def rig(cdesk: Knowledge, tmp_path: Path):
    async with open_rig(cdesk, tmp_path) as r:
        yield r


async def sgu_case(rig: Rig, n: int = 1, **kw: object) -> str:
    chat = rig.bot.chat(villager(n))
    await register(chat, "semuntai")
    await file_report(chat, **kw)  # type: ignore[arg-type]
    rows = await rig.bot.dialogue.store.open_reports("SGU")
    return rows[-1].case_no


async def ktg_case(rig: Rig, n: int = 50, **kw: object) -> str:
    chat = rig.bot.chat(villager(n))
    await register(chat, "kendawangan")
    await file_report(chat, **kw)  # type: ignore[arg-type]
    rows = await rig.bot.dialogue.store.open_reports("KTG")
    return rows[-1].case_no


def soup(html: str) -> BeautifulSoup:
    return BeautifulSoup(html, "html.parser")


async def test_an_officer_logs_in_with_a_code_from_their_chat_and_sees_their_new_case(rig: Rig) -> None:
    case_no = await sgu_case(rig)
    client, _ = await rig.login(SGU_OFFICER)
    page = await client.get("/console/kasus")
    html = await page.text()
    assert page.status == 200
    assert case_no in html
    tabs = soup(html).select("nav.tabs a")
    assert "1" in tabs[0].get_text()            # Baru 1
    assert page.headers["Cache-Control"] == "no-store"
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["Referrer-Policy"] == "no-referrer"


async def test_acknowledging_in_the_console_tells_the_reporter_and_edits_the_alerts(rig: Rig) -> None:
    case_no = await sgu_case(rig)
    await rig.bot.deliver()
    client, csrf = await rig.login(SGU_OFFICER)
    done = await client.post(f"/console/kasus/{case_no}/tangani", data={"_csrf": csrf}, allow_redirects=False)
    assert done.status == 303
    page = await client.get(done.headers["Location"])
    html = await page.text()
    assert "DITANGANI" in html                       # the casework reply, shown once as a flash
    assert rig.edited == [case_no]
    sent = await rig.bot.deliver()
    to_reporter = [o.text for o in sent.sent if o.recipient == villager(1) and o.kind == "status"]
    assert any(case_no in t and "ditangani" in t for t in to_reporter)
    report = await rig.bot.dialogue.store.report_by_case(case_no)
    assert report is not None and report.status == "ditangani"
    events = await rig.bot.dialogue.store.case_events(report.id)
    assert [e.kind for e in events] == ["ditangani"] and events[0].actor == "Petugas Sanggau"


async def test_two_officers_acknowledging_at_once_give_one_result(rig: Rig) -> None:
    case_no = await sgu_case(rig)
    a, csrf_a = await rig.login(SGU_OFFICER)
    b, csrf_b = await rig.login(SGU_HEAD)
    await asyncio.gather(a.post(f"/console/kasus/{case_no}/tangani", data={"_csrf": csrf_a}),
                         b.post(f"/console/kasus/{case_no}/tangani", data={"_csrf": csrf_b}))
    report = await rig.bot.dialogue.store.report_by_case(case_no)
    assert report is not None
    assert [e.kind for e in await rig.bot.dialogue.store.case_events(report.id)] == ["ditangani"]
    sent = await rig.bot.deliver()
    assert len([o for o in sent.sent if o.recipient == villager(1) and o.kind == "status"]) == 1


async def test_closing_needs_an_outcome_from_the_list_and_tells_the_reporter(rig: Rig) -> None:
    case_no = await sgu_case(rig)
    client, csrf = await rig.login(SGU_OFFICER)
    refused = await client.post(f"/console/kasus/{case_no}/tutup", data={"_csrf": csrf, "hasil": "apa saja"})
    assert "Pilih dulu hasil" in await refused.text()
    outcome = rig.desk.text.outcomes[0]
    await client.post(f"/console/kasus/{case_no}/tutup",
                      data={"_csrf": csrf, "hasil": outcome, "teks": "pelaku diperiksa"})
    report = await rig.bot.dialogue.store.report_by_case(case_no)
    assert report is not None and report.status == "ditutup"
    assert report.outcome == f"{outcome}: pelaku diperiksa"
    sent = await rig.bot.deliver()
    assert any("pelaku diperiksa" in o.text for o in sent.sent if o.recipient == villager(1))


async def test_an_internal_note_stays_in_the_office_and_a_message_reaches_the_reporter(rig: Rig) -> None:
    case_no = await sgu_case(rig)
    client, csrf = await rig.login(SGU_OFFICER)
    await client.post(f"/console/kasus/{case_no}/catatan", data={"_csrf": csrf, "teks": "cek ke polsek"})
    await client.post(f"/console/kasus/{case_no}/pesan", data={"_csrf": csrf, "teks": "kami sedang memeriksa"})
    sent = await rig.bot.deliver()
    to_reporter = " ".join(o.text for o in sent.sent if o.recipient == villager(1))
    assert "kami sedang memeriksa" in to_reporter and "cek ke polsek" not in to_reporter
    page = await (await client.get(f"/console/kasus/{case_no}")).text()
    timeline = soup(page).select_one("section.timeline").get_text()
    assert "cek ke polsek" in timeline and "kami sedang memeriksa" in timeline


async def test_a_head_assigns_a_case_and_it_shows_under_mine(rig: Rig) -> None:
    case_no = await sgu_case(rig)
    head, csrf = await rig.login(SGU_HEAD)
    await head.post(f"/console/kasus/{case_no}/tangani", data={"_csrf": csrf})
    await head.post(f"/console/kasus/{case_no}/tugaskan", data={"_csrf": csrf, "petugas": "SGU-1"})
    officer, _ = await rig.login(SGU_OFFICER)
    mine = await (await officer.get("/console/kasus?tab=ditangani&saya=1")).text()
    assert case_no in mine
    # An officer (not a head) cannot assign: the form is absent and the action refused.
    page = await (await officer.get(f"/console/kasus/{case_no}")).text()
    assert not soup(page).select(f"form[action='/console/kasus/{case_no}/tugaskan']")


async def test_search_finds_a_recruiter_phone_in_any_format_without_putting_it_in_a_url(rig: Rig) -> None:
    case_no = await sgu_case(rig, phone="0812-3456-7890")
    client, csrf = await rig.login(SGU_OFFICER)
    for typed in ("0812 3456 7890", "+62 812-3456-7890", "6281234567890", "(0812) 34567890"):
        sent = await client.post("/console/kasus/cari", data={"_csrf": csrf, "q": typed}, allow_redirects=False)
        assert "3456" not in sent.headers["Location"]
        html = await (await client.get(sent.headers["Location"])).text()
        assert case_no in html, typed
    for typed in (case_no.lower(), "maju jaya", "budi"):
        sent = await client.post("/console/kasus/cari", data={"_csrf": csrf, "q": typed}, allow_redirects=False)
        assert case_no in await (await client.get(sent.headers["Location"])).text(), typed
    sent = await client.post("/console/kasus/cari", data={"_csrf": csrf, "q": "0899 1111 2222"},
                             allow_redirects=False)
    assert case_no not in await (await client.get(sent.headers["Location"])).text()


async def test_a_report_with_html_and_script_is_shown_as_text(rig: Rig) -> None:
    case_no = await sgu_case(rig, name="<script>alert(1)</script>",
                             company="<b>PT</b> <img src=x onerror=alert(2)>")
    client, _ = await rig.login(SGU_OFFICER)
    for url in ("/console/kasus", f"/console/kasus/{case_no}"):
        html = await (await client.get(url)).text()
        page = soup(html)
        assert not page.select("img"), url
        assert all(s.get("src") or s.get("type") == "application/json" for s in page.select("script")), url
        assert not page.select("[style]"), url
        assert not page.select("[onerror]"), url
    story = soup(html).select_one("section.report").get_text()
    assert "<script>alert(1)</script>" in story and "<img src=x onerror=alert(2)>" in story


async def test_an_anonymous_reporter_has_no_contact_on_the_page(rig: Rig) -> None:
    case_no = await sgu_case(rig, anonymous=True)
    client, _ = await rig.login(SGU_OFFICER)
    html = await (await client.get(f"/console/kasus/{case_no}")).text()
    assert str(villager(1).user_id) not in html
    assert "Anonim" in html
    assert not soup(html).select(f"form[action='/console/kasus/{case_no}/pesan']")


async def test_the_trail_records_logins_views_and_actions_without_numbers_or_text(rig: Rig) -> None:
    case_no = await sgu_case(rig, phone="0812-3456-7890")
    client, csrf = await rig.login(SGU_OFFICER)
    await client.get(f"/console/kasus/{case_no}")
    await client.post(f"/console/kasus/{case_no}/pesan", data={"_csrf": csrf, "teks": "rahasia pelapor"})
    bad = await rig.client()
    page = await bad.get("/console/masuk")
    pre = soup(await page.text()).select_one("input[name=_csrf]")["value"]
    await bad.post("/console/masuk", data={"alamat": SGU_OFFICER, "_csrf": pre})
    await bad.post("/console/kode", data={"kode": "000000", "_csrf": pre})
    head, _ = await rig.login(SGU_HEAD)
    html = await (await head.get("/console/jejak")).text()
    actions = [row.select("td")[3].get_text() for row in soup(html).select("table.trail tbody tr")]
    assert {"masuk", "membuka kasus", "pesan ke pelapor", "gagal masuk"} <= set(actions)
    dump = "\n".join(str(e) for e in await rig.bot.dialogue.store.audit_list(("SGU",)))
    assert "3456" not in dump and "rahasia" not in dump and "127.0.0.1" not in dump
    assert "127.0.0.0/24" in dump
    csv_text = await (await head.get("/console/jejak.csv")).text()
    assert csv_text.startswith("at,officer,office,action,case_no")
    # The case page shows the same trail for this case to the head.
    case_html = await (await head.get(f"/console/kasus/{case_no}")).text()
    assert "membuka kasus" in soup(case_html).select_one("section.trail").get_text()


async def test_figures_draw_from_tables_and_download_as_csv(rig: Rig) -> None:
    await sgu_case(rig)
    await ktg_case(rig)
    client, _ = await rig.login(SGU_OFFICER)
    html = await (await client.get("/console/angka")).text()
    page = soup(html)
    assert len(page.select("canvas[data-chart]")) >= 4
    assert page.select_one("#table-per_desa") is not None
    assert "Semuntai" in page.select_one("#table-per_desa").get_text()
    assert "Kendawangan" not in html             # another office's village is not in its figures
    figures_csv = await client.get("/console/angka.csv")
    assert figures_csv.status == 200 and "laporan_per_minggu_kantor" in await figures_csv.text()
    reports_csv = await (await client.get("/console/laporan.csv")).text()
    assert "SGU-" in reports_csv and "KTG-" not in reports_csv
    assert (await client.get("/console/angka?kantor=KTG")).status == 404
    regional, _ = await rig.login(REGIONAL)
    both = await (await regional.get("/console/laporan.csv")).text()
    assert "SGU-" in both and "KTG-" in both


async def test_an_editor_drafts_an_entry_from_an_unanswered_question_and_marks_one_handled(rig: Rig) -> None:
    chat = rig.bot.chat(villager(7))
    await register(chat)
    await chat.say("resep kue lapis legit")
    await chat.say("jadwal pertandingan sepak bola minggu ini")
    editor, csrf = await rig.login(SGU_EDITOR)
    html = await (await editor.get("/console/pertanyaan")).text()
    rows = soup(html).select("table.questions tbody tr")
    assert rows
    key = rows[0].select_one("input[name=kunci]")["value"]
    done = await editor.post("/console/pertanyaan/draf", data={"_csrf": csrf, "kunci": key})
    assert "content/drafts/" in await done.text()
    assert list((rig.desk.content_dir / "drafts").glob("*.yaml"))
    await editor.post("/console/pertanyaan/selesai", data={"_csrf": csrf, "kunci": key})
    after = soup(await (await editor.get("/console/pertanyaan")).text()).select("table.questions tbody tr")
    assert len(after) == len(rows) - 1
    assert (await editor.get("/console/kasus")).status == 404     # an editor has no cases


async def test_the_inbox_pages_filters_and_counts(rig: Rig) -> None:
    for n in range(1, 4):
        await sgu_case(rig, n=n)
    client, _ = await rig.login(SGU_OFFICER)
    html = await (await client.get("/console/kasus?risiko=rendah")).text()
    assert "0 kasus" in html
    html = await (await client.get("/console/kasus?urut=lama")).text()
    numbers = [a.get_text() for a in soup(html).select("table.cases tbody td:first-child a")]
    assert numbers == sorted(numbers)
    assert "3 kasus" in html


@pytest.mark.parametrize("who", [KTG_OFFICER])
async def test_a_foreign_officer_never_learns_a_case_exists(rig: Rig, who: str) -> None:
    case_no = await sgu_case(rig)
    client, _ = await rig.login(who)
    assert (await client.get(f"/console/kasus/{case_no}")).status == 404
    assert (await client.get("/console/kasus/SGU-2026-9999")).status == 404
    assert case_no not in await (await client.get("/console/kasus")).text()


def test_every_word_the_console_shows_is_in_content(tmp_path: Path) -> None:
    import shutil

    import yaml

    from bot.content import load_console
    from bot.desk import needed_labels
    from tests.desk_rig import ROOT
    labels = load_console(ROOT / "content").labels
    assert needed_labels() <= set(labels)
    # An editor who deletes a label hears about it by name, before any page fails.
    shutil.copytree(ROOT / "content", tmp_path / "content")
    data = yaml.safe_load((tmp_path / "content" / "console.yaml").read_text())
    del data["labels"]["action_ack"]
    (tmp_path / "content" / "console.yaml").write_text(yaml.safe_dump(data, allow_unicode=True))
    import subprocess
    import sys
    config = yaml.safe_load((ROOT / "config.example.yaml").read_text())
    config["content_dir"] = str(tmp_path / "content")
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config, allow_unicode=True))
    out = subprocess.run([sys.executable, "-m", "bot", "--config", str(tmp_path / "config.yaml"),
                          "check-content"], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 1 and "labels.action_ack: missing" in out.stdout


async def test_failed_logins_for_unknown_addresses_are_in_the_regional_trail(rig: Rig) -> None:
    stranger = await rig.client()
    pre = soup(await (await stranger.get("/console/masuk")).text()).select_one("input[name=_csrf]")["value"]
    await stranger.post("/console/masuk", data={"alamat": "081399998888", "_csrf": pre})
    await stranger.post("/console/kode", data={"kode": "123456", "_csrf": pre})
    regional, _ = await rig.login(REGIONAL)
    html = await (await regional.get("/console/jejak?aksi=gagal_masuk")).text()
    assert len(soup(html).select("table.trail tbody tr td:nth-of-type(4)")) == 1 and "9998888" not in html
    head, _ = await rig.login(SGU_HEAD)
    html = await (await head.get("/console/jejak?aksi=gagal_masuk")).text()
    assert not soup(html).select("table.trail tbody tr td:nth-of-type(4)")

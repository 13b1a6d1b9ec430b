"""Console login and sessions: codes through the outbox, brute force, expiry, fixation, logout, CSRF."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.app import Knowledge
from tests.databases import database
from tests.desk_rig import KTG_OFFICER, SGU_EDITOR, SGU_OFFICER, Rig, csrf_of, make_console_config, open_rig
from tests.fakes import villager
from tests.villagers import file_report, register

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def cdesk(tmp_path_factory: pytest.TempPathFactory) -> Knowledge:
    return make_console_config(tmp_path_factory.mktemp("console"))


@pytest.fixture
async def rig(cdesk: Knowledge, tmp_path: Path):
    async with open_rig(cdesk, tmp_path) as r:
        yield r


async def ask_code(rig: Rig, address: str):
    client = await rig.client()
    pre = csrf_of(await (await client.get("/console/masuk")).text())
    sent = await client.post("/console/masuk", data={"alamat": address, "_csrf": pre}, allow_redirects=False)
    return client, pre, sent


def codes_sent(rig: Rig) -> list[str]:
    return [o.text for o in rig.bot.telegram.sent if o.kind == "login"]


async def test_the_answer_is_the_same_whether_or_not_the_officer_exists(rig: Rig) -> None:
    _, _, known = await ask_code(rig, SGU_OFFICER)
    _, _, unknown = await ask_code(rig, "99999999")
    assert known.status == unknown.status == 303
    assert known.headers["Location"] == unknown.headers["Location"] == "/console/kode"
    await rig.bot.outbox.deliver_due()
    assert len(codes_sent(rig)) == 1
    assert [o.recipient.user_id for o in rig.bot.telegram.sent if o.kind == "login"] == ["1001"]


async def test_a_whatsapp_officer_gets_the_code_on_whatsapp_whatever_the_number_format(rig: Rig) -> None:
    client, _ = await rig.login(SGU_EDITOR)
    sent = [o for o in rig.bot.telegram.sent if o.kind == "login"]
    assert sent[-1].recipient.key == "whatsapp:whatsapp:+6281200000004"
    assert (await client.get("/console/pertanyaan")).status == 200


async def test_five_wrong_codes_kill_the_attempt_and_lock_the_officer(rig: Rig) -> None:
    client, pre, _ = await ask_code(rig, SGU_OFFICER)
    right = await rig.last_code_for(SGU_OFFICER)
    wrong = f"{(int(right) + 1) % 10**6:06d}"
    for _ in range(5):
        assert (await client.post("/console/kode", data={"kode": wrong, "_csrf": pre})).status == 400
    late = await client.post("/console/kode", data={"kode": right, "_csrf": pre}, allow_redirects=False)
    assert late.status == 400                                 # the right code no longer works
    # A fresh code does not help while the lock lasts (15 minutes, growing); after it, it does.
    await ask_code(rig, SGU_OFFICER)
    await rig.bot.outbox.deliver_due()
    assert len(codes_sent(rig)) == 1                          # locked: no new code was even sent
    rig.bot.clock.advance(minutes=16)
    client3, _ = await rig.login(SGU_OFFICER)
    assert (await client3.get("/console/kasus")).status == 200
    lock = await rig.bot.dialogue.store.desk_lock("SGU-1")
    assert lock is not None and lock[0] == 1


async def test_a_code_expires_after_ten_minutes(rig: Rig) -> None:
    client, pre, _ = await ask_code(rig, SGU_OFFICER)
    code = await rig.last_code_for(SGU_OFFICER)
    rig.bot.clock.advance(minutes=10, seconds=1)
    assert (await client.post("/console/kode", data={"kode": code, "_csrf": pre})).status == 400


async def test_codes_per_officer_are_limited(rig: Rig) -> None:
    for _ in range(5):
        await ask_code(rig, KTG_OFFICER)
    await rig.bot.outbox.deliver_due()
    assert len(codes_sent(rig)) == 3


async def test_login_gives_a_new_session_id_and_ignores_one_planted_before(rig: Rig) -> None:
    client, pre, _ = await ask_code(rig, SGU_OFFICER)
    planted = "attacker-chosen-session-id"
    client.session.cookie_jar.update_cookies({"desk_session": planted})
    assert (await client.get("/console/kasus", allow_redirects=False)).status == 303
    code = await rig.last_code_for(SGU_OFFICER)
    done = await client.post("/console/kode", data={"kode": code, "_csrf": pre}, allow_redirects=False)
    new = done.cookies["desk_session"].value
    assert new and new != planted
    attacker = await rig.client()
    attacker.session.cookie_jar.update_cookies({"desk_session": planted})
    assert (await attacker.get("/console/kasus", allow_redirects=False)).status == 303
    cookie = done.cookies["desk_session"]
    assert cookie["httponly"] and cookie["samesite"] == "Strict" and cookie["path"] == "/console"


async def test_logout_ends_the_session_on_the_server(rig: Rig) -> None:
    client, csrf = await rig.login(SGU_OFFICER)
    token = client.session.cookie_jar.filter_cookies(client.make_url("/console/"))["desk_session"].value
    out = await client.post("/console/keluar", data={"_csrf": csrf}, allow_redirects=False)
    assert out.status == 303
    replay = await rig.client()
    replay.session.cookie_jar.update_cookies({"desk_session": token})
    assert (await replay.get("/console/kasus", allow_redirects=False)).status == 303


async def test_sessions_end_after_30_idle_minutes_and_after_12_hours(rig: Rig) -> None:
    client, _ = await rig.login(SGU_OFFICER)
    rig.bot.clock.advance(minutes=29)
    assert (await client.get("/console/kasus", allow_redirects=False)).status == 200
    rig.bot.clock.advance(minutes=31)
    assert (await client.get("/console/kasus", allow_redirects=False)).status == 303
    busy, _ = await rig.login(SGU_OFFICER)
    for _ in range(12 * 3 + 1):
        rig.bot.clock.advance(minutes=20)
        status = (await busy.get("/console/kasus", allow_redirects=False)).status
    assert status == 303                                       # 12 hours, however busy


@pytest.mark.parametrize("how", ["missing", "wrong", "header"])
async def test_every_post_needs_the_session_csrf_token(rig: Rig, how: str) -> None:
    chat = rig.bot.chat(villager(1))
    await register(chat)
    await file_report(chat)
    case_no = (await rig.bot.dialogue.store.open_reports("SGU"))[0].case_no
    client, csrf = await rig.login(SGU_OFFICER)
    url = f"/console/kasus/{case_no}/tangani"
    if how == "missing":
        answer = await client.post(url, data={})
    elif how == "wrong":
        answer = await client.post(url, data={"_csrf": csrf[:-2] + "xx"})
    else:
        answer = await client.post(url, headers={"X-CSRF-Token": csrf}, allow_redirects=False)
    report = await rig.bot.dialogue.store.report_by_case(case_no)
    assert report is not None
    if how == "header":
        assert answer.status == 303 and report.status == "ditangani"
    else:
        assert answer.status == 403 and report.status == "baru"


async def test_the_login_form_needs_its_own_token(rig: Rig) -> None:
    client = await rig.client()
    await client.get("/console/masuk")
    refused = await client.post("/console/masuk", data={"alamat": SGU_OFFICER, "_csrf": "guess"})
    assert refused.status == 403


def console_link(config: Path, db: Path, officer: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", "--config", str(config), "console-link", officer,
                           "--db", str(database(db))], capture_output=True, text=True, cwd=ROOT)


async def test_console_link_prints_a_one_time_link(cdesk: Knowledge, tmp_path: Path) -> None:
    db = tmp_path / "bot.sqlite3"
    config = cdesk.settings.content_dir.parent / "config.yaml"
    out = await asyncio.to_thread(console_link, config, db, "SGU-1")
    token = re.search(r"/console/tautan/(\S+)", out.stdout)
    assert token
    bad = await asyncio.to_thread(console_link, config, db, "NOPE-1")
    assert bad.returncode == 1 and "SGU-1" in bad.stderr
    async with open_rig(cdesk, tmp_path) as rig:
        client = await rig.client()
        page = await client.get(f"/console/tautan/{token.group(1)}")
        pre = csrf_of(await page.text())
        first = await client.post(f"/console/tautan/{token.group(1)}", data={"_csrf": pre}, allow_redirects=False)
        assert first.status == 303
        other = await rig.client()
        pre2 = csrf_of(await (await other.get(f"/console/tautan/{token.group(1)}")).text())
        again = await other.post(f"/console/tautan/{token.group(1)}", data={"_csrf": pre2})
        assert again.status == 400


async def test_cookies_are_secure_when_the_public_address_is_https(cdesk: Knowledge, tmp_path: Path) -> None:
    import dataclasses

    from bot.config import Secrets
    settings = dataclasses.replace(cdesk.settings, secrets=Secrets(public_base_url="https://bot.example.org"))
    async with open_rig(dataclasses.replace(cdesk, settings=settings), tmp_path) as rig:
        client = await rig.client()
        page = await client.get("/console/masuk")
        assert "Secure" in page.headers["Set-Cookie"]
        form = {"alamat": SGU_OFFICER, "_csrf": csrf_of(await page.text())}
        sent = await client.post("/console/masuk", data=form, allow_redirects=False)
        # Over plain http the browser keeps no Secure cookie, so the form is refused: https only.
        assert sent.status == 403


async def test_the_trail_and_old_login_attempts_go_after_the_retention_period(rig: Rig) -> None:
    client, _ = await rig.login(SGU_OFFICER)
    store = rig.bot.dialogue.store
    assert await store.audit_list(("SGU",))
    rig.bot.clock.advance(days=400)
    removed = await store.purge_desk_before(rig.bot.clock() - dt.timedelta(days=365))
    assert removed >= 1 and not await store.audit_list(("SGU",))
    logins = await store._all("SELECT text FROM outbox WHERE kind = 'login'")
    assert logins and all(row[0] == "" for row in logins)     # the code's copy is gone too
    assert (await client.get("/console/kasus", allow_redirects=False)).status == 303

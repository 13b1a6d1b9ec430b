"""The console with the real providers' code at the edge: Telegram alerts edited by a console action
(the fake Bot API on loopback), and an attachment fetched from a fake Twilio media server.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.app import Knowledge, build_dialogue, build_outbox
from bot.channels.telegram import TelegramChannel
from bot.config import Secrets
from bot.desk.media import TwilioMedia
from bot.models import Channel
from bot.reporting import Assessment
from bot.runtime import mount_console
from bot.server import build_web_app
from bot.store import NewReport, Store
from tests.databases import database
from tests.desk_rig import csrf_of, make_console_config, open_rig
from tests.fake_telegram import FakeTelegram
from tests.fakes import Chat, Clock, villager
from tests.villagers import file_report, register

TOKEN = "123456:TEST-token"


@pytest.fixture(scope="module")
def cdesk(tmp_path_factory: pytest.TempPathFactory) -> Knowledge:
    return make_console_config(tmp_path_factory.mktemp("console"))


@asynccontextmanager
async def _telegram_console(cdesk: Knowledge,
                            tmp_path: Path) -> AsyncIterator[tuple[FakeTelegram, TestClient, Any]]:
    """The console mounted as `desa-imigrasi run` mounts it, with the real Telegram channel on a fake Bot API."""
    fake = FakeTelegram()
    api = TestServer(fake.app, host="127.0.0.1")
    await api.start_server()
    settings = dataclasses.replace(cdesk.settings, secrets=Secrets(
        telegram_token=TOKEN, telegram_api_base_url=f"http://127.0.0.1:{api.port}"))
    clock = Clock()
    async with Store.open(database(tmp_path / "bot.sqlite3")) as store:
        dialogue = build_dialogue(dataclasses.replace(cdesk, settings=settings), store, clock)
        channel = TelegramChannel(settings, dialogue, store, poll_timeout=1)
        outbox = build_outbox(store, {Channel.TELEGRAM: channel}, clock=clock)
        await channel.start()
        app = build_web_app([channel], store, "test")
        mount_console(app, dialogue, store, [channel], outbox)
        client = TestClient(TestServer(app, host="127.0.0.1"))
        await client.start_server()
        try:
            yield fake, client, (dialogue, store, outbox)
        finally:
            await client.close()
            await channel.stop()
            await api.close()


async def _login(fake: FakeTelegram, client: TestClient, outbox: Any, telegram_id: int) -> str:
    pre = csrf_of(await (await client.get("/console/masuk")).text())
    await client.post("/console/masuk", data={"alamat": str(telegram_id), "_csrf": pre})
    await outbox.deliver_due()
    code = re.search(r"\b(\d{6})\b", fake.made("sendMessage", telegram_id)[-1].params["text"])
    assert code
    home = await client.post("/console/kode", data={"kode": code.group(1), "_csrf": pre})
    return csrf_of(await home.text())


async def test_a_console_action_edits_the_telegram_alerts_as_the_chat_button_does(cdesk: Knowledge,
                                                                                  tmp_path: Path) -> None:
    async with _telegram_console(cdesk, tmp_path) as (fake, client, (dialogue, store, outbox)):
        villager_chat = Chat(dialogue, villager(1))
        await register(villager_chat)
        await file_report(villager_chat)
        await outbox.deliver_due()
        case_no = (await store.open_reports("SGU"))[0].case_no
        alerts = {c.chat_id for c in fake.made("sendMessage") if case_no in c.params.get("text", "")}
        assert {-100111, 3003} <= alerts
        csrf = await _login(fake, client, outbox, 1001)
        await client.post(f"/console/kasus/{case_no}/tangani", data={"_csrf": csrf})
        edits = fake.made("editMessageText")
        assert {c.chat_id for c in edits} == {-100111, 3003}
        for edit in edits:
            assert "Petugas Sanggau menangani kasus ini." in edit.params["text"]
        await outbox.deliver_due()
        to_reporter = [c.params["text"] for c in fake.made("sendMessage", int(villager(1).user_id))]
        assert "ditangani" in to_reporter[-1].lower() and case_no in to_reporter[-1]


async def test_a_telegram_photo_and_voice_note_are_fetched_through_the_bot_api_and_never_show_its_address(
        cdesk: Knowledge, tmp_path: Path) -> None:
    async with _telegram_console(cdesk, tmp_path) as (fake, client, (dialogue, _, outbox)):
        fake.files["AgACphoto1"] = ("photos/file_7.jpg", b"\xff\xd8\xffJPEG")
        fake.files["AwACvoice1"] = ("voice/file_8.oga", b"OggS-voice")
        report = await dialogue.casework.file(NewReport(
            office_id="SGU", village_id="semuntai", risk="sedang", flags=(), answers={"cerita": "foto"},
            media=("AgACphoto1", "audio:AwACvoice1", "AgACgone"), recruiter_phone=None, recruiter_name="X",
            recruiter_company=None, reporter_key=None, contactable=False),
            Assessment("sedang", 0, ()), dialogue.clock())
        await _login(fake, client, outbox, 1001)
        page = await (await client.get(f"/console/kasus/{report.case_no}")).text()
        assert "AgACphoto1" not in page and "AwACvoice1" not in page and TOKEN not in page
        photo = await client.get(f"/console/kasus/{report.case_no}/lampiran/1")
        assert photo.status == 200 and await photo.read() == b"\xff\xd8\xffJPEG"
        assert photo.headers["Content-Type"] == "image/jpeg"
        voice = await client.get(f"/console/kasus/{report.case_no}/lampiran/2")
        assert voice.status == 200 and voice.headers["Content-Type"] == "audio/ogg"
        assert fake.downloads == [f"/file/bot{TOKEN}/photos/file_7.jpg", f"/file/bot{TOKEN}/voice/file_8.oga"]
        # A file Telegram no longer keeps: the officer gets a page that says so, in Indonesian.
        gone = await client.get(f"/console/kasus/{report.case_no}/lampiran/3")
        text = await gone.text()
        assert gone.status == 502 and "tidak bisa diambil" in text and TOKEN not in text


async def test_an_attachment_is_fetched_with_the_accounts_credentials_and_never_shows_its_address(
        cdesk: Knowledge, tmp_path: Path) -> None:
    seen: list[str] = []

    async def media(request: web.Request) -> web.Response:
        seen.append(request.headers.get("Authorization", ""))
        return web.Response(body=b"\xff\xd8\xffJPEG", content_type="image/jpeg")

    twilio = web.Application()
    twilio.router.add_get("/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1", media)
    provider = TestServer(twilio, host="127.0.0.1")
    await provider.start_server()
    base = f"http://127.0.0.1:{provider.port}"
    try:
        await _fetch_through_the_console(cdesk, tmp_path, base, seen)
    finally:
        await provider.close()


async def _fetch_through_the_console(cdesk: Knowledge, tmp_path: Path, base: str, seen: list[str]) -> None:
    async with open_rig(cdesk, tmp_path) as rig:
        object.__setattr__(rig.desk, "media", (TwilioMedia("AC1", "auth-secret", base),))
        report = await rig.bot.dialogue.casework.file(NewReport(
            office_id="SGU", village_id="semuntai", risk="sedang", flags=(), answers={"cerita": "foto"},
            media=(f"{base}/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1",), recruiter_phone=None,
            recruiter_name="X", recruiter_company=None, reporter_key=None, contactable=False),
            Assessment("sedang", 0, ()), rig.bot.clock())
        client, _ = await rig.login("1001")
        page = await (await client.get(f"/console/kasus/{report.case_no}")).text()
        assert base not in page and "ME1" not in page and "auth-secret" not in page
        got = await client.get(f"/console/kasus/{report.case_no}/lampiran/1")
        assert got.status == 200 and await got.read() == b"\xff\xd8\xffJPEG"
        assert got.headers["Content-Type"] == "image/jpeg"
        assert seen and seen[0].startswith("Basic ")
        foreign, _ = await rig.login("2002")
        assert (await foreign.get(f"/console/kasus/{report.case_no}/lampiran/1")).status == 404
        assert len(seen) == 1          # the foreign officer's request never reached the provider
        trail = await rig.bot.dialogue.store.audit_list(("SGU",), case_no=report.case_no)
        assert any(e.action == "unduh" for e in trail)

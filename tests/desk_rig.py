"""The office console on a real aiohttp test server over a real SQLite file, with officers of every role."""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from aiohttp.test_utils import TestClient, TestServer
from bs4 import BeautifulSoup

from bot.app import Knowledge, build_knowledge
from bot.desk import Desk, build_desk, mount
from bot.models import Channel
from bot.server import build_web_app
from tests.villagers import Bot, open_bot

ROOT = Path(__file__).resolve().parent.parent

# Who logs in, by what they type at the login page.
SGU_OFFICER = "1001"              # Kanim Sanggau, officer (its first officer: SGU-1)
SGU_HEAD = "@kepala_sgu"          # Kanim Sanggau, head (SGU-2), by Telegram username
SGU_EDITOR = "0812-0000-0004"     # Kanim Sanggau, editor (SGU-3), by WhatsApp number in local form
KTG_OFFICER = "2002"              # Kanim Ketapang, officer (KTG-1)
REGIONAL = "3003"                 # Kantor Wilayah (KWL-1)
ROLES = {"officer": SGU_OFFICER, "head": SGU_HEAD, "editor": SGU_EDITOR, "foreign": KTG_OFFICER,
         "regional": REGIONAL}


def make_console_config(folder: Path) -> Knowledge:
    """The shipped config with officers of every role, and a private copy of content/ (drafts land there)."""
    data = yaml.safe_load((ROOT / "config.example.yaml").read_text())
    content = folder / "content"
    shutil.copytree(ROOT / "content", content, dirs_exist_ok=True)
    data["content_dir"] = str(content)
    offices = {o["id"]: o for o in data["offices"]}
    offices["SGU"]["officers"] = [
        {"name": "Petugas Sanggau", "telegram_id": 1001},
        {"name": "Kepala Seksi Sanggau", "telegram_id": 1002, "telegram_username": "kepala_sgu", "role": "head"},
        {"name": "Penyunting Sanggau", "whatsapp": "+6281200000004", "role": "editor"}]
    offices["SGU"]["alerts"] = {"telegram_chat_ids": [-100111], "whatsapp_numbers": []}
    offices["KTG"]["officers"] = [{"name": "Petugas Ketapang", "telegram_id": 2002}]
    offices["KTG"]["alerts"] = {"telegram_chat_ids": [-100222], "whatsapp_numbers": []}
    data["regional_office"]["officers"] = [{"name": "Petugas Kanwil", "telegram_id": 3003}]
    data["limits"] = {"messages_per_minute": 1000, "burst": 1000}
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return build_knowledge(path, {})


def csrf_of(html: str) -> str:
    found = BeautifulSoup(html, "html.parser").select_one("input[name=_csrf]")
    assert found is not None, "no CSRF field on the page"
    return str(found["value"])


@dataclass
class Rig:
    bot: Bot
    desk: Desk
    server: TestServer
    edited: list[str] = field(default_factory=list)     # case numbers whose alerts were re-edited
    clients: list[TestClient] = field(default_factory=list)

    async def client(self) -> TestClient:
        client = TestClient(self.server)
        await client.start_server()
        self.clients.append(client)
        return client

    async def login(self, address: str) -> tuple[TestClient, str]:
        """A browser of the officer who types `address`, logged in with the code from their chat."""
        client = await self.client()
        page = await client.get("/console/masuk")
        pre = csrf_of(await page.text())
        sent = await client.post("/console/masuk", data={"alamat": address, "_csrf": pre}, allow_redirects=False)
        assert sent.status == 303
        code = await self.last_code_for(address)
        done = await client.post("/console/kode", data={"kode": code, "_csrf": pre}, allow_redirects=False)
        assert done.status == 303, await done.text()
        home = await client.get(done.headers["Location"])
        return client, csrf_of(await home.text())

    async def last_code_for(self, address: str) -> str:
        await self.bot.outbox.deliver_due()
        for item in reversed(self.bot.telegram.sent):
            if item.kind == "login":
                found = re.search(r"\b(\d{6})\b", item.text)
                assert found
                return found.group(1)
        raise AssertionError(f"no code sent for {address}")


@asynccontextmanager
async def open_rig(knowledge: Knowledge, tmp_path: Path) -> AsyncIterator[Rig]:
    async with open_bot(knowledge, tmp_path) as bot:
        # WhatsApp officers get their codes through the same recorder: one place to read them.
        bot.outbox.deliverers[Channel.WHATSAPP] = bot.telegram
        edited: list[str] = []

        async def edit_alerts(case_no: str) -> None:
            edited.append(case_no)

        desk = build_desk(bot.dialogue.casework, bot.dialogue.store,
                          frozenset({Channel.TELEGRAM, Channel.WHATSAPP}), wake=lambda: None,
                          after_step=[edit_alerts], clock=bot.clock)
        app = build_web_app([], bot.dialogue.store, "test")
        mount(app, desk)
        server = TestServer(app)
        await server.start_server()
        rig = Rig(bot, desk, server, edited)
        try:
            yield rig
        finally:
            for client in rig.clients:
                await client.close()
            await server.close()

"""The rig shared by the fault, hostile-input and privacy tests.

One config (the shipped one with two offices' officers on both channels), the real aiohttp app
with WhatsApp and Telegram (webhook) on it, the real store on a temporary SQLite file, a fake
Twilio and a fake Bot API on loopback, and scripted villagers on both channels.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import yaml
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from twilio.request_validator import RequestValidator

from bot.app import Knowledge, build_dialogue, build_knowledge, build_outbox
from bot.channels.telegram import TelegramChannel
from bot.channels.whatsapp import WhatsAppChannel
from bot.config import Secrets
from bot.models import Channel
from bot.outbox import Backoff, Outbox
from bot.server import build_web_app
from bot.store import Store
from tests.conftest import ROOT
from tests.fake_telegram import FakeTelegram
from tests.fake_twilio import FakeTwilio
from tests.fakes import Clock

PUBLIC = "https://desa-imigrasi.example.org"
ACCOUNT = "AC00000000000000000000000000000000"
TOKEN = "test-auth-token-0000"
BOT_NUMBER = "whatsapp:+14155238886"
SGU_WA = "whatsapp:+6281100000001"       # Kanim Sanggau: officer and alert number
KTG_WA = "whatsapp:+6281100000002"       # Kanim Ketapang: officer and alert number
TG_TOKEN = "123456:TEST-token"
TG_SECRET = "s3cret_token-1"
SGU_GROUP = -100111
KTG_GROUP = -100222
SGU_OFFICER = 1001
KTG_OFFICER = 2002
REGIONAL = 3003
ALERT_TEMPLATE = "HX00000000000000000000000000000a1e"
STATUS_TEMPLATE = "HX00000000000000000000000000000575"
WA_PAYLOADS = ROOT / "tests" / "payloads" / "whatsapp"
TG_PAYLOADS = ROOT / "tests" / "payloads" / "telegram"
_sids = itertools.count(1)
_update_ids = itertools.count(900000001)


def config_data(*, telegram: bool = True, per_minute: int = 10_000, max_body: int | None = None,
                retention_days: int | None = None) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "config.example.yaml").read_text())
    data["content_dir"] = str(ROOT / "content")
    _fill_unknown_values(data)
    offices = {o["id"]: o for o in data["offices"]}
    for office, tg_id, group, wa in (("SGU", SGU_OFFICER, SGU_GROUP, SGU_WA),
                                     ("KTG", KTG_OFFICER, KTG_GROUP, KTG_WA)):
        number = wa.removeprefix("whatsapp:")
        offices[office]["officers"] = [{"name": f"Petugas {office}", "whatsapp": number,
                                        **({"telegram_id": tg_id} if telegram else {})}]
        offices[office]["alerts"] = {"telegram_chat_ids": [group] if telegram else [],
                                     "whatsapp_numbers": [number]}
    if telegram:
        data["regional_office"]["officers"] = [{"name": "Petugas Kanwil", "telegram_id": REGIONAL}]
    data["whatsapp"] = {"alert_template_sid": ALERT_TEMPLATE, "status_template_sid": STATUS_TEMPLATE,
                        "verify_signature": True}
    data["limits"] = {"messages_per_minute": per_minute, "burst": min(per_minute, 10_000)}
    if max_body is not None:
        data["limits"]["max_body_bytes"] = max_body
    if retention_days is not None:
        data["privacy"] = {"retention_days": retention_days}
    return data


def _fill_unknown_values(data: dict[str, Any]) -> None:
    """Test values for what the shipped config still marks GANTI, so `run` starts a live channel.

    (A real channel refuses to start while a villager would need an unknown value.)
    """
    def unknown(value: Any) -> bool:
        return not value or str(value).strip().upper().startswith("GANTI")

    for office in [*data["offices"], data["regional_office"]]:
        for key, value in (("address", f"Jl. Uji No. 1, {office['id']}"), ("phone", "(0561) 000000"),
                           ("hours", "Senin-Jumat 08.00-16.00 WIB")):
            if unknown(office.get(key)):
                office[key] = value
    for village in data["villages"]:
        if all(unknown(name) for name in village.get("officers") or [None]):
            village["officers"] = [f"Petugas Uji {village['name']}"]


def write_config(folder: Path, **options: Any) -> Path:
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(config_data(**options), allow_unicode=True))
    return path


def knowledge_for(folder: Path, **options: Any) -> Knowledge:
    return build_knowledge(write_config(folder, **options), {})


def wa_form(name: str = "text", **changes: str) -> dict[str, str]:
    form: dict[str, str] = json.loads((WA_PAYLOADS / f"{name}.json").read_text())
    sid = f"SM{next(_sids):032d}"
    form.update(MessageSid=sid, SmsSid=sid, SmsMessageSid=sid)
    form.update(changes)
    return form


def sign(path: str, form: dict[str, str]) -> str:
    return str(RequestValidator(TOKEN).compute_signature(PUBLIC + path, form))


def twiml_messages(body: str) -> list[str]:
    root = ET.fromstring(body)
    assert root.tag == "Response"
    return [m.text or "" for m in root.findall("Message")]


def case_in(text: str, office: str = "SGU") -> str:
    found = re.search(rf"{office}-\d{{4}}-\d{{4}}", text)
    assert found, text
    return found.group(0)


class WaChat:
    """One WhatsApp number talking through the signed webhook of whatever app `post` reaches."""

    def __init__(self, desk: Any, number: str) -> None:
        self.desk = desk
        self.number = number
        self.last: list[str] = []

    async def send(self, name: str = "text", **changes: str) -> list[str]:
        form = wa_form(name, From=self.number, WaId=self.number[10:], **changes)
        resp = await self.desk.wa_post(form)
        assert resp.status == 200, await resp.text()
        self.last = twiml_messages(await resp.text())
        return self.last

    async def say(self, text: str) -> str:
        return "\n\n".join(await self.send(Body=text))

    async def tap(self, label_part: str) -> str:
        for line in reversed(self.last[-1].splitlines()):
            m = re.match(r"^(\d+)\. (.*)$", line)
            if m and label_part.lower() in m.group(2).lower():
                return await self.say(m.group(1))
        raise AssertionError(f"no option {label_part!r} in {self.last[-1]!r}")


REPORT = {"name": "Pak Budi", "phone": "0812-3456-7890", "company": "PT Maju Jaya",
          "country": "Malaysia", "story": "Disuruh berangkat minggu depan."}


def first_story(a: dict[str, str]) -> str:
    return (f"{a['name']} {a['phone']} dari {a['company']} menawarkan kerja restoran di {a['country']}, "
            "gaji 4 juta.")


async def wa_report_until_identity(chat: WaChat, **answers: str) -> None:
    """The story in two messages, how they were contacted, and two signs ticked."""
    a = {**REPORT, **answers}
    await chat.say("lapor")
    await chat.say(first_story(a))
    await chat.say(a["story"])
    await chat.tap("Selesai")
    await chat.tap("WhatsApp")
    await chat.say("1 2")                      # asked to pay, tourist visa


async def wa_file_report(chat: WaChat, village: str = "semuntai", **answers: str) -> str:
    """Register, then a whole contactable report over WhatsApp; returns the confirmation."""
    await chat.say("halo")
    await chat.tap("Desa saya")
    await chat.say(village)
    await wa_report_until_identity(chat, **answers)
    await chat.tap("hubungi saya")
    return await chat.tap("Kirim")


@dataclasses.dataclass
class Desk:
    """Both channels on the real app, the real store, fakes of both providers."""

    knowledge: Knowledge
    client: TestClient[Any, Any]
    store: Store
    outbox: Outbox
    clock: Clock
    twilio: FakeTwilio
    telegram: FakeTelegram
    wa: WhatsAppChannel
    tg: TelegramChannel
    db_path: Path
    tw_server: TestServer
    tg_server: TestServer
    tw_port: int = 0
    tg_port: int = 0

    async def restart_provider(self, which: str) -> None:
        """Start a stopped fake provider again on the same port (the outage is over)."""
        app = self.twilio.app() if which == "twilio" else self.telegram.app
        if which == "telegram":
            self.telegram.__post_init__()       # a fresh aiohttp app: the old one was frozen
            app = self.telegram.app
        new = TestServer(app, host="127.0.0.1", port=self.tw_port if which == "twilio" else self.tg_port)
        await new.start_server()
        if which == "twilio":
            self.tw_server = new
        else:
            self.tg_server = new

    async def wa_post(self, form: dict[str, str], *, signature: str | None = None,
                      path: str = "/whatsapp") -> Any:
        sig = sign(path, form) if signature is None else signature
        body = urlencode(form).encode()              # as Twilio sends it, whatever the keys hold
        return await self.client.post(path, data=body, headers={
            "X-Twilio-Signature": sig, "Content-Type": "application/x-www-form-urlencoded"})

    def __repr__(self) -> str:
        return "Desk()"

    def wa_chat(self, number: str) -> WaChat:
        return WaChat(self, number)

    # Telegram -------------------------------------------------------------------------------
    async def tg_post(self, update: Any, secret: str = TG_SECRET) -> int:
        resp = await self.client.post("/telegram", json=update,
                                      headers={"X-Telegram-Bot-Api-Secret-Token": secret})
        await self.tg.drain()
        return resp.status

    @staticmethod
    def tg_message(user: int, text: str, chat: int | None = None, update_id: int | None = None) -> dict[str, Any]:
        update: dict[str, Any] = json.loads((TG_PAYLOADS / "text_message.json").read_text())
        update["update_id"] = update_id or next(_update_ids)
        msg = update["message"]
        msg["from"]["id"] = user
        msg["chat"] = {"id": chat or user, "type": "private" if chat is None else "supergroup",
                       **({"title": "Pimpasa"} if chat else {"first_name": "Warga"})}
        msg["text"] = text
        return update

    @staticmethod
    def tg_callback(user: int, data: str, chat: int | None = None, update_id: int | None = None) -> dict[str, Any]:
        update: dict[str, Any] = json.loads((TG_PAYLOADS / "callback_query.json").read_text())
        update["update_id"] = update_id or next(_update_ids)
        query = update["callback_query"]
        query["id"] = f"q{update['update_id']}"
        query["from"]["id"] = user
        query["message"]["chat"] = {"id": chat or user, "type": "private" if chat is None else "supergroup"}
        query["data"] = data
        return update

    async def tg_say(self, user: int, text: str, chat: int | None = None) -> int:
        return await self.tg_post(self.tg_message(user, text, chat))

    def tg_sent(self, chat: int) -> list[Any]:
        """Successful sendMessage calls to `chat` (tolerant of the junk chat ids fuzzing sends)."""
        return [c for c in self.telegram.calls if c.method == "sendMessage" and c.ok
                and c.params.get("chat_id") == str(chat)]

    def tg_texts(self, chat: int) -> list[str]:
        return [c.params["text"] for c in self.tg_sent(chat)]

    def tg_button(self, user: int, label_part: str) -> str:
        for call in reversed(self.tg_sent(user)):
            if "reply_markup" not in call.params:
                continue
            for row in call.json("reply_markup")["inline_keyboard"]:
                for button in row:
                    if label_part.lower() in button["text"].lower():
                        return str(button["callback_data"])
            raise AssertionError(f"no button {label_part!r} in {call.params['reply_markup']}")
        raise AssertionError("no keyboard sent")

    async def tg_tap(self, user: int, label_part: str) -> int:
        return await self.tg_post(self.tg_callback(user, self.tg_button(user, label_part)))

    async def tg_file_report(self, user: int, village: str = "semuntai", *, send: bool = True,
                             **answers: str) -> None:
        a = {**REPORT, **answers}
        await self.tg_say(user, "halo")
        await self.tg_tap(user, "Desa saya")
        await self.tg_say(user, village)
        await self.tg_say(user, "/lapor")
        await self.tg_say(user, first_story(a))
        await self.tg_say(user, a["story"])
        await self.tg_tap(user, "Selesai")
        await self.tg_tap(user, "WhatsApp")
        await self.tg_say(user, "1 2")
        await self.tg_tap(user, "hubungi saya")
        if send:
            await self.tg_tap(user, "Kirim")

    # The database as another process sees it ------------------------------------------------
    async def rows(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        async with self.store.db.execute(sql, args) as cur:
            return [tuple(r) for r in await cur.fetchall()]


@dataclasses.dataclass
class HangingTelegram(FakeTelegram):
    """The fake Bot API, able to hold calls of one method (to one chat) until released."""

    hang_method: str = ""
    hang_chat: int | None = None
    hang_times: int = 0
    hung: int = 0
    release: asyncio.Event = dataclasses.field(default_factory=asyncio.Event)

    async def _handle(self, request: web.Request) -> web.Response:
        if self.hang_times and request.match_info["method"] == self.hang_method:
            form = await request.post()
            if self.hang_chat is None or str(form.get("chat_id")) == str(self.hang_chat):
                self.hang_times -= 1
                self.hung += 1
                await self.release.wait()
                return web.json_response({"ok": False, "error_code": 504, "description": "late"}, status=504)
        return await super()._handle(request)


def release_all(twilio: FakeTwilio, telegram: FakeTelegram) -> None:
    twilio.release.set()
    if isinstance(telegram, HangingTelegram):
        telegram.release.set()


@contextlib.asynccontextmanager
async def open_desk(knowledge: Knowledge, folder: Path, *, rest_timeout: float = 0.3,
                    send_timeout: float = 1.0, twilio: FakeTwilio | None = None,
                    telegram: FakeTelegram | None = None) -> AsyncIterator[Desk]:
    twilio = twilio or FakeTwilio()
    telegram = telegram or FakeTelegram()
    tw_server = TestServer(twilio.app(), host="127.0.0.1")
    tg_server = TestServer(telegram.app, host="127.0.0.1")
    await tw_server.start_server()
    await tg_server.start_server()
    clock = Clock()
    servers: list[TestServer] = []
    db_path = folder / "desk.sqlite3"
    try:
        async with Store.open(db_path) as store:
            secrets = Secrets(telegram_token=TG_TOKEN, telegram_webhook_secret=TG_SECRET,
                              twilio_account_sid=ACCOUNT, twilio_auth_token=TOKEN,
                              twilio_whatsapp_from=BOT_NUMBER, public_base_url=PUBLIC,
                              telegram_api_base_url=f"http://127.0.0.1:{tg_server.port}",
                              twilio_api_base_url=f"http://127.0.0.1:{tw_server.port}")
            settings = dataclasses.replace(knowledge.settings, secrets=secrets)
            dialogue = build_dialogue(Knowledge(settings, knowledge.content, knowledge.index), store, clock)
            wa = WhatsAppChannel(settings, dialogue, store, rest_timeout=rest_timeout)
            tg = TelegramChannel(settings, dialogue, store, poll_timeout=1)
            outbox = build_outbox(store, {Channel.WHATSAPP: wa, Channel.TELEGRAM: tg}, clock=clock)
            outbox.backoff = Backoff(first=5, timeout=send_timeout)
            await wa.start()
            await tg.start()
            app: web.Application = build_web_app([wa, tg], store, "test", settings.max_body_bytes)
            client: TestClient[Any, Any] = TestClient(TestServer(app, host="127.0.0.1"))
            await client.start_server()
            desk = Desk(knowledge, client, store, outbox, clock, twilio, telegram, wa, tg, db_path,
                        tw_server, tg_server, int(tw_server.port or 0), int(tg_server.port or 0))
            try:
                yield desk
            finally:
                servers.extend([desk.tw_server, desk.tg_server])
                release_all(twilio, telegram)
                await client.close()
                await tg.stop()
                await wa.stop()
    finally:
        release_all(twilio, telegram)
        for server in {tw_server, tg_server, *servers}:
            await server.close()

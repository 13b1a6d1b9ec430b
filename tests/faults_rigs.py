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
import os
import random
import re
import signal
import socket
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
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
from tests.databases import database, read
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
        async with Store.open(database(db_path)) as store:
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
            tg.use_outbox(outbox)
            twilio.clock = clock
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


# The crash scenario of issue 16 -----------------------------------------------------------------------
# `desa-imigrasi run` as a child process, killed with SIGKILL at random moments while WhatsApp and
# Telegram villagers each file a report and an officer acknowledges every alert; the providers
# behave as they do: Telegram delivers an update again until it gets a 200, Twilio retries a
# webhook whose connection failed (with the connection override the README recommends), and a
# provider sometimes holds a send open at the moment of the kill.
@dataclasses.dataclass
class HoldingTwilio(FakeTwilio):
    """Accepts a message, then holds the response: the process dies before it hears "201"."""

    hold_accepted: int = 0
    held: asyncio.Event = dataclasses.field(default_factory=asyncio.Event)
    let_go: asyncio.Event = dataclasses.field(default_factory=asyncio.Event)

    async def create(self, request: web.Request) -> web.Response:
        response = await super().create(request)
        if self.hold_accepted and response.status == 201:
            self.hold_accepted -= 1
            self.held.set()
            await self.let_go.wait()
        return response


@dataclasses.dataclass
class HoldingBotApi(FakeTelegram):
    """Delivers a sendMessage to the chat, then holds the answer: the sender never hears "ok"."""

    hold_sent: int = 0
    held: asyncio.Event = dataclasses.field(default_factory=asyncio.Event)
    let_go: asyncio.Event = dataclasses.field(default_factory=asyncio.Event)

    async def _handle(self, request: web.Request) -> web.Response:
        response = await super()._handle(request)
        if self.hold_sent and request.match_info["method"] == "sendMessage" and response.status == 200:
            self.hold_sent -= 1
            self.held.set()
            await self.let_go.wait()
        return response


class ReplyLost(Exception):
    """A villager's message was taken, and no answer came."""


class BotProcess:
    """`python -m bot run` on a port of its own, with both providers pointed at the fakes."""

    def __init__(self, folder: Path, twilio_url: str, telegram_url: str,
                 session: aiohttp.ClientSession, name: str = "bot") -> None:
        self.config = write_config(folder)
        self.db = folder / "bot.sqlite3"
        self.log = folder / f"{name}.log"
        self.twilio_url, self.telegram_url = twilio_url, telegram_url
        self.session = session
        self.port = free_port()
        self.proc: asyncio.subprocess.Process | None = None
        self.kills = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "TWILIO_"))}
        env.update(TWILIO_ACCOUNT_SID=ACCOUNT, TWILIO_AUTH_TOKEN=TOKEN, TWILIO_WHATSAPP_FROM=BOT_NUMBER,
                   PUBLIC_BASE_URL=PUBLIC, PORT=str(self.port), TWILIO_API_BASE_URL=self.twilio_url,
                   TELEGRAM_BOT_TOKEN=TG_TOKEN, TELEGRAM_WEBHOOK_SECRET=TG_SECRET,
                   TELEGRAM_API_BASE_URL=self.telegram_url, LOG_LEVEL="INFO")
        with self.log.open("ab") as out:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "--config", str(self.config), "run", "--db", str(database(self.db)),
                cwd=ROOT, env=env, stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=out)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.returncode is not None:
                raise AssertionError(f"bot exited {self.proc.returncode}:\n{self.log.read_text()[-3000:]}")
            with contextlib.suppress(aiohttp.ClientError, OSError):
                async with self.session.get(f"{self.url}/healthz") as resp:
                    if resp.status == 200:
                        return
            await asyncio.sleep(0.05)
        raise AssertionError("bot did not start")

    async def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        await self.proc.wait()
        self.kills += 1

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), 20)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()


class Instances:
    """Several `run` processes on one database behind a load balancer: each request goes to one of
    those that are up, at random; a kill takes one of them down, and it starts again."""

    def __init__(self, bots: list[BotProcess], rng: random.Random) -> None:
        self.bots, self.rng = bots, rng
        self.db = bots[0].db

    @property
    def url(self) -> str:
        up = [b for b in self.bots if b.proc is not None and b.proc.returncode is None]
        return self.rng.choice(up or self.bots).url

    @property
    def kills(self) -> int:
        return sum(b.kills for b in self.bots)

    async def start(self) -> None:
        for bot in self.bots:
            if bot.proc is None or bot.proc.returncode is not None:
                await bot.start()

    async def kill(self) -> None:
        await self.rng.choice(self.bots).kill()

    async def stop(self) -> None:
        await asyncio.gather(*(bot.stop() for bot in self.bots))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Providers:
    """What Twilio and Telegram do towards the bot: deliver until answered."""

    def __init__(self, bot: BotProcess | Instances, session: aiohttp.ClientSession,
                 deadline: float = 90.0) -> None:
        self.bot = bot
        self.session = session
        self.deadline = deadline
        self.acknowledged: set[int] = set()   # update_ids Telegram got a 200 for

    async def wa_post(self, form: dict[str, str]) -> Any:
        """Twilio: the same webhook again while the connection fails (refused, or broken mid-way)."""
        give_up = time.monotonic() + self.deadline
        while True:
            try:
                async with self.session.post(
                        f"{self.bot.url}/whatsapp", data=form, timeout=aiohttp.ClientTimeout(total=15),
                        headers={"X-Twilio-Signature": sign("/whatsapp", form)}) as resp:
                    await resp.read()
                    if resp.status == 200:
                        return resp
            except (aiohttp.ClientError, OSError, TimeoutError):
                pass
            if time.monotonic() > give_up:
                raise AssertionError("the WhatsApp webhook never answered")
            await asyncio.sleep(0.1)

    async def tg_deliver(self, update: dict[str, Any]) -> None:
        """Telegram: the same update again until the webhook answers 200."""
        give_up = time.monotonic() + self.deadline
        while True:
            try:
                async with self.session.post(
                        f"{self.bot.url}/telegram", json=update, timeout=aiohttp.ClientTimeout(total=15),
                        headers={"X-Telegram-Bot-Api-Secret-Token": TG_SECRET}) as resp:
                    await resp.read()
                    if resp.status == 200:
                        self.acknowledged.add(int(update["update_id"]))
                        return
            except (aiohttp.ClientError, OSError, TimeoutError):
                pass
            if time.monotonic() > give_up:
                raise AssertionError("the Telegram webhook never answered")
            await asyncio.sleep(0.1)


class CrashWaChat(WaChat):
    """A WhatsApp villager who types at a human pace: an answer that never comes is a lost reply."""

    def __init__(self, desk: Any, number: str, rng: random.Random) -> None:
        super().__init__(desk, number)
        self.rng = rng

    async def send(self, name: str = "text", **changes: str) -> list[str]:
        await asyncio.sleep(self.rng.uniform(0.0, 0.3))
        form = wa_form(name, From=self.number, WaId=self.number[10:], **changes)
        resp = await self.desk.wa_post(form)
        self.last = twiml_messages(await resp.text())
        if not self.last:
            raise ReplyLost(form["MessageSid"])
        return self.last


class CrashTgChat:
    """A Telegram villager: sends through the provider and waits for the bot's messages."""

    def __init__(self, providers: Providers, api: FakeTelegram, user: int, reply_wait: float) -> None:
        self.providers = providers
        self.api = api
        self.user = user
        self.reply_wait = reply_wait

    def _sent(self) -> list[Any]:
        return [c for c in self.api.calls if c.method == "sendMessage" and c.ok
                and c.params.get("chat_id") == str(self.user)]

    async def _post(self, update: dict[str, Any]) -> list[str]:
        before = len(self._sent())
        await self.providers.tg_deliver(update)
        deadline = time.monotonic() + self.reply_wait
        while len(self._sent()) == before:
            if time.monotonic() > deadline:
                raise ReplyLost(str(update["update_id"]))
            await asyncio.sleep(0.05)
        while True:   # a turn may send several messages: wait until they stop coming
            count = len(self._sent())
            await asyncio.sleep(0.3)
            if len(self._sent()) == count:
                return [c.params["text"] for c in self._sent()[before:]]

    async def say(self, text: str) -> list[str]:
        return await self._post(Desk.tg_message(self.user, text))

    def _button(self, label_part: str) -> str | None:
        """The button on the latest keyboard; None when that keyboard has no such button."""
        for call in reversed(self._sent()):
            if "reply_markup" in call.params:
                for row in call.json("reply_markup")["inline_keyboard"]:
                    for button in row:
                        if label_part.lower() in button["text"].lower():
                            return str(button["callback_data"])
                return None
        return None

    async def tap(self, label_part: str) -> list[str]:
        # A turn's last message (the one with the question) may come later than its first, when
        # a restart came in between: wait for it as a person would.
        deadline = time.monotonic() + self.reply_wait
        while (data := self._button(label_part)) is None:
            if time.monotonic() > deadline:
                raise AssertionError(f"out of step: no button {label_part!r}")
            await asyncio.sleep(0.1)
        return await self._post(Desk.tg_callback(self.user, data))


async def tg_report(chat: CrashTgChat, **answers: str) -> str:
    """Register, then a whole contactable report over Telegram; returns the case number."""
    a = {**REPORT, **answers}
    await chat.say("halo")
    await chat.tap("Desa saya")
    await chat.say("semuntai")
    await chat.say("/lapor")
    await chat.say(first_story(a))
    await chat.say(a["story"])
    await chat.tap("Selesai")
    await chat.tap("WhatsApp")
    await chat.say("1 2")                      # asked to pay, tourist visa
    await chat.tap("hubungi saya")
    return case_in(" ".join(await chat.tap("Kirim")))


@dataclasses.dataclass
class Tally:
    """What the villagers and the office saw, over one or more trials."""

    trials: int = 0
    kills: int = 0
    held_at_kill: int = 0
    reports_confirmed: int = 0
    reports_lost: int = 0
    reports_doubled: int = 0
    tg_updates_acknowledged: int = 0
    tg_updates_lost: int = 0
    replies_lost: int = 0
    villagers_out_of_step: int = 0
    wa_alerts_sent: int = 0
    wa_alerts_doubled: int = 0
    wa_alerts_missing: int = 0
    wa_status_sent: int = 0
    wa_status_doubled: int = 0
    wa_found_at_provider: int = 0
    tg_messages_sent: int = 0
    tg_messages_doubled: int = 0
    cases_not_acknowledged: int = 0

    def add(self, other: Tally) -> None:
        for f in dataclasses.fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def lines(self) -> list[str]:
        return [f"{f.name:26} {getattr(self, f.name)}" for f in dataclasses.fields(self)]


NAMES = ("Pak Anton", "Bu Sari", "Pak Dedi", "Bu Rina", "Pak Joko")   # one recruiter per villager
WA_CRASH_VILLAGERS = [f"whatsapp:+6281277700{i:03d}" for i in range(3)]
TG_CRASH_VILLAGERS = [710001, 710002]


async def crash_trial(folder: Path, rng: random.Random, *, kills: tuple[int, int] = (1, 2),
                      reply_wait: float = 20.0, instances: int = 1) -> Tally:
    """One trial: a fresh database, 3 WhatsApp and 2 Telegram reports, `kills` SIGKILLs at random.

    `instances` > 1: that many processes on the one database (PostgreSQL), every request to one
    of them at random, each kill taking one of them down.
    """
    twilio, api = HoldingTwilio(), HoldingBotApi()
    tally = Tally(trials=1)
    async with TestServer(twilio.app(), host="127.0.0.1") as tw, \
            TestServer(api.app, host="127.0.0.1") as tg, aiohttp.ClientSession() as session:
        urls = str(tw.make_url("")).rstrip("/"), f"http://127.0.0.1:{tg.port}"
        bot: Any = BotProcess(folder, *urls, session) if instances == 1 else Instances(
            [BotProcess(folder, *urls, session, name=f"bot{n}") for n in range(instances)],
            random.Random(rng.random()))
        providers = Providers(bot, session)
        await bot.start()
        done = asyncio.Event()
        confirmed: dict[str, str] = {}      # case number -> the villager who saw it
        try:
            officer = WaChat(providers, SGU_WA)
            await officer.say("KASUS")        # the office's window is open: alerts go as text

            async def wa_villager(i: int, number: str) -> None:
                chat = CrashWaChat(providers, number, random.Random(rng.random()))
                case = case_in(await wa_file_report(chat, name=NAMES[i], phone=f"0813-7000-{i:04d}"))
                confirmed[case] = number

            async def tg_villager(i: int, user: int) -> None:
                chat = CrashTgChat(providers, api, user, reply_wait)
                confirmed[await tg_report(chat, name=NAMES[3 + i], phone=f"0813-8000-{i:04d}")] = str(user)

            async def acknowledge() -> None:
                """The officer answers every alert that reached the office's WhatsApp with TANGANI."""
                acked: set[str] = set()
                while True:
                    for case in sorted(alert_cases(twilio) - acked):
                        await officer.say(f"TANGANI {case}")
                        acked.add(case)
                    # Done when every confirmed case was acknowledged: an alert held up by a
                    # kill may reach the office after the villagers are finished.
                    if done.is_set() and set(confirmed) <= acked:
                        return
                    await asyncio.sleep(0.2)

            async def killer() -> None:
                for n in range(rng.randint(*kills)):
                    await asyncio.sleep(rng.uniform(0.2, 4.0))
                    if done.is_set() and n:
                        return   # the first kill always comes, if need be while the officer acts
                    hold = rng.choice(("none", "twilio", "telegram"))
                    provider: Any = twilio if hold == "twilio" else api
                    if hold != "none":
                        provider.held, provider.let_go = asyncio.Event(), asyncio.Event()
                        if hold == "twilio":
                            twilio.hold_accepted = 1
                        else:
                            api.hold_sent = 1
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(provider.held.wait(), rng.uniform(0.5, 4.0))
                        tally.held_at_kill += provider.held.is_set()
                    await bot.kill()
                    twilio.hold_accepted = api.hold_sent = 0
                    twilio.let_go.set()
                    api.let_go.set()
                    await asyncio.sleep(rng.uniform(0.0, 0.5))
                    await bot.start()

            villagers = [wa_villager(i, n) for i, n in enumerate(WA_CRASH_VILLAGERS)] + \
                [tg_villager(i, u) for i, u in enumerate(TG_CRASH_VILLAGERS)]
            acking = asyncio.create_task(acknowledge())
            killing = asyncio.create_task(killer())
            outcomes = await asyncio.gather(*villagers, return_exceptions=True)
            done.set()
            await killing
            for outcome in outcomes:
                if isinstance(outcome, ReplyLost):
                    tally.replies_lost += 1
                elif isinstance(outcome, AssertionError):
                    tally.villagers_out_of_step += 1
                    print(f"a villager out of step: {str(outcome)[:300]}", file=sys.stderr)
                elif isinstance(outcome, BaseException):
                    raise outcome
            with contextlib.suppress(TimeoutError):   # an alert that never came: counted below
                await asyncio.wait_for(acking, 60)
            await settle(bot.db)
        finally:
            done.set()
            twilio.let_go.set()
            api.let_go.set()
            await bot.stop()
        tally.kills = bot.kills
        count(tally, bot.db, twilio, api, confirmed, providers.acknowledged)
    return tally


def alert_cases(twilio: FakeTwilio) -> set[str]:
    """Cases whose alert reached the office's WhatsApp number (as text or as a template)."""
    found = set()
    for m in twilio.to(SGU_WA):
        case = _alert_case(m)
        if case:
            found.add(case)
    return found


def _alert_case(message: dict[str, str]) -> str | None:
    if "ContentSid" in message:
        return str(json.loads(message.get("ContentVariables", "{}")).get("1")) \
            if message.get("ContentSid") == ALERT_TEMPLATE else None
    found = re.search(r"BARU (SGU-\d{4}-\d{4})", message.get("Body", ""))
    return found.group(1) if found else None


async def settle(db: Path, within: float = 60.0) -> None:
    """Wait until nothing waits: every kept update handled, the outbox empty of what is due."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        waiting = read(database(db), "SELECT (SELECT count(*) FROM inbox WHERE done_at IS NULL) + "
                       "(SELECT count(*) FROM outbox WHERE status IN ('pending', 'sending'))")[0][0]
        if not waiting:
            await asyncio.sleep(0.5)   # a status update's turn may still be on its way
            return
        await asyncio.sleep(0.2)
    raise AssertionError("the bot did not settle")


def count(tally: Tally, db: Path, twilio: FakeTwilio, api: FakeTelegram, confirmed: dict[str, str],
          acknowledged: set[int]) -> None:
    target = database(db)
    cases = {r[0]: (r[1], r[2]) for r in read(target, "SELECT case_no, reporter_key, status FROM reports")}
    doubled = read(target, "SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM reports "
                   "GROUP BY reporter_key HAVING count(*) > 1) AS d")[0][0]
    done = {r[0] for r in read(target, "SELECT message_key FROM inbox WHERE done_at IS NOT NULL")}
    found = read(target, "SELECT count(*) FROM outbox_attempts WHERE error = 'found sent at the provider'")[0][0]
    tg_rows = dict(read(target, "SELECT recipient, count(*) FROM outbox WHERE status = 'sent' "
                        "AND recipient LIKE 'telegram:%' GROUP BY recipient"))
    tally.reports_confirmed += len(confirmed)
    tally.reports_lost += len(set(confirmed) - set(cases))
    tally.reports_doubled += int(doubled)
    tally.cases_not_acknowledged += sum(1 for _, status in cases.values() if status == "baru")
    tally.tg_updates_acknowledged += len(acknowledged)
    tally.tg_updates_lost += sum(1 for u in acknowledged if f"telegram:{u}" not in done)
    tally.wa_found_at_provider += int(found)
    for case in cases:
        n = sum(1 for m in twilio.to(SGU_WA) if _alert_case(m) == case)
        tally.wa_alerts_sent += n
        tally.wa_alerts_doubled += max(0, n - 1)
        tally.wa_alerts_missing += n == 0
    for case, (reporter, _) in cases.items():
        if reporter and reporter.startswith("whatsapp:"):
            number = reporter.removeprefix("whatsapp:")
            n = sum(1 for m in twilio.to(number) if case in m.get("Body", "")
                    or case in m.get("ContentVariables", ""))
            tally.wa_status_sent += n
            tally.wa_status_doubled += max(0, n - 1)
    # A Telegram message sent twice: more sendMessage calls to a chat than messages it was sent.
    for recipient, rows in tg_rows.items():
        chat = recipient.removeprefix("telegram:")
        calls = sum(1 for c in api.calls if c.method == "sendMessage" and c.ok and c.params.get("chat_id") == chat)
        tally.tg_messages_sent += calls
        tally.tg_messages_doubled += max(0, calls - rows)

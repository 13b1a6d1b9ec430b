"""The Telegram channel end to end: real PTB Bot, fake Bot API on loopback, webhook and polling."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp.test_utils import TestClient, TestServer

from bot.app import Knowledge, build_dialogue, build_knowledge, build_outbox
from bot.channels.telegram import TelegramChannel, keyboard
from bot.config import Secrets
from bot.markup import to_telegram_html
from bot.models import Channel, Option, Outgoing, Sender
from bot.outbox import DeliveryError, Outbox
from bot.server import build_web_app
from bot.store import Store
from tests.conftest import ROOT
from tests.databases import database, wait_briefly_for_locks
from tests.fake_telegram import FakeTelegram
from tests.fakes import Clock

PAYLOADS = Path(__file__).resolve().parent / "payloads" / "telegram"
TOKEN = "123456:TEST-token"
SECRET = "s3cret_token-1"
SGU_GROUP = -100111
OFFICER = 1001          # Kanim Sanggau
REGIONAL = 3003
VILLAGER = 500001
STRANGER = 500009
NO_PREVIEW = {"is_disabled": True}


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Knowledge:
    """The shipped config with officers and an alert group filled in, as an office would."""
    data = yaml.safe_load((ROOT / "config.example.yaml").read_text())
    data["content_dir"] = str(ROOT / "content")
    offices = {o["id"]: o for o in data["offices"]}
    offices["SGU"]["officers"] = [{"name": "Petugas Sanggau", "telegram_id": OFFICER}]
    offices["SGU"]["alerts"] = {"telegram_chat_ids": [SGU_GROUP], "whatsapp_numbers": []}
    offices["KTG"]["officers"] = [{"name": "Petugas Ketapang", "telegram_id": 2002}]
    offices["KTG"]["alerts"] = {"telegram_chat_ids": [-100222], "whatsapp_numbers": []}
    data["regional_office"]["officers"] = [{"name": "Petugas Kanwil", "telegram_id": REGIONAL}]
    path = tmp_path_factory.mktemp("cfg") / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return build_knowledge(path, {})


def payload(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PAYLOADS / f"{name}.json").read_text())
    return data


class Harness:
    """A Telegram user's side: updates go in through the webhook, Bot API calls are recorded."""

    def __init__(self, fake: FakeTelegram, channel: TelegramChannel, client: TestClient[Any, Any] | None,
                 outbox: Outbox, clock: Clock, store: Store) -> None:
        self.fake = fake
        self.channel = channel
        self.client = client
        self.outbox = outbox
        self.clock = clock
        self.store = store
        self.ids = itertools.count(800000001)

    async def post(self, update: dict[str, Any], secret: str | None = SECRET) -> int:
        assert self.client is not None
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
        response = await self.client.post("/telegram", json=update, headers=headers)
        await self.channel.drain()
        return response.status

    def message(self, user: int, text: str, chat: int | None = None) -> dict[str, Any]:
        update = payload("text_message")
        update["update_id"] = next(self.ids)
        msg = update["message"]
        msg["from"]["id"] = user
        msg["chat"] = {"id": chat or user, "type": "private" if chat is None else "supergroup",
                       **({"title": "Pimpasa Sanggau"} if chat else {"first_name": "Warga"})}
        msg["text"] = text
        return update

    def callback(self, user: int, data: str, chat: int | None = None,
                 message_id: int = 43) -> dict[str, Any]:
        update = payload("callback_query")
        update["update_id"] = next(self.ids)
        query = update["callback_query"]
        query["id"] = f"q{update['update_id']}"
        query["from"]["id"] = user
        query["message"]["chat"] = {"id": chat or user, "type": "private" if chat is None else "supergroup"}
        query["message"]["message_id"] = message_id
        query["data"] = data
        return update

    async def say(self, user: int, text: str, chat: int | None = None) -> int:
        return await self.post(self.message(user, text, chat))

    async def tap(self, user: int, label_part: str) -> int:
        """Press the button whose label contains `label_part` on the latest keyboard sent to `user`."""
        for call in reversed(self.fake.made("sendMessage", user)):
            if "reply_markup" not in call.params:
                continue
            for row in call.json("reply_markup")["inline_keyboard"]:
                for button in row:
                    if label_part.lower() in button["text"].lower():
                        return await self.post(self.callback(user, button["callback_data"]))
            raise AssertionError(f"no button {label_part!r} in {call.params['reply_markup']}")
        raise AssertionError("no keyboard sent")


@pytest.fixture
async def fake_api() -> AsyncIterator[tuple[FakeTelegram, str]]:
    fake = FakeTelegram()
    server = TestServer(fake.app, host="127.0.0.1")
    await server.start_server()
    try:
        yield fake, f"http://127.0.0.1:{server.port}"
    finally:
        await server.close()


HarnessFactory = Callable[..., Awaitable[Harness]]


@pytest.fixture
async def make(desk: Knowledge, tmp_path: Path,
               fake_api: tuple[FakeTelegram, str]) -> AsyncIterator[HarnessFactory]:
    fake, api = fake_api
    clock = Clock()
    cleanups: list[Callable[[], Awaitable[None]]] = []

    async def build(webhook: bool = True, api_base: str | None = None) -> Harness:
        secrets = Secrets(telegram_token=TOKEN, telegram_webhook_secret=SECRET,
                          public_base_url="https://bot.example.org" if webhook else None,
                          telegram_api_base_url=api_base or api)
        settings = dataclasses.replace(desk.settings, secrets=secrets)
        channel = TelegramChannel(settings, build_dialogue(desk, store, clock), store, poll_timeout=1)
        outbox = build_outbox(store, {Channel.TELEGRAM: channel}, clock=clock)
        channel.use_outbox(outbox)
        await channel.start()
        cleanups.append(channel.stop)
        client = None
        if webhook:
            client = TestClient(TestServer(build_web_app([channel], store, "test"), host="127.0.0.1"))
            await client.start_server()
            cleanups.append(client.close)
        return Harness(fake, channel, client, outbox, clock, store)

    async with Store.open(database(tmp_path / "bot.sqlite3")) as store:
        try:
            yield build
        finally:
            for cleanup in reversed(cleanups):
                await cleanup()


@pytest.fixture
async def tg(make: HarnessFactory) -> Harness:
    return await make()


def sent_texts(h: Harness, chat: int) -> list[str]:
    return [c.params["text"] for c in h.fake.made("sendMessage", chat)]


async def file_report(h: Harness, user: int = VILLAGER) -> None:
    """Register in Semuntai (Kanim Sanggau) and file a contactable report with one photo."""
    await h.say(user, "halo")
    await h.tap(user, "Desa saya")
    await h.say(user, "semuntai")
    await h.say(user, "/lapor")
    await h.say(user, "Pak Budi 0812-3456-7890 dari PT Maju Jaya menawarkan kerja restoran di Malaysia")
    photo = payload("photo")
    photo["update_id"] = next(h.ids)
    await h.post(photo)
    assert "Lampiran diterima (jumlah: 1)" in sent_texts(h, user)[-1]
    await h.say(user, "Disuruh berangkat minggu depan.")
    await h.tap(user, "Selesai")
    await h.tap(user, "WhatsApp")
    await h.say(user, "1 2")
    await h.tap(user, "hubungi saya")
    await h.tap(user, "Kirim")
    assert "SGU-2026-0001" in sent_texts(h, user)[-1]


def case_keyboard(case_no: str) -> dict[str, Any]:
    return {"inline_keyboard": [[
        {"text": "Tangani", "callback_data": f"case:tangani:{case_no}"},
        {"text": "Catatan", "callback_data": f"case:catatan:{case_no}"},
        {"text": "Tutup", "callback_data": f"case:tutup:{case_no}"}]]}


# Villagers ----------------------------------------------------------------------------------
async def test_start_registers_commands_and_webhook_with_the_secret(tg: Harness) -> None:
    webhook = tg.fake.made("setWebhook")
    assert [(c.params["url"], c.params["secret_token"]) for c in webhook] == [
        ("https://bot.example.org/telegram", SECRET)]
    assert not tg.fake.made("getUpdates")
    commands = {c.params.get("scope", ""): c.json("commands") for c in tg.fake.made("setMyCommands")}
    private = commands['{"type": "default"}']
    assert [c["command"] for c in private] == ["start", "menu", "lapor", "bantuan", "hapus"]
    assert private[3]["description"] == "Bantuan dan cara memakai layanan ini"


async def test_a_question_is_answered_with_an_inline_keyboard(tg: Harness, desk: Knowledge) -> None:
    update = payload("text_message")
    assert await tg.post(update) == 200
    calls = tg.fake.made("sendMessage")
    assert len(calls) == 2   # the first contact is greeted, then answered
    assert calls[0].params["text"] == to_telegram_html(desk.content.message("welcome"))
    entry = desk.content.entry(desk.index.match(update["message"]["text"]).candidates[0].entry_id)
    answer = calls[1]
    assert {k: v for k, v in answer.params.items() if k not in ("reply_markup", "link_preview_options")} == {
        "chat_id": str(VILLAGER), "text": to_telegram_html(entry.render(None)), "parse_mode": "HTML"}
    assert answer.json("link_preview_options") == NO_PREVIEW
    related = [desk.content.entry(r) for r in entry.related[:3]]
    assert answer.json("reply_markup") == {"inline_keyboard": [
        *[[{"text": e.question, "callback_data": f"faq:{e.id}"}] for e in related],
        [{"text": "Menu utama", "callback_data": "menu"}]]}
    assert "<b>" in calls[0].params["text"]   # **bold** rendered, everything else escaped


async def test_start_command_and_a_button_press_are_answered(tg: Harness, desk: Knowledge) -> None:
    await tg.post(payload("start_command"))
    menu = tg.fake.made("sendMessage", VILLAGER)[-1]
    assert [row[0]["callback_data"] for row in menu.json("reply_markup")["inline_keyboard"]] == [
        "menu:ask", "menu:topics", "menu:check", "menu:report", "menu:village", "menu:status"]
    await tg.post(payload("callback_query"))
    answered = tg.fake.made("answerCallbackQuery")
    assert [c.params["callback_query_id"] for c in answered] == ["4382bfdwdsb323b2d9"]
    assert "text" not in answered[0].params
    assert tg.fake.made("sendMessage", VILLAGER)[-1].params["text"] == to_telegram_html(
        desk.content.message("village_prompt"))


async def test_a_stale_or_forged_button_is_answered_politely(tg: Harness, desk: Knowledge) -> None:
    await tg.say(VILLAGER, "halo")
    await tg.post(tg.callback(VILLAGER, "faq:no-such-entry"))
    assert len(tg.fake.made("answerCallbackQuery")) == 1
    texts = sent_texts(tg, VILLAGER)
    assert texts[-2] == to_telegram_html(desk.content.message("option_unknown", n="6"))


async def test_a_redelivered_update_is_answered_once(tg: Harness) -> None:
    update = payload("text_message")
    assert await tg.post(update) == 200
    assert await tg.post(update) == 200
    assert len(tg.fake.made("sendMessage")) == 2


async def test_the_webhook_refuses_requests_without_the_secret(tg: Harness) -> None:
    update = payload("text_message")
    assert await tg.post(update, secret=None) == 403
    assert await tg.post(update, secret="wrong") == 403
    assert not tg.fake.made("sendMessage")
    # Refused means not processed at all: the same update with the secret is still new.
    assert await tg.post(update) == 200
    assert len(tg.fake.made("sendMessage")) == 2


async def test_stickers_get_the_no_text_answer_and_edits_are_ignored(tg: Harness, desk: Knowledge) -> None:
    await tg.say(VILLAGER, "halo")
    before = len(tg.fake.made("sendMessage"))
    sticker = tg.message(VILLAGER, "")
    del sticker["message"]["text"]
    sticker["message"]["sticker"] = {"file_id": "CAACAgfake", "file_unique_id": "s", "width": 512,
                                     "height": 512, "is_animated": False, "is_video": False,
                                     "type": "regular"}
    await tg.post(sticker)
    assert sent_texts(tg, VILLAGER)[-1] == to_telegram_html(desk.content.message("no_text"))
    edited = tg.message(VILLAGER, "paspor hilang")
    edited["edited_message"] = edited.pop("message")
    edited["edited_message"]["edit_date"] = 1764320999
    assert await tg.post(edited) == 200
    assert len(tg.fake.made("sendMessage")) == before + 1


async def test_group_chatter_is_ignored_and_officer_commands_work_there(tg: Harness) -> None:
    await tg.say(STRANGER, "paspor hilang gmn", chat=SGU_GROUP)
    await tg.say(OFFICER, "paspor hilang gmn", chat=SGU_GROUP)
    await tg.say(STRANGER, "/kasus", chat=SGU_GROUP)
    assert not tg.fake.made("sendMessage")
    await tg.say(OFFICER, "/kasus@DesaImigrasiBot", chat=SGU_GROUP)
    assert sent_texts(tg, SGU_GROUP) == ["Tidak ada kasus terbuka."]


async def test_a_broken_update_is_logged_by_id_and_does_not_block_the_next(
        tg: Harness, caplog: pytest.LogCaptureFixture) -> None:
    tg.fake.garble("sendMessage")                        # the reply to this update cannot be read back
    first = tg.message(VILLAGER, "paspor sy ilang di kuching gmn")
    await tg.post(first)
    unreadable = tg.message(VILLAGER, "paspor ilang")
    del unreadable["message"]["chat"]                    # malformed: no chat, its handler raises
    assert await tg.post(unreadable) == 200
    await tg.say(VILLAGER, "menu")
    assert "Menu utama" in sent_texts(tg, VILLAGER)[-1]
    assert f"update failed update_id={unreadable['update_id']}" in caplog.text
    # The first update was handled; its first reply (the welcome) waits in the outbox and goes
    # on the next try, the answer after it went already.
    assert "outbox delivery failed id=1 kind=reply" in caplog.text
    assert any("polisi" in t.lower() for t in sent_texts(tg, VILLAGER))
    tg.clock.advance(minutes=1)
    assert await tg.outbox.deliver_due() == 1
    assert "Selamat datang" in sent_texts(tg, VILLAGER)[-1]
    assert "ilang" not in caplog.text and "kuching" not in caplog.text and "Warga" not in caplog.text


async def test_a_case_read_in_another_office_group_is_answered_privately(tg: Harness) -> None:
    await file_report(tg)
    # The regional officer reads a Sanggau case while in Ketapang's group: Ketapang must not see it.
    await tg.say(REGIONAL, "/kasus SGU-2026-0001", chat=-100222)
    assert not tg.fake.made("sendMessage", -100222)
    assert "SGU-2026-0001" in sent_texts(tg, REGIONAL)[-1]
    # In its own office's group, an officer's answer stays in the group.
    await tg.say(OFFICER, "/kasus", chat=SGU_GROUP)
    assert "SGU-2026-0001" in sent_texts(tg, SGU_GROUP)[-1]


# Officers -----------------------------------------------------------------------------------
async def test_a_full_report_with_a_photo_reaches_the_office_group(tg: Harness) -> None:
    await file_report(tg)
    assert not tg.fake.made("sendMessage", SGU_GROUP)   # alerts go through the outbox
    assert await tg.outbox.deliver_due() == 2            # the group, and the regional office (high risk)
    [alert] = tg.fake.made("sendMessage", SGU_GROUP)
    assert "SGU-2026-0001" in alert.params["text"] and "Semuntai" in alert.params["text"]
    assert "Risiko: <b>tinggi</b>" in alert.params["text"] and alert.params["parse_mode"] == "HTML"
    assert alert.json("reply_markup") == case_keyboard("SGU-2026-0001")
    [photo] = tg.fake.made("sendPhoto", SGU_GROUP)
    assert photo.params["photo"] == "AgACAgUAAxkBAAIBK2fake-large"
    assert photo.json("reply_parameters")["message_id"] == alert.result["message_id"]
    assert len(tg.fake.made("sendMessage", REGIONAL)) == 1
    report = await tg.store.report_by_case("SGU-2026-0001")
    assert report is not None and report.media == ("AgACAgUAAxkBAAIBK2fake-large",)


def answers_to(h: Harness, update: dict[str, Any]) -> list[Any]:
    query_id = update["callback_query"]["id"]
    return [c for c in h.fake.made("answerCallbackQuery") if c.params["callback_query_id"] == query_id]


async def alert_message_ids(h: Harness) -> dict[int, int]:
    report = await h.store.report_by_case("SGU-2026-0001")
    assert report is not None
    return {int(p.split(":")[0]): int(p.split(":")[1]) for _, p in await h.store.sent_alerts(report.id)}


async def test_an_officer_acknowledges_with_the_button_and_the_alerts_are_edited(tg: Harness) -> None:
    await file_report(tg)
    await tg.outbox.deliver_due()
    ids = await alert_message_ids(tg)
    assert set(ids) == {SGU_GROUP, REGIONAL}
    press = tg.callback(OFFICER, "case:tangani:SGU-2026-0001", SGU_GROUP, ids[SGU_GROUP])
    await tg.post(press)
    [answered] = answers_to(tg, press)
    assert "text" not in answered.params
    assert sent_texts(tg, SGU_GROUP)[-1] == "Kasus SGU-2026-0001 ditandai DITANGANI oleh Petugas Sanggau."
    edits = tg.fake.made("editMessageText")
    assert {(c.chat_id, int(c.params["message_id"])) for c in edits} == {
        (SGU_GROUP, ids[SGU_GROUP]), (REGIONAL, ids[REGIONAL])}
    for edit in edits:
        assert "SGU-2026-0001" in edit.params["text"]
        assert "Status: <b>sedang ditangani petugas</b>" in edit.params["text"]
        assert "28-11-2026 16:00 WIB: Petugas Sanggau menangani kasus ini." in edit.params["text"]
        assert edit.json("reply_markup") == case_keyboard("SGU-2026-0001")
    report = await tg.store.report_by_case("SGU-2026-0001")
    assert report is not None and report.status == "ditangani"
    # The villager is told through the outbox.
    await tg.outbox.deliver_due()
    assert "ditangani" in sent_texts(tg, VILLAGER)[-1].lower()


async def test_closing_by_text_removes_the_buttons_from_the_alert(tg: Harness) -> None:
    await file_report(tg)
    await tg.outbox.deliver_due()
    await tg.say(OFFICER, "/tutup SGU-2026-0001 perekrut sudah diperiksa", chat=SGU_GROUP)
    assert tg.fake.made("editMessageText") == []       # nobody had acknowledged it: asked first
    await tg.say(OFFICER, "1", chat=SGU_GROUP)          # "Ya, tutup kasus"
    edits = tg.fake.made("editMessageText")
    assert len(edits) == 2
    assert all("reply_markup" not in e.params for e in edits)
    assert "menutup kasus. Hasil: perekrut sudah diperiksa" in edits[0].params["text"]


async def test_a_non_officer_pressing_the_button_is_refused_and_nothing_changes(
        tg: Harness, desk: Knowledge) -> None:
    await file_report(tg)
    await tg.outbox.deliver_due()
    ids = await alert_message_ids(tg)
    group_messages = len(tg.fake.made("sendMessage", SGU_GROUP))
    press = tg.callback(STRANGER, "case:tangani:SGU-2026-0001", SGU_GROUP, ids[SGU_GROUP])
    await tg.post(press)
    [answered] = answers_to(tg, press)
    assert answered.params["text"] == desk.content.message("officer_only")
    assert answered.params["show_alert"] == "true"
    assert len(tg.fake.made("sendMessage", SGU_GROUP)) == group_messages
    assert not tg.fake.made("editMessageText")
    report = await tg.store.report_by_case("SGU-2026-0001")
    assert report is not None and report.status == "baru"


# Delivery -----------------------------------------------------------------------------------
async def test_a_429_during_an_alert_is_retried_after_retry_after_and_delivered_once(tg: Harness) -> None:
    await file_report(tg)
    tg.fake.fail("sendMessage", 429, chat_id=SGU_GROUP, retry_after=8)
    assert await tg.outbox.deliver_due() == 1            # the regional copy went; the group waits
    assert not tg.fake.made("sendMessage", SGU_GROUP)
    tg.clock.advance(seconds=6)                          # past the outbox's own 5 s, before retry_after
    assert await tg.outbox.deliver_due() == 0
    tg.clock.advance(seconds=3)
    assert await tg.outbox.deliver_due() == 1
    assert len(tg.fake.made("sendMessage", SGU_GROUP)) == 1
    assert len(tg.fake.made("sendPhoto", SGU_GROUP)) == 1
    tg.clock.advance(hours=1)
    assert await tg.outbox.deliver_due() == 0


async def test_a_5xx_during_an_alert_delays_it_and_it_is_delivered_exactly_once(tg: Harness) -> None:
    await file_report(tg)
    tg.fake.fail("sendMessage", 500, chat_id=SGU_GROUP, times=2)
    await tg.outbox.deliver_due()
    tg.clock.advance(seconds=6)
    await tg.outbox.deliver_due()
    assert not tg.fake.made("sendMessage", SGU_GROUP)
    tg.clock.advance(seconds=11)
    assert await tg.outbox.deliver_due() == 1
    tg.clock.advance(hours=1)
    await tg.outbox.deliver_due()
    attempts = [c for c in tg.fake.calls if c.method == "sendMessage" and c.chat_id == SGU_GROUP]
    assert [c.status for c in attempts] == [500, 500, 200]


async def test_a_blocked_villager_is_a_permanent_failure(tg: Harness) -> None:
    tg.fake.fail("sendMessage", 403, chat_id=VILLAGER)
    with pytest.raises(DeliveryError) as err:
        await tg.channel.deliver(Outgoing(Sender(Channel.TELEGRAM, str(VILLAGER)), "Kabar", "status", 1))
    assert err.value.permanent


async def test_long_messages_are_split_and_the_keyboard_goes_on_the_last_part(tg: Harness) -> None:
    text = "\n\n".join(f"Paragraf {i} " + "kata " * 300 for i in range(5))
    options = (Option("Menu utama", "menu"),)
    provider_id = await tg.channel.deliver(Outgoing(Sender(Channel.TELEGRAM, str(VILLAGER)), text,
                                                    "status", None, options))
    calls = tg.fake.made("sendMessage", VILLAGER)
    assert len(calls) > 1 and all(len(c.params["text"]) <= 4096 for c in calls)
    assert ["reply_markup" in c.params for c in calls] == [False] * (len(calls) - 1) + [True]
    assert provider_id == f"{VILLAGER}:{calls[-1].result['message_id']}"


def test_payloads_over_64_bytes_fall_back_to_numbered_lines() -> None:
    text, markup = keyboard("Pilih:", (Option("Satu", "menu"), Option("Dua", "faq:" + "x" * 70)))
    assert markup is None and text == "Pilih:\n\n────────────\n1. Satu\n2. Dua"
    text, markup = keyboard("Pilih:", (Option("Satu", "menu"),))
    assert markup is not None and text == "Pilih:"


# Polling ------------------------------------------------------------------------------------
async def test_polling_mode_reads_get_updates_and_confirms_the_offset(make: HarnessFactory) -> None:
    h = await make(webhook=False)
    assert h.channel.routes() == []
    assert h.fake.made("deleteWebhook") and not h.fake.made("setWebhook")
    update = payload("start_command")
    h.fake.push_update(update)
    await h.fake.wait_for("sendMessage", 2)
    await h.channel.drain()
    assert {c.chat_id for c in h.fake.made("sendMessage")} == {VILLAGER}
    h.fake.push_update(update)   # Telegram redelivering after a restart: nothing happens twice
    await h.channel.stop()
    assert len(h.fake.made("sendMessage")) == 2
    offsets = [c.params.get("offset") for c in h.fake.made("getUpdates")]
    assert str(update["update_id"] + 1) in offsets


async def test_the_api_base_url_may_be_given_with_or_without_bot(make: HarnessFactory,
                                                                 fake_api: tuple[FakeTelegram, str]) -> None:
    h = await make(api_base=fake_api[1] + "/bot/")
    assert h.fake.made("getMe")



# Durable before acknowledged ---------------------------------------------------------------------
async def test_an_update_kept_but_not_handled_when_the_process_died_is_handled_at_start(
        make: HarnessFactory, tg: Harness) -> None:
    """The webhook answered 200 once the update was kept; the crash came before the turn."""
    update = tg.message(VILLAGER, "paspor sy ilang di kuching gmn")
    await tg.store.inbox_add([(f"telegram:{update['update_id']}", update["update_id"], str(VILLAGER),
                               json.dumps(update))], tg.clock())
    assert sent_texts(tg, VILLAGER) == []
    restarted = await make()           # the next process starts on the same database
    await restarted.channel.drain()
    assert any("polisi" in text.lower() for text in sent_texts(tg, VILLAGER))
    assert await tg.store.inbox_pending() == []


async def test_a_chats_updates_are_handled_in_order_and_a_redelivery_of_a_kept_one_adds_nothing(
        tg: Harness) -> None:
    first, second = tg.message(VILLAGER, "halo"), tg.message(VILLAGER, "lapor")
    assert tg.client is not None
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    # Telegram may open several connections: both arrive before either is handled.
    for update in (first, second, first):
        assert (await tg.client.post("/telegram", json=update, headers=headers)).status == 200
    await tg.channel.drain()
    texts = sent_texts(tg, VILLAGER)
    assert "Selamat datang" in texts[0]
    assert "desa" in texts[-1].lower()          # "lapor" asks for the village first, after the welcome
    assert len([t for t in texts if "Selamat datang" in t]) == 1


async def test_polling_confirms_an_offset_only_once_its_updates_are_kept(make: HarnessFactory) -> None:
    h = await make(webhook=False)
    await wait_briefly_for_locks(h.store, 50)
    update = payload("start_command")
    async with h.store._write_lock:            # the database is busy with something else
        h.fake.push_update(update)
        await asyncio.sleep(1.5)
        offsets = [c.params.get("offset") for c in h.fake.made("getUpdates")]
        assert str(update["update_id"] + 1) not in offsets
    await h.fake.wait_for("sendMessage", 2)
    await h.channel.drain()
    await h.channel.stop()
    offsets = [c.params.get("offset") for c in h.fake.made("getUpdates")]
    assert str(update["update_id"] + 1) in offsets
    assert len(h.fake.made("sendMessage")) == 2


async def test_a_reply_sent_when_the_process_died_is_sent_again_and_counted(tg: Harness, tmp_path: Path) -> None:
    """Telegram cannot be asked whether a message arrived: an uncertain reply is sent again."""
    await tg.say(VILLAGER, "halo")
    sent = len(tg.fake.made("sendMessage", VILLAGER))
    await tg.store.enqueue([Outgoing(Sender(Channel.TELEGRAM, str(VILLAGER)), "sekali lagi", "reply")],
                           tg.clock())
    [item] = await tg.store.due_outbox(tg.clock(), kinds=("reply",))
    async with Store.open(database(tmp_path / "bot.sqlite3")) as dying:   # the process that died
        assert await dying.outbox_claim(item.id, tg.clock())       # marked "sending", then the crash
    restarted = build_outbox(tg.store, {Channel.TELEGRAM: tg.channel}, clock=tg.clock)
    for _ in range(50):   # PostgreSQL lets a closed connection's claim go a moment later
        if await restarted.deliver_due():
            break
        await asyncio.sleep(0.1)
    assert sent_texts(tg, VILLAGER)[sent:] == ["sekali lagi"]

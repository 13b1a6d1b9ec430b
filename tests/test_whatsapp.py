"""WhatsApp through Twilio: signed webhooks into the real aiohttp app, REST calls to a fake Twilio on loopback."""

from __future__ import annotations

import dataclasses
import itertools
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import given, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from bot import markup
from bot.app import Knowledge, build_knowledge, build_outbox
from bot.channels.whatsapp import _NOT_XML, WhatsAppChannel, render_text, twiml
from bot.conversation import Dialogue
from bot.models import Channel, Reply, Sender
from bot.outbox import Backoff, Outbox
from bot.server import build_web_app
from bot.store import Store
from tests.conftest import ROOT
from tests.databases import database
from tests.fake_twilio import FakeTwilio
from tests.fakes import Clock

PAYLOADS = ROOT / "tests" / "payloads" / "whatsapp"
PUBLIC = "https://desa-imigrasi.example.org"
ACCOUNT = "AC00000000000000000000000000000000"
TOKEN = "test-auth-token-0000"
BOT_NUMBER = "whatsapp:+14155238886"
OFFICE_WA = "whatsapp:+6281100000001"     # Kanim Sanggau's alert number, also its officer
VILLAGER_WA = "whatsapp:+6281200000001"
STRANGER_WA = "whatsapp:+6281200000009"
ALERT_TEMPLATE = "HX00000000000000000000000000000a1e"
STATUS_TEMPLATE = "HX00000000000000000000000000000575"
_sids = itertools.count(100)


def payload(name: str, **changes: str) -> dict[str, str]:
    form: dict[str, str] = json.loads((PAYLOADS / f"{name}.json").read_text())
    sid = f"SM{next(_sids):032d}"
    form.update(MessageSid=sid, SmsSid=sid, SmsMessageSid=sid)
    form.update(changes)
    return form


@pytest.fixture(scope="module")
def wa_desk(tmp_path_factory: pytest.TempPathFactory) -> Knowledge:
    """The shipped config with Sanggau's officer and alert number on WhatsApp, and templates."""
    data = yaml.safe_load((ROOT / "config.example.yaml").read_text())
    data["content_dir"] = str(ROOT / "content")
    offices = {o["id"]: o for o in data["offices"]}
    offices["SGU"]["officers"] = [{"name": "Petugas Sanggau", "whatsapp": OFFICE_WA.removeprefix("whatsapp:")}]
    offices["SGU"]["alerts"] = {"telegram_chat_ids": [], "whatsapp_numbers": [OFFICE_WA.removeprefix("whatsapp:")]}
    data["whatsapp"] = {"alert_template_sid": ALERT_TEMPLATE, "status_template_sid": STATUS_TEMPLATE,
                        "verify_signature": True}
    path = tmp_path_factory.mktemp("wa") / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    env = {"TWILIO_ACCOUNT_SID": ACCOUNT, "TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_WHATSAPP_FROM": BOT_NUMBER,
           "PUBLIC_BASE_URL": PUBLIC}
    return build_knowledge(path, env)


@dataclasses.dataclass
class Rig:
    client: TestClient[Any, Any]
    channel: WhatsAppChannel
    store: Store
    outbox: Outbox
    clock: Clock
    twilio: FakeTwilio

    async def post(self, path: str, form: dict[str, str], *, signature: str | None = None) -> Any:
        if signature is None:
            signature = RequestValidator(TOKEN).compute_signature(PUBLIC + path, form)
        return await self.client.post(path, data=form, headers={"X-Twilio-Signature": signature})

    def chat(self, number: str) -> WaChat:
        return WaChat(self, number)


def messages(body: str) -> list[str]:
    root = ET.fromstring(body)
    assert root.tag == "Response"
    return [m.text or "" for m in root.findall("Message")]


class WaChat:
    """One WhatsApp number talking to the bot through the signed webhook."""

    def __init__(self, rig: Rig, number: str) -> None:
        self.rig = rig
        self.number = number
        self.last: list[str] = []

    async def send(self, name: str = "text", **changes: str) -> list[str]:
        resp = await self.rig.post("/whatsapp", payload(name, From=self.number, WaId=self.number[10:], **changes))
        assert resp.status == 200, await resp.text()
        assert resp.content_type == "application/xml"
        self.last = messages(await resp.text())
        return self.last

    async def say(self, text: str) -> str:
        return "\n\n".join(await self.send(Body=text))

    async def tap(self, label_part: str) -> str:
        """Type the number of the option whose label contains `label_part` (the last reply's list)."""
        for line in reversed(self.last[-1].splitlines()):
            m = re.match(r"^(\d+)\. (.*)$", line)
            if m and label_part.lower() in m.group(2).lower():
                return await self.say(m.group(1))
        raise AssertionError(f"no option {label_part!r} in {self.last[-1]!r}")


@pytest.fixture
async def rig(wa_desk: Knowledge, tmp_path: Path) -> AsyncIterator[Rig]:
    twilio = FakeTwilio()
    async with TestServer(twilio.app(), host="127.0.0.1") as api:
        settings = dataclasses.replace(wa_desk.settings, secrets=dataclasses.replace(
            wa_desk.settings.secrets, twilio_api_base_url=str(api.make_url("")).rstrip("/")))
        clock = Clock()
        async with Store.open(database(tmp_path / "wa.sqlite3")) as store:
            dialogue = Dialogue(settings, wa_desk.content, wa_desk.index, store, clock)
            channel = WhatsAppChannel(settings, dialogue, store, rest_timeout=0.3)
            outbox = build_outbox(store, {Channel.WHATSAPP: channel}, clock=clock)
            outbox.backoff = Backoff(first=5, timeout=5)
            await channel.start()
            try:
                async with TestClient(TestServer(build_web_app([channel], store, "test"))) as client:
                    yield Rig(client, channel, store, outbox, clock, twilio)
            finally:
                twilio.release.set()
                await channel.stop()


async def register(chat: WaChat, village: str = "semuntai") -> None:
    await chat.say("halo")
    await chat.tap("Desa saya")
    await chat.say(village)


async def file_report(chat: WaChat) -> str:
    """A whole report over WhatsApp, with a photo and a shared location; returns the last answer."""
    await chat.say("lapor")
    await chat.say("Pak Budi 0812-3456-7890 dari PT Maju Jaya menawarkan kerja restoran di Malaysia")
    saved = await chat.send("media")                          # the photo of the offer
    assert saved and "1" in saved[0]
    await chat.send("location")                               # where they met: the story
    await chat.tap("Selesai")
    await chat.tap("WhatsApp")
    await chat.say("1 2")                                     # asked to pay, tourist visa
    await chat.tap("hubungi saya")
    return await chat.tap("Kirim")


def case_in(text: str) -> str:
    found = re.search(r"SGU-2026-\d{4}", text)
    assert found, text
    return found.group(0)


# Villagers -----------------------------------------------------------------------------------------
async def test_a_question_is_answered_in_twiml_with_numbered_options_and_whatsapp_bold(rig: Rig) -> None:
    said = await rig.chat(VILLAGER_WA).send("text")
    text = "\n\n".join(said)
    assert "polisi" in text.lower()
    assert re.search(r"^1\. ", said[-1], re.MULTILINE) and "Menu utama" in said[-1]
    assert "**" not in text and all(len(m) <= 1600 for m in said)
    assert rig.twilio.messages == []            # the answer went back in the response, no REST call


async def test_a_typed_number_picks_the_option_and_location_is_read(rig: Rig) -> None:
    chat = rig.chat(VILLAGER_WA)
    await chat.say("halo")
    said = await chat.send("button_reply")          # "2" = the second menu option (topics)
    assert re.search(r"^1\. .*[Pp]aspor", said[-1], re.MULTILINE), said
    message = rig.channel.parse(payload("location"))
    assert message is not None and message.text == "Lokasi: 0.1234567,110.5987654"


async def test_long_replies_are_split_at_paragraphs_within_1600_characters() -> None:
    para = "kata " * 150
    out = messages(twiml([Reply("\n\n".join([para.strip()] * 6) + "\n\n**Penting**")]))
    assert len(out) >= 3 and all(len(m) <= 1600 for m in out)
    assert out[-1].endswith("*Penting*")
    assert messages(twiml([])) == []


@settings(deadline=None)   # a loaded machine must not fail it on time
@given(st.lists(st.text(max_size=2000), max_size=3))
def test_our_twiml_is_the_document_twilios_library_writes(texts: list[str]) -> None:
    replies = [Reply(t) for t in texts]
    ours = twiml(replies)
    theirs = MessagingResponse()   # what twiml() did before, with twilio's builder
    for reply in replies:
        for part in markup.split_paragraphs(_NOT_XML.sub("", render_text(reply)), 1600):
            if part.strip():
                theirs.message(part)
    assert ours == str(theirs)
    ET.fromstring(ours.encode())   # well-formed whatever the villager typed


async def test_a_full_report_with_a_photo_ends_in_the_alert_on_the_office_whatsapp(rig: Rig) -> None:
    officer = rig.chat(OFFICE_WA)
    assert "kasus" in (await officer.say("KASUS")).lower()   # the officer wrote: the window is open
    villager = rig.chat(VILLAGER_WA)
    await register(villager)
    done = await file_report(villager)
    case_no = case_in(done)
    assert rig.twilio.messages == []                          # nothing slow before the response
    assert await rig.outbox.deliver_due() == 1
    [alert] = rig.twilio.to(OFFICE_WA)
    assert alert["From"] == BOT_NUMBER and "ContentSid" not in alert
    assert case_no in alert["Body"] and "*LAPORAN BARU" in alert["Body"] and "Lokasi: 0.1234567" in alert["Body"]
    media = json.loads((PAYLOADS / "media.json").read_text())["MediaUrl0"]
    assert media in alert["Body"]                             # the photo, as a link for the office
    assert alert["StatusCallback"] == PUBLIC + "/whatsapp/status"
    report = await rig.store.report_by_case(case_no)
    assert report is not None and report.media == (media,)
    assert rig.twilio.auth[0].startswith("Basic ")


async def test_outside_24_hours_the_office_gets_the_approved_template(rig: Rig) -> None:
    await rig.chat(OFFICE_WA).say("KASUS")
    rig.clock.advance(hours=25)                               # the officer last wrote a day ago
    villager = rig.chat(VILLAGER_WA)
    await register(villager)
    case_no = case_in(await file_report(villager))
    assert await rig.outbox.deliver_due() == 1
    [alert] = rig.twilio.to(OFFICE_WA)
    assert "Body" not in alert and alert["ContentSid"] == ALERT_TEMPLATE
    report = await rig.store.report_by_case(case_no)
    assert report is not None
    assert json.loads(alert["ContentVariables"]) == {"1": case_no, "2": "Semuntai", "3": report.risk}


async def test_outside_24_hours_without_a_template_the_alert_waits(wa_desk: Knowledge, tmp_path: Path) -> None:
    settings = dataclasses.replace(wa_desk.settings, whatsapp=dataclasses.replace(
        wa_desk.settings.whatsapp, alert_template_sid=None))
    async with Store.open(database(tmp_path / "t.sqlite3")) as store:
        clock = Clock()
        dialogue = Dialogue(settings, wa_desk.content, wa_desk.index, store, clock)
        channel = WhatsAppChannel(settings, dialogue, store)
        await store.enqueue([dataclasses.replace(_alert(), text="x")], clock())
        outbox = build_outbox(store, {Channel.WHATSAPP: channel}, clock=clock)
        try:
            assert await outbox.deliver_due() == 0
        finally:
            await channel.stop()
        item = await store.outbox_item(1)
        assert item is not None and item["status"] == "pending"
        assert "no approved template" in item["last_error"] and "alert_template_sid" in item["last_error"]


def _alert() -> Any:
    from bot.models import Outgoing
    return Outgoing(Sender(Channel.WHATSAPP, OFFICE_WA), "alert", "alert")


# Officers ------------------------------------------------------------------------------------------
async def test_an_officer_acts_by_reply_and_a_villager_cannot(rig: Rig) -> None:
    villager = rig.chat(VILLAGER_WA)
    await register(villager)
    case_no = case_in(await file_report(villager))
    stranger = rig.chat(STRANGER_WA)
    refused = await stranger.say(f"TANGANI {case_no}")
    assert "petugas" in refused.lower()
    report = await rig.store.report_by_case(case_no)
    assert report is not None and report.status == "baru"
    done = await rig.chat(OFFICE_WA).say(f"TANGANI {case_no}")
    assert case_no in done and "DITANGANI" in done
    report = await rig.store.report_by_case(case_no)
    assert report is not None and report.status == "ditangani"
    await rig.outbox.deliver_due()
    [update] = rig.twilio.to(VILLAGER_WA)                     # the reporter wrote recently: free text
    assert case_no in update["Body"] and "ContentSid" not in update


async def test_status_updates_outside_the_window_use_the_status_template(rig: Rig) -> None:
    villager = rig.chat(VILLAGER_WA)
    await register(villager)
    case_no = case_in(await file_report(villager))
    rig.clock.advance(hours=30)
    await rig.chat(OFFICE_WA).say(f"TUTUP {case_no} perekrut sudah diperiksa")
    await rig.chat(OFFICE_WA).say("1")     # "Ya, tutup kasus": nobody had acknowledged it
    await rig.outbox.deliver_due()
    [update] = rig.twilio.to(VILLAGER_WA)
    assert update["ContentSid"] == STATUS_TEMPLATE and json.loads(update["ContentVariables"]) == {"1": case_no}


# Verify and parse --------------------------------------------------------------------------------
async def test_a_bad_or_missing_signature_is_refused_and_nothing_happens(rig: Rig) -> None:
    form = payload("text", From=VILLAGER_WA)
    good = RequestValidator(TOKEN).compute_signature(PUBLIC + "/whatsapp", form)
    tampered = {**form, "Body": "lapor"}
    assert (await rig.post("/whatsapp", tampered, signature=good)).status == 403
    assert (await rig.client.post("/whatsapp", data=form)).status == 403
    # Signed for the address the server sees, not the public one Twilio called: refused.
    local = RequestValidator(TOKEN).compute_signature(str(rig.client.make_url("/whatsapp")), form)
    assert (await rig.post("/whatsapp", form, signature=local)).status == 403
    assert (await rig.post("/whatsapp", form, signature=good[:-2] + "é=")).status == 403   # not even ASCII
    assert await rig.store.last_inbound(Sender(Channel.WHATSAPP, VILLAGER_WA)) is None
    assert (await rig.post("/whatsapp", form)).status == 200


async def test_a_signature_over_the_address_with_its_port_is_accepted_too(rig: Rig) -> None:
    form = payload("text", From=VILLAGER_WA)
    with_port = RequestValidator(TOKEN).compute_signature(PUBLIC + ":443/whatsapp", form)
    assert (await rig.post("/whatsapp", form, signature=with_port)).status == 200


async def test_a_form_without_from_or_sid_or_with_a_non_whatsapp_from_is_400(rig: Rig) -> None:
    form = payload("text")
    for broken in ({k: v for k, v in form.items() if k != "From"},
                   {k: v for k, v in form.items() if k != "MessageSid"},
                   {**form, "From": "+6281200000001"}):
        resp = await rig.post("/whatsapp", broken)
        assert resp.status == 400


async def test_a_redelivered_message_sid_gets_the_same_answer_and_changes_nothing(rig: Rig) -> None:
    """Twilio retries a webhook whose answer it never got: the villager must get that answer."""
    form = payload("text", From=VILLAGER_WA, Body="lapor")
    first = messages(await (await rig.post("/whatsapp", form)).text())
    assert first
    again = await rig.post("/whatsapp", form)
    assert again.status == 200 and messages(await again.text()) == first
    # Handled once: the next message answers the first question of the flow, not a second "lapor".
    state = await rig.store.conversation(Sender(Channel.WHATSAPP, VILLAGER_WA))
    assert messages(await (await rig.post("/whatsapp", form)).text()) == first
    assert await rig.store.conversation(Sender(Channel.WHATSAPP, VILLAGER_WA)) == state
    stop = payload("text", From=VILLAGER_WA, Body="STOP")
    stopped = messages(await (await rig.post("/whatsapp", stop)).text())
    assert stopped
    assert messages(await (await rig.post("/whatsapp", stop)).text()) == stopped
    assert await rig.store.opted_out(Sender(Channel.WHATSAPP, VILLAGER_WA))


# Delivery failures -----------------------------------------------------------------------------------
async def _one_alert(rig: Rig) -> str:
    await rig.chat(OFFICE_WA).say("KASUS")
    villager = rig.chat(VILLAGER_WA)
    await register(villager)
    return case_in(await file_report(villager))


@pytest.mark.parametrize("failure", ["500", "timeout"])
async def test_a_500_or_a_hang_from_twilio_is_retried_and_delivered_exactly_once(rig: Rig, failure: str) -> None:
    case_no = await _one_alert(rig)
    if failure == "500":
        rig.twilio.fail_next = 1
    else:
        rig.twilio.hang_next = 1
    assert await rig.outbox.deliver_due() == 0
    assert rig.twilio.messages == [] and len(rig.twilio.refused) == 1
    item = await rig.store.outbox_item(1)
    assert item is not None and item["status"] == "pending"
    assert ("http 500" if failure == "500" else "did not answer") in item["last_error"]
    assert await rig.outbox.deliver_due() == 0                # not before the backoff
    rig.clock.advance(seconds=6)
    assert await rig.outbox.deliver_due() == 1
    rig.clock.advance(hours=3)
    assert await rig.outbox.deliver_due() == 0
    [alert] = rig.twilio.to(OFFICE_WA)
    assert case_no in alert["Body"]


async def test_a_failed_status_callback_puts_the_message_back_and_it_is_resent(rig: Rig) -> None:
    await _one_alert(rig)
    assert await rig.outbox.deliver_due() == 1
    sid = rig.twilio.messages[0]["sid"]
    form = payload("status_failed", MessageSid=sid, SmsSid=sid)
    resp = await rig.post("/whatsapp/status", form, signature="bad")
    assert resp.status == 403
    resp = await rig.post("/whatsapp/status", form)
    assert resp.status == 204
    item = await rig.store.outbox_item(1)
    assert item is not None and item["status"] == "pending" and item["provider_status"] == "failed"
    assert "30008" in item["last_error"]
    assert await rig.outbox.deliver_due() == 1
    assert len(rig.twilio.to(OFFICE_WA)) == 2


async def test_a_permanent_error_in_a_status_callback_is_recorded_not_retried(rig: Rig) -> None:
    await _one_alert(rig)
    await rig.outbox.deliver_due()
    sid = rig.twilio.messages[0]["sid"]
    form = payload("status_failed", MessageSid=sid, SmsSid=sid, ErrorCode="63024")
    assert (await rig.post("/whatsapp/status", form)).status == 204
    item = await rig.store.outbox_item(1)
    assert item is not None and item["status"] == "sent" and "63024" in item["last_error"]
    rig.clock.advance(hours=1)
    assert await rig.outbox.deliver_due() == 0


async def test_63016_is_never_retried_as_free_text(rig: Rig) -> None:
    case_no = await _one_alert(rig)
    rig.twilio.error_code_next = 63016                        # Twilio says the window is closed
    assert await rig.outbox.deliver_due() == 1
    [refused] = rig.twilio.refused
    [alert] = rig.twilio.to(OFFICE_WA)
    assert "Body" in refused and alert["ContentSid"] == ALERT_TEMPLATE
    assert json.loads(alert["ContentVariables"])["1"] == case_no
    # A 63016 reported later by a status callback: the resend goes as the template as well.
    form = payload("status_failed", MessageSid=alert["sid"], SmsSid=alert["sid"], ErrorCode="63016")
    assert (await rig.post("/whatsapp/status", form)).status == 204
    assert await rig.outbox.deliver_due() == 1
    assert [m.get("ContentSid") for m in rig.twilio.to(OFFICE_WA)] == [ALERT_TEMPLATE, ALERT_TEMPLATE]


# Opt-out -----------------------------------------------------------------------------------------------
async def test_stop_records_the_opt_out_questions_still_work_and_mulai_resumes(rig: Rig) -> None:
    chat = rig.chat(VILLAGER_WA)
    sender = Sender(Channel.WHATSAPP, VILLAGER_WA)
    said = await chat.say("STOP")
    assert "MULAI" in said and await rig.store.opted_out(sender)
    assert "polisi" in (await chat.say("paspor sy ilang di kuching gmn")).lower()
    said = await chat.say("BERHENTI")
    assert await rig.store.opted_out(sender)
    said = await chat.say("MULAI")
    assert not await rig.store.opted_out(sender) and "1. " in said


async def test_the_channel_refuses_to_start_without_what_it_needs(wa_desk: Knowledge, tmp_path: Path) -> None:
    from bot.errors import ConfigError
    broken = dataclasses.replace(wa_desk.settings, secrets=dataclasses.replace(
        wa_desk.settings.secrets, public_base_url=None))
    async with Store.open(database(tmp_path / "c.sqlite3")) as store:
        dialogue = Dialogue(broken, wa_desk.content, wa_desk.index, store)
        with pytest.raises(ConfigError, match="PUBLIC_BASE_URL"):
            WhatsAppChannel(broken, dialogue, store)


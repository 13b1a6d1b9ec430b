"""Hostile input: fuzzed messages, forms and updates; injection; oversized bodies; floods; authorisation."""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.app import Knowledge, build_dialogue
from bot.models import Channel, Media, Sender
from bot.store import Store
from tests.databases import POSTGRESQL, database
from tests.fakes import Chat, Clock
from tests.faults_rigs import (
    KTG_GROUP,
    KTG_OFFICER,
    KTG_WA,
    SGU_GROUP,
    SGU_OFFICER,
    SGU_WA,
    TG_PAYLOADS,
    Desk,
    case_in,
    knowledge_for,
    open_desk,
    twiml_messages,
    wa_file_report,
    wa_form,
)

# Derandomised: CI and every developer run the same examples, so a red run can be replayed.
FUZZ = settings(max_examples=60, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
VILLAGER_WA = "whatsapp:+6281200000001"
MENU = "Menu utama"


@pytest.fixture(scope="module")
def knowledge(tmp_path_factory: pytest.TempPathFactory) -> Knowledge:
    return knowledge_for(tmp_path_factory.mktemp("hostile"))


@pytest.fixture
async def desk(knowledge: Knowledge, tmp_path: Path) -> AsyncIterator[Desk]:
    async with open_desk(knowledge, tmp_path) as d:
        yield d


# The core ---------------------------------------------------------------------------------------
PAYLOAD_PREFIXES = ["menu:", "faq:", "topic:", "kab:", "village:", "check:", "ans:", "identity:", "report:",
                    "forget:", "case:tangani:", "case:catatan:", "case:tutup:", "case:kasus:", "case:", ""]
payloads = st.one_of(st.none(), st.text(max_size=60),
                     st.tuples(st.sampled_from(PAYLOAD_PREFIXES), st.text(max_size=20)).map("".join),
                     st.sampled_from(["case:tutup:SGU-2026-0001", "case:catatan:SGU-2026-0001", "menu",
                                      "report:send", "identity:contact", "forget:yes", "kab:", "village:"]))
media = st.lists(st.builds(Media, st.text(max_size=40), st.text(max_size=20)), max_size=3).map(tuple)
texts = st.one_of(st.text(max_size=300), st.sampled_from(["", "0", "1", "9", "kembali", "lewati", "selesai",
                                                         "lapor", "hapus data", "TUTUP SGU-2026-0001 x",
                                                         "CATATAN", "KASUS", "x" * 2500]))
messages = st.lists(st.tuples(texts, payloads, media), min_size=1, max_size=4)
SENDERS = {"villager": Sender(Channel.TELEGRAM, "500001"), "officer": Sender(Channel.TELEGRAM, str(SGU_OFFICER)),
           "wa": Sender(Channel.WHATSAPP, VILLAGER_WA)}
_message_ids = itertools.count(1)


async def _to_story(chat: Chat) -> None:
    await chat.say("menu")                                            # an officer's "halo" gets the officer's help
    await chat.tap("Desa saya")
    await chat.say("semuntai")
    assert "Ceritakan" in await chat.say("lapor")


Inputs = list[tuple[str, str | None, tuple[Media, ...]]]


async def _scenario(knowledge: Knowledge, start: str, who: str, inputs: Inputs) -> None:
    # A database per example: in memory on SQLite, a fresh schema on PostgreSQL.
    async with Store.open(":memory:" if not POSTGRESQL else database(Path(f"hostile-{uuid.uuid4()}"))) as store:
        dialogue = build_dialogue(knowledge, store, Clock())
        reporter = Chat(dialogue, Sender(Channel.TELEGRAM, "500777"))
        await _to_story(reporter)
        await reporter.say("selesai")
        await reporter.tap("Lewati semua")
        await reporter.tap("hubungi saya")
        await reporter.tap("Kirim")                                   # SGU-2026-0001 exists
        chat = Chat(dialogue, SENDERS[who])
        if start == "report":
            await chat.say("menu")
            await chat.tap("Desa saya")
            await chat.say("semuntai")
            await chat.say("lapor")
            await chat.say("Pak Budi")
        elif start == "confirm":
            await _to_story(chat)
            await chat.say("selesai")
            await chat.tap("Lewati semua")
            await chat.tap("hubungi saya")
        elif start == "village":
            await chat.say("menu")
            await chat.tap("Desa saya")
        elif start == "forget":
            await chat.say("hapus data")
        elif start == "pending":
            await chat.say("", payload="case:catatan:SGU-2026-0001")
        for text, payload, attached in inputs:
            await chat.say(text, payload=payload, media=attached, message_id=f"fz{next(_message_ids)}")
        assert "Dibatalkan" in await chat.say("batal")
        assert (await store.conversation(chat.sender)).state == "menu"
        assert MENU in await chat.say("menu")
        assert (await store.conversation(chat.sender)).state == "menu"


@FUZZ
@given(start=st.sampled_from(["fresh", "report", "confirm", "village", "forget", "pending"]),
       who=st.sampled_from(sorted(SENDERS)), inputs=messages)
def test_any_message_in_any_state_never_crashes_and_menu_and_batal_always_work(
        knowledge: Knowledge, start: str, who: str, inputs: Inputs) -> None:
    asyncio.run(_scenario(knowledge, start, who, inputs))


# The WhatsApp webhook ------------------------------------------------------------------------------
FIELDS = ["Body", "NumMedia", "MediaUrl0", "MediaContentType0", "MediaUrl1", "Latitude", "Longitude", "Label",
          "Address", "ButtonPayload", "ButtonText", "ProfileName", "WaId", "MessageType", "To", "AccountSid"]
field_values = st.one_of(st.text(max_size=120), st.sampled_from(["0", "1", "3", "-1", "10", "99999", " 2 ", "1e3",
                                                                 "0.5", "-91", "nan", "inf", "9" * 5000]))
forms = st.dictionaries(st.one_of(st.sampled_from(FIELDS), st.text(min_size=1, max_size=10)), field_values,
                        max_size=8)
wa_senders = st.one_of(st.sampled_from([VILLAGER_WA, SGU_WA, KTG_WA, "whatsapp:+", "+6281200000001", ""]),
                       st.text(max_size=20).map(lambda t: "whatsapp:+" + t))


@pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisWarning")   # the rig's long repr
@FUZZ
@given(form=forms, sender=wa_senders, sid=st.one_of(st.just(""), st.text(max_size=40)))
async def test_any_signed_whatsapp_form_gets_no_5xx_and_the_sender_can_get_back_to_the_menu(
        desk: Desk, form: dict[str, str], sender: str, sid: str) -> None:
    form = {**form, "From": sender, "MessageSid": sid or f"SMfz{next(_message_ids)}"}
    resp = await desk.wa_post(form)
    body = await resp.text()
    assert resp.status in (200, 400), (resp.status, body)
    if resp.status == 400:
        return
    twiml_messages(body)                                              # well-formed TwiML
    if not sender.startswith("whatsapp:+"):
        return
    for word in ("batal", "menu"):
        again = await desk.wa_post(wa_form(From=sender, Body=word))
        assert again.status == 200
        said = twiml_messages(await again.text())
    assert MENU in "\n".join(said)


async def test_control_characters_echoed_back_still_make_well_formed_twiml(desk: Desk) -> None:
    chat = desk.wa_chat(VILLAGER_WA)
    await chat.say("halo")
    await chat.tap("Desa saya")
    resp = await desk.wa_post(wa_form(From=VILLAGER_WA, Body="desa\x01\x08ku"))
    assert resp.status == 200
    assert twiml_messages(await resp.text())


# The Telegram webhook ------------------------------------------------------------------------------
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
              st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=30)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=10), inner, max_size=3)),
    max_leaves=8)
PATHS = [("update_id",), ("message",), ("message", "text"), ("message", "chat"), ("message", "chat", "id"),
         ("message", "chat", "type"), ("message", "from"), ("message", "from", "id"), ("message", "date"),
         ("message", "photo"), ("message", "document"), ("message", "entities"), ("message", "caption"),
         ("callback_query",), ("callback_query", "data"), ("callback_query", "message"),
         ("callback_query", "from", "id"), ("edited_message",), ("my_chat_member",),
         ("message", "reply_to_message")]
_base = {name: json.loads((TG_PAYLOADS / f"{name}.json").read_text())
         for name in ("text_message", "callback_query", "photo")}
_update_ids = itertools.count(970000001)


def _mutate(base: str, changes: list[tuple[tuple[str, ...], Any]]) -> dict[str, Any]:
    update = copy.deepcopy(_base[base])
    update["update_id"] = next(_update_ids)
    for path, value in changes:
        node = update
        for key in path[:-1]:
            if not isinstance(node.get(key), dict):
                node[key] = {}
            node = node[key]
        node[path[-1]] = value
    return update


updates = st.one_of(
    json_values,
    st.builds(_mutate, st.sampled_from(sorted(_base)),
              st.lists(st.tuples(st.sampled_from(PATHS), json_values), min_size=1, max_size=3)))


@pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisWarning")
@FUZZ
@given(update=updates)
async def test_any_telegram_update_with_the_secret_gets_no_5xx_and_the_villager_can_get_back(
        desk: Desk, update: Any) -> None:
    status = await desk.tg_post(update)
    assert status in (200, 400)
    before = len(desk.tg_texts(500001))
    for word in ("batal", "menu"):
        assert await desk.tg_say(500001, word) == 200
    assert MENU in desk.tg_texts(500001)[-1] and len(desk.tg_texts(500001)) > before
    assert not desk.tg._workers and not desk.tg._dirty               # nothing left behind


# Injection -----------------------------------------------------------------------------------------
MARKUP = {"name": "<b>x</b> *x*", "company": "[a](http://x) <a href='http://evil'>klik</a>",
          "story": "<script>alert(1)</script> & _miring_ `kode`"}


async def test_html_and_markdown_in_a_report_are_escaped_in_the_telegram_alert(desk: Desk) -> None:
    await desk.tg_file_report(500001, **MARKUP)
    await desk.outbox.deliver_due()
    [alert] = [c for c in desk.tg_sent(SGU_GROUP) if "LAPORAN BARU" in c.params["text"]]
    text = alert.params["text"]
    assert alert.params["parse_mode"] == "HTML"
    assert "&lt;b&gt;x&lt;/b&gt; *x*" in text and "<b>x</b>" not in text
    assert "&lt;a href='http://evil'&gt;klik&lt;/a&gt;" in text and "<a " not in text
    assert "&lt;script&gt;" in text and "&amp;" in text
    tags = set(re.findall(r"</?([a-zA-Z]+)", text))
    assert tags <= {"b"}                                               # only the bot's own bold


async def test_markup_in_a_report_reaches_whatsapp_as_plain_text(desk: Desk) -> None:
    await desk.wa_chat(SGU_WA).say("KASUS")
    confirmation = await wa_file_report(desk.wa_chat(VILLAGER_WA), **MARKUP)
    case_no = case_in(confirmation)
    await desk.outbox.deliver_due()
    [alert] = [m for m in desk.twilio.to(SGU_WA) if f"BARU {case_no}" in m.get("Body", "")]
    for value in MARKUP.values():
        assert value in alert["Body"]                                  # verbatim, nothing executed
    detail = await desk.wa_chat(SGU_WA).say(f"KASUS {case_no}")      # TwiML parsed fine
    assert "<script>alert(1)</script>" in detail


async def test_sql_metacharacters_are_stored_and_shown_verbatim(desk: Desk) -> None:
    nasty = {"name": "Robert'); DROP TABLE reports;--", "company": "x' OR '1'='1",
             "story": "100% _benar_ \\ \" ; -- /* */"}
    await desk.wa_chat(SGU_WA).say("KASUS")
    first = case_in(await wa_file_report(desk.wa_chat(VILLAGER_WA), **nasty))
    second = case_in(await wa_file_report(desk.wa_chat("whatsapp:+6281200000002"), **nasty))
    report = await desk.store.report_by_case(first)
    assert report is not None
    story = report.answers["cerita"]
    assert nasty["name"] in story and nasty["company"] in story and story.endswith(nasty["story"])
    detail = await desk.wa_chat(SGU_WA).say(f"KASUS {second}")
    assert nasty["name"] in detail and nasty["company"] in detail and first in detail   # linked by phone
    assert await desk.rows("SELECT count(*) FROM reports") == [(2,)]


# Oversized bodies and floods ------------------------------------------------------------------------
async def test_an_oversized_body_is_refused_with_413(tmp_path: Path) -> None:
    small = knowledge_for(tmp_path, max_body=4096)
    async with open_desk(small, tmp_path) as desk:
        big = wa_form(From=VILLAGER_WA, Body="a" * 10_000)
        resp = await desk.wa_post(big)
        assert resp.status == 413
        assert await desk.store.last_inbound(Sender(Channel.WHATSAPP, VILLAGER_WA)) is None
        update = desk.tg_message(500001, "a" * 10_000)
        assert await desk.tg_post(update) == 413
        assert not desk.telegram.made("sendMessage")
        assert (await desk.wa_post(wa_form(From=VILLAGER_WA, Body="halo"))).status == 200


async def test_a_flood_from_one_whatsapp_sender_gets_one_polite_reply_and_others_are_unaffected(
        tmp_path: Path) -> None:
    strict = knowledge_for(tmp_path, per_minute=3)
    async with open_desk(strict, tmp_path) as desk:
        flooder, neighbour = desk.wa_chat(VILLAGER_WA), desk.wa_chat("whatsapp:+6281200000002")
        for _ in range(3):
            assert await flooder.send(Body="halo")
        assert "Mohon tunggu" in " ".join(await flooder.send(Body="halo"))
        for _ in range(5):
            assert await flooder.send(Body="halo") == []
        assert MENU in await neighbour.say("halo")


# Authorisation ---------------------------------------------------------------------------------------
async def _two_cases(desk: Desk) -> tuple[str, str]:
    sgu = case_in(await wa_file_report(desk.wa_chat(VILLAGER_WA)))
    ktg = case_in(await wa_file_report(desk.wa_chat("whatsapp:+6281200000002"), village="sutera",
                                       name="Pak Kota", phone="0813-9999-8888", company="CV Ketapang"), "KTG")
    return sgu, ktg


async def _snapshot(desk: Desk) -> list[Any]:
    return [await desk.rows("SELECT * FROM reports ORDER BY id"),
            await desk.rows("SELECT * FROM case_events ORDER BY id"),
            # Telegram's replies (the refusals) go through the outbox too; they are not what changed.
            await desk.rows("SELECT id, recipient, text, status FROM outbox WHERE kind != 'reply' ORDER BY id")]


ACTIONS = ["TANGANI {case}", "CATATAN {case} sudah dicek", "TUTUP {case} selesai", "KASUS {case}",
           "/tutup {case} x", "tangani {case_lower}",
           "payload:case:tangani:{case}", "payload:case:catatan:{case}", "payload:case:tutup:{case}",
           "payload:case:kasus:{case}", "payload:case:tutup:{case}:palsu", "payload:case:hapus:{case}",
           "payload:case:tangani:{case_lower}"]
STRANGER_WA = "whatsapp:+6281299999999"
ACTORS = {"villager": Sender(Channel.TELEGRAM, "500009"), "villager_wa": Sender(Channel.WHATSAPP, STRANGER_WA),
          "ktg_officer": Sender(Channel.TELEGRAM, str(KTG_OFFICER)),
          "ktg_officer_wa": Sender(Channel.WHATSAPP, KTG_WA),
          "sgu_officer_on_ktg_case": Sender(Channel.TELEGRAM, str(SGU_OFFICER))}


@pytest.mark.parametrize("actor", sorted(ACTORS))
async def test_officer_actions_by_the_wrong_person_are_refused_and_change_nothing(desk: Desk, actor: str) -> None:
    sgu, ktg = await _two_cases(desk)
    case = ktg if actor == "sgu_officer_on_ktg_case" else sgu
    secret = "Pak Kota" if case == ktg else "Pak Budi"
    before = await _snapshot(desk)
    sender = ACTORS[actor]
    chat = Chat(desk.wa.dialogue, sender)
    for action in ACTIONS:
        action = action.format(case=case, case_lower=case.lower())
        if action.startswith("payload:"):
            said = await chat.say("", payload=action.removeprefix("payload:"))
        else:
            said = await chat.say(action)
        assert secret not in said, (action, said)                     # nothing read out
        refusals = ("hanya untuk petugas", "bukan kantor Anda", "tidak ditemukan", "tidak ada")
        assert any(w in said for w in refusals), (action, said)
        assert (await desk.store.conversation(sender)).state != "officer_pending"
        assert await _snapshot(desk) == before, action
    assert await desk.outbox.deliver_due() >= 0
    report = await desk.store.report_by_case(case)
    assert report is not None and report.status == "baru"


async def test_refusals_through_the_channels_change_nothing(desk: Desk) -> None:
    sgu, ktg = await _two_cases(desk)
    await desk.outbox.deliver_due()
    before = await _snapshot(desk)
    # A villager forging an officer's button on WhatsApp; another office's officer typing.
    forged = await desk.wa_post(wa_form(From=STRANGER_WA, Body="", ButtonPayload=f"case:tutup:{sgu}"))
    assert "petugas" in " ".join(twiml_messages(await forged.text())).lower()
    assert "bukan kantor Anda" in await desk.wa_chat(KTG_WA).say(f"TUTUP {sgu} selesai")
    # Telegram: a stranger and another office's officer pressing the button in the Sanggau group.
    for user in (500009, KTG_OFFICER):
        assert await desk.tg_post(desk.tg_callback(user, f"case:tangani:{sgu}", SGU_GROUP)) == 200
    assert await desk.tg_say(KTG_OFFICER, f"/tutup {sgu} x", chat=KTG_GROUP) == 200
    assert await desk.tg_post(desk.tg_callback(SGU_OFFICER, f"case:tutup:{ktg}", SGU_GROUP)) == 200
    assert await _snapshot(desk) == before
    assert not desk.telegram.made("editMessageText")

"""Privacy: logs at DEBUG carry no phone number, name, message body or secret; old reports are anonymised."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

import pytest

from bot.app import Knowledge
from bot.runtime import housekeeping
from tests.faults_rigs import (
    SGU_GROUP,
    SGU_OFFICER,
    SGU_WA,
    TG_SECRET,
    TG_TOKEN,
    TOKEN,
    Desk,
    case_in,
    knowledge_for,
    open_desk,
    wa_file_report,
)

VILLAGER_WA = "whatsapp:+6281277770001"
SECRETS = {"name": "Pak Darmawan", "phone": "0813-5550-4321", "company": "PT Cahaya Kapuas",
           "job": "pelayan kedai kopi", "country": "Brunei", "pay": "7 juta rupiah",
           "story": "Dijemput pakai mobil hitam dekat pasar subuh"}
FORBIDDEN = [
    # the villager's number, in every form
    "6281277770001", "+6281277770001", "081277770001", "0812-7777-0001", "81277770001",
    # the recruiter's number
    "0813-5550-4321", "081355504321", "+6281355504321", "6281355504321", "81355504321",
    # names and bodies
    "Darmawan", "Cahaya Kapuas", "kedai kopi", "Brunei", "7 juta", "mobil hitam", "Warga",
    # secrets: the Telegram bot token is in every Bot API address, and it controls the bot
    TG_TOKEN.split(":")[1], TG_SECRET, TOKEN,
]


@pytest.fixture(scope="module")
def knowledge(tmp_path_factory: pytest.TempPathFactory) -> Knowledge:
    return knowledge_for(tmp_path_factory.mktemp("privacy"), retention_days=30)


# The access log of the test's own servers, the fake Bot API among them (its addresses hold the
# token); the bot runs its server without one (bot/runtime.py).
NOT_THE_BOT = {"aiohttp.access"}


def leaks(caplog: pytest.LogCaptureFixture) -> list[str]:
    records = [r for r in caplog.records if r.name not in NOT_THE_BOT]
    text = "\n".join(r.getMessage() + str(r.args) for r in records)
    return [s for s in FORBIDDEN if s.lower() in text.lower()]


async def _full_round(desk: Desk) -> None:
    await desk.wa_chat(SGU_WA).say("KASUS")
    wa_case = case_in(await wa_file_report(desk.wa_chat(VILLAGER_WA), **SECRETS))
    await desk.tg_file_report(500001, **SECRETS)
    await desk.outbox.deliver_due()
    await desk.wa_chat(SGU_WA).say(f"KASUS {wa_case}")
    await desk.wa_chat(SGU_WA).say(f"CATATAN {wa_case} sudah ditelepon")
    await desk.tg_post(desk.tg_callback(SGU_OFFICER, "case:tangani:SGU-2026-0002", SGU_GROUP))
    await desk.outbox.deliver_due()
    assert "Darmawan" in " ".join(m.get("Body", "") for m in desk.twilio.to(SGU_WA))   # it did flow


async def test_the_bots_own_logs_at_debug_carry_no_phone_name_or_body(
        knowledge: Knowledge, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    async with open_desk(knowledge, tmp_path) as desk:
        await _full_round(desk)
    own = [r for r in caplog.records if r.name.startswith("bot")]
    assert own, "no log lines from the bot at all"
    text = "\n".join(r.getMessage() for r in own)
    assert [s for s in FORBIDDEN if s.lower() in text.lower()] == []


async def test_all_logs_at_debug_carry_no_phone_name_or_body(
        knowledge: Knowledge, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    async with open_desk(knowledge, tmp_path) as desk:
        await _full_round(desk)
    leaking = sorted({r.name for r in caplog.records if r.name not in NOT_THE_BOT
                      and any(s.lower() in r.getMessage().lower() for s in FORBIDDEN)})
    assert leaks(caplog) == [], leaking


async def test_reports_past_retention_are_anonymised_by_the_scheduled_job(
        knowledge: Knowledge, tmp_path: Path) -> None:
    async with open_desk(knowledge, tmp_path) as desk:
        await desk.wa_chat(SGU_WA).say("KASUS")
        old = case_in(await wa_file_report(desk.wa_chat(VILLAGER_WA), **SECRETS))
        await desk.outbox.deliver_due()
        desk.clock.advance(days=31)
        await desk.wa_chat(SGU_WA).say("KASUS")
        recent = case_in(await wa_file_report(desk.wa_chat("whatsapp:+6281277770002"), name="Pak Baru"))
        await desk.outbox.deliver_due()
        stored = " ".join(r[0] for r in await desk.rows("SELECT text FROM outbox WHERE kind = 'alert'"))
        assert "6281277770001" in stored                          # the alert named the reporter
        job = asyncio.create_task(housekeeping(desk.wa.dialogue, interval=0.01))
        try:
            for _ in range(200):
                report = await desk.store.report_by_case(old)
                if report is not None and report.reporter_key is None:
                    break
                await asyncio.sleep(0.01)
        finally:
            job.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await job
        report = await desk.store.report_by_case(old)
        assert report is not None and report.reporter_key is None and not report.contactable
        assert report.recruiter_name == SECRETS["name"]           # the office keeps the case itself
        kept = await desk.store.report_by_case(recent)
        assert kept is not None and kept.reporter_key == "whatsapp:whatsapp:+6281277770002"
        stored = " ".join(r[0] for r in await desk.rows("SELECT text FROM outbox"))
        assert "6281277770001" not in stored
        assert await desk.store.reports_of("whatsapp:" + VILLAGER_WA) == []

"""/metrics: Prometheus text behind a bearer token, scraped through the real aiohttp server."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import os
import re
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families
from twilio.request_validator import RequestValidator

from bot.app import Knowledge, build_outbox
from bot.channels.whatsapp import WhatsAppChannel
from bot.config import DeadlineSettings
from bot.conversation import Dialogue
from bot.deadlines import Deadlines
from bot.escalation import Escalation
from bot.metrics import Metrics
from bot.models import Channel, Outgoing, Sender
from bot.server import build_web_app
from bot.store import NewReport, Store
from tests.conftest import ROOT
from tests.databases import database
from tests.fake_twilio import FakeTwilio
from tests.fakes import Clock
from tests.test_whatsapp import (  # noqa: F401 (wa_desk: the WhatsApp tests' config, a fixture)
    OFFICE_WA,
    PUBLIC,
    TOKEN,
    VILLAGER_WA,
    WaChat,
    file_report,
    register,
    wa_desk,
)

SCRAPE = "scrape-token-for-tests"
DEADLINES = Deadlines(DeadlineSettings())


@dataclasses.dataclass
class Bot:
    client: TestClient  # type: ignore[type-arg]
    store: Store
    metrics: Metrics

    async def post(self, path: str, form: dict[str, str]) -> ClientResponse:
        signature = RequestValidator(TOKEN).compute_signature(PUBLIC + path, form)
        return await self.client.post(path, data=form, headers={"X-Twilio-Signature": signature})


@pytest.fixture
async def bot(wa_desk: Knowledge, tmp_path: Path) -> AsyncIterator[Bot]:  # noqa: F811
    twilio = FakeTwilio()
    async with TestServer(twilio.app(), host="127.0.0.1") as api:
        settings = dataclasses.replace(wa_desk.settings, secrets=dataclasses.replace(
            wa_desk.settings.secrets, twilio_api_base_url=str(api.make_url("")).rstrip("/")))
        async with Store.open(database(tmp_path / "m.sqlite3")) as store:
            metrics = Metrics(Deadlines(settings.deadlines), offices=[o.id for o in settings.offices])
            dialogue = Dialogue(settings, wa_desk.content, wa_desk.index, store, Clock(), metrics.handled)
            channel = WhatsAppChannel(settings, dialogue, store, rest_timeout=0.3)
            outbox = build_outbox(store, {Channel.WHATSAPP: channel}, on_sent=metrics.sent)
            await channel.start()
            try:
                app = build_web_app([channel], store, "test", metrics=metrics, metrics_token=SCRAPE)
                async with TestClient(TestServer(app)) as client:
                    yield Bot(client, store, metrics)
                    await outbox.deliver_due()
            finally:
                twilio.release.set()
                await channel.stop()


async def scrape(bot: Bot) -> dict[str, list[tuple[dict[str, str], float]]]:
    """Sample name -> (labels, value) of each sample, as prometheus_client's parser reads them."""
    response = await bot.client.get("/metrics", headers={"Authorization": f"Bearer {SCRAPE}"})
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    text = await response.text()
    samples: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append((sample.labels, sample.value))
    return samples


async def test_webhooks_the_outbox_and_open_cases_are_counted_without_a_number_or_a_word(bot: Bot) -> None:
    chat = WaChat(bot, VILLAGER_WA)   # type: ignore[arg-type]  (a Bot posts signed forms as the rig does)
    await register(chat)
    await chat.say("syarat bikin paspor apa saja")
    await file_report(chat)
    webhooks = 3 + 1 + 9
    await bot.store.enqueue([Outgoing(Sender(Channel.WHATSAPP, OFFICE_WA), "alert", "alert")],
                            dt.datetime.now(dt.UTC) - dt.timedelta(minutes=20))
    families = await scrape(bot)
    assert families["desa_webhook_requests_total"] == [({"channel": "whatsapp", "code": "200"}, webhooks)]
    assert families["desa_webhook_seconds_count"] == [({"channel": "whatsapp"}, webhooks)]
    open_cases = {labels["office"]: v for labels, v in families["desa_open_cases"]}
    assert open_cases["SGU"] == 1 and set(open_cases) >= {"SGU", "PTK"} and sum(open_cases.values()) == 1
    assert families["desa_messages_in_total"] == [({"channel": "whatsapp"}, webhooks)]
    assert ({"decision": "answer"}, 1.0) in families["desa_matcher_decisions_total"]
    out = dict((labels["channel"], v) for labels, v in families["desa_messages_out_total"])
    assert out["whatsapp"] >= webhooks   # every message got at least one reply in its TwiML
    pending = [v for labels, v in families["desa_outbox_messages"] if labels["status"] == "pending"]
    assert pending == [(await bot.store.outbox_counts())["pending"]] and pending[0] >= 2   # alert + ours
    assert next(v for _, v in families["desa_outbox_oldest_pending_seconds"]) >= 20 * 60
    # Labels are channels, codes, statuses, offices: never a number, a name or what was typed.
    every_label = {value for samples in families.values() for labels, _ in samples for value in labels.values()}
    assert not any("+62" in v or "62812" in v or "paspor" in v or "halo" in v for v in every_label)


async def test_without_the_token_there_is_nothing_to_read(bot: Bot, wa_desk: Knowledge,  # noqa: F811
                                                          tmp_path: Path) -> None:
    wrong = await bot.client.get("/metrics", headers={"Authorization": "Bearer not-it"})
    assert wrong.status == 401
    missing = await bot.client.get("/metrics")
    assert missing.status == 401
    async with Store.open(database(tmp_path / "n.sqlite3")) as store:
        app = build_web_app([], store, "test", metrics=Metrics(DEADLINES), metrics_token=None)
        async with TestClient(TestServer(app)) as client:
            response = await client.get("/metrics", headers={"Authorization": "Bearer anything"})
    assert response.status == 404


async def test_two_bots_in_one_process_keep_their_own_figures() -> None:
    """No global registry: each Metrics counts for itself (two runs in one test process)."""
    first, second = Metrics(DEADLINES), Metrics(DEADLINES)
    first.sent(Channel.TELEGRAM)
    assert b'desa_messages_out_total{channel="telegram"} 1.0' in first.render()
    assert b'channel="telegram"' not in second.render()


async def test_the_alert_rules_and_the_dashboard_name_only_series_the_bot_exports(bot: Bot) -> None:
    await bot.store.enqueue([Outgoing(Sender(Channel.WHATSAPP, OFFICE_WA), "alert", "alert")],
                            dt.datetime.now(dt.UTC))
    chat = WaChat(bot, VILLAGER_WA)   # type: ignore[arg-type]
    await chat.say("syarat bikin paspor apa saja")   # a webhook and a decision, so every series exists
    bot.metrics.database_errors.inc(0)
    bot.metrics.escalated("tanggap", 1, 0)               # a labelled series exists from its first step
    exported = set(await scrape(bot))
    deploy = ROOT / "deploy"
    for path in (deploy / "prometheus-alerts.yml", deploy / "grafana-dashboard.json"):
        named = set(re.findall(r"\bdesa_[a-z_]+", path.read_text()))
        assert named and named <= exported, (path.name, named - exported)


def promtool() -> str:
    """Prometheus's own checker, from Debian's prometheus package (installed by .ci/run)."""
    path = shutil.which("promtool")
    if path is None:
        if os.environ.get("DESA_PROMTOOL_REQUIRED"):   # CI: the rules must be tested there
            pytest.fail("promtool not installed (apt-get install prometheus)")
        pytest.skip("promtool not installed (apt-get install prometheus): alert rules not tested")
    return path


def test_the_alert_rules_fire_when_something_is_wrong_and_stay_quiet_when_not() -> None:
    """deploy/prometheus-alerts.test.yml: an outbox stuck or growing, failing webhooks, a refused
    write, overdue cases rising (two instances reporting one office: max, not sum), an instance
    down; and busy but healthy traffic that must not page anyone."""
    done = subprocess.run([promtool(), "test", "rules", "prometheus-alerts.test.yml"], cwd=ROOT / "deploy",
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    checked = subprocess.run([promtool(), "check", "rules", "prometheus-alerts.yml"], cwd=ROOT / "deploy",
                             capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0 and "SUCCESS: 7 rules found" in checked.stdout, checked.stdout + checked.stderr


async def test_the_scrape_passes_prometheus_own_lint(bot: Bot) -> None:
    chat = WaChat(bot, VILLAGER_WA)   # type: ignore[arg-type]
    await chat.say("syarat bikin paspor apa saja")
    response = await bot.client.get("/metrics", headers={"Authorization": f"Bearer {SCRAPE}"})
    text = await response.text()
    lint = await asyncio.create_subprocess_exec(promtool(), "check", "metrics", stdin=subprocess.PIPE,
                                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    said, _ = await asyncio.wait_for(lint.communicate(text.encode()), 60)
    assert lint.returncode == 0 and not said.strip(), said.decode()


async def test_overdue_cases_and_escalation_steps_are_counted_per_office(wa_desk: Knowledge,  # noqa: F811
                                                                        tmp_path: Path) -> None:
    settings = wa_desk.settings
    clock = Clock(dt.datetime(2026, 11, 9, 1, 0, tzinfo=dt.UTC))     # Monday 08:00 WIB
    async with Store.open(database(tmp_path / "e.sqlite3")) as store:
        metrics = Metrics(Deadlines(settings.deadlines), offices=[o.id for o in settings.offices])
        dialogue = Dialogue(settings, wa_desk.content, wa_desk.index, store, clock, metrics.handled)
        for risk in ("tinggi", "rendah"):
            await store.file_report(NewReport(
                office_id="SGU", village_id="semuntai", risk=risk, flags=(), answers={}, media=(),
                recruiter_phone=None, recruiter_name=None, recruiter_company=None, reporter_key=None,
                contactable=False), [], 2026, clock())
        escalation = Escalation(dialogue.casework, metrics.escalated)
        clock.advance(hours=5)                          # past the 4 hours of a high-risk case
        await escalation.run(clock())
        await escalation.run(clock())                   # a second pass writes nothing more
        await metrics.sample(store, clock())
        families = {f.name: f.samples for f in text_string_to_metric_families(metrics.render().decode())}
        overdue = {s.labels["office"]: s.value for s in families["desa_overdue_cases"]}
        assert overdue["SGU"] == 1 and overdue["PTK"] == 0       # the low-risk case has 3 working days
        opened = {s.labels["office"]: s.value for s in families["desa_open_cases"]}
        assert opened["SGU"] == 2
        steps = [(s.labels, s.value) for s in families["desa_escalations_sent"] if s.name.endswith("_total")]
        assert steps == [({"deadline": "tanggap", "step": "1"}, 1.0)]

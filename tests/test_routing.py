"""Where a report goes, read as transcripts: no report reaches nobody, whatever the config lacks."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.app import Knowledge, build_knowledge, build_outbox
from bot.channels.console import ConsoleChat, ConsoleDeliverer
from bot.errors import ConfigError
from bot.models import Channel, Sender
from bot.routing import alert_gaps
from bot.store import Store
from tests.databases import database
from tests.fakes import villager
from tests.villagers import SGU_GROUP, SGU_OFFICER, file_report, make_desk, open_bot, register

KTG_GROUP = "-100222"


def config(folder: Path, edit: Any) -> Path:
    """The desk of the conversation tests (Sanggau, Ketapang and the Kantor Wilayah in Telegram), edited."""
    make_desk(folder)
    return config_of(folder, edit)


def config_of(folder: Path, edit: Any) -> Path:
    """folder/config.yaml, edited, as folder/edited.yaml."""
    data = yaml.safe_load((folder / "config.yaml").read_text())
    edit(data)
    path = folder / "edited.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return path


def kanwil_without_anyone(data: dict[str, Any]) -> None:
    data["regional_office"]["officers"] = []
    data["regional_office"]["alerts"] = {"telegram_chat_ids": [], "whatsapp_numbers": []}


@pytest.fixture(scope="module")
def no_kanwil(tmp_path_factory: pytest.TempPathFactory) -> Knowledge:
    return build_knowledge(config(tmp_path_factory.mktemp("nokwl"), kanwil_without_anyone), {})


async def test_the_terminal_trial_shows_the_kanwil_alert_and_petugas_acts_for_the_kanwil(
        knowledge: Knowledge, tmp_path: Path) -> None:
    """`make run` with the shipped config: an urgent report from nowhere known reaches [petugas KWL]."""
    script = ("tolong paspor saya ditahan majikan di sibu\n1\n"
              "petugas> KASUS\npetugas> TANGANI KWL-2026-1\n")
    out = io.StringIO()
    async with Store.open(database(tmp_path / "trial.sqlite3")) as store:
        from bot.app import build_dialogue
        dialogue = build_dialogue(knowledge, store)
        outbox = build_outbox(store, {Channel.CONSOLE: ConsoleDeliverer(out)})
        await ConsoleChat(dialogue, outbox, io.StringIO(script), out).run()
    printed = out.getvalue()
    assert "sudah dikirim ke petugas imigrasi" in printed
    alert = printed.split("[petugas KWL]", 1)[1]
    assert "KWL-2026-0001" in alert.split("\n\n")[0]
    officer = printed.split("[bot → petugas]")
    assert "KWL-2026-0001" in officer[1]                       # KASUS lists the Kanwil's case
    assert "KWL-2026-0001 ditandai DITANGANI" in officer[2]


async def test_a_kanwil_with_nobody_sends_its_alerts_to_every_office_which_may_act_on_them(
        no_kanwil: Knowledge, tmp_path: Path) -> None:
    async with open_bot(no_kanwil, tmp_path) as bot:
        chat = bot.chat(villager())
        await chat.say("tolong paspor saya ditahan majikan di sibu")
        said = await chat.tap("Kirim laporan darurat sekarang")
        assert "KWL-2026-0001" in said and "sudah dikirim ke petugas imigrasi" in said
        delivered = await bot.deliver()
        assert any("KWL-2026-0001" in t for t in delivered.to(SGU_GROUP))
        assert any("KWL-2026-0001" in t for t in delivered.to(KTG_GROUP))
        sanggau = bot.chat(SGU_OFFICER)
        assert "KWL-2026-0001" in await sanggau.say("KASUS")
        assert "DITANGANI" in await sanggau.say("TANGANI KWL-2026-1")
        updates = [o.text for o in (await bot.deliver()).sent if o.kind == "status"]
        assert any("KWL-2026-0001" in u for u in updates)     # the villager hears it is being handled


async def test_an_office_with_nobody_sends_its_alerts_to_the_kanwil(tmp_path: Path) -> None:
    def sambas_without_anyone(data: dict[str, Any]) -> None:
        sambas = next(o for o in data["offices"] if o["id"] == "SBS")
        sambas["officers"] = []
    knowledge = build_knowledge(config(tmp_path, sambas_without_anyone), {})
    async with open_bot(knowledge, tmp_path) as bot:
        chat = bot.chat(villager())
        await chat.say("sy mau lapor")
        await chat.say("temajuk")
        await chat.tap("Sambas")
        await chat.say("ada org nawarin kerja kebun di sarawak lewat jalan tikus")
        await chat.tap("Selesai")
        await chat.tap("Lewati semua")
        await chat.tap("hubungi saya")
        assert "SBS-2026-0001" in await chat.tap("Kirim")
        assert any("SBS-2026-0001" in t for t in (await bot.deliver()).to("3003"))
        assert "DITANGANI" in await bot.chat(Sender(Channel.TELEGRAM, "3003")).say("TANGANI SBS-2026-1")
        said = await bot.chat(SGU_OFFICER).say("TANGANI SBS-2026-1")   # not Sanggau's
        assert "bukan kantor Anda" in said and "DITANGANI" not in said


def test_check_content_names_each_office_that_cannot_receive_alerts(no_kanwil: Knowledge,
                                                                     knowledge: Knowledge) -> None:
    [kanwil] = [w for w in alert_gaps(no_kanwil.settings) if "(KWL)" in w]
    assert kanwil.startswith("config regional_office (KWL): no alert recipient")
    assert kanwil.endswith("a live bot sends its alerts to SGU, KTG")   # the two offices in Telegram
    shipped = alert_gaps(knowledge.settings)
    assert len(shipped) == 9 and all("a live bot cannot send its alerts to anyone" in w for w in shipped)
    assert any(w.endswith("the terminal chat shows them as [petugas KWL]") for w in shipped)


async def test_a_live_bot_sends_an_office_s_alerts_to_the_kanwil_not_to_a_terminal_stand_in(
        tmp_path: Path) -> None:
    """Entikong has only a placeholder officer: printed in the terminal chat, undeliverable when live."""
    knowledge = build_knowledge(config(tmp_path, lambda data: None), {"TELEGRAM_BOT_TOKEN": "123:abc"})
    async with open_bot(knowledge, tmp_path) as bot:
        chat = bot.chat(villager())
        await register(chat, "bungkang")
        assert "ETK-2026-0001" in await file_report(chat)
        delivered = await bot.deliver()
        assert any("ETK-2026-0001" in t for t in delivered.to("3003"))
        # Nothing waits in the outbox for a terminal chat that a live bot does not run.
        assert (await bot.dialogue.store.outbox_counts()).get("pending", 0) == 0


def test_a_config_where_no_office_can_receive_alerts_is_refused(tmp_path: Path) -> None:
    def nobody(data: dict[str, Any]) -> None:
        kanwil_without_anyone(data)
        for office in data["offices"]:
            office["officers"] = []
            office["alerts"] = {"telegram_chat_ids": [], "whatsapp_numbers": []}
    with pytest.raises(ConfigError, match="reports would reach nobody"):
        build_knowledge(config(tmp_path, nobody), {})


async def test_the_console_shows_an_officer_the_cases_of_an_office_they_cover(tmp_path: Path) -> None:
    from tests.desk_rig import SGU_OFFICER as SGU_LOGIN
    from tests.desk_rig import make_console_config, open_rig
    make_console_config(tmp_path / "cfg")
    knowledge = build_knowledge(config_of(tmp_path / "cfg", kanwil_without_anyone), {})
    async with open_rig(knowledge, tmp_path) as rig:
        chat = rig.bot.chat(villager())
        await chat.say("tolong paspor saya ditahan majikan di sibu")
        await chat.tap("Kirim laporan darurat sekarang")
        client, _ = await rig.login(SGU_LOGIN)
        assert "KWL-2026-0001" in await (await client.get("/console/kasus")).text()
        page = await client.get("/console/kasus/KWL-2026-0001")
        assert page.status == 200 and "ditahan majikan" in await page.text()

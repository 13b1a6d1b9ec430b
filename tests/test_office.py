"""Running the service: announcements, figures, the recap export, drafts and content reload."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import yaml

from bot.app import Knowledge, build_dialogue, build_knowledge, build_outbox
from bot.conversation import Dialogue
from bot.models import Channel, Sender
from bot.outbox import Outbox
from bot.runtime import reload_content
from bot.store import Store
from tests.conftest import ROOT
from tests.databases import POSTGRESQL, database
from tests.fakes import Chat, Clock, RecordingDeliverer, villager
from tests.villagers import file_report, register

ANNOUNCER = Sender(Channel.TELEGRAM, "1001")     # Sanggau, may broadcast
COLLEAGUE = Sender(Channel.TELEGRAM, "1002")     # Sanggau, may not
KETAPANG = Sender(Channel.TELEGRAM, "2002")


def office_config(tmp: Path, content_dir: Path) -> Path:
    data = yaml.safe_load((ROOT / "config.example.yaml").read_text())
    data["content_dir"] = str(content_dir)
    offices = {o["id"]: o for o in data["offices"]}
    offices["SGU"]["officers"] = [{"name": "Petugas Sanggau", "telegram_id": 1001, "can_broadcast": True},
                                  {"name": "Petugas Dua", "telegram_id": 1002}]
    offices["KTG"]["officers"] = [{"name": "Petugas Ketapang", "telegram_id": 2002, "can_broadcast": True}]
    data["limits"] = {"messages_per_minute": 1000, "burst": 1000}
    path = tmp / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return path


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory) -> Knowledge:
    return build_knowledge(office_config(tmp_path_factory.mktemp("office"), ROOT / "content"), {})


@pytest.fixture
async def desk(office: Knowledge, tmp_path: Path) -> AsyncIterator[tuple[Dialogue, Outbox, RecordingDeliverer]]:
    clock = Clock()
    async with Store.open(database(tmp_path / "office.sqlite3")) as store:
        telegram = RecordingDeliverer()
        outbox = build_outbox(store, {Channel.TELEGRAM: telegram}, clock=clock)
        yield build_dialogue(office, store, clock), outbox, telegram


async def test_an_announcement_is_previewed_confirmed_and_sent_to_the_village(desk) -> None:  # type: ignore[no-untyped-def]
    dialogue, outbox, telegram = desk
    for i in (1, 2):
        await register(Chat(dialogue, villager(i)), "semuntai")
    await register(Chat(dialogue, villager(3)), "sutera")            # another office's village
    await dialogue.store.set_opted_out(villager(2), True, dialogue.clock())   # said BERHENTI
    officer = Chat(dialogue, ANNOUNCER)
    preview = await officer.say("SIARAN semuntai Layanan paspor keliling hari Sabtu di balai desa.")
    assert "Pratinjau" in preview and "Semuntai" in preview and "(1 warga terdaftar)" in preview
    assert await outbox.deliver_due() == 0                             # nothing before confirmation
    assert "dikirim ke 1 warga" in await officer.tap("Kirim pengumuman")
    await outbox.deliver_due()
    received = {o.recipient.user_id for o in telegram.sent if o.kind == "broadcast"}
    assert received == {"500001"}
    assert "Layanan paspor keliling" in telegram.sent[-1].text
    rows = await dialogue.store.broadcasts()
    assert rows[0][1:5] == ("SGU", "Petugas Sanggau", "semuntai", 1)


async def test_who_may_announce_and_to_whom_is_enforced(desk) -> None:  # type: ignore[no-untyped-def]
    dialogue, _, _ = desk
    assert "belum diberi izin" in await Chat(dialogue, COLLEAGUE).say("SIARAN semua Rapat desa besok")
    assert "tidak ada di wilayah" in await Chat(dialogue, KETAPANG).say("SIARAN semuntai Rapat desa besok")
    assert "hanya untuk petugas" not in await Chat(dialogue, villager(9)).say("SIARAN semua halo")
    officer = Chat(dialogue, ANNOUNCER)
    await officer.say("SIARAN semua Rapat desa besok")
    assert "dibatalkan" in await officer.tap("Batal")
    assert await dialogue.store.broadcasts() == []


async def test_figures_count_questions_reports_and_repeat_recruiters(desk) -> None:  # type: ignore[no-untyped-def]
    dialogue, _, _ = desk
    from bot import stats
    chat = Chat(dialogue, villager(1))
    await register(chat, "semuntai")
    await chat.say("paspor sy ilang di kuching gmn")   # answered
    await chat.say("resep kue lapis legit")              # not in the FAQ
    await file_report(chat, phone="0812-3456-7890")
    second = Chat(dialogue, villager(2))
    await register(second, "bungkang")
    await file_report(second, phone="+62 812 3456 7890", anonymous=True)
    said = await Chat(dialogue, ANNOUNCER).say("STATISTIK")
    assert "Laporan: 1" in said      # Sanggau sees its own office only
    import datetime as dt
    now = dialogue.clock()
    # The next day: the Ketapang case was never acknowledged; Sanggau acknowledges its case within 4 hours.
    await Chat(dialogue, ANNOUNCER).say("TANGANI SGU-2026-0001")
    later = now + dt.timedelta(days=1)
    figures = await stats.collect(dialogue.store, dialogue.settings, None, now - dt.timedelta(days=1),
                                  now + dt.timedelta(days=1), dialogue.deadlines, later)
    assert (figures.within_deadline, figures.judged) == (1, 2)
    said = stats.render_text(figures, dialogue.content)
    assert "Tepat waktu sejauh ini (ditangani sebelum batasnya, dan tidak lewat batas menutup): 1 (50%)" in said
    assert "- masih terbuka, batas menutup belum tiba: 1" in said
    assert "share_within_deadline,,0.5" in stats.render_csv(figures)
    assert figures.questions == 2 and figures.answered == 1 and figures.unanswered == 1
    assert figures.reports == 2
    assert ("+6281234567890", ("SGU-2026-0001", "ETK-2026-0001")) in figures.repeat_recruiters
    assert "repeat_recruiter,+6281234567890,SGU-2026-0001 ETK-2026-0001" in stats.render_csv(figures)
    table = list(csv.DictReader(io.StringIO(stats.export_reports_csv(
        await dialogue.store.reports_between(None, now - dt.timedelta(days=1), now + dt.timedelta(days=1)),
        dialogue.settings, dialogue.deadlines, later))))
    assert [r["case_no"] for r in table] == ["SGU-2026-0001", "ETK-2026-0001"]
    assert [r["within_deadline"] for r in table] == ["yes", "no"]
    assert table[1]["acknowledge_by"] == (now + dt.timedelta(hours=4)).astimezone(dt.UTC).isoformat()
    assert table[0]["reporter_contact"].startswith("Telegram") and table[1]["reporter_contact"] == ""


async def test_statistik_says_whose_questions_it_counts_and_what_is_on_time(desk) -> None:  # type: ignore[no-untyped-def]
    """From the play test: "Pertanyaan: 1" after 8 questions, and "ditangani dan ditutup" for an open case."""
    dialogue, _, _ = desk
    chat = Chat(dialogue, villager(1))
    for question in ("syarat bikin paspor apa aja", "brp biaya paspor", "paspor sy ilang di kuching gmn"):
        await chat.say(question)                       # no village chosen yet: no office's question
    await register(chat, "semuntai")
    await chat.say("brp biaya paspor")                 # a Sanggau villager's question
    await file_report(chat)
    officer = Chat(dialogue, ANNOUNCER)
    await officer.say("TANGANI SGU-2026-1")
    said = await officer.say("STATISTIK")
    assert "Pertanyaan dari warga desa di wilayah kantor ini: 1" in said
    assert "Pertanyaan dari warga yang belum memilih desa (tidak dihitung untuk kantor mana pun): 3" in said
    assert "Tepat waktu sejauh ini (ditangani sebelum batasnya, dan tidak lewat batas menutup): 1 (100%)" in said
    assert "- sudah ditutup sebelum batasnya: 0" in said and "- masih terbuka, batas menutup belum tiba: 1" in said
    assert "ditangani dan ditutup" not in said
    await officer.say("TUTUP SGU-2026-1 perekrut sudah diperiksa polisi")
    said = await officer.say("STATISTIK")
    assert "- sudah ditutup sebelum batasnya: 1" in said and "- masih terbuka, batas menutup belum tiba: 0" in said
    # Every office's figures (the Kantor Wilayah, `desa-imigrasi stats`) count every question.
    import datetime as dt

    from bot import stats
    now = dialogue.clock()
    figures = await stats.collect(dialogue.store, dialogue.settings, None, now - dt.timedelta(days=1),
                                  now + dt.timedelta(days=1), dialogue.deadlines, now)
    every = stats.render_text(figures, dialogue.content)
    assert "Pertanyaan: 4 (termasuk dari warga yang belum memilih desa)" in every
    assert "- di antaranya dari warga yang belum memilih desa: 3" in every


async def test_an_edited_answer_is_reloaded_and_a_broken_edit_is_refused(tmp_path: Path) -> None:
    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    knowledge = build_knowledge(office_config(tmp_path, content), {})
    async with Store.open(database(tmp_path / "r.sqlite3")) as store:
        dialogue = build_dialogue(knowledge, store)
        chat = Chat(dialogue, villager(1))
        faq = content / "faq" / "paspor.yaml"
        original = faq.read_text()
        # The first answer in the file is paspor-syarat's.
        faq.write_text(original.replace("    answer: |\n", "    answer: |\n      PERUBAHAN BARU.\n", 1))
        assert await reload_content(dialogue)
        assert "PERUBAHAN BARU" in " ".join(e.answer for e in dialogue.content.entries)
        faq.write_text("entries: [broken\n")
        assert not await reload_content(dialogue)
        assert "PERUBAHAN BARU" in " ".join(e.answer for e in dialogue.content.entries)
        # The bot keeps answering from the content it had.
        assert "PERUBAHAN BARU" in await chat.say("syarat bikin paspor dewasa apa aja")


def test_the_office_commands_run_from_the_shell(tmp_path: Path) -> None:
    db = tmp_path / "cli.sqlite3"
    script = "lapor\nsemuntai\n" + "lewati\n" * 12 + "selesai\n2\n1\nresep kue lapis legit\n"
    subprocess.run([sys.executable, "-m", "bot", "chat", "--db", str(database(db))], input=script, text=True,
                   capture_output=True, cwd=ROOT, timeout=120, check=True)

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "bot", *args, "--db", str(database(db))], text=True,
                              capture_output=True, cwd=ROOT, timeout=120, check=False)

    stats_out = cli("stats", "--office", "SGU")
    assert stats_out.returncode == 0 and "Laporan: 1" in stats_out.stdout
    # The same words as STATISTIK in chat: the question after "semuntai" is Sanggau's.
    assert "Pertanyaan dari warga desa di wilayah kantor ini: 1" in stats_out.stdout
    assert "Pertanyaan dari warga yang belum memilih desa (tidak dihitung untuk kantor mana pun): 0" \
        in stats_out.stdout
    assert cli("stats", "--csv").stdout.startswith("figure,key,value")
    export = cli("export", "reports", "--csv")
    assert export.returncode == 0 and "SGU-2026-0001" in export.stdout and "warga" not in export.stdout
    assert cli("stats", "--office", "XYZ").returncode == 1
    sent = cli("broadcast", "--office", "SGU", "--to", "semuntai", "--text", "Rapat desa", "--yes")
    assert sent.returncode == 0 and "queued for 1 villagers" in sent.stdout
    refused = cli("broadcast", "--office", "SGU", "--to", "sutera", "--text", "Rapat", "--yes")
    assert refused.returncode == 1
    unanswered = cli("unanswered")
    assert "resep kue lapis legit" in unanswered.stdout
    backup = cli("backup", str(tmp_path / "copy.sqlite3"))
    if POSTGRESQL:   # a PostgreSQL database is backed up with its own tools
        assert backup.returncode == 1 and "pg_dump" in backup.stderr
    else:
        assert backup.returncode == 0 and (tmp_path / "copy.sqlite3").exists()


async def test_sighup_reloads_edited_content_in_the_running_bot_and_refuses_a_broken_edit(
        tmp_path: Path) -> None:
    """`desa-imigrasi run` as a process: edit content/, send SIGHUP, ask again over the webhook."""
    import asyncio
    import signal

    import aiohttp
    from aiohttp.test_utils import TestServer

    from tests.fake_twilio import FakeTwilio
    from tests.faults_rigs import config_data
    from tests.test_faults import Remote, WaChat, start_bot

    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    data = config_data(telegram=False)
    data["content_dir"] = str(content)
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(data, allow_unicode=True))
    faq = content / "faq" / "paspor.yaml"
    question = "syarat bikin paspor dewasa apa aja"
    async with TestServer(FakeTwilio().app(), host="127.0.0.1") as api, aiohttp.ClientSession() as session:
        remote = Remote(session)
        proc = await start_bot(config, tmp_path / "bot.sqlite3", str(api.make_url("")).rstrip("/"),
                               remote, tmp_path / "bot.log")
        try:
            chat = WaChat(remote, "whatsapp:+6281300000001")
            assert "SUDAH DIUBAH" not in await chat.say(question)
            faq.write_text(faq.read_text().replace("    answer: |\n", "    answer: |\n      SUDAH DIUBAH.\n", 1))
            proc.send_signal(signal.SIGHUP)
            for _ in range(100):
                if "SUDAH DIUBAH" in await chat.say(question):
                    break
                await asyncio.sleep(0.1)
            else:
                raise AssertionError("the edit was not reloaded")
            faq.write_text("entries: [broken\n")
            proc.send_signal(signal.SIGHUP)
            await asyncio.sleep(1.0)
            assert "SUDAH DIUBAH" in await chat.say(question)          # the running content stayed
            assert proc.returncode is None
            assert "content reload refused" in (tmp_path / "bot.log").read_text()
        finally:
            proc.terminate()
            await proc.wait()

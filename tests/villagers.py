"""The office desk of the conversation tests: officers and a group configured, and scripted villagers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import yaml

from bot.app import Knowledge, build_dialogue, build_knowledge, build_outbox
from bot.conversation import Dialogue
from bot.models import Channel, Sender
from bot.outbox import Outbox
from bot.store import Store
from tests.databases import database
from tests.fakes import Chat, Clock, RecordingDeliverer

ROOT = Path(__file__).resolve().parent.parent

SGU_OFFICER = Sender(Channel.TELEGRAM, "1001")     # Kanim Sanggau
KTG_OFFICER = Sender(Channel.TELEGRAM, "2002")     # Kanim Ketapang
REGIONAL = Sender(Channel.TELEGRAM, "3003")
SGU_GROUP = "-100111"


def make_desk(folder: Path) -> Knowledge:
    """The shipped config with officers and an alert group filled in, as an office would."""
    data = yaml.safe_load((ROOT / "config.example.yaml").read_text())
    data["content_dir"] = str(ROOT / "content")
    offices = {o["id"]: o for o in data["offices"]}
    offices["SGU"]["officers"] = [{"name": "Petugas Sanggau", "telegram_id": 1001}]
    offices["SGU"]["alerts"] = {"telegram_chat_ids": [int(SGU_GROUP)], "whatsapp_numbers": []}
    offices["KTG"]["officers"] = [{"name": "Petugas Ketapang", "telegram_id": 2002}]
    offices["KTG"]["alerts"] = {"telegram_chat_ids": [-100222], "whatsapp_numbers": []}
    data["regional_office"]["officers"] = [{"name": "Petugas Kanwil", "telegram_id": 3003}]
    data["limits"] = {"messages_per_minute": 1000, "burst": 1000}   # conversations here are scripted and fast
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return build_knowledge(path, {})


class Bot:
    def __init__(self, dialogue: Dialogue, outbox: Outbox, telegram: RecordingDeliverer, clock: Clock):
        self.dialogue = dialogue
        self.outbox = outbox
        self.telegram = telegram
        self.clock = clock

    def chat(self, sender: Sender) -> Chat:
        return Chat(self.dialogue, sender)

    async def deliver(self) -> RecordingDeliverer:
        await self.outbox.deliver_due()
        return self.telegram


@asynccontextmanager
async def open_bot(desk: Knowledge, tmp_path: Path) -> AsyncIterator[Bot]:
    clock = Clock()
    async with Store.open(database(tmp_path / "bot.sqlite3")) as store:
        telegram = RecordingDeliverer()
        outbox = build_outbox(store, {Channel.TELEGRAM: telegram}, clock=clock)
        yield Bot(build_dialogue(desk, store, clock), outbox, telegram, clock)


async def register(chat: Chat, village: str = "semuntai") -> None:
    await chat.say("halo")
    await chat.tap("Desa saya")
    await chat.say(village)


async def file_report(chat: Chat, *, name: str = "Pak Budi", phone: str = "0812-3456-7890",
                      company: str = "PT Maju Jaya", anonymous: bool = False, visa: str = "turis") -> str:
    """A villager tells the story, says how they were contacted, ticks the signs, and sends."""
    await chat.say("lapor")
    await chat.say(f"{name} {phone} dari {company} menawarkan kerja restoran di Malaysia, gaji 4 juta sebulan.")
    await chat.say("Disuruh berangkat minggu depan.")
    await chat.tap("Selesai")
    await chat.tap("WhatsApp")
    await chat.say("1 2" if visa == "turis" else "1")         # asked to pay (and a tourist visa)
    await chat.tap("anonim" if anonymous else "hubungi saya")
    return await chat.tap("Kirim")



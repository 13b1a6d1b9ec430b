"""The shared web server: /healthz tells an uptime monitor whether alerts are stuck."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer

from bot.models import Channel, Outgoing, Sender
from bot.server import build_web_app
from bot.store import Store
from tests.databases import database


async def test_healthz_reports_the_database_content_and_the_oldest_waiting_alert(tmp_path: Path) -> None:
    async with Store.open(database(tmp_path / "h.sqlite3")) as store:
        long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=30)
        await store.enqueue([Outgoing(Sender(Channel.TELEGRAM, "-1001"), "alert", "alert")], long_ago)
        async with TestClient(TestServer(build_web_app([], store, "43 entri"))) as client:
            response = await client.get("/healthz")
            body = await response.json()
    assert response.status == 200
    assert body["database"] == "ok" and body["content"] == "43 entri"
    assert body["outbox"] == {"pending": 1}
    assert body["oldest_pending_seconds"] >= 30 * 60


"""Telegram update throughput: webhook -> TelegramChannel -> Dialogue -> sendMessage to a fake Bot API.

Run: .venv/bin/python bench/telegram.py          (about 2 minutes; stops by itself)

Bot (a child process, `python bench/telegram.py --serve ...`): the shipped config,
build_knowledge + build_dialogue + TelegramChannel in webhook mode (PUBLIC_BASE_URL set, secret
token checked) + build_web_app on 127.0.0.1, a fresh temporary SQLite file, logging at INFO to a
file as `desa-imigrasi run` does. TELEGRAM_API_BASE_URL points at the fake Bot API
(tests/fake_telegram.py) served by this process on 127.0.0.1, so the real PTB ExtBot (httpx, its
serialisation) sends every reply. 1,000 Telegram users are registered beforehand (village set,
greeted), so each update is one question and gets one sendMessage.

Two bot configurations, in the same run:
  shipped     TelegramChannel as built, with PTB's AIORateLimiter (max_retries=0): PTB's default
              overall limit of 30 messages per second (Telegram's own flood limit), so replies are
              paced at that rate on purpose.
  no-limiter  the same channel with its ExtBot replaced by one whose AIORateLimiter has both limits
              off (overall_max_rate=0, group_max_rate=0): what the adapter and the core cost.

Load (this process): `concurrency` virtual users, each posting one text-message update
(tests/payloads/telegram/text_message.json shape, a question from the sample) to /telegram and
waiting until the fake Bot API receives the sendMessage for that chat; then the next update,
from another of the 1,000 users. Latency = POST sent -> sendMessage received (end to end);
"ack" = POST sent -> webhook's 200 (the bot answers Telegram at once and works in the background).
Per level: at most REQUESTS updates or SECONDS seconds, after a warm-up of 50 updates.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

# This file is named like python-telegram-bot's package: keep its folder from shadowing it.
_HERE = str(Path(__file__).resolve().parent)
sys.path[:] = [p for p in sys.path if p not in ("", _HERE)] + [_HERE]

import _util
import aiohttp
import telegram
import yaml
from _util import ROOT, pct, rss_mib, table
from aiohttp import web

from tests.fake_telegram import FakeTelegram

TOKEN = "123456:BENCH-token"
SECRET = "bench_secret-1"
USERS = 1000
FIRST_USER = 600000
LEVELS = (1, 8, 32, 64)
REQUESTS = 1500
SECONDS = 12.0
WARMUP = 50
SAMPLE = ROOT.parent / "shared/eval/sample_questions.yaml"
PAYLOAD = ROOT / "tests/payloads/telegram/text_message.json"


def env(api: str) -> dict[str, str]:
    return {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_WEBHOOK_SECRET": SECRET,
            "PUBLIC_BASE_URL": "https://bot.example.org", "TELEGRAM_API_BASE_URL": api}


# Bot side (child process) --------------------------------------------------------------------------
async def serve(port: int, config: Path, db: Path, limiter: bool) -> None:
    from telegram.ext import AIORateLimiter, ExtBot

    from bot.app import build_dialogue, build_knowledge, build_outbox
    from bot.channels.telegram import TelegramChannel, api_urls
    from bot.models import Channel
    from bot.server import build_web_app
    from bot.store import Store

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    knowledge = build_knowledge(config, os.environ)
    async with Store.open(db) as store:
        channel = TelegramChannel(knowledge.settings, build_dialogue(knowledge, store), store)
        if not limiter:
            base_url, base_file_url = api_urls(knowledge.settings.secrets.telegram_api_base_url)
            # The adapter passes rate_limit_args, so keep a limiter, with both limits off (0).
            channel.bot = ExtBot(TOKEN, base_url=base_url, base_file_url=base_file_url,
                                 rate_limiter=AIORateLimiter(overall_max_rate=0, group_max_rate=0,
                                                             max_retries=0))
        outbox = build_outbox(store, {Channel.TELEGRAM: channel})
        channel.use_outbox(outbox)   # as `desa-imigrasi run`: replies go right after their turn
        await channel.start()
        runner = web.AppRunner(build_web_app([channel], store, knowledge.content.version))
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        outbox_task = asyncio.create_task(outbox.run())
        await stop.wait()
        outbox_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await outbox_task
        await runner.cleanup()
        await channel.stop()


# Load generator and fake Bot API (this process) ------------------------------------------------------
class Watcher:
    """Resolves a future when the fake Bot API receives a sendMessage for a chat."""

    def __init__(self) -> None:
        self.waiting: dict[int, asyncio.Future[float]] = {}
        self.sends = 0
        self.limited = 0

    @web.middleware
    async def middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if request.match_info.get("method") == "sendMessage":
            form = await request.post()   # cached: the fake's handler reads the same form
            response = await handler(request)
            self.sends += 1
            self.limited += "terlalu banyak" in str(form.get("text", ""))
            chat = int(str(form.get("chat_id", "0")))
            fut = self.waiting.pop(chat, None)
            if fut is not None and not fut.done():
                fut.set_result(time.perf_counter())
            return response
        return await handler(request)


def update(update_id: int, user: int, text: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(PAYLOAD.read_text())
    data["update_id"] = update_id
    msg = data["message"]
    msg["message_id"] = update_id % 1_000_000
    msg["from"]["id"] = user
    msg["chat"]["id"] = user
    msg["text"] = text
    return data


async def drive(port: int, watcher: Watcher, questions: list[str], ids: itertools.count[int],
                concurrency: int, limit: int, seconds: float) -> dict[str, float]:
    url = f"http://127.0.0.1:{port}/telegram"
    latencies: list[float] = []
    acks: list[float] = []
    statuses: Counter[int] = Counter()
    users = itertools.cycle(range(FIRST_USER, FIRST_USER + USERS))
    left = limit
    deadline = time.perf_counter() + seconds
    loop = asyncio.get_running_loop()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:
        async def worker() -> None:
            nonlocal left
            while left > 0 and time.perf_counter() < deadline:
                left -= 1
                user = next(users)
                while user in watcher.waiting:
                    user = next(users)
                uid = next(ids)
                body = json.dumps(update(uid, user, questions[uid % len(questions)])).encode()
                fut: asyncio.Future[float] = loop.create_future()
                watcher.waiting[user] = fut
                t0 = time.perf_counter()
                async with session.post(url, data=body, headers={
                        "Content-Type": "application/json",
                        "X-Telegram-Bot-Api-Secret-Token": SECRET}) as resp:
                    await resp.read()
                acks.append((time.perf_counter() - t0) * 1000)
                statuses[resp.status] += 1
                try:
                    done = await asyncio.wait_for(fut, 30)
                except TimeoutError:
                    watcher.waiting.pop(user, None)
                    statuses[-1] += 1   # no reply within 30 s
                    continue
                latencies.append((done - t0) * 1000)

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    return {"n": len(latencies), "rate": len(latencies) / elapsed, "p50": pct(latencies, 50),
            "p99": pct(latencies, 99), "ack_p50": pct(acks, 50), "ack_p99": pct(acks, 99),
            "bad": sum(v for k, v in statuses.items() if k != 200)}


async def wait_ready(fake: FakeTelegram, proc: subprocess.Popen[bytes], within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"bot exited with {proc.returncode}")
        if fake.made("setWebhook"):
            await asyncio.sleep(0.3)   # the site starts right after setWebhook
            return
        await asyncio.sleep(0.05)
    raise RuntimeError("bot did not start")


async def register(db: Path, config: Path, api: str) -> None:
    import datetime as dt

    from bot.app import build_knowledge
    from bot.models import Channel, Sender
    from bot.store import Store
    villages = [v.id for v in build_knowledge(config, env(api)).settings.villages]
    now = dt.datetime.now(dt.UTC)
    async with Store.open(db) as store:
        for i in range(USERS):
            await store.save_profile(Sender(Channel.TELEGRAM, str(FIRST_USER + i)),
                                     village_id=villages[i % len(villages)], greeted=True, now=now)


async def main() -> None:
    from bot.evaluation import load_questions
    questions = [q.text for q in load_questions(SAMPLE)]
    tmp = Path(tempfile.mkdtemp(prefix="bench-telegram-"))
    data = yaml.safe_load((ROOT / "config.example.yaml").read_text())
    data["content_dir"] = str(ROOT / "content")
    config = tmp / "config.yaml"
    config.write_text(yaml.safe_dump(data, allow_unicode=True))
    log = tmp / "bot.log"

    fake = FakeTelegram()
    watcher = Watcher()
    fake.app.middlewares.append(watcher.middleware)
    runner = web.AppRunner(fake.app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    api_port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    api = f"http://127.0.0.1:{api_port}"

    print("Configuration")
    print(f"  machine: {_util.machine()}; bot and load generator + fake Bot API share it (one process each)")
    print(f"  python-telegram-bot {telegram.__version__}, aiohttp {aiohttp.__version__}")
    print(f"  bot: TelegramChannel in webhook mode behind build_web_app on 127.0.0.1, secret token checked;"
          f" replies by the real ExtBot to the fake Bot API at {api}")
    print(f"  users: {USERS} distinct, pre-registered (village set, greeted); questions: {len(questions)} "
          f"from {SAMPLE.relative_to(ROOT.parent)}")
    print(f"  levels: concurrency {LEVELS} (closed loop); per level at most {REQUESTS} updates or "
          f"{SECONDS:.0f} s; warm-up {WARMUP} updates")

    ids = itertools.count(900_000_001)
    rows = []
    try:
        for limiter in (True, False):
            db = tmp / f"bot-{'limited' if limiter else 'free'}.sqlite3"
            await register(db, config, api)
            port = _util.free_port()
            cmd = [sys.executable, str(Path(__file__).resolve()), "--serve", "--port", str(port),
                   "--config", str(config), "--db", str(db)] + ([] if limiter else ["--no-limiter"])
            fake.calls.clear()
            proc = subprocess.Popen(cmd, env=env(api), cwd=str(ROOT), stdout=subprocess.DEVNULL,
                                    stderr=log.open("ab"))
            try:
                await wait_ready(fake, proc)
                name = "shipped (AIORateLimiter)" if limiter else "no-limiter"
                print(f"  {name}: bot RSS after start-up {rss_mib(proc.pid):.1f} MiB")
                await drive(port, watcher, questions, ids, 8, WARMUP, SECONDS)
                for level in LEVELS:
                    sends0, limited0 = watcher.sends, watcher.limited
                    r = await drive(port, watcher, questions, ids, level, REQUESTS, SECONDS)
                    rows.append([name, level, int(r["n"]), f"{r['rate']:.0f}", f"{r['p50']:.1f}",
                                 f"{r['p99']:.1f}", f"{r['ack_p50']:.2f} / {r['ack_p99']:.2f}",
                                 watcher.sends - sends0, watcher.limited - limited0, int(r["bad"]),
                                 f"{rss_mib(proc.pid):.0f}"])
                    fake.calls.clear()
            finally:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
    finally:
        await runner.cleanup()
    print()
    print(table(["bot", "concurrency", "updates", "updates/s", "p50 ms", "p99 ms", "ack p50/p99 ms",
                 "sendMessage", "rate-limited", "errors", "bot RSS MiB"], rows))
    _util.log_summary("bot", log)


def cli() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--serve", action="store_true")
    parser.add_argument("--port", type=int)
    parser.add_argument("--config", type=Path)
    parser.add_argument("--db", type=Path)
    parser.add_argument("--no-limiter", action="store_true")
    args = parser.parse_args()
    if args.serve:
        logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO").upper(),
                            format="%(asctime)s %(levelname)s %(name)s %(message)s")
        asyncio.run(serve(args.port, args.config, args.db, not args.no_limiter))
    else:
        asyncio.run(main())


if __name__ == "__main__":
    cli()

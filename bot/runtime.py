"""`desa-imigrasi run`: start every configured channel, the web server, the outbox, escalation and digests.

With no channel credentials it opens the terminal chat instead, so `make run` always works.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import gc
import logging
import signal
import sys
from collections.abc import Callable

from aiohttp import web

from bot.app import Knowledge, build_dialogue, build_outbox, load_knowledge
from bot.channels.console import ConsoleChat, ConsoleDeliverer
from bot.conversation import Dialogue
from bot.deadlines import Deadlines
from bot.digest import Digest
from bot.errors import ContentError
from bot.escalation import Escalation
from bot.metrics import Metrics
from bot.models import Channel
from bot.outbox import Outbox
from bot.server import ChannelRuntime, build_web_app
from bot.store import Store

log = logging.getLogger(__name__)
# Telegram keeps an undelivered update for 24 hours; Twilio retries a webhook within 15 seconds.
INBOX_KEPT = dt.timedelta(days=2)
REPLIES_KEPT = dt.timedelta(minutes=10)


def configured_channels(knowledge: Knowledge, dialogue: Dialogue, store: Store) -> list[ChannelRuntime]:
    secrets = knowledge.settings.secrets
    runtimes: list[ChannelRuntime] = []
    if secrets.telegram_token:
        from bot.channels.telegram import TelegramChannel
        runtimes.append(TelegramChannel(knowledge.settings, dialogue, store))
    if secrets.twilio_account_sid and secrets.twilio_auth_token and secrets.twilio_whatsapp_from:
        from bot.channels.whatsapp import WhatsAppChannel
        runtimes.append(WhatsAppChannel(knowledge.settings, dialogue, store))
    return runtimes


async def run(knowledge: Knowledge, db: str | None) -> int:
    async with Store.open(db or knowledge.settings.storage) as store:
        # Its own registry: nothing global, one per running bot.
        settings = knowledge.settings
        metrics = Metrics(Deadlines(settings.deadlines), offices=[o.id for o in settings.all_offices])
        dialogue = build_dialogue(knowledge, store, observer=metrics.handled)
        runtimes = configured_channels(knowledge, dialogue, store)
        if not runtimes:
            print("No channel credentials (TELEGRAM_BOT_TOKEN, TWILIO_*): starting the terminal chat.",
                  file=sys.stderr)
            outbox = build_outbox(store, {Channel.CONSOLE: ConsoleDeliverer(sys.stdout)})
            web_runner = None
            if settings.console:
                # The office console works in a trial too: login codes print as "[petugas ...]" lines.
                app = build_web_app([], store, knowledge.content.version, settings.max_body_bytes)
                mount_console(app, dialogue, store, [], outbox)
                web_runner = web.AppRunner(app, access_log=None)
                await web_runner.setup()
                await web.TCPSite(web_runner, "127.0.0.1", settings.secrets.port).start()
                # Login codes wait in the outbox; deliver them while nobody types in the terminal.
                # (The chat also delivers after each line: in this trial mode a line may print twice.)
                delivering = asyncio.create_task(outbox.run())
                print(f"Office console: http://localhost:{settings.secrets.port}/console/ "
                      "(desa-imigrasi console-link OFFICER prints a login link)", file=sys.stderr)
            try:
                await ConsoleChat(dialogue, outbox, sys.stdin, sys.stdout).run()
            finally:
                if web_runner is not None:
                    delivering.cancel()
                    await web_runner.cleanup()
            return 0
        outbox = build_outbox(store, {r.channel: r for r in runtimes}, on_sent=metrics.sent)
        for runtime in runtimes:
            use_outbox = getattr(runtime, "use_outbox", None)
            if use_outbox is not None:
                use_outbox(outbox)   # Telegram sends a turn's replies right after its commit
        app = build_web_app(runtimes, store, knowledge.content.version, settings.max_body_bytes,
                            metrics=metrics, metrics_token=settings.secrets.metrics_token)
        if settings.console:
            mount_console(app, dialogue, store, runtimes, outbox)
        # No access log: one line per webhook costs more than the rest of the logging together,
        # and the channel adapters already log ids per message.
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "0.0.0.0", settings.secrets.port)  # noqa: S104 (a server)
        await site.start()
        for runtime in runtimes:
            await runtime.start()
        settle_heap()
        log.info("started channels=%s port=%d offices=%d villages=%d content=%r",
                 ",".join(r.channel.value for r in runtimes), settings.secrets.port,
                 len(settings.offices), len(settings.villages), knowledge.content.version)
        stop = asyncio.Event()
        reloads: list[asyncio.Task[bool]] = []   # kept so a running reload is not garbage-collected
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        with contextlib.suppress(NotImplementedError, AttributeError):
            loop.add_signal_handler(signal.SIGHUP, lambda: reloads.append(
                asyncio.create_task(reload_content(dialogue))))
        tasks = [asyncio.create_task(outbox.run()),
                 asyncio.create_task(housekeeping(dialogue, on_escalated=metrics.escalated))]
        try:
            await stop.wait()
        finally:
            for task in tasks:
                task.cancel()
            for runtime in runtimes:
                await runtime.stop()
            await runner.cleanup()
    return 0


def mount_console(app: web.Application, dialogue: Dialogue, store: Store, runtimes: list[ChannelRuntime],
                  outbox: Outbox) -> None:
    """The office console on the same server: its actions edit Telegram alerts as chat commands do."""
    from bot.desk import build_desk, mount
    from bot.desk.media import MediaFetcher, TelegramMedia, TwilioMedia
    after_step = []
    media: list[MediaFetcher] = []
    secrets = dialogue.settings.secrets
    for runtime in runtimes:
        update_alerts = getattr(runtime, "update_alerts", None)
        if update_alerts is not None:
            after_step.append(update_alerts)
        if runtime.channel is Channel.TELEGRAM:
            media.append(TelegramMedia(getattr(runtime, "bot")))  # noqa: B009 (typed loosely on purpose)
        if runtime.channel is Channel.WHATSAPP and secrets.twilio_account_sid and secrets.twilio_auth_token:
            media.append(TwilioMedia(secrets.twilio_account_sid, secrets.twilio_auth_token,
                                     secrets.twilio_api_base_url))
    live = frozenset(r.channel for r in runtimes) or frozenset({Channel.CONSOLE})
    desk = build_desk(dialogue.casework, store, live, wake=outbox.wake.set, after_step=after_step,
                      media=media, clock=dialogue.clock)
    mount(app, desk)


def settle_heap() -> None:
    """Keep what start-up built out of the garbage collector's full passes (again after a reload).

    Content, FAQ index and libraries are some 60,000 objects that never become garbage; each full
    pass walked them all, about 30 ms on the 2-core VM with every webhook in flight waiting.
    """
    gc.collect()
    gc.freeze()


async def reload_content(dialogue: Dialogue) -> bool:
    """Re-read content/ (SIGHUP); an invalid edit is refused and the running content stays.

    Reading and indexing run in a thread so webhooks keep being answered meanwhile.
    """
    try:
        fresh = await asyncio.to_thread(load_knowledge, dialogue.settings)
    except ContentError as exc:
        log.error("content reload refused, keeping version %r:\n%s", dialogue.content.version, exc)
        return False
    dialogue.use_content(fresh.content, fresh.index)
    settle_heap()
    log.info("content reloaded version=%r", fresh.content.version)
    return True


async def housekeeping(dialogue: Dialogue, interval: float = 60.0,
                       on_escalated: Callable[[str, int, int], None] | None = None) -> None:
    """Every minute: escalation of missed deadlines and the morning digest; every hour: the retention job.

    With several instances on one PostgreSQL, one of them does it (the store's `lead`): another
    takes over within a minute when that one stops or dies.
    """
    escalation = Escalation(dialogue.casework, on_escalated)
    settings = dialogue.settings
    console = settings.secrets.public_base_url if settings.console else None
    digest = Digest(dialogue.casework, f"{console.rstrip('/')}/console/kasus" if console else None)
    passes = 0
    while True:
        try:
            if not await dialogue.store.lead("housekeeping"):
                await asyncio.sleep(interval)
                continue
            try:
                await run_deadlines(escalation, digest, dialogue.clock())
            except Exception:   # the retention below still runs
                log.exception("deadlines pass failed")
            now = dialogue.clock()
            await dialogue.store.prune_delivery_records(now - INBOX_KEPT, now - REPLIES_KEPT)
            if passes % 60 == 0:
                cutoff = dialogue.clock() - dt.timedelta(days=dialogue.settings.retention_days)
                count = await dialogue.store.anonymise_reports_before(cutoff)
                if count:
                    log.info("retention anonymised reports=%d", count)
                purged = await dialogue.store.purge_desk_before(cutoff)
                if purged:
                    log.info("retention removed console trail entries=%d", purged)
        except Exception:
            log.exception("housekeeping pass failed")
        passes += 1
        await asyncio.sleep(interval)


async def run_deadlines(escalation: Escalation, digest: Digest, now: dt.datetime) -> None:
    """One pass of both jobs.

    Each step and each digest is written once by whichever pass gets there first (store rows with
    a primary key), so several instances may run this at the same time.
    """
    steps = await escalation.run(now)
    sent = await digest.run(now)
    if steps or sent:
        log.info("deadlines escalated=%d digests=%d", steps, sent)

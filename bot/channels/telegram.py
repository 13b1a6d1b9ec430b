"""Telegram: verify, keep, handle, reply; by long polling or by webhook on the shared server.

The adapter holds no conversation state (that lives in the store) and uses no PTB Application,
ConversationHandler or persistence: the real PTB `ExtBot` with its `AIORateLimiter` sends, and
updates come either from a getUpdates loop (no public address) or from POST /telegram.

An update is written to the store's inbox before Telegram is told 200 (or, when polling, before
its offset is confirmed), so a crash cannot lose it. A worker per chat handles the chat's inbox
rows in order, different chats concurrently; a turn's replies are written to the outbox in the
turn's own transaction and sent right after it. Rows left unhandled by a crash are handled at
start. One update that fails is logged with its update_id only and never blocks the next;
redelivered updates change nothing (the inbox and the core both record each update_id).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hmac
import json
import logging
import os
import re
import secrets
import sqlite3
import warnings
from collections.abc import Sequence

from aiohttp import web
from telegram import (
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeDefault,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    ReplyParameters,
    Update,
)
from telegram.constants import ChatType, InlineKeyboardButtonLimit, MessageLimit, ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import AIORateLimiter, ExtBot
from telegram.warnings import PTBDeprecationWarning

from bot import markup
from bot.casework import normalize_case_no, parse_command
from bot.config import Settings
from bot.conversation import Dialogue, log_id
from bot.errors import BotError, ConfigError, StoreError
from bot.models import Channel, IncomingMessage, Media, Option, Outgoing, Reply, Sender, stored_media
from bot.outbox import DeliveryError, Outbox
from bot.store import Store

log = logging.getLogger(__name__)
# PTB logs every Bot API call with its text at DEBUG, and httpx logs every request's address at
# INFO, and that address holds the bot token: never let message bodies, numbers or the token
# reach the logs, whatever level the operator chooses.
logging.getLogger("telegram").setLevel(max(logging.getLogger("telegram").level, logging.INFO))
for _name in ("httpx", "httpcore"):
    logging.getLogger(_name).setLevel(max(logging.getLogger(_name).level, logging.WARNING))

WEBHOOK_PATH = "/telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 (a header name)
DEFAULT_API = "https://api.telegram.org"
# Only what the bot acts on; anything else that still arrives is ignored on purpose.
ALLOWED_UPDATES = ("message", "callback_query", "my_chat_member")
VILLAGER_COMMANDS = ("start", "menu", "lapor", "bantuan", "hapus")
OFFICER_COMMANDS = ("kasus",)
WIB = dt.timezone(dt.timedelta(hours=7), "WIB")   # West Kalimantan
MAX_HISTORY = 10          # case events shown under an edited alert
_SECRET_OK = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)   # slow phones, patchy signal
_SHORT_LABEL = 14


def api_urls(base: str | None) -> tuple[str, str]:
    """PTB's base_url and base_file_url for a Bot API server given as root, or root + "/bot"."""
    root = (base or DEFAULT_API).rstrip("/").removesuffix("/bot")
    return f"{root}/bot", f"{root}/file/bot"


def retry_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():
        # PTB 22 warns that `retry_after` becomes a timedelta; accept both.
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


def keyboard(text: str, options: Sequence[Option]) -> tuple[str, InlineKeyboardMarkup | None]:
    """Options as inline buttons; as numbered lines when a payload cannot be callback data."""
    if not options:
        return text, None
    limit = InlineKeyboardButtonLimit.MAX_CALLBACK_DATA
    if any(not o.payload or len(o.payload.encode()) > limit for o in options):
        # The core reads a typed number as the option of that number.
        return f"{text}\n\n{markup.numbered([o.label for o in options])}", None
    buttons = [InlineKeyboardButton(markup.to_plain(o.label), callback_data=o.payload) for o in options]
    if len(buttons) <= 3 and all(len(b.text) <= _SHORT_LABEL for b in buttons):
        return text, InlineKeyboardMarkup([buttons])
    return text, InlineKeyboardMarkup([[b] for b in buttons])


class TelegramChannel:
    """The Telegram side of `desa-imigrasi run` (a ChannelRuntime) and the outbox's deliverer."""

    channel = Channel.TELEGRAM

    def __init__(self, settings: Settings, dialogue: Dialogue, store: Store, *,
                 poll_timeout: int = 30) -> None:
        secrets_ = settings.secrets
        if not secrets_.telegram_token:
            raise ConfigError(["TELEGRAM_BOT_TOKEN: missing (the token from BotFather)"])
        secret = secrets_.telegram_webhook_secret
        if secret is not None and not _SECRET_OK.match(secret):
            raise ConfigError(["TELEGRAM_WEBHOOK_SECRET: use 1 to 256 letters, digits, '_' or '-'"])
        # Opt in to PTB's coming timedelta durations (RetryAfter.retry_after): PTB 22 otherwise
        # warns on every flood-control answer. retry_seconds() reads both forms.
        os.environ.setdefault("PTB_TIMEDELTA", "true")
        self.settings = settings
        self.dialogue = dialogue
        self.store = store
        base = secrets_.public_base_url
        self.webhook_url = f"{base.rstrip('/')}{WEBHOOK_PATH}" if base else None
        # We register the secret ourselves, so without a configured one a random one works too.
        self.secret = secret or secrets.token_urlsafe(32)
        base_url, base_file_url = api_urls(secrets_.telegram_api_base_url)
        # max_retries=0: a RetryAfter reaches the outbox, which retries after `retry_after`.
        self.bot: ExtBot[int] = ExtBot(secrets_.telegram_token, base_url=base_url,
                                       base_file_url=base_file_url,
                                       rate_limiter=AIORateLimiter(max_retries=0))
        self.poll_timeout = poll_timeout
        # Set by whoever builds the outbox: a turn's replies are sent right after its commit.
        self.outbox: Outbox | None = None
        self._dirty: set[str] = set()                       # chats with inbox rows to look at
        self._workers: dict[str, asyncio.Task[None]] = {}   # at most one per chat
        self._poller: asyncio.Task[None] | None = None
        self._offset: int | None = None
        self._username = ""

    # Lifecycle -----------------------------------------------------------------------------
    def routes(self) -> Sequence[web.RouteDef]:
        return [web.post(WEBHOOK_PATH, self._webhook)] if self.webhook_url else []

    async def start(self) -> None:
        if not self.webhook_url and not await self.store.lead("telegram-polling"):
            # Telegram answers two pollers with Conflict, each taking the other's updates.
            raise BotError("telegram polling refused: another instance already polls with this database; "
                           "run several instances with the webhook (PUBLIC_BASE_URL)")
        await self.bot.initialize()   # getMe: fails early on a wrong token
        self._username = self.bot.username
        await self._set_commands()
        if self.webhook_url:
            await self.bot.set_webhook(url=self.webhook_url, secret_token=self.secret,
                                       allowed_updates=ALLOWED_UPDATES)
            log.info("telegram webhook registered path=%s", WEBHOOK_PATH)
        else:
            await self.bot.delete_webhook()   # getUpdates does not work while a webhook is set
            self._poller = asyncio.create_task(self._poll())
            log.info("telegram polling started")
        await self._resume()

    async def _resume(self) -> None:
        """Updates kept but not handled when the last process stopped (or died) are handled now."""
        pending = await self.store.inbox_pending(limit=100_000)
        chats = list(dict.fromkeys(chat for _, chat, _ in pending))
        if pending:
            log.info("telegram inbox resumed updates=%d chats=%d", len(pending), len(chats))
        for chat in chats:
            self._wake(chat)

    async def stop(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
            self._poller = None
        await self.drain()
        if self._offset is not None:
            # Confirm what was handled, so a restart does not fetch it again.
            with contextlib.suppress(TelegramError):
                await self.bot.get_updates(offset=self._offset, timeout=0, limit=1)
        await self.bot.shutdown()

    def use_outbox(self, outbox: Outbox | None) -> None:
        self.outbox = outbox

    async def drain(self) -> None:
        """Wait until every update received so far has been handled."""
        while self._workers:
            await asyncio.gather(*list(self._workers.values()), return_exceptions=True)

    async def _set_commands(self) -> None:
        msg = self.dialogue.msg
        try:
            await self.bot.set_my_commands(
                [BotCommand(c, msg(f"tg_cmd_{c}")) for c in VILLAGER_COMMANDS],
                scope=BotCommandScopeDefault())
            await self.bot.set_my_commands(
                [BotCommand(c, msg(f"tg_cmd_{c}")) for c in OFFICER_COMMANDS],
                scope=BotCommandScopeAllGroupChats())
        except TelegramError as exc:
            log.warning("telegram commands not registered reason=%s", exc.__class__.__name__)

    # Receiving -------------------------------------------------------------------------------
    async def _poll(self) -> None:
        delay = 1.0
        while True:
            try:
                updates = await self.bot.get_updates(offset=self._offset, timeout=self.poll_timeout,
                                                     allowed_updates=ALLOWED_UPDATES)
            except InvalidToken:
                log.error("telegram polling stopped: the token was rejected")
                return
            except TelegramError as exc:
                if isinstance(exc, Conflict):
                    log.warning("telegram polling conflict: another instance uses this token")
                else:
                    log.warning("telegram getUpdates failed reason=%s", exc.__class__.__name__)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 60.0)
                continue
            delay = 1.0
            if not updates:
                continue
            if not await self._keep(updates, [json.dumps(u.to_dict(), ensure_ascii=False) for u in updates]):
                await asyncio.sleep(1.0)   # the offset stays: the same updates are fetched again
                continue
            # Confirmed with the next getUpdates, now that they are kept.
            self._offset = updates[-1].update_id + 1

    async def _webhook(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.secret.encode()):
            log.warning("telegram webhook refused: wrong or missing secret token")
            return web.Response(status=403)
        body = await request.text()
        try:
            data = json.loads(body)
        except ValueError:
            return web.Response(status=400)
        if not isinstance(data, dict):
            return web.Response(status=400)
        try:
            update = Update.de_json(data, self.bot)
        except Exception as exc:   # an update PTB cannot read: retrying would not help
            log.warning("telegram update unreadable update_id=%s reason=%s",
                        data.get("update_id"), exc.__class__.__name__)
            return web.Response()
        if not isinstance(update.update_id, int) or not 0 <= update.update_id < 2 ** 63:
            log.warning("telegram update unreadable: update_id is not a number")
            return web.Response()
        if not await self._keep([update], [body]):
            return web.Response(status=503)   # not kept: Telegram delivers it again
        return web.Response()   # kept: handled in the background, in order for its chat

    @staticmethod
    def _chat_key(update: Update) -> str:
        chat = update.effective_chat
        return str(chat.id) if chat else f"update:{update.update_id}"

    async def _keep(self, updates: Sequence[Update], bodies: Sequence[str]) -> bool:
        """Write updates to the inbox (one transaction) and wake their chats' workers."""
        rows = [(f"{Channel.TELEGRAM.value}:{u.update_id}", u.update_id, self._chat_key(u), body)
                for u, body in zip(updates, bodies, strict=True)]
        try:
            chats = await self.store.inbox_add(rows, self.dialogue.clock())
        except (StoreError, sqlite3.Error) as exc:
            log.error("telegram updates not kept first_update_id=%d count=%d error=%s",
                      updates[0].update_id, len(updates), exc.__class__.__name__)
            return False
        for chat in dict.fromkeys(chats):
            self._wake(chat)
        return True

    def _wake(self, chat: str) -> None:
        """Make sure the chat's worker looks at its inbox rows again."""
        self._dirty.add(chat)
        if chat in self._workers:
            return
        task = asyncio.create_task(self._work(chat))
        self._workers[chat] = task

        def done(finished: asyncio.Task[None]) -> None:
            if self._workers.get(chat) is finished:
                del self._workers[chat]

        task.add_done_callback(done)

    async def _work(self, chat: str) -> None:
        """Handle one chat's unhandled updates in order, until none are left."""
        while chat in self._dirty:
            self._dirty.discard(chat)   # before reading: a row kept meanwhile makes another round
            try:
                rows = await self.store.inbox_pending(chat)
            except (StoreError, sqlite3.Error) as exc:
                log.error("telegram inbox not read error=%s: trying again shortly", exc.__class__.__name__)
                asyncio.get_running_loop().call_later(5.0, self._wake, chat)
                return
            for key, _, body in rows:
                await self._handle_kept(key, body)

    async def _handle_kept(self, key: str, body: str) -> None:
        update_id = key.partition(":")[2]
        try:
            update = Update.de_json(json.loads(body), self.bot)
            await self.handle_update(update)
        except Exception as exc:
            # Only the id: the exception may quote what the person wrote.
            log.error("telegram update failed update_id=%s error=%s", update_id, exc.__class__.__name__)
            log.debug("telegram update failed update_id=%s", update_id, exc_info=True)
        try:
            # A turn of the core marked it done already, with its result; anything else is done now.
            await self.store.inbox_done(key, self.dialogue.clock())
        except (StoreError, sqlite3.Error) as exc:
            # Left in the inbox: handled again with the chat's next update or at the next start,
            # where the core recognises a turn already written.
            log.error("telegram update not marked done update_id=%s error=%s", update_id,
                      exc.__class__.__name__)

    async def handle_update(self, update: Update) -> None:
        if update.callback_query is not None:
            await self._on_callback(update.update_id, update.callback_query)
        elif update.message is not None:
            await self._on_message(update.update_id, update.message)
        elif update.my_chat_member is not None:
            chat = update.my_chat_member.chat
            if chat.type != ChatType.PRIVATE:
                # The chat id an office puts in config (alerts.telegram_chat_ids).
                log.info("telegram bot membership changed chat_id=%d status=%s", chat.id,
                         update.my_chat_member.new_chat_member.status)
        else:
            # Edited messages, channel posts and the like: ignored on purpose.
            log.debug("telegram update ignored update_id=%d", update.update_id)

    def _text_of(self, message: Message) -> str | None:
        """The message's text or caption; None for a command addressed to another bot."""
        text = message.text or message.caption or ""
        if not text.startswith("/"):
            return text
        first, sep, rest = text.partition(" ")
        command, _, target = first.partition("@")
        if target and target.lower() != self._username.lower():
            return None
        if command.lower() == "/start":
            return "/start"   # a deep-link parameter means nothing here
        return f"{command}{sep}{rest}"

    @staticmethod
    def _media_of(message: Message) -> tuple[Media, ...]:
        if message.photo:
            return (Media(message.photo[-1].file_id, "image/jpeg"),)   # the largest size
        if message.document:
            return (Media(message.document.file_id, message.document.mime_type or ""),)
        if message.voice:
            return (Media(message.voice.file_id, message.voice.mime_type or "audio/ogg"),)
        if message.audio:
            return (Media(message.audio.file_id, message.audio.mime_type or "audio/mpeg"),)
        return ()

    async def _on_message(self, update_id: int, message: Message) -> None:
        user = message.from_user
        if user is None or user.is_bot:
            return
        text = self._text_of(message)
        if text is None:
            return
        if not text and message.effective_attachment is None:
            return   # a service message (pinned, member joined, ...)
        sender = Sender(Channel.TELEGRAM, str(user.id))
        media = self._media_of(message)
        if message.chat.type != ChatType.PRIVATE:
            # In a group only officers' commands matter (and the text an officer was asked for).
            if not text or not await self._officer_command(sender, text):
                return
            media = ()
        # Stickers and the like arrive as "" and get the core's no_text answer.
        await self._core(IncomingMessage(sender, text, str(update_id), None, media),
                         self._reply_chat(sender, message.chat_id, message.chat.type))

    def _reply_chat(self, sender: Sender, chat_id: int, chat_type: str) -> int:
        """Where an officer's answer may be shown: their office's own group, else their private chat.

        A regional officer reading another office's case in a village office's group must not
        show it to that group.
        """
        if chat_type == ChatType.PRIVATE:
            return chat_id
        who = self.dialogue.routing.officer(sender)
        if who is None:
            return chat_id
        settings = self.dialogue.settings
        office = settings.regional_office if who.regional else settings.office(who.office_id)
        if office is not None and chat_id in office.telegram_chat_ids:
            return chat_id
        return int(sender.user_id)

    async def _officer_command(self, sender: Sender, text: str) -> bool:
        if self.dialogue.routing.officer(sender) is None:
            return False
        if parse_command(text, None) is not None:
            return True
        return (await self.store.conversation(sender)).state in ("officer_pending", "officer_close_confirm")

    async def _on_callback(self, update_id: int, query: CallbackQuery) -> None:
        message = query.message
        if message is None or not query.data:
            await self._answer(query)
            return
        sender = Sender(Channel.TELEGRAM, str(query.from_user.id))
        in_group = message.chat.type != ChatType.PRIVATE
        officer = self.dialogue.routing.officer(sender) is not None
        if in_group and not officer:
            if not query.data.startswith("case:"):
                await self._answer(query)
                return
            # The core refuses; only the person who pressed sees why, and nothing changes.
            replies = await self._core(IncomingMessage(sender, "", str(update_id), query.data), None)
            await self._answer(query, markup.to_plain(replies[0].text) if replies else None)
            return
        await self._answer(query)   # stop the button spinning before the work
        await self._core(IncomingMessage(sender, "", str(update_id), query.data), message.chat.id)

    async def _answer(self, query: CallbackQuery, text: str | None = None) -> None:
        try:
            await self.bot.answer_callback_query(
                query.id, text=text[:200] if text else None, show_alert=bool(text), rate_limit_args=2)
        except TelegramError as exc:   # e.g. "query is too old" after a long outage
            log.warning("telegram answerCallbackQuery failed reason=%s", exc.__class__.__name__)

    async def _core(self, incoming: IncomingMessage, reply_chat: int | None) -> list[Reply]:
        """Call the core; its replies go to `reply_chat` through the outbox (None: only returned).

        A database failure gets the apology, sent directly: the outbox is in that database.
        """
        reply_to = Sender(Channel.TELEGRAM, str(reply_chat)) if reply_chat is not None else None
        try:
            replies = await self._core_unguarded(incoming, reply_to)
        except (StoreError, sqlite3.Error) as exc:
            log.error("telegram update not processed update=%s error=%s", incoming.message_id,
                      exc.__class__.__name__)
            apology = [Reply(self.dialogue.msg("error_apology"))]
            if reply_chat is not None:
                await self._reply(reply_chat, apology)
            return apology
        if reply_to is not None and self.outbox is not None:
            try:
                await self.outbox.deliver_to(reply_to)
            except (StoreError, sqlite3.Error) as exc:   # written: the outbox's next pass sends them
                log.error("telegram replies not sent yet update=%s error=%s", incoming.message_id,
                          exc.__class__.__name__)
        return replies

    async def _core_unguarded(self, incoming: IncomingMessage, reply_to: Sender | None) -> list[Reply]:
        """Call the core; after an officer's successful case step, update that case's alerts."""
        case_no = None
        before = 0
        if self.dialogue.routing.officer(incoming.sender) is not None:
            command = parse_command(incoming.text, incoming.payload)
            if command is not None:
                case_no = command.case_no
            else:
                conv = await self.store.conversation(incoming.sender)
                if conv.state in ("officer_pending", "officer_close_confirm"):
                    case_no = conv.data.get("case_no")
            report = await self.store.report_by_case(case_no) if case_no else None
            if report is not None:
                before = len(await self.store.case_events(report.id))
            else:
                case_no = None
        replies = await self.dialogue.handle(incoming, reply_to=reply_to)
        if case_no:
            report = await self.store.report_by_case(case_no)
            if report is not None and len(await self.store.case_events(report.id)) > before:
                await self.update_alerts(case_no)
        return replies

    async def _reply(self, chat_id: int, replies: Sequence[Reply]) -> None:
        for reply in replies:
            try:
                await self._send(chat_id, reply.text, reply.options, rate_limit_args=2)
            except TelegramError as exc:
                log.warning("telegram reply not sent chat=%s reason=%s",
                            log_id(Sender(Channel.TELEGRAM, str(chat_id))), exc.__class__.__name__)
                return

    # Sending ---------------------------------------------------------------------------------
    async def _send(self, chat_id: int, text: str, options: Sequence[Option],
                    rate_limit_args: int | None = None) -> list[Message]:
        text, reply_markup = keyboard(text, options)
        parts = markup.split_paragraphs(text, MessageLimit.MAX_TEXT_LENGTH)
        sent = []
        for i, part in enumerate(parts):
            sent.append(await self.bot.send_message(
                chat_id, markup.to_telegram_html(part), parse_mode=ParseMode.HTML,
                link_preview_options=_NO_PREVIEW,
                reply_markup=reply_markup if i == len(parts) - 1 else None,
                rate_limit_args=rate_limit_args))
        return sent

    async def deliver(self, item: Outgoing) -> str | None:
        """The outbox's deliverer: returns "<chat_id>:<message_id>" of the message with the buttons."""
        try:
            chat_id = int(item.recipient.user_id)
        except ValueError:
            raise DeliveryError("not a Telegram chat id", permanent=True) from None
        try:
            try:
                sent = await self._send(chat_id, item.text, item.options)
            except ChatMigrated as exc:
                log.warning("telegram group became a supergroup chat_id=%d new_chat_id=%d: "
                            "update alerts.telegram_chat_ids in config", chat_id, exc.new_chat_id)
                chat_id = exc.new_chat_id
                sent = await self._send(chat_id, item.text, item.options)
        except RetryAfter as exc:
            raise DeliveryError("telegram flood control", retry_after=retry_seconds(exc)) from None
        except Forbidden:
            raise DeliveryError("telegram forbidden: the bot was blocked or removed",
                                permanent=True) from None
        except BadRequest as exc:   # chat not found, bad markup: retrying cannot help
            raise DeliveryError(f"telegram bad request: {exc.message[:120]}", permanent=True) from None
        except TelegramError as exc:   # network trouble, 5xx, time-outs: the outbox retries
            # A time-out or a broken connection may come after Telegram sent the message.
            raise DeliveryError(f"telegram {exc.__class__.__name__}",
                                uncertain=isinstance(exc, TimedOut | NetworkError)) from None
        provider_id = f"{chat_id}:{sent[-1].message_id}"
        if item.kind == "alert":
            await self._send_attachments(chat_id, item, sent[-1].message_id)
        return provider_id

    async def _send_attachments(self, chat_id: int, item: Outgoing, alert_message_id: int) -> None:
        """The report's photos and documents follow the alert, as replies to it (best effort)."""
        case_no = normalize_case_no(" ".join(o.payload for o in item.options))
        report = await self.store.report_by_case(case_no) if case_no else None
        if report is None or not report.media:
            return
        caption = self.dialogue.msg("tg_alert_media", case_no=report.case_no)
        where = ReplyParameters(alert_message_id, allow_sending_without_reply=True)
        for stored in report.media:
            voice, ref = stored_media(stored)
            try:
                if voice:
                    await self.bot.send_voice(chat_id, ref, caption=caption, reply_parameters=where,
                                              rate_limit_args=2)
                    continue
                try:
                    await self.bot.send_photo(chat_id, ref, caption=caption, reply_parameters=where,
                                              rate_limit_args=2)
                except BadRequest:   # a document's file_id is not a photo
                    await self.bot.send_document(chat_id, ref, caption=caption, reply_parameters=where,
                                                 rate_limit_args=2)
            except TelegramError as exc:
                log.warning("telegram alert attachment not sent case=%s reason=%s",
                            report.case_no, exc.__class__.__name__)

    async def update_alerts(self, case_no: str) -> None:
        """Edit a case's alerts to show its status and who did what, when."""
        report = await self.store.report_by_case(case_no)
        if report is None:
            return
        msg = self.dialogue.msg
        casework = self.dialogue.casework
        names = [n for n in (report.recruiter_name, report.recruiter_company) if n]
        related = [r for r in await self.store.related_reports(report.recruiter_phone, names,
                                                               exclude_id=report.id) if r.id < report.id]
        lines = [casework.alert_text(report, report.case_no, related), "",
                 msg("tg_alert_status", status=msg(f"status_{report.status}"))]
        for event in (await self.store.case_events(report.id))[-MAX_HISTORY:]:
            at = event.at.astimezone(WIB).strftime("%d-%m-%Y %H:%M")
            key = f"tg_alert_event_{event.kind}"
            values: dict[str, str] = {"at": at, "actor": event.actor, "text": event.text}
            lines.append(msg(key, **values) if key in self.dialogue.content.messages
                         else msg("officer_event_line", kind=event.kind, **values))
        options = casework.buttons(report.case_no) if report.status != "ditutup" else ()
        text, reply_markup = keyboard("\n".join(lines), options)
        html = markup.to_telegram_html(markup.split_paragraphs(text, MessageLimit.MAX_TEXT_LENGTH)[0])
        for recipient, provider_id in await self.store.sent_alerts(report.id):
            chat, _, message_id = provider_id.partition(":")
            if recipient.channel is not Channel.TELEGRAM or not message_id.isdigit():
                continue
            try:
                await self.bot.edit_message_text(html, chat_id=int(chat), message_id=int(message_id),
                                                 parse_mode=ParseMode.HTML, reply_markup=reply_markup,
                                                 link_preview_options=_NO_PREVIEW, rate_limit_args=2)
            except BadRequest as exc:
                if "not modified" not in exc.message.lower():
                    log.warning("telegram alert not edited case=%s reason=%s", case_no, exc.message[:80])
            except TelegramError as exc:
                log.warning("telegram alert not edited case=%s reason=%s", case_no,
                            exc.__class__.__name__)

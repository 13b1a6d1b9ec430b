"""WhatsApp through Twilio: the signed webhook, TwiML replies, and outbox delivery by the REST API.

Four steps per webhook, like every adapter: verify (X-Twilio-Signature against the configured
public URL), parse (the form into an IncomingMessage), call the core, render (numbered options,
*bold*, <= 1600 characters per <Message>). Nothing slow runs before the response: alerts and
status updates go through the outbox, which calls `deliver` here. Logs carry MessageSids and
case numbers, never bodies or phone numbers.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hmac
import json
import logging
import re
import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

import aiohttp
from aiohttp import web
from twilio.base.exceptions import TwilioException  # type: ignore[import-untyped]
from twilio.http.async_http_client import AsyncTwilioHttpClient  # type: ignore[import-untyped]
from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]
from twilio.rest import Client  # type: ignore[import-untyped]

from bot import markup
from bot.casework import normalize_case_no
from bot.config import Settings
from bot.conversation import Dialogue, log_id
from bot.errors import ConfigError, StoreError
from bot.models import Channel, IncomingMessage, Media, Outgoing, Reply, Sender, stored_media
from bot.outbox import DeliveryError
from bot.store import Report, Store, TurnEnd

log = logging.getLogger(__name__)

MAX_BODY = 1600                    # Twilio's limit for one WhatsApp message body
MAX_MEDIA = 10                     # Twilio sends at most 10 media per message
REST_TIMEOUT = 10.0                # seconds for one REST call (the client's own timeout is ignored, #925)
# WhatsApp's customer-service window is 24 hours after the recipient last wrote; keep a margin
# so a message queued just before it closes is not refused on arrival.
WINDOW = dt.timedelta(hours=24) - dt.timedelta(minutes=10)
OUTSIDE_WINDOW = 63016             # "Failed to send freeform message because you are outside the allowed window"
# Error codes after which sending the same message again cannot succeed.
PERMANENT_CODES = frozenset({
    21211,   # invalid 'To' number
    21610,   # the recipient unsubscribed
    21614,   # 'To' is not a valid mobile number
    21656,   # invalid ContentVariables
    63003,   # the channel could not find the 'To' address
    63024,   # invalid message recipient
})
MAX_STATUS_RETRIES = 5             # resends caused by "failed"/"undelivered" callbacks, per message
_STOP_WORDS = frozenset({"stop", "berhenti"})
_RESUME_WORDS = frozenset({"mulai"})


class _TwilioHttp(AsyncTwilioHttpClient):  # type: ignore[misc]
    """Twilio's aiohttp client with a timeout on every request, optionally aimed at another host.

    `base_url` (TWILIO_API_BASE_URL) replaces scheme and host of every API URL, keeping the path,
    so tests and independent checks can run against a fake Twilio API on loopback.
    """

    def __init__(self, base_url: str | None, timeout: float) -> None:
        super().__init__(timeout=timeout)
        self.base_url = base_url.rstrip("/") if base_url else None

    async def request(self, method: str, url: str, params: Any = None, data: Any = None,
                      headers: Any = None, auth: Any = None, timeout: float | None = None,  # noqa: ASYNC109 (twilio's signature)
                      allow_redirects: bool = False) -> Any:
        if self.base_url:
            parts = urlsplit(url)
            url = self.base_url + parts.path + (f"?{parts.query}" if parts.query else "")
        if auth is not None:
            # Sent as a header: twilio would build aiohttp.BasicAuth, deprecated since aiohttp 3.14.
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode("ascii")
            headers = {**(headers or {}), "Authorization": f"Basic {token}"}
        return await super().request(method, url, params=params, data=data, headers=headers, auth=None,
                                     timeout=timeout or self.timeout, allow_redirects=allow_redirects)


def render_text(reply: Reply | Outgoing) -> str:
    """A reply in WhatsApp's markup, its options as a numbered list ("2" picks the second)."""
    text = markup.to_whatsapp(reply.text)
    if reply.options:
        text += "\n\n" + markup.numbered([o.label for o in reply.options])
    return text


_XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'
# Characters XML 1.0 forbids: a villager's text echoed back must not break the TwiML.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def twiml(replies: Sequence[Reply]) -> str:
    """The webhook's answer: one <Message> per part; an empty <Response/> sends nothing.

    The same document twilio's MessagingResponse writes (tests/test_whatsapp.py compares them),
    without building an ElementTree for it: that was a tenth of a webhook's time.
    """
    parts = [f"<Message>{escape(part)}</Message>" for reply in replies
             for part in markup.split_paragraphs(_NOT_XML.sub("", render_text(reply)), MAX_BODY)
             if part.strip()]
    return f"{_XML_DECLARATION}<Response>{''.join(parts)}</Response>" if parts \
        else f"{_XML_DECLARATION}<Response />"


def _xml(body: str, status: int = 200) -> web.Response:
    return web.Response(text=body, status=status, content_type="application/xml")


class WhatsAppChannel:
    """The WhatsApp channel on the shared aiohttp server, and the outbox's deliverer for it."""

    channel = Channel.WHATSAPP

    def __init__(self, settings: Settings, dialogue: Dialogue, store: Store, *,
                 rest_timeout: float = REST_TIMEOUT) -> None:
        secrets = settings.secrets
        problems = [f"{env}: missing" for env, value in (
            ("TWILIO_ACCOUNT_SID", secrets.twilio_account_sid),
            ("TWILIO_AUTH_TOKEN", secrets.twilio_auth_token),
            ("TWILIO_WHATSAPP_FROM", secrets.twilio_whatsapp_from)) if not value]
        if secrets.twilio_whatsapp_from and not secrets.twilio_whatsapp_from.startswith("whatsapp:+"):
            problems.append("TWILIO_WHATSAPP_FROM: must look like whatsapp:+14155238886")
        if settings.whatsapp.verify_signature and not secrets.public_base_url:
            problems.append("PUBLIC_BASE_URL: missing (Twilio's signature is checked against "
                            "PUBLIC_BASE_URL + /whatsapp)")
        if problems:
            raise ConfigError(problems)
        self.settings = settings
        self.dialogue = dialogue
        self.store = store
        self.account_sid = str(secrets.twilio_account_sid)
        self.auth_token = str(secrets.twilio_auth_token)
        self.sender_id = str(secrets.twilio_whatsapp_from)
        self.public_base = (secrets.public_base_url or "").rstrip("/")
        self.validator = RequestValidator(self.auth_token)
        self.rest_timeout = rest_timeout
        self._http: _TwilioHttp | None = None
        self._client: Any = None
        # Numbers Twilio told us are outside the window (63016) although we thought otherwise:
        # free text is not tried again until they write after that moment.
        self._closed: dict[str, dt.datetime] = {}

    # ChannelRuntime ------------------------------------------------------------------------------
    def routes(self) -> Sequence[web.RouteDef]:
        return [web.post("/whatsapp", self.inbound), web.post("/whatsapp/status", self.status_callback)]

    async def start(self) -> None:
        if not self.settings.whatsapp.verify_signature:
            log.warning("!!! WHATSAPP SIGNATURE CHECK IS OFF (whatsapp.verify_signature: false): anyone "
                        "can post to /whatsapp and speak as any number. Development only, never production. !!!")
        self._rest()
        log.info("whatsapp channel ready webhook=%s/whatsapp", self.public_base or "<no PUBLIC_BASE_URL>")

    async def stop(self) -> None:
        if self._http is not None:
            await self._http.close()
        self._http = None
        self._client = None

    def _rest(self) -> Any:
        """The REST client, made inside the running loop (its aiohttp session needs one)."""
        if self._client is None:
            self._http = _TwilioHttp(self.settings.secrets.twilio_api_base_url, self.rest_timeout)
            self._client = Client(self.account_sid, self.auth_token, http_client=self._http)
        return self._client

    # Verify --------------------------------------------------------------------------------------
    def _signed(self, request: web.Request, form: Mapping[str, Any]) -> bool:
        if not self.settings.whatsapp.verify_signature:
            return True
        signature = request.headers.get("X-Twilio-Signature", "")
        if not signature:
            return False
        # The URL Twilio called, from configuration: behind a proxy request.url is not it.
        url = self.public_base + request.path_qs
        # One HMAC for the address as configured, which is what Twilio signs; only when that
        # fails, the library's full check (the address with and without a port: two more).
        expected = str(self.validator.compute_signature(url, form))
        if hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
            return True
        return bool(self.validator.validate(url, form, signature))

    # Inbound -------------------------------------------------------------------------------------
    async def inbound(self, request: web.Request) -> web.Response:
        form = await request.post()
        if not self._signed(request, form):
            log.warning("whatsapp webhook refused: bad or missing signature message=%s",
                        str(form.get("MessageSid", "-"))[:40])
            return web.Response(status=403, text="invalid signature")
        message = self.parse(form)
        if message is None:
            return web.Response(status=400, text="not a WhatsApp message (From, MessageSid)")
        try:
            replies = await self._converse(message)
        except (StoreError, sqlite3.Error) as exc:
            # The database is locked or broken: tell the person, keep the details out of the reply.
            log.error("whatsapp message not handled message=%s error=%s", message.message_id,
                      exc.__class__.__name__)
            replies = [Reply(self.dialogue.msg("error_apology"))]
        if log.isEnabledFor(logging.DEBUG):   # a hash per message otherwise, for a line nobody reads
            log.debug("whatsapp inbound message=%s sender=%s media=%d replies=%d", message.message_id,
                      log_id(message.sender), len(message.media), len(replies))
        return _xml(twiml(replies))

    def parse(self, form: Mapping[str, Any]) -> IncomingMessage | None:
        """The form Twilio posts, as the core's message; None when it is not a WhatsApp message."""
        sender_id = str(form.get("From", ""))
        message_id = str(form.get("MessageSid", "")).strip()
        if not message_id or not sender_id.startswith("whatsapp:+"):
            return None
        try:
            count = max(0, min(MAX_MEDIA, int(str(form.get("NumMedia", "0")) or "0")))
        except ValueError:
            return None
        media = tuple(Media(str(form[f"MediaUrl{i}"]), str(form.get(f"MediaContentType{i}", "")))
                      for i in range(count) if form.get(f"MediaUrl{i}"))
        text = str(form.get("Body", "") or form.get("ButtonText", "") or "")
        location = self._location(form)
        if location:
            text = f"{text}\n{location}" if text.strip() else location
        payload = str(form.get("ButtonPayload", "")) or None
        return IncomingMessage(Sender(Channel.WHATSAPP, sender_id), text, message_id, payload, media,
                               self.dialogue.clock())

    def _location(self, form: Mapping[str, Any]) -> str | None:
        lat, lng = str(form.get("Latitude", "")), str(form.get("Longitude", ""))
        try:
            float(lat)
            float(lng)
        except ValueError:
            return None
        text = self.dialogue.msg("wa_location", lat=lat, lng=lng)
        extra = ", ".join(str(form[k]) for k in ("Label", "Address") if form.get(k))
        return f"{text} ({extra})" if extra else text

    async def _converse(self, message: IncomingMessage) -> list[Reply]:
        word = message.text.strip().lower().rstrip(".!")
        sender = message.sender
        if word in _STOP_WORDS and not message.payload:
            # Handled here, not by the core, but recorded the way the core records a message.
            now = self.dialogue.clock()
            start = await self.store.begin_turn(sender, message.key, now)
            replies = [Reply(self.dialogue.msg("wa_opted_out"))]
            if start is None or (await self.store.end_turn(sender, TurnEnd(
                    start.profile.village_id, None, profile=False, message_key=message.key,
                    kept_replies=replies, opted_out=True), now)).duplicate:
                return await self.store.kept_replies(message.key or "")
            log.info("whatsapp opt-out sender=%s", log_id(sender))
            return replies
        # The replies are kept with the MessageSid: Twilio retrying a webhook whose answer it
        # never got (a connection override, README) gets the same answer, not a second turn.
        replies = await self.dialogue.handle(message, keep=True)
        if word in _RESUME_WORDS and replies and await self.store.opted_out(sender):
            await self.store.set_opted_out(sender, False, self.dialogue.clock())
            log.info("whatsapp opt-in sender=%s", log_id(sender))
            replies = [Reply(self.dialogue.msg("wa_opted_in")), *replies]
        return replies

    # Status callbacks ----------------------------------------------------------------------------
    async def status_callback(self, request: web.Request) -> web.Response:
        form = await request.post()
        if not self._signed(request, form):
            log.warning("whatsapp status callback refused: bad or missing signature")
            return web.Response(status=403, text="invalid signature")
        provider_id = str(form.get("MessageSid", ""))
        status = str(form.get("MessageStatus", ""))
        if not provider_id or not status:
            return web.Response(status=400, text="MessageSid and MessageStatus are required")
        code_text = str(form.get("ErrorCode", "") or "")
        code = int(code_text) if code_text.isdigit() else None
        now = self.dialogue.clock()
        failed = status in ("failed", "undelivered")
        error = f"twilio {status} {code_text}".strip() if failed else None
        item_id = await self.store.outbox_provider_status(provider_id, status, error, False, now)
        if item_id is not None and failed:
            if code == OUTSIDE_WINDOW and str(form.get("To", "")).startswith("whatsapp:+"):
                self._closed[str(form["To"])] = now   # the next try goes as a template
            item = await self.store.outbox_item(item_id)
            attempts = int(item["attempts"]) if item else MAX_STATUS_RETRIES
            if code not in PERMANENT_CODES and attempts < MAX_STATUS_RETRIES:
                await self.store.outbox_provider_status(provider_id, status, error, True, now)
                log.warning("whatsapp message failed, resending outbox=%d message=%s code=%s",
                            item_id, provider_id, code_text or "-")
            else:
                log.warning("whatsapp message failed for good outbox=%d message=%s code=%s",
                            item_id, provider_id, code_text or "-")
        else:
            log.info("whatsapp status message=%s status=%s known=%s", provider_id, status, item_id is not None)
        return web.Response(status=204)

    # Outbound (the outbox's deliverer) ----------------------------------------------------------------
    async def deliver(self, item: Outgoing) -> str | None:
        recipient = item.recipient.user_id
        if not recipient.startswith("whatsapp:+"):
            raise DeliveryError("not a WhatsApp number", permanent=True)
        now = self.dialogue.clock()
        if await self._window_open(item.recipient, now):
            try:
                return await self._send_text(item)
            except DeliveryError as exc:
                if not str(exc.reason).startswith(f"twilio {OUTSIDE_WINDOW}"):
                    raise
                self._closed[recipient] = now   # never again as free text until they write
        return await self._send_template(item)

    async def _window_open(self, recipient: Sender, now: dt.datetime) -> bool:
        last = await self.store.last_inbound(recipient)
        if last is None or now - last >= WINDOW:
            return False
        closed = self._closed.get(recipient.user_id)
        return closed is None or last > closed

    async def _send_text(self, item: Outgoing) -> str | None:
        text = render_text(item)
        if item.kind in ("alert", "reminder"):
            links = await self._media_links(item)
            if links:
                text += "\n\n" + self.dialogue.msg("wa_alert_media", links=links)
        first: str | None = None
        for part in markup.split_paragraphs(text, MAX_BODY):
            sid = await self._create(item, body=part)
            first = first or sid
        return first

    async def _send_template(self, item: Outgoing) -> str | None:
        if item.kind == "digest":
            # No template carries a digest, and tomorrow's replaces it: dropped, not retried.
            raise DeliveryError("a digest outside the 24-hour WhatsApp window", permanent=True)
        templates = self.settings.whatsapp
        key = {"status": "status_template_sid", "broadcast": "broadcast_template_sid"}.get(
            item.kind, "alert_template_sid")
        content_sid = getattr(templates, key)
        if not content_sid:
            raise DeliveryError(f"outside the 24-hour WhatsApp window and no approved template "
                                f"(whatsapp.{key}) is configured; waiting for the recipient to write")
        if item.kind == "broadcast":
            office, _, text = item.text.partition("\n\n")
            return await self._create(item, content_sid=content_sid, content_variables=json.dumps(
                {"1": markup.to_plain(office)[:100], "2": markup.to_plain(text)[:900]}, ensure_ascii=False))
        report = await self._report(item)
        case_no = report.case_no if report else self._case_in(item.text) or "-"
        variables: dict[str, str] = {"1": case_no}
        if item.kind != "status":
            village = self.dialogue.routing.village(report.village_id) if report else None
            place = (report.place or {}) if report else {}
            variables["2"] = village.name if village else str(place.get("name") or "-")
            variables["3"] = self.dialogue.msg(f"risk_{report.risk}") if report else "-"
        return await self._create(item, content_sid=content_sid,
                                  content_variables=json.dumps(variables, ensure_ascii=False))

    async def _create(self, item: Outgoing, **content: str) -> str | None:
        kwargs: dict[str, Any] = {"to": item.recipient.user_id, "from_": self.sender_id, **content}
        if self.public_base:
            kwargs["status_callback"] = f"{self.public_base}/whatsapp/status"
        try:
            async with asyncio.timeout(self.rest_timeout):
                message = await self._rest().messages.create_async(**kwargs)
        except TimeoutError:
            raise DeliveryError(f"Twilio API did not answer within {self.rest_timeout:g}s",
                                uncertain=True) from None
        except TwilioException as exc:
            status = int(getattr(exc, "status", 0) or 0)
            code = getattr(exc, "code", None)
            # Only errors that no retry can fix are permanent; anything else is tried again later
            # (outbox backoff, about a day), since a lost alert is worse than a late one.
            raise DeliveryError(f"twilio {code or '-'} http {status}",
                                permanent=code in PERMANENT_CODES) from None
        except (aiohttp.ClientError, OSError) as exc:
            # Refused before the request went out: not sent. Broken afterwards: perhaps created.
            raise DeliveryError(f"Twilio API unreachable ({exc.__class__.__name__})",
                                uncertain=not isinstance(exc, aiohttp.ClientConnectorError)) from None
        sid = str(message.sid) if message.sid else None
        log.info("whatsapp sent message=%s kind=%s report=%s template=%s", sid, item.kind, item.report_id,
                 "content_sid" in content)
        return sid

    async def find_sent(self, item: Outgoing, since: dt.datetime) -> str | None:
        """After an attempt whose outcome is unknown: the SID of the message it created, if any.

        Twilio's Messages list, filtered by To and From, newest first. Not filtered by DateSent:
        that filter is by day, and a message still queued has no date_sent yet; the time is
        checked here on date_created instead (with a minute for clocks that disagree). A text
        matches on its first part's body; a case's alert or status update, which may have gone as
        a template, also on its case number near the start. Raises DeliveryError when Twilio cannot be asked now.
        """
        text = render_text(item)
        first = markup.split_paragraphs(text, MAX_BODY)[0] if text else ""
        case_no = self._case_in(item.text)
        earliest = since - dt.timedelta(minutes=1)
        try:
            async with asyncio.timeout(self.rest_timeout):
                messages = await self._rest().messages.list_async(
                    to=item.recipient.user_id, from_=self.sender_id, page_size=50, limit=50)
        except TimeoutError:
            raise DeliveryError("Twilio API did not answer the Messages list") from None
        except TwilioException as exc:
            raise DeliveryError(f"twilio {getattr(exc, 'code', None) or '-'} listing messages") from None
        except (aiohttp.ClientError, OSError) as exc:
            raise DeliveryError(f"Twilio API unreachable ({exc.__class__.__name__})") from None
        for message in messages:
            created = message.date_created
            if created is None or created < earliest or message.direction == "inbound":
                continue
            body = str(message.body or "")
            # A case's own messages name it at the start (later, an alert names related cases).
            if body.strip() == first.strip() or (case_no is not None and case_no in body[:80]):
                return str(message.sid)
        return None

    async def _report(self, item: Outgoing) -> Report | None:
        case_no = self._case_in(item.text)
        report = await self.store.report_by_case(case_no) if case_no else None
        if report is None or (item.report_id is not None and report.id != item.report_id):
            return None
        return report

    @staticmethod
    def _case_in(text: str) -> str | None:
        return normalize_case_no(markup.to_plain(text))

    async def _media_links(self, item: Outgoing) -> str:
        report = await self._report(item)
        if report is None:
            return ""
        refs = [stored_media(stored)[1] for stored in report.media]
        return "\n".join(ref for ref in refs if ref.startswith("https://"))


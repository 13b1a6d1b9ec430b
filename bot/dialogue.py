"""The conversation: one incoming message in, replies out, all state in the store.

Channel-independent: it imports no channel library and returns replies as values. Options
are payloads; a typed number picks the option of that number in the last reply, so "2" and a
tap on the second button mean the same.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import hashlib
import logging
import re
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot import stats
from bot.broadcast import Broadcasts, Draft, targets
from bot.casework import Casework, OfficerCommand, parse_command
from bot.config import Settings
from bot.content import Content, FaqEntry
from bot.faq import Decision, FaqIndex
from bot.models import IncomingMessage, Option, Outgoing, Reply, Sender
from bot.reporting import Question, assess, normalize_phone
from bot.routing import Routing
from bot.store import Conversation, FaqDecision, NewReport, Store, TurnEnd, TurnStart
from bot.textnorm import fold
from bot.villages import find_village, village_values

log = logging.getLogger(__name__)

MAX_MESSAGE = 2000
MAX_ANSWER = 500
_MENU_WORDS = {"menu", "0", "start", "mulai", "home", "bantuan", "help"}
_CANCEL_WORDS = {"batal", "cancel", "stop batal", "batalkan"}
_BACK_WORDS = {"kembali", "back", "balik"}
_SKIP_WORDS = {"lewati", "skip", "-", "tidak tahu", "tdk tau", "ga tau", "gak tau", "ndak tau", "lewat"}
_DONE_WORDS = {"selesai", "sudah", "udah", "done", "cukup"}
_FORGET_WORDS = {"hapus data", "hapus", "hapus data saya"}
_REPORT_WORDS = {"lapor", "laporan", "laporkan"}
_THANKS = {"terima", "kasih", "makasih"}
_PHONE = re.compile(r"\+?\d[\d\s().-]{4,}\d")
MENU = ("ask", "topics", "check", "report", "village", "status")
TOPICS = ("paspor", "kerja", "bahaya", "bantuan")


def log_id(sender: Sender) -> str:
    """A stable pseudonym for logs: a WhatsApp id is a phone number and must never be logged."""
    return hashlib.sha256(sender.key.encode()).hexdigest()[:12]


@dataclass
class _Turn:
    """One message being handled: what we know, and what we will answer."""

    sender: Sender
    conv: Conversation
    village_id: str | None
    greeted: bool
    now: dt.datetime
    replies: list[Reply] = field(default_factory=list)
    # Written with the new state at the end of the turn, in the same transaction.
    faq: FaqDecision | None = None
    unanswered: str | None = None
    forgotten: bool = False   # "hapus data" confirmed: carried out by end_turn, nothing written back
    report: NewReport | None = None       # filed by end_turn, in the turn's transaction
    alerts: list[Outgoing] = field(default_factory=list)

    @property
    def data(self) -> dict[str, Any]:
        return self.conv.data

    def go(self, state: str, **data: Any) -> None:
        self.conv = Conversation(state, data)


class SenderLocks:
    """One lock per sender while it is in use, so one sender's messages run in order."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    async def __call__(self, key: str, work: Callable[[], Any]) -> Any:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                return await work()
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]   # nothing grows with the number of senders
            else:
                self._locks[key] = (lock, users - 1)


class FloodGuard:
    """Per-sender message budget in a sliding minute, bounded in memory by the busiest senders."""

    def __init__(self, per_minute: int, max_senders: int = 50_000) -> None:
        self.per_minute = per_minute
        self.max_senders = max_senders
        self._seen: OrderedDict[str, deque[float]] = OrderedDict()

    def allow(self, key: str, now: float) -> tuple[bool, bool]:
        """(allowed, first refusal in this window): the first refusal gets a reply, later ones none."""
        times = self._seen.pop(key, None) or deque()
        while times and now - times[0] >= 60.0:
            times.popleft()
        self._seen[key] = times
        if len(self._seen) > self.max_senders:
            self._seen.popitem(last=False)
        if len(times) >= self.per_minute:
            first = len(times) == self.per_minute
            if first:
                times.append(now)   # one marker, so only the first refusal is answered
            return False, first
        times.append(now)
        return True, False


class Dialogue:
    def __init__(self, settings: Settings, content: Content, index: FaqIndex, store: Store,
                 clock: Callable[[], dt.datetime] | None = None) -> None:
        self.settings = settings
        self.content = content
        self.index = index
        self.store = store
        self.routing = Routing(settings)
        self.casework = Casework(content, self.routing, store)
        self.broadcasts = Broadcasts(settings, content, store)
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.locks = SenderLocks()
        self.flood = FloodGuard(settings.rate_limit_messages)

    def msg(self, key: str, **values: str) -> str:
        return self.content.message(key, **values)

    def use_content(self, content: Content, index: FaqIndex) -> None:
        """Swap in re-read content between two messages; conversations carry on."""
        self.content = content
        self.index = index
        self.casework.content = content
        self.broadcasts.content = content

    async def handle(self, message: IncomingMessage, *, reply_to: Sender | None = None,
                     keep: bool = False) -> list[Reply]:
        """The replies to one message; the turn's changes are written in one transaction.

        `reply_to`: the replies also go to the outbox for this chat, in that transaction, so a
        crash after it delays them but never loses them (Telegram). `keep`: they are kept with
        the message id, and a redelivery of the message gets them again (a WhatsApp webhook).
        """
        allowed, first_refusal = self.flood.allow(message.sender.key, time.monotonic())
        if not allowed:
            log.warning("flood limited sender=%s", log_id(message.sender))
            replies = [Reply(self.msg("rate_limited"))] if first_refusal else []
            if reply_to is not None and replies:
                await self.store.enqueue(self._outgoing(reply_to, replies), self.clock())
            return replies
        result: list[Reply] = await self.locks(
            message.sender.key, lambda: self._handle(message, reply_to, keep))
        return result

    @staticmethod
    def _outgoing(reply_to: Sender | None, replies: list[Reply]) -> list[Outgoing]:
        return [] if reply_to is None else [Outgoing(reply_to, r.text, "reply", None, r.options)
                                            for r in replies]

    async def _handle(self, message: IncomingMessage, reply_to: Sender | None, keep: bool) -> list[Reply]:
        now = self.clock()
        sender = message.sender
        start = await self.store.begin_turn(sender, message.key, now)
        if start is None:
            return await self._duplicate(message, keep)
        replies, end, turn = await self._turn(message, start, now)
        end = dataclasses.replace(end, message_key=message.key, outgoing=self._outgoing(reply_to, replies),
                                  kept_replies=replies if keep else None)
        result = await self.store.end_turn(sender, end, now)
        if result.duplicate:   # the same message handled at the same moment: written by the other
            return await self._duplicate(message, keep)
        if result.case_no is not None and turn is not None and turn.report is not None:
            log.info("report filed case=%s risk=%s", result.case_no, turn.report.risk)
            replies = [Reply(r.text.replace("{case_no}", result.case_no), r.options) for r in replies]
        if turn is not None and turn.forgotten:
            log.info("personal data deleted sender=%s reports_unlinked=%d", log_id(sender), result.unlinked)
        if log.isEnabledFor(logging.DEBUG) and turn is not None:   # a hash per message otherwise
            log.debug("message handled sender=%s state=%s replies=%d", log_id(sender), turn.conv.state,
                      len(replies))
        return replies

    async def _duplicate(self, message: IncomingMessage, keep: bool) -> list[Reply]:
        log.info("duplicate message ignored sender=%s message=%s", log_id(message.sender), message.message_id)
        return await self.store.kept_replies(message.key) if keep and message.key else []

    async def _turn(self, message: IncomingMessage, start: TurnStart, now: dt.datetime
                    ) -> tuple[list[Reply], TurnEnd, _Turn | None]:
        """Decide the replies and what to write; nothing is written here (but an officer's case step)."""
        sender = message.sender
        untouched = TurnEnd(start.profile.village_id, None, profile=False)
        text = message.text.strip()
        if len(text) > MAX_MESSAGE:
            return [Reply(self.msg("too_long", max=str(MAX_MESSAGE)))], untouched, None
        officer = self.routing.officer(sender)
        command = parse_command(text, message.payload)
        if officer is not None:
            handled = await self._officer(officer, sender, text, command, now, start.conversation,
                                          message.payload)
            if handled is not None:
                replies, state = handled
                return replies, TurnEnd(start.profile.village_id, state, profile=False), None
        elif command is not None and (command.case_no or (message.payload or "").startswith("case:")):
            log.warning("officer command refused sender=%s", log_id(sender))
            return [Reply(self.msg("officer_only"))], untouched, None

        turn = _Turn(sender, start.conversation, start.profile.village_id, start.profile.greeted, now)
        await self._step(turn, text, message)
        last_options = [[o.label, o.payload] for o in turn.replies[-1].options] if turn.replies else []
        turn.data["options"] = last_options
        end = TurnEnd(turn.village_id, None if turn.forgotten else turn.conv, turn.faq, turn.unanswered,
                      report=turn.report, alerts=turn.alerts, forget=turn.forgotten)
        return turn.replies, end, turn

    # Officers ------------------------------------------------------------------------------
    async def _officer(self, officer: Any, sender: Sender, text: str, command: Any,
                       now: dt.datetime, conv: Conversation, payload: str | None = None
                       ) -> tuple[list[Reply], Conversation | None] | None:
        """An officer's command: the replies and the officer's new state (None: unchanged)."""
        office = await self._office_tools(officer, sender, text, payload, conv, now)
        if office is not None:
            return office
        if command is None and conv.state == "officer_pending" and text:
            if fold(text).lstrip("/") in _MENU_WORDS | _CANCEL_WORDS:
                return [Reply(self.msg("cancelled"))], Conversation("menu", {})
            command = OfficerCommand(conv.data["verb"], conv.data["case_no"], text)
        if command is None:
            return None
        # The case step commits on its own (casework); a redelivery after a crash before the
        # turn's commit repeats it, which TANGANI and TUTUP ignore (the case's status).
        replies, prompted = await self.casework.handle(officer, sender, command, now)
        state = Conversation("officer_pending", {"verb": command.verb, "case_no": command.case_no}) \
            if prompted else Conversation("menu", {})
        log.info("officer command verb=%s case=%s", command.verb, command.case_no)
        return replies, state

    async def _office_tools(self, officer: Any, sender: Sender, text: str, payload: str | None,
                            conv: Conversation, now: dt.datetime
                            ) -> tuple[list[Reply], Conversation | None] | None:
        """SIARAN (announcements, previewed then confirmed) and STATISTIK (the office's figures)."""
        words = text.split()
        verb = fold(words[0]).lstrip("/") if words else ""
        if payload in ("broadcast:send", "broadcast:cancel") or (
                conv.state == "broadcast_pending" and fold(text) in {"1", "2"}):
            chosen = payload or ("broadcast:send" if fold(text) == "1" else "broadcast:cancel")
            # Committed before the broadcast is: a redelivery after a crash cannot send it twice.
            await self.store.save_conversation(sender, Conversation("menu", {}), now)
            if conv.state != "broadcast_pending" or chosen == "broadcast:cancel":
                return [Reply(self.msg("broadcast_cancelled"))], Conversation("menu", {})
            confirmed = Draft(conv.data["office_id"], conv.data["target"], tuple(conv.data["villages"]),
                              conv.data["text"])
            broadcast_id, count = await self.broadcasts.send(officer, confirmed, now)
            log.info("broadcast queued id=%d recipients=%d", broadcast_id, count)
            return [Reply(self.msg("broadcast_sent", n=str(count), id=str(broadcast_id)))], \
                Conversation("menu", {})
        if verb in ("siaran", "pengumuman"):
            rest = words[1:]
            target, body = "", ""
            for k in range(min(4, len(rest)), 0, -1):
                if targets(self.settings, officer, " ".join(rest[:k])) is not None:
                    target, body = " ".join(rest[:k]), " ".join(rest[k:]).lstrip(":- ")
                    break
            if not target and rest:
                target, body = rest[0], " ".join(rest[1:])
            reply, draft = await self.broadcasts.prepare(officer, target, body)
            state = Conversation("menu", {}) if draft is None else Conversation("broadcast_pending", {
                "office_id": draft.office_id, "target": draft.target,
                "villages": list(draft.village_ids), "text": draft.text})
            return [reply], state
        if verb in ("statistik", "stats", "angka"):
            end = dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(), dt.UTC)
            figures = await stats.collect(self.store, self.settings,
                                          None if officer.regional else officer.office_id,
                                          end - dt.timedelta(days=30), end)
            return [Reply(stats.render_text(figures, self.content))], None
        return None

    # Villagers -----------------------------------------------------------------------------
    async def _step(self, turn: _Turn, text: str, message: IncomingMessage) -> None:
        folded = fold(text)
        payload = message.payload or (None if folded == "0" else self._numbered(turn, folded))
        if payload is None and folded.isdigit() and folded != "0" and turn.data.get("options") and \
                turn.conv.state not in ("report",):
            n = len(turn.data["options"])
            turn.replies.append(Reply(self.msg("option_unknown", n=str(n)),
                                      self._options_again(turn)))
            return
        if not turn.greeted:
            turn.replies.append(Reply(self.msg("welcome")))
        word = folded.lstrip("/")   # "/menu" and "menu" are the same command
        if word in _MENU_WORDS or payload == "menu":
            self._menu(turn)
            return
        if word in _CANCEL_WORDS:
            turn.replies.append(Reply(self.msg("cancelled")))
            self._menu(turn)
            return
        if word in _FORGET_WORDS:
            turn.go("forget")
            turn.replies.append(Reply(self.msg("forget_confirm"), (
                Option(self.msg("forget_yes"), "forget:yes"), Option(self.msg("forget_no"), "forget:no"))))
            return
        if word in _REPORT_WORDS and turn.conv.state != "report":
            await self._start_report(turn, "report", {})
            return
        state = turn.conv.state
        if message.media and state in ("identity", "confirm"):
            # A photo sent after the story still belongs to the report.
            turn.data["media"].extend(m.ref for m in message.media)
            turn.replies.append(Reply(self.msg("media_saved", n=str(len(turn.data["media"])))))
            if state == "identity":
                self._ask_identity(turn)
            else:
                turn.replies.append(Reply(self._summary(turn), self._confirm_options()))
            return
        if state == "report":
            await self._report_answer(turn, text, folded, payload, message)
        elif state == "identity":
            self._identity(turn, payload)
        elif state == "confirm":
            await self._confirm(turn, payload)
        elif state == "forget":
            await self._forget(turn, payload)
        elif state == "village" and payload is None and message.media == ():
            await self._village_typed(turn, text)
        elif payload is not None:
            await self._payload(turn, payload)
        elif message.media:
            turn.replies.append(Reply(self.msg("media_not_now")))
        elif not text:
            turn.replies.append(Reply(self.msg("no_text")))
        else:
            await self._ask(turn, text)

    def _numbered(self, turn: _Turn, folded: str) -> str | None:
        options = turn.data.get("options") or []
        if folded.isdigit() and 1 <= int(folded) <= len(options):
            return str(options[int(folded) - 1][1])
        return None

    def _options_again(self, turn: _Turn) -> tuple[Option, ...]:
        return tuple(Option(label, payload) for label, payload in turn.data.get("options") or [])

    def _menu(self, turn: _Turn, intro: str | None = None) -> None:
        turn.go("menu")
        options = tuple(Option(self.msg(f"menu_{k}"), f"menu:{k}") for k in MENU)
        turn.replies.append(Reply(intro or self.msg("menu"), options))

    def _menu_option(self) -> Option:
        return Option(self.msg("menu_back"), "menu")

    async def _payload(self, turn: _Turn, payload: str) -> None:
        kind, _, value = payload.partition(":")
        if kind == "menu":
            await self._menu_choice(turn, value)
        elif kind == "faq" and value in self.content.by_id:
            await self._answer(turn, self.content.entry(value))
        elif kind == "topic" and value in TOPICS:
            entries = [e for e in self.content.entries if e.category == value]
            turn.replies.append(Reply(self.msg("topic_pick"), tuple(
                Option(e.question, f"faq:{e.id}") for e in entries) + (self._menu_option(),)))
        elif kind == "kab":
            self._villages_in(turn, value)
        elif kind == "village":
            await self._village_chosen(turn, value)
        elif kind == "check" and value == "report":
            await self._start_report(turn, "report", dict(turn.data.get("check_answers") or {}))
        else:
            # A stale button from an old message, or a forged one: say so and show the menu.
            turn.replies.append(Reply(self.msg("option_unknown", n=str(len(MENU)))))
            self._menu(turn)

    async def _menu_choice(self, turn: _Turn, choice: str) -> None:
        if choice == "ask":
            turn.go("menu")
            turn.replies.append(Reply(self.msg("ask_prompt")))
        elif choice == "topics":
            turn.replies.append(Reply(self.msg("topics_prompt"), tuple(
                Option(self.msg(f"topic_{t}"), f"topic:{t}") for t in TOPICS) + (self._menu_option(),)))
        elif choice == "check":
            await self._start_report(turn, "check", {})
        elif choice == "report":
            await self._start_report(turn, "report", {})
        elif choice == "village":
            village = self.routing.village(turn.village_id)
            if village is None:
                self._village_prompt(turn, then="menu")
            else:
                values = village_values(self.settings, village)
                turn.replies.append(Reply(self.msg("village_current", **values), (
                    Option(self.msg("village_change"), "kab:"), self._menu_option())))
        elif choice == "status":
            await self._status(turn)
        else:
            self._menu(turn)

    # Questions -----------------------------------------------------------------------------
    async def _ask(self, turn: _Turn, text: str) -> None:
        match = self.index.match(text)
        if match.reason != "chitchat":
            village = self.routing.village(turn.village_id)
            turn.faq = FaqDecision(match.decision.value, match.best if match.decision is Decision.ANSWER
                                   else None, village.office_id if village else None)
        if match.decision is Decision.ANSWER:
            await self._answer(turn, self.content.entry(match.candidates[0].entry_id))
        elif match.decision is Decision.SUGGEST and match.reason != "weak":
            turn.replies.append(Reply(self.msg("faq_suggest"), tuple(
                Option(self.content.entry(c.entry_id).question, f"faq:{c.entry_id}")
                for c in match.candidates)))
        elif match.reason == "chitchat":
            if set(match.normalized.folded.split()) & _THANKS:
                turn.replies.append(Reply(self.msg("thanks_reply")))
            else:
                self._menu(turn)
        else:
            # Kept for editors without the sender, and without any number that looks like a phone.
            turn.unanswered = fold(_PHONE.sub(" # ", text))
            village = self.routing.village(turn.village_id)
            if village is not None:
                office = self.routing.office_of(village)
                contact = self.msg("faq_none_office", kantor_nama=office.name, kantor_telepon=office.phone)
            else:
                contact = self.msg("faq_none_general")
            # A weak guess is still offered, but the villager is told it may not be the answer.
            guesses = tuple(Option(self.content.entry(c.entry_id).question, f"faq:{c.entry_id}")
                            for c in match.candidates
                            if c.entry_id != "kontak-darurat") if match.decision is Decision.SUGGEST else ()
            text = f"{self.msg('faq_none')}\n\n{contact}"
            if guesses:
                text += f"\n\n{self.msg('faq_maybe')}"
            turn.replies.append(Reply(text, guesses + (
                Option(self.content.entry("kontak-darurat").question, "faq:kontak-darurat"),
                self._menu_option())))

    async def _answer(self, turn: _Turn, entry: FaqEntry) -> None:
        village = self.routing.village(turn.village_id)
        values = village_values(self.settings, village) if village else None
        related = tuple(Option(self.content.entry(r).question, f"faq:{r}") for r in entry.related[:3])
        turn.go("menu")
        if entry.placeholders and values is None:
            turn.replies.append(Reply(entry.render(None)))
            self._village_prompt(turn, then=f"faq:{entry.id}")
            return
        turn.replies.append(Reply(entry.render(values), related + (self._menu_option(),)))

    # Village -------------------------------------------------------------------------------
    def _kabupaten(self) -> list[str]:
        return sorted({v.kabupaten for v in self.settings.villages})

    def _village_prompt(self, turn: _Turn, then: str, intro: str | None = None) -> None:
        turn.go("village", then=then)
        text = self.msg("village_prompt") if intro is None else f"{intro}\n{self.msg('village_prompt')}"
        turn.replies.append(Reply(text, tuple(Option(k, f"kab:{k}") for k in self._kabupaten())))

    def _villages_in(self, turn: _Turn, kabupaten: str) -> None:
        if not kabupaten:
            self._village_prompt(turn, then=turn.data.get("then", "menu"))
            return
        villages = [v for v in self.settings.villages if v.kabupaten == kabupaten]
        then = turn.data.get("then", "menu")
        turn.go("village", then=then)
        turn.replies.append(Reply(self.msg("village_pick"), tuple(
            Option(v.name, f"village:{v.id}") for v in villages)))

    async def _village_typed(self, turn: _Turn, text: str) -> None:
        village = find_village(self.settings, text) if text else None
        if village is None:
            turn.replies.append(Reply(self.msg("village_unknown", text=text[:60]), tuple(
                Option(k, f"kab:{k}") for k in self._kabupaten())))
            return
        await self._village_chosen(turn, village.id)

    async def _village_chosen(self, turn: _Turn, village_id: str) -> None:
        village = self.routing.village(village_id)
        if village is None:
            self._village_prompt(turn, then=turn.data.get("then", "menu"))
            return
        then = turn.data.get("then", "menu") if turn.conv.state == "village" else "menu"
        turn.village_id = village.id
        values = village_values(self.settings, village)
        turn.replies.append(Reply(self.msg("village_saved", **values)))
        if then == "report":
            await self._start_report(turn, "report", dict(turn.data.get("answers") or {}))
        elif then.startswith("faq:") and then[4:] in self.content.by_id:
            await self._answer(turn, self.content.entry(then[4:]))
        else:
            self._menu(turn)

    # Reports and offer checks ----------------------------------------------------------------
    def _questions(self, mode: str) -> tuple[Question, ...]:
        rules = self.content.reporting
        return rules.check_questions if mode == "check" else rules.questions

    async def _start_report(self, turn: _Turn, mode: str, answers: dict[str, str]) -> None:
        if mode == "report" and self.routing.village(turn.village_id) is None:
            self._village_prompt(turn, then="report", intro=self.msg("village_needed"))
            turn.data["answers"] = answers
            return
        turn.go("report", mode=mode, step=-1, answers=answers, media=[], history=[])
        turn.replies.append(Reply(self.msg("report_intro" if mode == "report" else "check_intro")))
        self._next_question(turn)

    def _next_question(self, turn: _Turn) -> None:
        questions = self._questions(turn.data["mode"])
        step = turn.data["step"] + 1
        while step < len(questions) and questions[step].key in turn.data["answers"]:
            step += 1   # answered already (a check turned into a report)
        turn.data["step"] = step
        if step < len(questions):
            self._ask_question(turn, questions[step])
        elif turn.data["mode"] == "check":
            self._check_result(turn)
        else:
            turn.go("identity", **turn.data)
            self._ask_identity(turn)

    def _ask_identity(self, turn: _Turn) -> None:
        turn.replies.append(Reply(self.msg("identity_prompt"), (
            Option(self.msg("identity_contact"), "identity:contact"),
            Option(self.msg("identity_anonymous"), "identity:anonymous"))))

    def _confirm_options(self) -> tuple[Option, ...]:
        return (Option(self.msg("send"), "report:send"), Option(self.msg("cancel"), "report:cancel"))

    def _village_lost(self, turn: _Turn) -> None:
        """The village was removed from the config mid-report: ask again, keep the answers."""
        answers = dict(turn.data.get("answers") or {})
        self._village_prompt(turn, then="report", intro=self.msg("village_needed"))
        turn.data["answers"] = answers

    def _ask_question(self, turn: _Turn, question: Question) -> None:
        options = tuple(Option(label, f"ans:{value}") for value, label in question.options)
        if question.kind == "story":
            options = (Option(self.msg("done_word"), "ans:selesai"),)
        turn.replies.append(Reply(question.ask, options))

    async def _report_answer(self, turn: _Turn, text: str, folded: str, payload: str | None,
                             message: IncomingMessage) -> None:
        questions = self._questions(turn.data["mode"])
        step = turn.data["step"]
        if not 0 <= step < len(questions):
            self._menu(turn)
            return
        question = questions[step]
        if message.media and turn.data["mode"] == "report":
            turn.data["media"].extend(m.ref for m in message.media)
            if not text:
                turn.replies.append(Reply(self.msg("media_saved", n=str(len(turn.data["media"])))))
                return
        if folded in _BACK_WORDS:
            history = turn.data["history"]
            if history:
                previous = history.pop()
                turn.data["answers"].pop(questions[previous].key, None)
                turn.data["step"] = previous
                self._ask_question(turn, questions[previous])
            else:
                self._ask_question(turn, question)
            return
        if folded in _SKIP_WORDS and question.kind != "story":
            turn.data["history"].append(step)
            self._next_question(turn)
            return
        answer = self._read_answer(turn, question, text, folded, payload)
        if answer is None:
            return   # the error reply is already there; the villager answers again
        if answer:
            turn.data["answers"][question.key] = answer
        turn.data["history"].append(step)
        self._next_question(turn)

    def _read_answer(self, turn: _Turn, question: Question, text: str, folded: str,
                     payload: str | None) -> str | None:
        """The answer to keep ("" to keep none), or None after replying why it was not accepted."""
        if question.kind == "choice":
            values = dict(question.options)
            chosen = None
            if payload and payload.startswith("ans:") and payload[4:] in values:
                chosen = payload[4:]
            else:
                for value, label in question.options:
                    if folded in (fold(label), fold(value.replace("_", " "))):
                        chosen = value
            if chosen is None:
                turn.replies.append(Reply(self.msg("option_unknown", n=str(len(values)))))
                self._ask_question(turn, question)
            return chosen
        if question.kind == "story" and (payload == "ans:selesai" or folded in _DONE_WORDS):
            return ""
        if not text:
            self._ask_question(turn, question)
            return None
        if len(text) > MAX_ANSWER * (4 if question.kind == "story" else 1):
            turn.replies.append(Reply(self.msg("answer_too_long", max=str(MAX_ANSWER))))
            return None
        if question.kind == "phone":
            phone = normalize_phone(text)
            if phone is None:
                turn.replies.append(Reply(self.msg("phone_invalid")))
                return None
            turn.data["phone"] = phone
        return text

    def _flag_lines(self, flags: Any) -> str:
        return "\n".join([self.msg("flags_heading")] + [
            self.msg("flag_line", label=f.label, why=f.why) for f in flags])

    def _check_result(self, turn: _Turn) -> None:
        answers = dict(turn.data["answers"])
        result = assess(self.content.reporting, answers)
        text = self.msg("check_result", level=self.msg(f"risk_{result.level}"))
        text += "\n\n" + (self._flag_lines(result.flags) if result.flags else self.msg("check_no_flags"))
        options = (Option(self.msg("check_to_report"), "check:report"),) + tuple(
            Option(self.content.entry(f.entry).question, f"faq:{f.entry}") for f in result.flags[:3]
        ) + (self._menu_option(),)
        turn.go("menu", check_answers=answers)
        turn.replies.append(Reply(text, options))

    def _identity(self, turn: _Turn, payload: str | None) -> None:
        if payload not in ("identity:contact", "identity:anonymous"):
            turn.replies.append(Reply(self.msg("option_unknown", n="2")))
            self._ask_identity(turn)
            return
        if self.routing.village(turn.village_id) is None:
            self._village_lost(turn)
            return
        turn.data["contactable"] = payload == "identity:contact"
        turn.go("confirm", **turn.data)
        turn.replies.append(Reply(self._summary(turn), self._confirm_options()))

    def _summary(self, turn: _Turn) -> str:
        answers = turn.data["answers"]
        lines = []
        for q in self.content.reporting.questions:
            value = answers.get(q.key)
            lines.append(f"- {q.label}: {q.label_of(value) if value else self.msg('summary_unanswered')}")
        if turn.data["media"]:
            lines.append(f"- {self.msg('media_saved', n=str(len(turn.data['media']))).split('.')[0]}")
        village = self.routing.village(turn.village_id)
        assert village is not None
        identity = self.msg("summary_identity_contact" if turn.data["contactable"]
                            else "summary_identity_anonymous")
        return self.msg("summary", lines="\n".join(lines), identity=identity,
                        kantor_nama=self.routing.office_of(village).name)

    async def _confirm(self, turn: _Turn, payload: str | None) -> None:
        if payload == "report:cancel":
            turn.replies.append(Reply(self.msg("report_cancelled")))
            self._menu(turn)
            return
        if payload != "report:send":
            turn.replies.append(Reply(self.msg("option_unknown", n="2"), self._confirm_options()))
            return
        village = self.routing.village(turn.village_id)
        if village is None:
            self._village_lost(turn)
            return
        answers: dict[str, str] = dict(turn.data["answers"])
        result = assess(self.content.reporting, answers)
        contactable = bool(turn.data["contactable"])
        new = NewReport(
            office_id=village.office_id, village_id=village.id, risk=result.level,
            flags=tuple(f.key for f in result.flags), answers=answers,
            media=tuple(turn.data["media"]), recruiter_phone=turn.data.get("phone"),
            recruiter_name=answers.get("nama"), recruiter_company=answers.get("perusahaan"),
            # Anonymous means no link to the person at all, not a hidden one.
            reporter_key=turn.sender.key if contactable else None, contactable=contactable)
        # Filed by end_turn with the new state, in one transaction; the case number is given there.
        turn.report = new
        turn.alerts = await self.casework.alerts_for(new, result)
        text = self.msg("report_done", case_no="{case_no}",
                        kantor_nama=self.routing.office_of(village).name)
        if result.flags:
            text += "\n\n" + self._flag_lines(result.flags)
        turn.go("menu")
        turn.replies.append(Reply(text, tuple(
            Option(self.content.entry(f.entry).question, f"faq:{f.entry}") for f in result.flags[:3]
        ) + (self._menu_option(),)))

    async def _status(self, turn: _Turn) -> None:
        reports = await self.store.reports_of(turn.sender.key)
        if not reports:
            turn.replies.append(Reply(self.msg("status_none"), (self._menu_option(),)))
            return
        lines = [self.msg("status_heading")]
        for r in reports:
            lines.append(self.msg("status_line", case_no=r.case_no, status=self.msg(f"status_{r.status}")))
            if r.public_note:
                lines.append(self.msg("status_note", note=r.public_note))
        turn.replies.append(Reply("\n".join(lines), (self._menu_option(),)))

    async def _forget(self, turn: _Turn, payload: str | None) -> None:
        if payload == "forget:yes":
            turn.village_id = None
            turn.forgotten = True
            turn.go("menu")
            turn.replies.append(Reply(self.msg("forget_done")))
            return
        turn.replies.append(Reply(self.msg("forget_kept")))
        self._menu(turn)


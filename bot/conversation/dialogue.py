"""The turn plumbing: one message in, replies out; state loaded, the right flow called, state saved.

Channel-independent: it imports no channel library and returns replies as values. Options are
payloads; a typed number picks the option of that number in the last reply, so "2" and a tap on
the second button mean the same.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import random
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from bot.broadcast import Broadcasts
from bot.casework import Casework, parse_command
from bot.config import Settings
from bot.content import Content
from bot.conversation.emergency import EmergencyFlow
from bot.conversation.filing import FilingFlow
from bot.conversation.flows import Flows
from bot.conversation.forget import ForgetFlow
from bot.conversation.intake import REPORT_STATES, IntakeFlow
from bot.conversation.menu import MENU, TOPICS, MenuFlow
from bot.conversation.offer_check import OfferCheckFlow
from bot.conversation.officer import OfficerFlow
from bot.conversation.status import CASE_ONLY, CODE_CHECK, StatusFlow
from bot.conversation.turn import Kit, Turn
from bot.conversation.village import VillageFlow
from bot.deadlines import Deadlines
from bot.errors import StoreError
from bot.faq import FaqIndex
from bot.keyed_locks import KeyedLocks
from bot.models import Channel, IncomingMessage, Option, Outgoing, Reply, Sender
from bot.routing import Routing
from bot.sender_log import log_id
from bot.store import Store, TurnEnd, TurnStart
from bot.textnorm import fold
from bot.villages import Place, find_village, place_of

log = logging.getLogger(__name__)

MAX_MESSAGE = 2000
# A turn decided again when another instance wrote the same sender's turn first (PostgreSQL).
TURN_ATTEMPTS = 20
_NUMBER_WORDS = {"satu": "1", "dua": "2", "tiga": "3", "empat": "4", "lima": "5", "enam": "6", "tujuh": "7",
                 "delapan": "8", "sembilan": "9", "sepuluh": "10"}
# Plain requests typed instead of picked: the menu choice each one stands for.
_REQUESTS = (("start_report", "menu:report"), ("start_status", "menu:status"), ("start_check", "menu:check"),
             ("change_village", "kab:"), ("start_village", "menu:village"), ("start_topics", "menu:topics"),
             ("start_ask", "menu:ask"))


class FloodGuard:
    """A token bucket per sender: a steady message a second never trips it, a burst does.

    `per_minute` tokens come back each minute, up to `burst` saved. Bounded in memory by keeping
    only the most recent senders.
    """

    def __init__(self, per_minute: int, burst: int = 20, max_senders: int = 50_000) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(max(burst, 1))
        self.max_senders = max_senders
        self._buckets: OrderedDict[str, tuple[float, float, bool]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    def allow(self, key: str, now: float) -> tuple[bool, bool]:
        """(allowed, first refusal since the last allowed message): only the first gets a reply."""
        tokens, last, refused = self._buckets.pop(key, (self.burst, now, False))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if len(self._buckets) >= self.max_senders:
            self._buckets.popitem(last=False)
        if tokens >= 1.0:
            self._buckets[key] = (tokens - 1.0, now, False)
            return True, False
        self._buckets[key] = (tokens, now, True)
        return False, not refused


class Dialogue:
    def __init__(self, settings: Settings, content: Content, index: FaqIndex, store: Store,
                 clock: Callable[[], dt.datetime] | None = None,
                 observer: Callable[[Channel, str | None, int], None] | None = None) -> None:
        self.settings = settings
        # Told of each message handled: its channel, the FAQ decision if the FAQ was asked, and
        # how many replies go back in the response itself (metrics; nothing personal).
        self.observer = observer
        self.store = store
        self.routing = Routing(settings)
        self.deadlines = Deadlines(settings.deadlines)
        self.casework = Casework(content, self.routing, store, self.deadlines)
        self.broadcasts = Broadcasts(settings, content, store)
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.kit = Kit(settings, content, index, store, self.routing, self.casework, self.clock)
        self.flows = Flows(
            menu=MenuFlow(self.kit), village=VillageFlow(self.kit), intake=IntakeFlow(self.kit),
            filing=FilingFlow(self.kit), offer_check=OfferCheckFlow(self.kit), status=StatusFlow(self.kit),
            forget=ForgetFlow(self.kit), emergency=EmergencyFlow(self.kit),
            officer=OfficerFlow(self.kit, self.broadcasts))
        self.kit.flows = self.flows
        self.locks = KeyedLocks()   # one sender's messages in order
        self.flood = FloodGuard(settings.rate_limit_messages, settings.rate_limit_burst)
        self._labels: tuple[Content | None, dict[str, str]] = (None, {})

    @property
    def content(self) -> Content:
        return self.kit.content

    @property
    def index(self) -> FaqIndex:
        return self.kit.index

    def msg(self, key: str, **values: str) -> str:
        return self.kit.msg(key, **values)

    def use_content(self, content: Content, index: FaqIndex) -> None:
        """Swap in re-read content between two messages; conversations carry on."""
        self.kit.use(content, index)
        self.broadcasts.content = content

    async def handle(self, message: IncomingMessage, *, reply_to: Sender | None = None,
                     keep: bool = False) -> list[Reply]:
        """The replies to one message; everything the turn changes is written in one transaction.

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
        """Read the state, decide, then write the message id and all the turn changed at once.

        With several instances (PostgreSQL) another one may be handling the same sender's previous
        message: the turn is written only onto the state it was decided from, else decided again.
        """
        sender = message.sender
        for attempt in range(TURN_ATTEMPTS):
            now = self.clock()
            start = await self.store.begin_turn(sender, message.key, now)
            if start is None:
                return await self._duplicate(message, keep)
            replies, end, turn = await self._turn(message, start, now)
            end = dataclasses.replace(end, message_key=message.key, outgoing=self._outgoing(reply_to, replies),
                                      kept_replies=replies if keep else None, seen=start.seen)
            result = await self.store.end_turn(sender, end, now)
            if not result.conflict:
                break
            log.info("turn decided again sender=%s attempt=%d", log_id(sender), attempt + 1)
            await asyncio.sleep(0.01 * (attempt + 1) * (1 + random.random()))   # noqa: S311 (spreading retries)
        else:
            raise StoreError("another instance kept writing this sender's turns")
        if result.duplicate:   # the same message handled at the same moment: written by the other
            return await self._duplicate(message, keep)
        if self.observer is not None:
            faq = turn.faq.decision if turn is not None and turn.faq is not None else None
            self.observer(sender.channel, faq, 0 if reply_to is not None else len(replies))
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
                    ) -> tuple[list[Reply], TurnEnd, Turn | None]:
        """Decide the replies and what to write; nothing is written here (end_turn writes it all)."""
        sender = message.sender
        untouched = TurnEnd(start.profile.village_id, None, profile=False)
        text = message.text.strip()
        if len(text) > MAX_MESSAGE:
            return [Reply(self.msg("too_long", max=str(MAX_MESSAGE)))], untouched, None
        place = self.place(start.profile.village_id, start.profile.place)
        turn = Turn(sender, message, start.conversation, place, start.profile.greeted, now, text)
        officer = self.routing.officer(sender)
        if officer is not None:
            replies = await self.flows.officer.handle(officer, turn)
            if replies is not None:
                return replies, TurnEnd(start.profile.village_id, turn.officer_state, profile=False,
                                        case_steps=turn.case_steps), None
        elif (command := parse_command(text, message.payload)) is not None and (
                command.case_no or (message.payload or "").startswith("case:")):
            log.warning("officer command refused sender=%s", log_id(sender))
            return [Reply(self.msg("officer_only"))], untouched, None
        await self._villager(turn)
        turn.data["options"] = [[o.label, o.payload] for o in turn.replies[-1].options] if turn.replies else []
        place_json = turn.place.to_json() if turn.place and not turn.place.listed else None
        end = TurnEnd(turn.place.village_id if turn.place else None, None if turn.forgotten else turn.conv,
                      turn.faq, turn.unanswered, place=place_json, report=turn.report, alerts=turn.alerts,
                      forget=turn.forgotten, case_steps=turn.case_steps)
        return turn.replies, end, turn

    def place(self, village_id: str | None, place: dict[str, Any] | None) -> Place | None:
        """Where a villager lives: their Desa Imigrasi village, or the place they typed."""
        village = self.routing.village(village_id)
        if village is not None:
            return place_of(village)
        typed = Place.from_json(place)
        if typed is None:
            return None
        try:
            self.settings.office(typed.office_id)
        except KeyError:
            return None   # its office was removed from the config: ask again
        return typed

    # Villagers -----------------------------------------------------------------------------
    def _pick(self, turn: Turn) -> bool:
        """Resolve a typed number to the option it picks. False when the number picks nothing."""
        if turn.message.payload:
            turn.payload = turn.message.payload
            return True
        folded = fold(turn.text)
        folded = _NUMBER_WORDS.get(folded, folded)   # "satu" is 1
        if not folded.isdigit() or len(folded) > 2 or turn.message.media or folded == "0":
            return True
        n = int(folded)
        options = turn.data.get("options") or []
        if options:
            if 1 <= n <= len(options):
                turn.payload = str(options[n - 1][1])
                return True
            step = self.flows.intake.current_step(turn) if turn.state == "report" else None
            if step is not None and step.kind in ("story", "text"):
                return True   # the report says itself what a stray number means
            if turn.state == "menu" and 1 <= n <= len(MENU):
                # After a report or an answer, "6" is still the main menu's "Cek laporan saya".
                turn.payload = f"menu:{MENU[n - 1]}"
                return True
            key = "option_unknown" if len(options) > 1 else "option_unknown_one"
            turn.say(self.msg(key, n=str(len(options))),
                     tuple(Option(label, payload) for label, payload in options))
            return False
        if 1 <= n <= len(MENU):
            # No list on screen (after a report, after "hapus data"): numbers mean the menu's.
            turn.payload = f"menu:{MENU[n - 1]}"
        return True

    async def _villager(self, turn: Turn) -> None:
        flows, words = self.flows, self.kit.words
        if not turn.greeted and self.routing.officer(turn.sender) is None:   # an officer is no new villager
            turn.say(self.msg("welcome"))
        if not self._pick(turn):
            return
        text, payload, state = turn.text, turn.payload, turn.state
        plain = payload is None and not turn.message.media
        # A report waiting for the village is a report too: leaving it asks first.
        keep = turn.data.get("keep") if state == "village" else None
        in_report = state in REPORT_STATES or bool(isinstance(keep, dict) and (keep.get("story") or keep.get(
            "answers")))
        # Words that mean the same from anywhere.
        menu_word = plain and (words.is_("menu", text) or fold(text).lstrip("/") in ("start", "menu"))
        if menu_word or payload == "menu":
            if in_report:
                self._guard(turn, "menu")
            else:
                flows.menu.show(turn)
                turn.data["left_reply"] = True   # an officer's open question no longer takes what comes next
            return
        afraid = plain and self._afraid_cancel(text)
        checking = state == "report" and turn.data.get("mode") == "check"   # an offer check files nothing
        # "gk usah" at "may officers contact you?" is a no (anonymous); elsewhere in a report it and
        # a frightened "gk jd deh, takut" are asked about: a report is never dropped on a maybe.
        no_need = plain and in_report and not checking and words.is_("no_need", text)
        if in_report and not checking and state != "guard" and (afraid or (no_need and state != "identity")):
            if afraid:
                turn.say(self.msg("report_afraid_ask"))
            self._guard(turn, "menu")
            return
        if plain and not (no_need and state == "identity") and (afraid or words.is_("cancel", text)):
            report = in_report or state == "guard"
            key = "check_cancelled" if checking else "report_cancelled_afraid" if afraid and report else (
                "report_cancelled" if report else "cancelled")
            flows.intake.cancel(turn, self.msg(key))
            return
        if plain and words.choose(text, {"forget": ("@forget",)}):   # "tolong hapus data sy" too
            await flows.forget.ask(turn)
            return
        if plain and (m := CODE_CHECK.search(text)) and state not in REPORT_STATES:
            await flows.status.with_code(turn, m.group(1), m.group(2))
            return
        if plain and (m := CASE_ONLY.match(text)) and state not in REPORT_STATES:
            await flows.status.case_typed(turn, m.group(1))
            return
        if payload is not None and await self._payload(turn, payload):
            return
        if in_report and plain and (elsewhere := self._request(turn)) not in (None, "menu:report"):
            self._guard(turn, elsewhere or "menu")
            return
        # The flow whose question is open.
        if state == "report":
            await flows.intake.handle(turn)
        elif state in ("identity", "confirm") and turn.message.media:
            # A photo sent after the story still belongs to the report.
            flows.intake.attach(turn)
            turn.say(self.msg("media_saved", n=str(len(turn.data["media"]))))
            if state == "identity":
                flows.filing.ask_identity(turn)
            else:
                flows.filing.summary(turn)
        elif state == "identity":
            flows.filing.identity(turn)
        elif state == "confirm":
            await flows.filing.confirm(turn)
        elif state == "edit":
            flows.filing.edit(turn)
        elif state == "forget":
            await flows.forget.handle(turn)
        elif state == "guard":
            await self._guard_answer(turn)
        elif state == "status_code" and plain:
            await flows.status.handle(turn)
        elif state == "person_message" and plain and turn.text and self._request(turn) is None:
            await flows.menu.to_officer(turn)   # written after "petugas": for the office's officers
        elif state == "danger" and plain and turn.text and self._request(turn) is None:
            await flows.emergency.more(turn)
        elif state == "resume_offer" and plain and (resume := words.choose(text, {
                "report:resume": ("@ya", "lanjut", "lanjutkan", "terus", "teruskan", "yang lama", "yg lama"),
                "report:new": ("@tidak", "baru", "laporan baru", "buat baru", "mulai baru")})):
            await self._payload(turn, resume)
        elif state == "village" and not turn.message.media:
            await flows.village.handle(turn)
        else:
            await self._idle(turn)

    async def _idle(self, turn: Turn) -> None:
        """A message with no question open: danger first, then plain requests, then the FAQ."""
        flows, words, text = self.flows, self.kit.words, turn.text
        if turn.message.media:
            if turn.state == "media_offer":
                turn.data["media"] = list(turn.data.get("media") or []) + [m.stored for m in turn.message.media]
            flows.menu.media_outside(turn)
            return
        if not text:
            # Spaces only is a message with nothing in it; no text at all is a sticker or the like.
            turn.say(self.msg("empty_text" if turn.message.text else "no_text"), (self.kit.menu_option(),))
            return
        if await flows.emergency.check(turn) or flows.emergency.comfort(turn):
            return
        request = self._request(turn)
        if request in ("menu:report", "menu:check") and len(text.split()) <= 6 and turn.state == "menu" \
                and turn.data.get("story"):
            # "laporkan aja" right after telling of an offer: that message is the story, as a tap
            # on "Laporkan ini ke petugas" would take it.
            request = "story:report" if request == "menu:report" else "story:check"
        if request == "menu:report" and len(text.split()) > 6:
            # "mau lapor, ada agen namanya ..." is a report that already tells its story.
            await flows.intake.start_report(turn, story=text)
            return
        if request is not None:
            await self._payload(turn, request)
            return
        if words.choose(text, {"person": ("@person",)}):
            flows.menu.person(turn)
            return
        if turn.place is None and len(text.split()) <= 6 and \
                (village := find_village(self.kit.settings, text, 90.0)) is not None:
            # "semuntai", "sy di desa semuntai" before any village is known: that is their village
            await flows.village.chosen(turn, village.id)
            return
        thanks = words.choose(text, {"thanks": ("@thanks",)})   # "terima kasih banyak pak"
        # "makasih pak", "ok mksh 🙏": thanks, not an answer for the officer's case.
        short_thanks = bool(thanks) and len(words.normalizer.standard_words(text)) <= 3
        if not (thanks and words.is_("thanks", text)) and not short_thanks and (
                questions := await flows.menu.open_questions(turn)).waiting:
            awaited = list(questions.waiting)
            greeting = words.is_("greeting", text)
            # "halo": greeted, and shown what is still asked (not a question answered minutes ago);
            # a greeting is never the answer itself.
            if greeting and questions.unanswered:
                flows.menu.question_waiting(turn, list(questions.unanswered))
                return
            # A question is answered (and offered to the officer); after "menu" the villager has
            # moved on, so a statement is offered too. Anything else is the answer.
            # "🙏" alone is no answer; "👍" is a yes.
            mute = words.emoji_only(text) and not (words.is_("ya", text) or words.is_("tidak", text))
            if not self._asks(turn) and not turn.data.get("left_reply") and not mute and not greeting:
                if len(awaited) == 1:
                    await flows.menu.reply_to_officer(turn, awaited[0][0])   # the officer asked: the answer
                else:
                    flows.menu.which_case(turn, awaited)   # never silently to another office's case
                return
        elif await flows.menu.closed_case_talk(turn):
            return
        if thanks:
            turn.go("menu")
            turn.say(self.msg("thanks_reply"), (self.kit.menu_option(),))
            return
        if await self._yes_to_single(turn):
            return
        if words.is_("ya", text) or words.is_("ack", text):
            flows.menu.acknowledge(turn)   # "ok", "iya", "wkwkwk": heard, nothing to do
            return
        if words.emoji_only(text):
            flows.menu.show(turn, self.msg("emoji_only"))   # "🙏": asked how to help, the ways on below
            return
        if set(words.normalizer.standard_words(text)) <= words.filler:
            flows.menu.show(turn)   # "pak", "bu": someone waiting to be helped
            return
        await flows.menu.ask(turn)

    def _afraid_cancel(self, text: str) -> bool:
        """"gak jadi deh takut": a cancel said with fear; the rest of the words are the fear."""
        words = self.kit.words
        said = words.tokens(text)
        for phrase in words.phrases("cancel"):
            if said[:len(phrase)] == phrase and said[len(phrase):] and (
                    words.within("afraid", " ".join(said[len(phrase):]))):
                return True
        return False

    def _asks(self, turn: Turn) -> bool:
        """A question ("no ini agen resmi gk? 0813..."): it gets its answer first, never swallowed."""
        return "?" in turn.text or self.flows.menu.looks_like_question(turn.text)

    def _request(self, turn: Turn) -> str | None:
        """A flow asked for in plain words ("sy mau lapor", "cek laporan"), or a menu label typed."""
        words, text = self.kit.words, turn.text
        labels = self._menu_labels()
        if (folded := fold(text)) in labels:
            return labels[folded]
        if words.within("status_hint", text):
            return "menu:status"
        for name, payload in _REQUESTS:
            if words.is_(name, text) or (name == "start_report" and (
                    words.starts(name, text) or words.choose(text, {name: (f"@{name}",)}))):
                return payload   # "eh jadi deh, mau lapor" too
        return None

    def _menu_labels(self) -> dict[str, str]:
        """The main menu's labels as typed (folded), worked out once per content."""
        content = self.kit.content
        if self._labels[0] is not content:
            self._labels = (content, {fold(self.msg(f"menu_{k}")): f"menu:{k}" for k in MENU})
        return self._labels[1]

    async def _yes_to_single(self, turn: Turn) -> bool:
        """"ya" when the last reply offered one thing besides the menu: that thing."""
        options = [o for o in turn.data.get("options") or [] if o[1] != "menu"]
        if len(options) == 1 and self.kit.words.is_("ya", turn.text):
            turn.payload = str(options[0][1])
            return await self._payload(turn, turn.payload)
        return False

    async def _payload(self, turn: Turn, payload: str) -> bool:
        """Options that mean the same in any state. False when the payload belongs to the open flow."""
        flows = self.flows
        kind, _, value = payload.partition(":")
        if kind == "menu" and value in MENU:
            if turn.state in REPORT_STATES and value != "report":
                self._guard(turn, payload)
                return True
            await flows.menu.choice(turn, value)
        elif kind == "faq" and value in self.kit.content.by_id:
            if turn.state in REPORT_STATES:
                flows.intake.aside(turn, value)   # read it without losing the report
            else:
                flows.menu.answer(turn, self.kit.content.entry(value))
        elif kind == "topic" and value in TOPICS:
            flows.menu.topic(turn, value)
        elif kind == "person" and value == "village":
            flows.village.prompt(turn, then="person")   # the village first, then who to talk to
        elif kind == "person":
            flows.menu.person(turn)
        elif kind == "addinfo" and value:
            await flows.menu.add_info(turn, value)
        elif kind == "status" and value == "code":
            flows.status.ask_number(turn)
        elif kind == "kab" and turn.state != "village":
            if value:
                await flows.village.kabupaten(turn, value)
            else:
                flows.village.prompt(turn, then="menu")
        elif kind == "check" and value == "report":
            await flows.offer_check.to_report(turn)
        elif kind == "story" and value in ("report", "check"):
            story = str(turn.data.get("story") or "")
            if value == "report":
                await flows.intake.start_report(turn, story=story)
            else:
                await flows.offer_check.start(turn, story=story)
        elif kind == "media":
            await flows.menu.media_choice(turn, value)
        elif kind == "urgent" and value in ("send", "report"):
            await flows.emergency.send(turn, detailed=value == "report")
        elif kind == "report" and value in ("resume", "new"):
            draft = flows.intake.draft_of(turn)
            turn.data.pop("draft", None)
            if value == "resume" and draft is not None:
                await flows.intake.resume(turn, dict(draft), recap=True)
            else:
                turn.go("menu")
                turn.data.pop("draft", None)
                await flows.intake.start_report(turn)
        elif kind in ("ans", "sign", "identity", "report", "edit", "forget", "village", "kec", "kab", "guard"):
            return False
        else:
            # A stale button from an old message, or a forged one: say so and show the menu.
            turn.say(self.msg("option_unknown", n=str(len(MENU))))
            flows.menu.show(turn)
        return True

    # Leaving a report half-way ----------------------------------------------------------------
    def _guard(self, turn: Turn, then: str) -> None:
        """Asked to go elsewhere mid-report: continue, or keep it for later, or throw it away."""
        draft = self.flows.intake.pause(turn)
        turn.go("guard", draft=draft, then=then)
        turn.say(self.msg("guard_prompt"), (
            Option(self.msg("guard_continue"), "guard:continue"),
            Option(self.msg("guard_keep"), "guard:keep"),
            Option(self.msg("guard_discard"), "guard:discard")))

    async def _guard_answer(self, turn: Turn) -> None:
        words = self.kit.words
        payload = turn.payload
        if payload is None and turn.text:
            payload = words.choose(turn.text, {
                "guard:continue": ("@ya", "lanjut", "lanjutkan", "terus"),
                "guard:discard": ("buang", "hapus laporan", "buang laporan")})
        draft = dict(turn.data.get("draft") or {})
        then = str(turn.data.get("then") or "menu")
        if payload == "guard:continue":
            turn.data.pop("draft", None)
            if turn.place is None:
                self.flows.intake.ask_village(turn, draft, "village_needed")
            else:
                await self.flows.intake.resume(turn, draft)
        elif payload == "guard:discard":
            turn.data.pop("draft", None)
            turn.go("menu")
            turn.say(self.msg("report_cancelled"))
            self.flows.menu.show(turn)
        elif payload == "guard:keep":
            turn.go("menu", draft=draft)
            turn.say(self.msg("draft_kept", hari=str(self.settings.draft_days)))
            if then != "menu" and await self._payload(turn, then):
                return
            self.flows.menu.show(turn)
        else:
            # Something else entirely: keep the report for later and handle the message.
            turn.go("menu", draft=draft)
            await self._idle(turn)

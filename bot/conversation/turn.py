"""One message being handled (the turn), and the parts every flow of the conversation shares."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.casework import Casework
from bot.config import Settings
from bot.content import Content
from bot.conversation.words import Words
from bot.danger import DangerDetector
from bot.faq import FaqIndex
from bot.models import IncomingMessage, Option, Outgoing, Reply, Sender
from bot.routing import Routing
from bot.store import CaseStep, Conversation, FaqDecision, NewReport, Store
from bot.villages import Place, village_values

if TYPE_CHECKING:
    from bot.conversation.flows import Flows


@dataclass
class Turn:
    """One message being handled: what we know, and what we will answer."""

    sender: Sender
    message: IncomingMessage
    conv: Conversation
    place: Place | None
    greeted: bool
    now: dt.datetime
    text: str                       # the message's text, stripped
    payload: str | None = None      # a tapped button, or the option a typed number picked
    replies: list[Reply] = field(default_factory=list)
    # Written with the new state at the end of the turn, in the same transaction.
    faq: FaqDecision | None = None
    unanswered: str | None = None
    forgotten: bool = False         # "hapus data" confirmed: carried out by end_turn, nothing written back
    report: NewReport | None = None  # filed by end_turn, in the turn's transaction
    officer_state: Conversation | None = None   # an officer's new state, written by end_turn
    alerts: list[Outgoing] = field(default_factory=list)
    case_steps: list[CaseStep] = field(default_factory=list)   # written by end_turn, in the turn's transaction

    @property
    def state(self) -> str:
        return self.conv.state

    @property
    def data(self) -> dict[str, Any]:
        return self.conv.data

    def go(self, state: str, **data: Any) -> None:
        """Move to `state`; a kept unfinished report travels along until it is resumed or dropped.

        So does the mark that this chat filed a contactable report: only then is a message looked
        up against open cases, so other villagers' messages cost no extra trip to the database.
        """
        draft = self.conv.data.get("draft")
        if draft is not None and "draft" not in data and state != "report":
            data["draft"] = draft
        if self.conv.data.get("reporter") and "reporter" not in data:
            data["reporter"] = True
        self.conv = Conversation(state, data)

    def say(self, text: str, options: tuple[Option, ...] = ()) -> None:
        self.replies.append(Reply(text, options))


class Kit:
    """What every flow uses: settings, content, the index, the store and the shared phrasing."""

    def __init__(self, settings: Settings, content: Content, index: FaqIndex, store: Store,
                 routing: Routing, casework: Casework, clock: Callable[[], dt.datetime]) -> None:
        self.settings = settings
        self.store = store
        self.routing = routing
        self.casework = casework
        self.clock = clock
        self.flows: Flows   # set by the dialogue once every flow exists
        self.use(content, index)

    def use(self, content: Content, index: FaqIndex) -> None:
        """Swap in re-read content between two messages; conversations carry on."""
        self.content = content
        self.index = index
        self.words = Words(content.words, index.normalizer)
        self.danger = DangerDetector(content.danger, index.normalizer)
        self.casework.content = content

    def msg(self, key: str, **values: str | None) -> str:
        return self.content.message(key, **values)

    def menu_option(self) -> Option:
        return Option(self.msg("menu_back"), "menu")

    def entry_option(self, entry_id: str) -> Option:
        return Option(self.content.entry(entry_id).question, f"faq:{entry_id}")

    def office_values(self, place: Place | None) -> dict[str, str]:
        return village_values(self.settings, place) if place is not None else {}

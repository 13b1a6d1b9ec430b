"""The composition root: the only place that builds concrete parts from settings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from bot.config import Settings, load_settings
from bot.content import Content, load_content
from bot.conversation import Dialogue
from bot.faq import FaqIndex
from bot.models import Channel
from bot.outbox import Deliverer, Outbox
from bot.store import Store
from bot.textnorm import Normalizer, load_roots

REQUIRED_MESSAGES = frozenset({
    "faq_none", "faq_suggest", "faq_empty", "faq_chitchat", "welcome", "menu", "cancelled",
    "option_unknown", "error_apology", "too_long", "no_text", "report_intro", "check_intro",
    "summary", "report_done", "alert", "update_ack", "update_note", "update_close",
    "officer_only", "escalation_tanggap_1", "digest", "forget_confirm", "forget_done", "village_prompt",
})


@dataclass(frozen=True)
class Knowledge:
    """Settings, content and the FAQ index built from them: everything that answers questions."""

    settings: Settings
    content: Content
    index: FaqIndex


def default_config_path() -> Path:
    """config.yaml when the operator made one, else the shipped example (a fresh clone runs)."""
    own = Path("config.yaml")
    return own if own.exists() else Path("config.example.yaml")


def build_dialogue(knowledge: Knowledge, store: Store,
                   clock: Callable[[], dt.datetime] | None = None,
                   observer: Callable[[Channel, str | None, int], None] | None = None) -> Dialogue:
    return Dialogue(knowledge.settings, knowledge.content, knowledge.index, store, clock, observer)


def build_outbox(store: Store, deliverers: Mapping[Channel, Deliverer],
                 clock: Callable[[], dt.datetime] | None = None,
                 on_sent: Callable[[Channel], None] | None = None) -> Outbox:
    return Outbox(store, deliverers, clock=clock, on_sent=on_sent)


def build_knowledge(config_path: Path, environ: Mapping[str, str]) -> Knowledge:
    return load_knowledge(load_settings(config_path, environ))


def load_knowledge(settings: Settings) -> Knowledge:
    """Content read and checked from settings.content_dir, and its index: raises ContentError."""
    content = load_content(settings.content_dir, REQUIRED_MESSAGES)
    normalizer = Normalizer(content.lexicon, load_roots())
    return Knowledge(settings, content, FaqIndex(content.entries, normalizer, settings.match))

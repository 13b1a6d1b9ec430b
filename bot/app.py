"""The composition root: the only place that builds concrete parts from settings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bot.config import Settings, load_settings
from bot.content import Content, load_content
from bot.faq import FaqIndex
from bot.textnorm import Normalizer, load_roots

REQUIRED_MESSAGES = frozenset({"faq_none", "faq_suggest", "faq_empty", "faq_chitchat"})


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


def build_knowledge(config_path: Path, environ: Mapping[str, str]) -> Knowledge:
    settings = load_settings(config_path, environ)
    content = load_content(settings.content_dir, REQUIRED_MESSAGES)
    normalizer = Normalizer(content.lexicon, load_roots())
    return Knowledge(settings, content, FaqIndex(content.entries, normalizer, settings.match))

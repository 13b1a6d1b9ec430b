"""The answers' small markup (**bold**, numbered steps, bare links) and how each channel shows it."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

_BOLD = re.compile(r"\*\*(.+?)\*\*", re.DOTALL)


def to_plain(text: str) -> str:
    """For the terminal and logs of content: markup removed, layout kept."""
    return _BOLD.sub(r"\1", text)


def to_whatsapp(text: str) -> str:
    """WhatsApp shows *single asterisks* as bold."""
    return _BOLD.sub(r"*\1*", text)


def to_telegram_html(text: str) -> str:
    """Telegram HTML: everything escaped first, so user text can never inject tags."""
    escaped = html.escape(text, quote=False)
    return _BOLD.sub(r"<b>\1</b>", escaped)


OPTIONS_RULE = "─" * 12


def numbered(labels: Sequence[str]) -> str:
    """Options as numbered lines under a rule, set apart from numbered steps in the text above.

    The same on every channel that shows options as text (WhatsApp, the terminal, Telegram when
    a payload cannot be a button): "2" typed picks the second.
    """
    return "\n".join([OPTIONS_RULE, *(f"{i}. {to_plain(label)}" for i, label in enumerate(labels, 1))])


def split_paragraphs(text: str, limit: int) -> list[str]:
    """Split at blank lines (then lines, then hard) so each part fits `limit` characters."""
    parts: list[str] = []
    current = ""
    for para in text.split("\n\n"):
        candidate = f"{current}\n\n{para}" if current else para
        if len(candidate) <= limit:
            current = candidate
            continue
        if current:
            parts.append(current)
        current = ""
        for piece in _split_long(para, limit):
            candidate = f"{current}\n{piece}" if current else piece
            if len(candidate) <= limit:
                current = candidate
            else:
                parts.append(current)
                current = piece
    if current:
        parts.append(current)
    return parts or [""]


def _split_long(para: str, limit: int) -> list[str]:
    out: list[str] = []
    for line in para.split("\n"):
        while len(line) > limit:
            cut = line.rfind(" ", 0, limit)
            cut = cut if cut > limit // 2 else limit
            out.append(line[:cut].rstrip())
            line = line[cut:].lstrip()
        out.append(line)
    return out

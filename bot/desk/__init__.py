"""The office console: a browser desk for officers under /console (cases, figures, questions, the trail)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Sequence

from aiohttp import web

from bot.casework import Casework
from bot.content import load_console
from bot.errors import ContentError
from bot.models import Channel
from bot.store import Store

from .auth import Auth
from .cases import CaseDesk
from .media import MediaFetcher
from .scope import Directory
from .web import Desk, build, needed_labels


def build_desk(casework: Casework, store: Store, live: frozenset[Channel], *,
               wake: Callable[[], None] = lambda: None,
               after_step: Sequence[Callable[[str], Awaitable[None]]] = (),
               media: Sequence[MediaFetcher] = (),
               clock: Callable[[], dt.datetime] | None = None) -> Desk:
    """The console's parts; `live`: the channels running now (where a login code can go)."""
    settings = casework.routing.settings
    text = load_console(settings.content_dir)
    missing = sorted(needed_labels() - set(text.labels))
    if missing:
        raise ContentError([f"{settings.content_dir / 'console.yaml'}: labels.{key}: missing (the console "
                            "needs it)" for key in missing])
    now = clock or (lambda: dt.datetime.now(dt.UTC))
    directory = Directory(settings)
    auth = Auth(store, directory, live, lambda code: text("login_code_message", code=code), wake, now)
    cases = CaseDesk(store, casework, directory, text, after_step, wake, now)
    secure = (settings.secrets.public_base_url or "").startswith("https://")
    return Desk(store=store, auth=auth, cases=cases, directory=directory, text=text, secure=secure,
                media=tuple(media), clock=now, content_dir=settings.content_dir)


def mount(app: web.Application, desk: Desk) -> None:
    """Serve the console under /console on the bot's own web server."""
    app.add_subapp("/console", build(desk))


__all__ = ["Desk", "build_desk", "mount", "needed_labels"]

"""Console login without passwords: a one-time code sent to the officer's chat, and server-side sessions.

Only hashes of the secrets (session tokens, login attempts, codes) are stored. The answer to a
login request is the same whether or not the address belongs to an officer.
"""

from __future__ import annotations

import collections
import datetime as dt
import hashlib
import hmac
import ipaddress
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from bot.models import Channel, Outgoing, Sender
from bot.store import DeskSession, Store

from .scope import Directory

CODE_TTL = dt.timedelta(minutes=10)
MAX_TRIES = 5                              # wrong codes per attempt before it is dead
LOCK_FIRST = dt.timedelta(minutes=15)      # then 30, 60, ... after each further locked-out attempt
LOCK_CAP = dt.timedelta(hours=24)
IDLE = dt.timedelta(minutes=30)
ABSOLUTE = dt.timedelta(hours=12)
WINDOW = dt.timedelta(minutes=15)
PER_NET = 20                               # login requests and code tries from one network per window
PER_OFFICER = 3                            # codes sent to one officer per window


def digest(*parts: str) -> str:
    return hashlib.sha256(":".join(parts).encode()).hexdigest()


def network_of(remote: str | None) -> str:
    """The address's network prefix (/24 or /48): enough to see a pattern, not a person's address."""
    try:
        ip = ipaddress.ip_address(remote or "")
    except ValueError:
        return "-"
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


class RateLimit:
    """At most `limit` events per key in a sliding window, kept in memory (one process)."""

    def __init__(self, limit: int, window: dt.timedelta) -> None:
        self.limit = limit
        self.window = window
        self._events: dict[str, collections.deque[dt.datetime]] = {}

    def allow(self, key: str, now: dt.datetime) -> bool:
        events = self._events.setdefault(key, collections.deque())
        while events and now - events[0] > self.window:
            events.popleft()
        if len(events) >= self.limit:
            return False
        events.append(now)
        if len(self._events) > 10_000:   # forget quiet networks, so the table cannot grow without end
            for k in [k for k, v in self._events.items() if not v or now - v[-1] > self.window]:
                del self._events[k]
        return True


@dataclass(frozen=True)
class LoginResult:
    officer_key: str | None      # who logged in, or who the failed attempt was for (None: unknown)
    session_token: str | None    # set on success


class Auth:
    def __init__(self, store: Store, directory: Directory, live: frozenset[Channel],
                 code_text: Callable[[str], str], wake: Callable[[], None],
                 clock: Callable[[], dt.datetime]) -> None:
        self.store = store
        self.directory = directory
        self.live = live
        self.code_text = code_text
        self.wake = wake
        self.clock = clock
        self.nets = RateLimit(PER_NET, WINDOW)

    def _recipient(self, key: str, chat: Sender) -> Sender | None:
        if chat.channel in self.live:
            return chat
        if Channel.CONSOLE in self.live:   # `make run` without credentials: printed as "[petugas KEY]"
            return Sender(Channel.CONSOLE, f"petugas-{key}")
        return None

    async def request_code(self, typed: str, net: str) -> tuple[str, bool]:
        """A new login attempt: (its secret token for the browser, whether the network may go on).

        A code goes out only for a known, unlocked officer under the limits; every other attempt
        looks the same from outside and can never succeed.
        """
        now = self.clock()
        token = secrets.token_urlsafe(32)
        if not self.nets.allow(net, now):
            return token, False
        code = f"{secrets.randbelow(10**6):06d}"
        found = self.directory.find(typed)
        officer_key: str | None = None
        outgoing: list[Outgoing] = []
        if found is not None:
            d, chat = found
            lock = await self.store.desk_lock(d.key)
            recent = await self.store.desk_recent_codes(d.key, now - WINDOW)
            recipient = self._recipient(d.key, chat)
            if (lock is None or lock[1] <= now) and recent < PER_OFFICER and recipient is not None:
                officer_key = d.key
                outgoing.append(Outgoing(recipient, self.code_text(code), "login"))
        await self.store.desk_code_create(digest(token), officer_key, digest(token, code), now,
                                          now + CODE_TTL, outgoing)
        if outgoing:
            self.wake()
        return token, True

    async def link(self, officer_key: str) -> str:
        """A one-time login link's token for `desa-imigrasi console-link` (10 minutes)."""
        now = self.clock()
        token = secrets.token_urlsafe(32)
        await self.store.desk_code_create(digest(token), officer_key, digest(token, "link"), now,
                                          now + CODE_TTL, ())
        return token

    async def check_code(self, token: str, code: str, net: str) -> LoginResult:
        """Check a typed code (or "link" for a login link); a new session on success."""
        now = self.clock()
        attempt = await self.store.desk_code(digest(token)) if token else None
        if attempt is None:
            return LoginResult(None, None)
        officer_key, code_hash, expires, tries, used = attempt
        if not self.nets.allow(net, now):
            return LoginResult(officer_key, None)
        if used or expires <= now or tries >= MAX_TRIES or officer_key is None:
            return LoginResult(officer_key, None)
        lock = await self.store.desk_lock(officer_key)
        if lock is not None and lock[1] > now:
            return LoginResult(officer_key, None)
        ok = hmac.compare_digest(code_hash, digest(token, code.strip()))
        await self.store.desk_code_try(digest(token), ok, now)
        if not ok:
            if tries + 1 >= MAX_TRIES:
                locks = (lock[0] if lock else 0) + 1
                until = now + min(LOCK_CAP, LOCK_FIRST * 2 ** (locks - 1))
                await self.store.desk_set_lock(officer_key, locks, until)
            return LoginResult(officer_key, None)
        if self.directory.scope(officer_key) is None:
            return LoginResult(officer_key, None)   # removed from the config since
        session = secrets.token_urlsafe(32)   # always a new id at login: no fixation
        await self.store.desk_session_create(digest(session), officer_key, secrets.token_urlsafe(24), now)
        return LoginResult(officer_key, session)

    async def session(self, token: str) -> DeskSession | None:
        """The live session of a cookie; an idle or too old one is ended here."""
        if not token:
            return None
        now = self.clock()
        found = await self.store.desk_session(digest(token))
        if found is None:
            return None
        if now - found.seen_at > IDLE or now - found.created_at > ABSOLUTE:
            await self.store.desk_session_revoke(found.token_hash, now)
            return None
        if now - found.seen_at > dt.timedelta(minutes=1):
            await self.store.desk_session_touch(found.token_hash, now)
        return found

    async def logout(self, session: DeskSession) -> None:
        await self.store.desk_session_revoke(session.token_hash, self.clock())

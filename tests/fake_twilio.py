"""A fake Twilio REST API on loopback: records every message create, can answer 500, an error code, or hang.

It also serves the Messages list (GET Messages.json) as Twilio does: filtered by To, From and
DateSent, newest first, in a page the twilio client reads.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

FIELDS = ("To", "From", "Body", "ContentSid", "ContentVariables", "StatusCallback")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class FakeTwilio:
    """`messages` are the creates Twilio accepted; failed or hung ones are in `refused`."""

    messages: list[dict[str, str]] = field(default_factory=list)
    refused: list[dict[str, str]] = field(default_factory=list)
    auth: list[str] = field(default_factory=list)
    lists: list[dict[str, str]] = field(default_factory=list)   # the query of every Messages list
    fail_next: int = 0                 # answer 500 this many times
    hang_next: int = 0                 # hold the request (until released) this many times
    error_code_next: int | None = None  # answer 400 with this Twilio error code once
    release: asyncio.Event = field(default_factory=asyncio.Event)
    clock: Callable[[], dt.datetime] = _now   # date_created of what is accepted
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/2010-04-01/Accounts/{account}/Messages.json", self.create)
        app.router.add_get("/2010-04-01/Accounts/{account}/Messages.json", self.list)
        return app

    async def create(self, request: web.Request) -> web.Response:
        form = await request.post()
        record = {k: str(form[k]) for k in FIELDS if k in form}
        self.auth.append(request.headers.get("Authorization", ""))
        if self.hang_next:
            self.hang_next -= 1
            self.refused.append(record)
            await self.release.wait()
            return web.json_response({"code": 20500, "message": "too late", "status": 500}, status=500)
        if self.fail_next:
            self.fail_next -= 1
            self.refused.append(record)
            return web.json_response({"code": 20500, "message": "Internal Server Error",
                                      "more_info": "https://www.twilio.com/docs/errors/20500",
                                      "status": 500}, status=500)
        if self.error_code_next is not None:
            code, self.error_code_next = self.error_code_next, None
            self.refused.append(record)
            return web.json_response({"code": code, "message": f"error {code}", "status": 400}, status=400)
        return web.json_response(self.accept(record, request.match_info["account"]), status=201)

    def accept(self, record: dict[str, str], account: str) -> dict[str, Any]:
        """Record a message as created and return its resource."""
        sid = f"SM{next(self._ids):032x}"
        created = self.clock()
        self.messages.append({**record, "sid": sid, "created": created.isoformat(), "account": account})
        return self._resource(self.messages[-1])

    @staticmethod
    def _body(record: dict[str, str]) -> str:
        """The text the recipient got: a template's text begins with its variables here."""
        if "ContentSid" in record:
            values = json.loads(record.get("ContentVariables", "{}"))
            return " · ".join(str(values[k]) for k in sorted(values))
        return record.get("Body", "")

    def _resource(self, record: dict[str, str]) -> dict[str, Any]:
        created = email.utils.format_datetime(dt.datetime.fromisoformat(record["created"]), usegmt=True)
        account, sid = record["account"], record["sid"]
        return {
            "sid": sid, "account_sid": account, "to": record.get("To"), "from": record.get("From"),
            "body": self._body(record), "status": "queued", "num_segments": "1", "num_media": "0",
            "direction": "outbound-api", "api_version": "2010-04-01", "price": None, "error_code": None,
            "error_message": None, "date_created": created, "date_updated": created, "date_sent": created,
            "uri": f"/2010-04-01/Accounts/{account}/Messages/{sid}.json",
        }

    async def list(self, request: web.Request) -> web.Response:
        query = dict(request.query)
        self.lists.append(query)
        found = [m for m in self.messages if m["account"] == request.match_info["account"]
                 and ("To" not in query or m.get("To") == query["To"])
                 and ("From" not in query or m.get("From") == query["From"])]
        for name, keep in (("DateSent>", lambda d, q: d >= q), ("DateSent<", lambda d, q: d <= q),
                           ("DateSent", lambda d, q: d.date() == q.date())):
            if name in query:   # a day ("2026-11-28") or a moment ("2026-11-28T09:00:00Z")
                moment = dt.datetime.fromisoformat(query[name].replace("Z", "+00:00"))
                moment = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
                found = [m for m in found if keep(dt.datetime.fromisoformat(m["created"]), moment)]
        size = int(query.get("PageSize", "50"))
        page = [self._resource(m) for m in reversed(found)][:size]
        uri = request.path_qs
        return web.json_response({"messages": page, "end": len(page) - 1, "start": 0, "page": 0,
                                  "page_size": size, "first_page_uri": uri, "previous_page_uri": None,
                                  "next_page_uri": None, "uri": uri})

    def to(self, number: str) -> list[dict[str, str]]:
        return [m for m in self.messages if m.get("To") == number]

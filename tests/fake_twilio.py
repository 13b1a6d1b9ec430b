"""A fake Twilio REST API on loopback: records every message create, can answer 500, an error code, or hang."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field

from aiohttp import web

FIELDS = ("To", "From", "Body", "ContentSid", "ContentVariables", "StatusCallback")


@dataclass
class FakeTwilio:
    """`messages` are the creates Twilio accepted; failed or hung ones are in `refused`."""

    messages: list[dict[str, str]] = field(default_factory=list)
    refused: list[dict[str, str]] = field(default_factory=list)
    auth: list[str] = field(default_factory=list)
    fail_next: int = 0                 # answer 500 this many times
    hang_next: int = 0                 # hold the request (until released) this many times
    error_code_next: int | None = None  # answer 400 with this Twilio error code once
    release: asyncio.Event = field(default_factory=asyncio.Event)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/2010-04-01/Accounts/{account}/Messages.json", self.create)
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
        sid = f"SM{next(self._ids):032x}"
        self.messages.append({**record, "sid": sid})
        account = request.match_info["account"]
        return web.json_response({
            "sid": sid, "account_sid": account, "to": record.get("To"), "from": record.get("From"),
            "body": record.get("Body", ""), "status": "queued", "num_segments": "1", "num_media": "0",
            "direction": "outbound-api", "api_version": "2010-04-01", "price": None, "error_code": None,
            "error_message": None, "date_created": "Sat, 28 Nov 2026 09:00:00 +0000",
            "uri": f"/2010-04-01/Accounts/{account}/Messages/{sid}.json",
        }, status=201)

    def to(self, number: str) -> list[dict[str, str]]:
        return [m for m in self.messages if m.get("To") == number]

"""A fake Telegram Bot API server on loopback: records every call, serves getUpdates, fails on demand.

The real PTB Bot talks to it through `base_url`, so the whole stack (httpx, PTB's serialisation,
the rate limiter) runs as in production. PTB sends parameters as form fields: strings as they
are, everything else JSON-encoded; `Call.json(name)` decodes one of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

BOT_USER = {"id": 999000, "is_bot": True, "first_name": "Desa Imigrasi", "username": "DesaImigrasiBot"}


@dataclass
class Call:
    method: str
    params: dict[str, str]
    status: int = 200
    result: Any = None

    def json(self, name: str) -> Any:
        return json.loads(self.params[name])

    @property
    def chat_id(self) -> int | None:
        value = self.params.get("chat_id")
        return int(value) if value is not None else None

    @property
    def ok(self) -> bool:
        return self.status == 200


@dataclass
class Failure:
    method: str
    status: int
    times: int
    chat_id: int | None = None
    retry_after: int | None = None
    garbage: bool = False


@dataclass
class FakeTelegram:
    calls: list[Call] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)   # file_id -> (file_path, bytes)
    downloads: list[str] = field(default_factory=list)                  # the paths of files fetched

    def __post_init__(self) -> None:
        self._message_ids = itertools.count(100)
        self._new_update = asyncio.Event()
        self.app = web.Application()
        self.app.router.add_post("/bot{token}/{method}", self._handle)
        self.app.router.add_get("/file/bot{token}/{path:.+}", self._download)

    # Test controls -----------------------------------------------------------------------
    def fail(self, method: str, status: int, *, times: int = 1, chat_id: int | None = None,
             retry_after: int | None = None) -> None:
        """The next `times` calls of `method` (to `chat_id`, when given) answer `status`."""
        self.failures.append(Failure(method, status, times, chat_id, retry_after))

    def garble(self, method: str, *, times: int = 1) -> None:
        """The next `times` calls of `method` answer ok with a result no client can read."""
        self.failures.append(Failure(method, 200, times, garbage=True))

    def push_update(self, update: dict[str, Any]) -> None:
        self.updates.append(update)
        self._new_update.set()

    def made(self, method: str, chat_id: int | None = None) -> list[Call]:
        """The successful calls of `method` (to `chat_id`, when given), in order."""
        return [c for c in self.calls if c.method == method and c.ok
                and (chat_id is None or c.chat_id == chat_id)]

    async def wait_for(self, method: str, count: int = 1, within: float = 5.0) -> list[Call]:
        deadline = time.monotonic() + within
        while len(self.made(method)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{method} made {len(self.made(method))} times, wanted {count}")
            await asyncio.sleep(0.01)
        return self.made(method)

    # The API ----------------------------------------------------------------------------
    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        form = await request.post()
        params = {k: v for k, v in form.items() if isinstance(v, str)}
        call = Call(method, params)
        self.calls.append(call)
        failure = self._failure(call)
        if failure is not None and failure.garbage:
            return web.json_response({"ok": True, "result": "garbage"})
        if failure is not None:
            call.status = failure.status
            body: dict[str, Any] = {"ok": False, "error_code": failure.status,
                                    "description": f"fake failure {failure.status}"}
            if failure.retry_after is not None:
                body["parameters"] = {"retry_after": failure.retry_after}
                body["description"] = f"Too Many Requests: retry after {failure.retry_after}"
            return web.json_response(body, status=failure.status)
        if method == "getUpdates":
            result: Any = await self._get_updates(params)
        else:
            result = self._result(call)
        call.result = result
        return web.json_response({"ok": True, "result": result})

    def _failure(self, call: Call) -> Failure | None:
        for failure in self.failures:
            if failure.method == call.method and failure.times > 0 and \
                    (failure.chat_id is None or failure.chat_id == call.chat_id):
                failure.times -= 1
                return failure
        return None

    async def _get_updates(self, params: dict[str, str]) -> list[dict[str, Any]]:
        offset = int(params.get("offset", "0"))
        timeout = float(params.get("timeout", "0"))
        deadline = time.monotonic() + min(timeout, 1.0)
        while True:
            # Like Telegram: an offset confirms (forgets) every earlier update.
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
            limit = int(params.get("limit", "100"))
            if self.updates or time.monotonic() >= deadline:
                return self.updates[:limit]
            self._new_update.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_update.wait(), deadline - time.monotonic())

    async def _download(self, request: web.Request) -> web.Response:
        """Like Telegram's file server: a file_path from getFile, under the bot's token."""
        self.downloads.append(request.path)
        for file_path, body in self.files.values():
            if request.match_info["path"] == file_path:
                return web.Response(body=body)
        return web.Response(status=404)

    def _result(self, call: Call) -> Any:
        if call.method == "getMe":
            return BOT_USER
        if call.method == "getFile":
            file_id = call.params.get("file_id", "")
            if file_id not in self.files:
                return {"file_id": file_id, "file_unique_id": "gone"}   # Telegram: no file_path
            path, body = self.files[file_id]
            return {"file_id": file_id, "file_unique_id": f"u-{file_id}", "file_size": len(body),
                    "file_path": path}
        if call.method in ("sendMessage", "sendPhoto", "sendDocument", "sendVoice", "editMessageText"):
            chat_id = call.chat_id or 0
            message: dict[str, Any] = {
                "message_id": int(call.params["message_id"]) if "message_id" in call.params
                else next(self._message_ids),
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"},
                "from": BOT_USER,
            }
            if "text" in call.params:
                message["text"] = call.params["text"]
            if call.method == "sendPhoto":
                message["photo"] = [{"file_id": call.params.get("photo", ""), "file_unique_id": "u",
                                     "width": 90, "height": 90}]
            if call.method == "sendDocument":
                message["document"] = {"file_id": call.params.get("document", ""), "file_unique_id": "u"}
            if call.method == "sendVoice":
                message["voice"] = {"file_id": call.params.get("voice", ""), "file_unique_id": "u", "duration": 5}
            return message
        return True   # answerCallbackQuery, setWebhook, deleteWebhook, setMyCommands, ...

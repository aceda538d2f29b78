"""A loopback stand-in for Twilio's Messages API, for bench/cluster.py.

`POST /2010-04-01/Accounts/{sid}/Messages.json` (HTTP basic auth with the account SID and the auth
token, form fields To, From, Body, MediaUrl) records the message for its recipient and answers 201
with a message SID, as Twilio does; anything else, or wrong credentials, gets Twilio's 401 body.
It runs in the caller's event loop; `wait` lets a WhatsApp user of the benchmark wait for the
messages sent to it.
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import itertools
import time
from dataclasses import dataclass, field

from aiohttp import web


@dataclass(frozen=True)
class Sent:
    at: float  # time.monotonic() when the message reached us
    body: str
    media: tuple[str, ...] = ()


@dataclass
class _Inbox:
    messages: list[Sent] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)


class FakeTwilio:
    def __init__(self, account_sid: str, auth_token: str) -> None:
        self.account_sid = account_sid
        self._auth = "Basic " + base64.b64encode(f"{account_sid}:{auth_token}".encode()).decode()
        self._inboxes: dict[str, _Inbox] = {}
        self._ids = itertools.count(1)
        self.unauthorized = 0
        self.app = web.Application()
        self.app.router.add_post("/2010-04-01/Accounts/{sid}/Messages.json", self._messages)
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self, port: int = 0) -> FakeTwilio:
        """Listens on 127.0.0.1:`port` (0: a free port the system picks)."""
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", port).start()
        self.port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def _inbox(self, recipient: str) -> _Inbox:
        return self._inboxes.setdefault(recipient, _Inbox())

    async def _messages(self, request: web.Request) -> web.Response:
        authorized = hmac.compare_digest(request.headers.get("Authorization", ""), self._auth)
        if not authorized or request.match_info["sid"] != self.account_sid:
            self.unauthorized += 1
            return web.json_response({"code": 20003, "message": "Authenticate", "status": 401}, status=401)
        form = await request.post()
        to = str(form.get("To") or "")
        if not to:
            return web.json_response({"code": 21604, "message": "A 'To' phone number is required."}, status=400)
        inbox = self._inbox(to)
        media = tuple(str(url) for url in form.getall("MediaUrl", []))
        inbox.messages.append(Sent(time.monotonic(), str(form.get("Body") or ""), media))
        inbox.arrived.set()
        sid = f"SM{next(self._ids):032x}"
        return web.json_response({"sid": sid, "status": "queued", "to": to, "from": form.get("From")}, status=201)

    def to(self, recipient: str) -> list[Sent]:
        """Everything sent to `recipient` so far, in the order it arrived."""
        return list(self._inbox(recipient).messages)

    def count(self, recipient: str) -> int:
        return len(self._inbox(recipient).messages)

    async def wait(self, recipient: str, more_than: int, timeout_s: float) -> bool:
        """Whether `recipient` has more than `more_than` messages within `timeout_s` seconds."""
        inbox = self._inbox(recipient)
        deadline = time.monotonic() + timeout_s
        while len(inbox.messages) <= more_than:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            inbox.arrived.clear()
            try:
                await asyncio.wait_for(inbox.arrived.wait(), left)
            except asyncio.TimeoutError:
                return len(inbox.messages) > more_than
        return True

"""Loopback stand-ins for Twilio's REST API and Telegram's Bot API, a file server for the
backend's signed links, and an in-process Sanic server for one input channel."""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import time

import aiohttp
from aiohttp import web
from sanic import Sanic

from scripts.stack import free_port


class _Server:
    def __init__(self) -> None:
        self.app = web.Application(client_max_size=64 * 1024 * 1024)
        self.runner: web.AppRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> _Server:
        self.runner = web.AppRunner(self.app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", 0).start()  # the system's free port: no race for it
        self.port = self.runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        if self.runner:
            await self.runner.cleanup()

    # the same server as a sync context (for the end-to-end tests, in a thread)
    def start_in_thread(self) -> _Server:
        import threading

        ready = threading.Event()
        self._loop = asyncio.new_event_loop()

        def run() -> None:
            asyncio.set_event_loop(self._loop)
            self._loop.run_until_complete(self.start())
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError(f"{type(self).__name__} did not start in 10 s")
        return self

    def stop_thread(self) -> None:
        asyncio.run_coroutine_threadsafe(self.stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


async def wait_until(predicate, timeout: float = 5.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def wait_until_sync(predicate, timeout: float = 60.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


class FakeTwilio(_Server):
    """POST /2010-04-01/Accounts/{sid}/Messages.json (basic auth) records the message;
    GET /media/{name} serves inbound media, only with the account's credentials."""

    def __init__(self, account_sid: str, auth_token: str) -> None:
        super().__init__()
        self.account_sid, self.auth_token = account_sid, auth_token
        self.sent: list[dict] = []
        self.media: dict[str, tuple[bytes, str]] = {}
        self.failures_to_inject = 0
        self.unauthorized = 0
        self.app.router.add_post("/2010-04-01/Accounts/{sid}/Messages.json", self._messages)
        self.app.router.add_get("/media/{name}", self._media)
        self._ids = itertools.count(1)

    def _authorized(self, request: web.Request) -> bool:
        expected = "Basic " + base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        return request.headers.get("Authorization") == expected

    async def _messages(self, request: web.Request) -> web.Response:
        if not self._authorized(request) or request.match_info["sid"] != self.account_sid:
            self.unauthorized += 1
            return web.json_response({"code": 20003, "message": "Authenticate"}, status=401)
        if self.failures_to_inject:
            self.failures_to_inject -= 1
            return web.json_response({"code": 20500, "message": "Internal error"}, status=500)
        form = await request.post()
        message = {
            "To": form.get("To"),
            "From": form.get("From"),
            "Body": form.get("Body", ""),
            "MediaUrl": form.getall("MediaUrl", []),
        }
        self.sent.append(message)
        return web.json_response({"sid": f"SM{next(self._ids):032d}", "status": "queued"}, status=201)

    async def _media(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            self.unauthorized += 1
            return web.Response(status=401)
        content, content_type = self.media[request.match_info["name"]]
        return web.Response(body=content, content_type=content_type)

    def to(self, address: str) -> list[dict]:
        return [m for m in self.sent if m["To"] == address]


class FakeTelegram(_Server):
    """The Bot API methods the channel uses, on /bot{token}/{method} and files on
    /file/bot{token}/{path}. Every call is recorded as (method, params); uploaded files keep
    their bytes and filename."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token
        self.calls: list[tuple[str, dict]] = []
        self.files: dict[str, bytes] = {}
        self._ids = itertools.count(100)
        self.app.router.add_route("*", "/bot{token}/{method}", self._method)
        self.app.router.add_get("/file/bot{token}/{path:.*}", self._file)

    def called(self, method: str) -> list[dict]:
        return [p for m, p in self.calls if m == method]

    async def _method(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        method = request.match_info["method"]
        params: dict = {}
        if request.content_type == "application/json":
            params = await request.json()
        elif request.can_read_body:
            for key, value in (await request.post()).items():
                if isinstance(value, web.FileField):
                    params[key] = {"filename": value.filename, "content": value.file.read()}
                else:
                    try:
                        params[key] = json.loads(value)
                    except ValueError:
                        params[key] = value
        # files sent as attach://name live in another multipart field
        for key, value in list(params.items()):
            if isinstance(value, str) and value.startswith("attach://"):
                params[key] = params.pop(value[len("attach://") :])
        self.calls.append((method, params))
        return web.json_response({"ok": True, "result": self._result(method, params)})

    def _result(self, method: str, params: dict):
        if method == "getMe":
            return {"id": 4242, "is_bot": True, "first_name": "Assistente", "username": "assistente_bot"}
        if method in ("sendMessage", "sendPhoto", "sendDocument", "editMessageReplyMarkup"):
            chat_id = int(params.get("chat_id"))
            return {
                "message_id": next(self._ids),
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private"},
                "text": params.get("text", ""),
            }
        if method == "getFile":
            file_id = params["file_id"]
            return {
                "file_id": file_id,
                "file_unique_id": file_id,
                "file_size": len(self.files.get(file_id, b"")),
                "file_path": f"documents/{file_id}.bin",
            }
        return True

    async def _file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        file_id = request.match_info["path"].rsplit("/", 1)[-1].removesuffix(".bin")
        return web.Response(body=self.files[file_id])


class FakeBackend(_Server):
    """The backend's POST /api/inbound-files as the channels see it: the service token, the
    conversation headers, the upload policy (common/uploads.py) on the bytes. Records what it took
    (`files`: id -> {channel, conversation_id, filename, content_type, content}); `refuse_with`
    (status, body) answers the next calls so, `down` makes it answer 503."""

    def __init__(self, token: str = "token-de-servico-dos-canais") -> None:
        super().__init__()
        self.token = token
        self.files: dict[str, dict] = {}
        self.calls = 0
        self.refuse_with: tuple[int, dict] | None = None
        self.down = False
        self._ids = itertools.count(1)
        self.app.router.add_post("/api/inbound-files", self._receive)

    async def _receive(self, request: web.Request) -> web.Response:
        from common.uploads import UploadRefused, check_content, safe_filename

        self.calls += 1
        content = await request.read()
        if self.down:
            return web.json_response({"error": {"code": "internal_error", "message": "falhou"}}, status=503)
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return web.json_response({"error": {"code": "service_unauthorized", "message": "x"}}, status=401)
        if self.refuse_with is not None:
            status, body = self.refuse_with
            return web.json_response(body, status=status)
        try:
            kind = check_content(content)
        except UploadRefused as exc:
            return web.json_response({"error": {"code": exc.code, "message": exc.message}}, status=exc.status)
        file_id = f"arquivo{next(self._ids):04d}-ABCDEFGHIJKLMNOP"
        self.files[file_id] = {
            "channel": request.headers.get("X-Channel"),
            "conversation_id": request.headers.get("X-Conversation-Id"),
            "filename": safe_filename(request.query.get("filename"), kind.extension),
            "content_type": kind.content_type,
            "declared_type": request.headers.get("Content-Type"),
            "content": content,
        }
        item = self.files[file_id]
        body = {"id": file_id, "filename": item["filename"], "content_type": kind.content_type, "size": len(content)}
        return web.json_response(body, status=201)

    def assert_only_file(
        self, metadata: dict, filename: str, content_type: str, content: bytes, *, channel: str, conversation_id: str
    ) -> None:
        """The one file this backend took (its bytes, for this conversation) is the one the message's
        metadata (channels.common's attachment contract) passes to the bot."""
        [attachment] = metadata["attachments"]
        [(file_id, stored)] = self.files.items()
        expected = {"file_id": file_id, "content_type": content_type, "filename": filename, "size": len(content)}
        assert attachment == expected, attachment
        assert (stored["content"], stored["channel"], stored["conversation_id"]) == (content, channel, conversation_id)


class FileServer(_Server):
    """Stands in for the backend's signed document links."""

    def __init__(self) -> None:
        super().__init__()
        self.files: dict[str, tuple[bytes, str]] = {}
        self.app.router.add_get("/documentos/{name}", self._get)

    async def _get(self, request: web.Request) -> web.Response:
        if request.match_info["name"] not in self.files:
            return web.Response(status=410)
        content, content_type = self.files[request.match_info["name"]]
        return web.Response(body=content, content_type=content_type)


_apps = itertools.count()


class ChannelServer:
    """One input channel in a Sanic server on loopback, in the test's event loop, with
    `on_new_message` standing in for Rasa's agent."""

    def __init__(self, channel, on_new_message) -> None:
        self.channel = channel
        Sanic.test_mode = True  # several apps in one process (Sanic's touch-up runs once per method)
        self.app = Sanic(f"channel_test_{next(_apps)}")
        self.app.config.ACCESS_LOG = False
        self.app.blueprint(channel.blueprint(on_new_message), url_prefix=f"/webhooks/{channel.name()}")
        self.port = free_port()
        self.server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> ChannelServer:
        self.server = await self.app.create_server(
            host="127.0.0.1", port=self.port, return_asyncio_server=True, access_log=False
        )
        await self.server.startup()
        await self.server.before_start()
        await self.server.after_start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.channel.lanes.drain()
        await self.server.before_stop()
        self.server.close()
        await self.server.wait_closed()
        await self.server.after_stop()

    async def post(self, path: str, **kwargs) -> tuple[int, str]:
        async with aiohttp.ClientSession() as session:
            async with session.post(self.url + path, **kwargs) as resp:
                return resp.status, await resp.text()

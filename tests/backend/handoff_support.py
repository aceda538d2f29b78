"""A fake Rasa HTTP API for the handoff tests (test modules do not import conftest): it keeps one
event list per conversation, records every call and answers like `rasa run --enable-api`."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field

from aiohttp import web
from aiohttp.test_utils import TestServer


@dataclass
class Call:
    method: str
    conversation_id: str
    action: str  # tracker/events | trigger_intent | tracker
    query: dict
    body: object


@dataclass
class FakeRasa:
    trackers: dict[str, list[dict]] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    intents: set[str] = field(default_factory=lambda: {"atendimento_encerrado"})
    down: bool = False
    server: TestServer | None = None

    @property
    def url(self) -> str:
        return str(self.server.make_url("")).rstrip("/")

    def user_says(self, conversation_id: str, text: str) -> None:
        self.trackers.setdefault(conversation_id, []).append(
            {
                "event": "user",
                "text": text,
                "timestamp": time.time(),
                "message_id": uuid.uuid4().hex,
                "parse_data": {"intent": {"name": "informar"}},
            }
        )

    def events(self, conversation_id: str) -> list[dict]:
        return self.trackers.get(conversation_id, [])

    def calls_to(self, action: str) -> list[Call]:
        return [call for call in self.calls if call.action == action and call.method == "POST"]

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/conversations/{conversation_id}/{action:.+}", self._handle)
        return app

    async def _handle(self, request: web.Request) -> web.Response:
        conversation_id, action = request.match_info["conversation_id"], request.match_info["action"]
        body = await request.json() if request.can_read_body else None
        self.calls.append(Call(request.method, conversation_id, action, dict(request.query), body))
        if self.down:
            return web.json_response({"status": "failure"}, status=500)
        events = self.trackers.setdefault(conversation_id, [])
        if action == "tracker" and request.method == "GET":
            return web.json_response(
                {"sender_id": conversation_id, "events": events, "paused": any(e["event"] == "pause" for e in events)}
            )
        if action == "tracker/events" and request.method == "POST":
            for event in body if isinstance(body, list) else [body]:
                events.append({**event, "timestamp": time.time()})
            return web.json_response({"sender_id": conversation_id, "events": events})
        if action == "trigger_intent":
            if body["name"] not in self.intents:
                return web.json_response({"status": "failure", "reason": "NotFound"}, status=404)
            events.append({"event": "user", "text": f"EXTERNAL: {body['name']}", "timestamp": time.time()})
            events.append({"event": "bot", "text": "Voltei! Posso ajudar em algo mais?", "timestamp": time.time()})
            return web.json_response({"tracker": {"sender_id": conversation_id}})
        return web.json_response({"status": "failure"}, status=404)


async def start_fake_rasa(**kwargs) -> FakeRasa:
    fake = FakeRasa(**kwargs)
    fake.server = TestServer(fake.app(), host="127.0.0.1")
    await fake.server.start_server()
    return fake

"""Handoff end to end (issue 7): a website-widget user (socket.io, as the widget talks to Rasa)
asks for a person in the middle of a form, gets a protocol; an agent claims the ticket through the
agent API; the agent's reply reaches the user on the socket, the user's messages reach the agent,
and closing the ticket gives the conversation back to the assistant."""
from __future__ import annotations

import queue
import re
import time
import uuid

import pytest
import socketio

from rest_chat import PROTOCOL_RE, post_json

pytestmark = pytest.mark.integration
AGENT = {"username": "atendente", "password": "Atende@2024"}


class WidgetUser:
    """What the website widget does: a persistent session id, user_uttered / bot_uttered."""

    def __init__(self, rasa_url: str):
        self.session_id = uuid.uuid4().hex
        self.inbox: queue.Queue[dict] = queue.Queue()
        self.sio = socketio.Client()
        self.sio.on("bot_uttered", self.inbox.put)
        self.sio.connect(rasa_url, transports=["polling"], socketio_path="/socket.io")
        self.sio.emit("session_request", {"session_id": self.session_id})
        time.sleep(1)

    def say(self, text: str, wait_s: float = 60) -> str:
        self.sio.emit("user_uttered", {"message": text, "session_id": self.session_id})
        return self.receive(wait_s)

    def receive(self, wait_s: float = 60, settle_s: float = 1.5) -> str:
        """The texts that arrive until the bot has been quiet for `settle_s` (at least one)."""
        texts = [self.inbox.get(timeout=wait_s).get("text", "")]
        while True:
            try:
                texts.append(self.inbox.get(timeout=settle_s).get("text", ""))
            except queue.Empty:
                return "\n".join(texts)

    def silent(self, wait_s: float = 4) -> bool:
        try:
            self.inbox.get(timeout=wait_s)
            return False
        except queue.Empty:
            return True


def agent_call(stack, method: str, path: str, token: str, body: dict | None = None) -> tuple[int, dict]:
    import json
    import urllib.error
    import urllib.request
    request = urllib.request.Request(f"{stack.backend_url}{path}", method=method,
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as resp:
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}")


def test_widget_user_reaches_an_agent_and_comes_back_to_the_bot(stack):
    status, login = post_json(f"{stack.backend_url}/api/agent/login", AGENT)
    assert status == 200, login
    token = login["token"]
    user = WidgetUser(stack.rasa_url)
    try:
        assert "carteirinha" in user.say("esqueci minha senha").lower()
        answer = user.say("quero falar com um atendente")  # mid-form, without giving any data
        protocol = PROTOCOL_RE.search(answer)
        assert protocol, answer

        status, listing = agent_call(stack, "GET", "/api/agent/tickets?status=open", token)
        ticket = next(t for t in listing["tickets"] if t["protocol"] == protocol.group(0))
        assert ticket["channel"] == "socketio" and ticket["reason"]
        status, _ = agent_call(stack, "POST", f"/api/agent/tickets/{ticket['id']}/claim", token)
        assert status == 200

        user.sio.emit("user_uttered", {"message": "meu boleto veio com valor errado", "session_id": user.session_id})
        assert user.silent()  # paused: the bot does not answer, the agent does
        deadline = time.monotonic() + 30
        while True:
            status, detail = agent_call(stack, "GET", f"/api/agent/tickets/{ticket['id']}", token)
            texts = [m.get("text", "") for m in detail.get("messages", [])]
            if any("valor errado" in t for t in texts) or time.monotonic() > deadline:
                break
            time.sleep(1)
        assert any("valor errado" in t for t in texts), detail
        assert any("esqueci minha senha" in (line.get("text") or "") for line in detail.get("transcript", []))

        status, _ = agent_call(stack, "POST", f"/api/agent/tickets/{ticket['id']}/messages", token,
                               {"text": "Olá! Vou conferir o valor do seu boleto."})
        assert status == 201
        assert "conferir o valor" in user.receive()

        status, _ = agent_call(stack, "POST", f"/api/agent/tickets/{ticket['id']}/close", token,
                               {"resolution": "Boleto conferido e reenviado"})
        assert status == 200
        assert "voltei" in user.receive().lower()
        assert re.search(r"carteirinha|\bcpf\b|telefone|central", user.say("qual o telefone da central?"), re.I)
    finally:
        user.sio.disconnect()

"""Handoff end to end (docs/handoff.md): a website-widget user (socket.io, as the widget talks to Rasa)
asks for a person in the middle of a form, gets a protocol; an agent claims the ticket through the
agent API; the agent's reply reaches the user on the socket, the user's messages reach the agent,
and closing the ticket gives the conversation back to the assistant."""

from __future__ import annotations

import queue
import re

import pytest
import socketio
from rest_chat import PROTOCOL_RE
from stack_support import agent_call, agent_token, assert_protocol, rasa_tracker, user_messages, wait_for, wait_turn

from channels.web.socketio_channel import SessionSigner

pytestmark = pytest.mark.integration


class WidgetUser:
    """What the website widget does: asks for a session (the server confirms the id it will use),
    user_uttered / bot_uttered."""

    def __init__(self, stack):
        self.stack = stack
        self.inbox: queue.Queue[dict] = queue.Queue()
        confirmed: queue.Queue = queue.Queue()
        self.sio = socketio.Client()
        self.sio.on("bot_uttered", self.inbox.put)
        self.sio.on("session_confirm", confirmed.put)
        self.sio.connect(stack.rasa_url, transports=["polling"], socketio_path="/socket.io")
        self.sio.emit("session_request", {"session_id": None})
        confirmation = confirmed.get(timeout=30)
        self.session_id = confirmation if isinstance(confirmation, str) else confirmation["session_id"]
        self.sender = SessionSigner(stack.environment()["WIDGET_SESSION_SECRET"]).verify(self.session_id).sender_id

    def send(self, text: str) -> None:
        self.sio.emit("user_uttered", {"message": text, "session_id": self.session_id})

    def say_until(self, text: str, expected, wait_s: float = 120) -> str:
        """Sends `text`; the texts the bot sends until one matches `expected` (a substring or a regex)."""
        self.send(text)
        return self.receive_until(expected, wait_s)

    def hang_up(self) -> None:
        """Closes the connection without waiting for the pending long poll (up to 25 s on a quiet
        socket): the server gets the close packet all the same."""
        self.sio.eio.disconnect(abort=True)

    def receive_until(self, expected, wait_s: float = 120) -> str:
        found = expected.search if isinstance(expected, re.Pattern) else (lambda t: expected in t)
        texts: list[str] = []
        while not texts or not found(texts[-1]):
            try:
                texts.append(self.inbox.get(timeout=wait_s).get("text") or "")
            except queue.Empty:
                raise AssertionError(f"no {expected!r} from the bot: {texts}") from None
        return "\n".join(texts)


def test_widget_user_reaches_an_agent_and_comes_back_to_the_bot(stack):
    token = agent_token(stack)
    user = WidgetUser(stack)
    try:
        assert "carteirinha" in user.say_until("esqueci minha senha", "carteirinha").lower()
        answer = user.say_until("quero falar com um atendente", PROTOCOL_RE)  # mid-form, without giving any data
        protocol = PROTOCOL_RE.search(answer).group(0)
        assert_protocol(stack, protocol, "handoff", None, user.sender)

        status, listing = agent_call(stack, "GET", "/api/agent/tickets?status=open", token)
        ticket = next(t for t in listing["tickets"] if t["protocol"] == protocol)
        assert ticket["channel"] == "socketio" and ticket["reason"]
        status, _ = agent_call(stack, "POST", f"/api/agent/tickets/{ticket['id']}/claim", token)
        assert status == 200
        # claiming pauses the conversation (at once in office hours, when the ticket opened paused)
        wait_for(lambda: rasa_tracker(stack, user.sender)["paused"], "the conversation paused")

        before = user_messages(rasa_tracker(stack, user.sender))
        user.send("meu boleto veio com valor errado")
        tracker = wait_turn(stack, user.sender, users_before=before)  # Rasa recorded it and is done with it
        last_user = max(i for i, event in enumerate(tracker["events"]) if event["event"] == "user")
        assert not [e for e in tracker["events"][last_user:] if e["event"] == "bot"], "the paused bot answered"

        def user_message_in_ticket():
            _, detail = agent_call(stack, "GET", f"/api/agent/tickets/{ticket['id']}", token)
            return detail if any("valor errado" in (m.get("text") or "") for m in detail.get("messages", [])) else None

        detail = wait_for(user_message_in_ticket, "the user's message in the agent's ticket", 60, every_s=1)
        assert any("esqueci minha senha" in (line.get("text") or "") for line in detail.get("transcript", []))

        status, _ = agent_call(
            stack,
            "POST",
            f"/api/agent/tickets/{ticket['id']}/messages",
            token,
            {"text": "Olá! Vou conferir o valor do seu boleto."},
        )
        assert status == 201
        assert "conferir o valor" in user.receive_until("conferir o valor")

        status, _ = agent_call(
            stack,
            "POST",
            f"/api/agent/tickets/{ticket['id']}/close",
            token,
            {"resolution": "Boleto conferido e reenviado"},
        )
        assert status == 200
        assert "voltei" in user.receive_until(re.compile("voltei", re.I)).lower()
        assert not rasa_tracker(stack, user.sender)["paused"]
        user.say_until("qual o telefone da central?", re.compile(r"carteirinha|\bcpf\b|telefone|central", re.I))
    finally:
        user.hang_up()

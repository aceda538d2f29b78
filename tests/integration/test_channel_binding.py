"""A verification belongs to the conversation that made it — its sender id on its channel.

Maria verifies in the website widget (socket.io) and sees her virtual card. Then somebody who
knows the conversation's sender id (it shows in the agent console and in logs) calls the REST
channel with it, asking for "minha carteirinha": Rasa files that message in the same
conversation, whose slots still hold Maria's verification token, but the REST call's channel is
"rest" and the token was issued for "socketio", so none of Maria's data comes back."""

from __future__ import annotations

import queue

import pytest
import socketio
import sqlalchemy as sa
from rest_chat import post_json, rest_headers
from stack_support import backend_db

pytestmark = pytest.mark.integration

MARIA_CARD = "100200300401"
MARIA_SECRETS = ("1002 0030 0401", MARIA_CARD, "Maria", "Aparecida", "945.807.302-24", "m***@exemplo")


class Widget:
    """What the website widget does: asks for a session (the server confirms the id it will use)
    and talks with user_uttered / bot_uttered."""

    def __init__(self, rasa_url: str):
        self.inbox: queue.Queue[dict] = queue.Queue()
        confirmed: queue.Queue = queue.Queue()
        self.sio = socketio.Client()
        self.sio.on("bot_uttered", self.inbox.put)
        self.sio.on("session_confirm", confirmed.put)
        self.sio.connect(rasa_url, transports=["polling"], socketio_path="/socket.io")
        self.sio.emit("session_request", {"session_id": None})
        confirmation = confirmed.get(timeout=30)
        self.session_id = confirmation if isinstance(confirmation, str) else confirmation["session_id"]

    def say_until(self, text: str, expected: str, wait_s: float = 60) -> str:
        """Sends `text`, then gathers the bot's messages until one contains `expected`."""
        self.sio.emit("user_uttered", {"message": text, "session_id": self.session_id})
        seen: list[dict] = []
        while not any(expected.lower() in (m.get("text") or "").lower() for m in seen):
            try:
                seen.append(self.inbox.get(timeout=wait_s))
            except queue.Empty:
                raise AssertionError(f"no {expected!r} in the answer to {text!r}: {seen}") from None
        return "\n".join(m.get("text") or "" for m in seen)

    def close(self) -> None:
        """Closes the connection without waiting for the pending long poll (up to 25 s on a quiet
        socket): the server gets the close packet all the same."""
        self.sio.eio.disconnect(abort=True)


def _verified_conversation(stack) -> str:
    """The sender id of the conversation the backend issued the (only) widget verification of this
    module to (the module's REST tests make verifications of their own)."""
    with backend_db(stack) as db:
        rows = db.execute(
            sa.text("SELECT conversation_id FROM identity_verifications WHERE channel = 'socketio' ORDER BY id")
        ).all()
    assert len(rows) == 1, rows
    return rows[0][0]


def _rest(stack, sender: str, text: str) -> list[dict]:
    status, messages = post_json(
        f"{stack.rasa_url}/webhooks/rest/webhook", {"sender": sender, "message": text}, rest_headers(stack)
    )
    assert status == 200, messages
    return messages


def test_a_widget_verification_does_not_serve_a_rest_call_with_the_same_sender(stack):
    widget = Widget(stack.rasa_url)
    try:
        widget.say_until("quero ver minha carteirinha digital", "carteirinha")
        widget.say_until(MARIA_CARD, "CPF")
        widget.say_until("945.807.302-24", "nascimento")
        card = widget.say_until("12/03/1985", "1002 0030 0401")
        assert "Maria Aparecida Santos" in card
    finally:
        widget.close()

    sender = _verified_conversation(stack)
    for rest_sender in dict.fromkeys([sender, widget.session_id]):  # the same id when the channel uses one
        messages = _rest(stack, rest_sender, "minha carteirinha")
        answer = "\n".join(str(m) for m in messages)
        assert messages, "the assistant did not answer at all"
        for secret in MARIA_SECRETS:
            assert secret not in answer, (rest_sender, answer)
        assert not any(m.get("image") for m in messages), messages
        assert "carteirinha" in answer.lower()  # it asks for the identity instead


def test_a_check_without_cpf_serves_registration_only(chat):
    """Ana Clara has no CPF: "não tenho CPF" + birth date is enough to start her registration, and
    not to show her virtual card afterwards — the assistant says it needs the CPF."""
    c = chat("sem-cpf")
    c.say("quero me cadastrar no aplicativo")
    c.say("100200300403")
    assert "nascimento" in c.say("não tenho cpf").lower()
    assert "e-mail" in c.say("05/01/2024").lower()  # verified (for registration): it asks where to send the link
    c.say("cancelar")
    answer = c.say("quero ver minha carteirinha digital")
    assert "com o CPF" in answer and "cadastro" in answer, answer
    assert "1002 0030 0403" not in answer and "Ana Clara" not in answer
    assert not any(m.get("image") for m in c.last)

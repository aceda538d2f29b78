"""Fixtures for the channel tests: fake Twilio / Telegram APIs and the backend's inbound-file route on
loopback, a stand-in for the Rasa agent that answers like the assistant does, and var/ in a temporary
directory; for the end-to-end test, the session's real stack (tests/stack_support.py) with both
channels pointed at its fakes."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# this directory is on sys.path as "tests/channels" and would shadow the `channels` package
# (pytest's rootdir-less import mode): put the repository first and drop the namespace stand-in
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
if getattr(sys.modules.get("channels"), "__file__", None) is None:
    sys.modules.pop("channels", None)
sys.path.insert(0, str(Path(__file__).parent))

from fakes import FakeBackend, FakeTelegram, FakeTwilio, FileServer  # noqa: E402


@pytest.fixture(scope="module")
def fakes(session_stack):
    """(FakeTwilio, FakeTelegram): the providers the session stack's WhatsApp and Telegram talk to."""
    return session_stack.twilio, session_stack.telegram


@pytest.fixture(autouse=True)
def var_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("VAR_DIR", str(tmp_path / "var"))
    # the in-process channel tests never take the machine's queue or Redis from the environment
    # (tests/channels/test_inbound_queue.py and the session stack set their own)
    for name in ("INBOUND_AMQP_URL", "CHANNEL_REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path / "var"


@pytest.fixture
async def twilio():
    server = await FakeTwilio("AC" + "1" * 32, "twilio-auth-token").start()
    yield server
    await server.stop()


@pytest.fixture
async def telegram_api():
    server = await FakeTelegram("123456:TEST-TOKEN").start()
    yield server
    await server.stop()


@pytest.fixture
async def backend(monkeypatch):
    """The backend's inbound-file route the channels hand user files to (BACKEND_URL and
    BACKEND_SERVICE_TOKEN point the channels at it)."""
    server = await FakeBackend().start()
    monkeypatch.setenv("BACKEND_URL", server.url)
    monkeypatch.setenv("BACKEND_SERVICE_TOKEN", server.token)
    yield server
    await server.stop()


@pytest.fixture
async def files():
    server = await FileServer().start()
    yield server
    await server.stop()


class FakeAssistant:
    """Answers like the assistant: "oi" -> a greeting with Sim/Não buttons, "doc" -> a PDF,
    anything else -> echo. Records what it received (tests that need a slow turn bring their own)."""

    def __init__(self) -> None:
        self.received = []
        self.document_url = "http://127.0.0.1:9/documentos/boleto"

    async def __call__(self, message) -> None:
        self.received.append(message)
        out, to = message.output_channel, message.sender_id
        text = message.text or ""
        if text == "oi":
            await out.send_response(
                to,
                {
                    "text": "Olá! Você quer continuar?",
                    "buttons": [{"title": "Sim", "payload": "/afirmar"}, {"title": "Não", "payload": "/negar"}],
                },
            )
        elif text == "doc":
            await out.send_response(to, {"text": "Aqui está o seu boleto."})
            await out.send_response(
                to,
                {
                    "custom": {
                        "type": "document",
                        "url": self.document_url,
                        "filename": "boleto.pdf",
                        "caption": "Boleto de março",
                    }
                },
            )
        else:
            await out.send_response(to, {"text": f"eco: {text}"})

    @property
    def texts(self) -> list[str]:
        return [m.text for m in self.received]


@pytest.fixture
def assistant():
    return FakeAssistant()

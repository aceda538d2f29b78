"""SMTP backend against an in-process aiosmtpd server."""

import dataclasses
import email
import email.policy
import socket

import pytest
from aiosmtpd.controller import Controller
from backend_api import request_password_reset, service_client

from backend.app import create_app
from backend.mail import Mailer
from backend.settings import Settings

pytestmark = pytest.mark.asyncio


class Collector:
    def __init__(self) -> None:
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd hook name)
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp_server():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    collector = Collector()
    controller = Controller(collector, hostname="127.0.0.1", port=port)
    controller.start()
    yield collector, port
    controller.stop()


async def test_smtp_backend(smtp_server, tmp_path):
    collector, port = smtp_server
    settings = Settings.from_env(
        {"VAR_DIR": str(tmp_path), "MAIL_BACKEND": "smtp", "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port)}
    )
    await Mailer(settings, sender_name="Vida Sergipe").send_mail(
        "maria.santos@exemplo.com.br", "Assunto com acentuação", "Olá, Maria!", "<p>Olá, Maria!</p>"
    )

    [envelope] = collector.messages
    assert envelope.rcpt_tos == ["maria.santos@exemplo.com.br"]
    message = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert message["Subject"] == "Assunto com acentuação"
    assert message.get_body(("plain",)).get_content().strip() == "Olá, Maria!"
    assert message.get_body(("html",)).get_content().strip() == "<p>Olá, Maria!</p>"
    assert not (tmp_path / "mail").exists()


async def test_password_reset_through_smtp(smtp_server, settings, maria):
    collector, port = smtp_server
    smtp_settings = dataclasses.replace(settings, mail_backend="smtp", smtp_host="127.0.0.1", smtp_port=port)
    async with service_client(create_app(smtp_settings)) as client:
        status, _ = await request_password_reset(client, maria)
        assert status == 201
    [envelope] = collector.messages
    assert envelope.rcpt_tos == ["maria.santos@exemplo.com.br"]
    assert b"Vida Sergipe" in envelope.content

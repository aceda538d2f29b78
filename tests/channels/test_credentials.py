"""Which channels Rasa gets (scripts/stack.py): rest + socketio always, WhatsApp / Telegram only
with their settings, read by Rasa itself from the environment."""

from __future__ import annotations

import pytest
import yaml
from rasa.core.run import create_http_input_channels
from rasa.shared.exceptions import RasaException

from channels.telegram import TelegramInput
from channels.whatsapp import WhatsAppInput
from scripts.stack import ROOT, channel_credentials, write_credentials

TEMPLATE = set(yaml.safe_load((ROOT / "credentials.yml").read_text()))  # rest, the widget's socket.io

WHATSAPP = {
    "TWILIO_ACCOUNT_SID": "AC" + "2" * 32,
    "TWILIO_AUTH_TOKEN": "segredo-twilio",
    "TWILIO_WHATSAPP_NUMBER": "whatsapp:+14155238886",
    "PUBLIC_BASE_URL": "https://bot.exemplo.com.br",
}
TELEGRAM = {"TELEGRAM_BOT_TOKEN": "123:segredo-telegram", "TELEGRAM_WEBHOOK_SECRET": "segredo-webhook"}


def test_no_settings_only_the_templates_channels():
    credentials, warnings = channel_credentials({})
    assert "channels.rest.RestInput" in credentials and set(credentials) == TEMPLATE and warnings == []


def test_partial_settings_leave_the_channel_off_with_a_warning():
    credentials, warnings = channel_credentials({"TWILIO_ACCOUNT_SID": "AC1", "TELEGRAM_BOT_TOKEN": "t"})
    assert set(credentials) == TEMPLATE
    assert any("TWILIO_AUTH_TOKEN" in w for w in warnings)
    assert any("TELEGRAM_WEBHOOK_SECRET" in w for w in warnings)


def test_rasa_builds_both_channels_and_no_secret_is_written(tmp_path, monkeypatch):
    env = {**WHATSAPP, **TELEGRAM}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    path = write_credentials(tmp_path / "credentials.yml", env)
    text = path.read_text()
    assert "segredo" not in text and "${TWILIO_AUTH_TOKEN}" in text
    channels = {c.name(): c for c in create_http_input_channels(None, str(path))}
    assert {"rest", "whatsapp", "telegram"} <= set(channels) and len(channels) == len(TEMPLATE) + 2
    whatsapp, telegram = channels["whatsapp"], channels["telegram"]
    assert isinstance(whatsapp, WhatsAppInput) and isinstance(telegram, TelegramInput)
    assert whatsapp.public_base_url == "https://bot.exemplo.com.br"
    assert whatsapp.sender.from_number == "whatsapp:+14155238886"
    assert telegram.webhook_secret == "segredo-webhook" and telegram.public_base_url == "https://bot.exemplo.com.br"


def test_telegram_without_public_url_is_still_enabled(tmp_path, monkeypatch):
    for key, value in TELEGRAM.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    path = write_credentials(tmp_path / "credentials.yml", dict(TELEGRAM))
    channels = {c.name(): c for c in create_http_input_channels(None, str(path))}
    assert channels["telegram"].public_base_url is None and "whatsapp" not in channels


def test_missing_whatsapp_setting_fails_loudly(monkeypatch):
    for key in WHATSAPP:
        monkeypatch.delenv(key, raising=False)
    with pytest.raises(RasaException, match=r"missing settings auth_token, whatsapp_number, public_base_url"):
        WhatsAppInput.from_credentials({"account_sid": "AC1"})

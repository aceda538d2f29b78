"""esqueci_senha end to end on WhatsApp and Telegram: the session's three real processes
(tests/stack_support.py) with both channels enabled, Twilio and Telegram replaced by fakes on loopback,
webhooks posted the way the providers do (signed / with the secret token). A turn is over when Rasa has
stored it (its tracker: the user message followed by action_listen, or a paused conversation): the
channels send every answer of a turn before that."""

from __future__ import annotations

import itertools
import json
import re

import pytest
from fakes import FakeTelegram, wait_until_sync
from stack_support import (
    PUBLIC_BASE_URL,
    TELEGRAM_SECRET,
    TWILIO_AUTH,
    TWILIO_SID,
    agent_call,
    agent_token,
    assert_protocol,
    wait_turn,
)
from whatsapp_user import WhatsAppUser, post

pytestmark = pytest.mark.integration

# the session stack's providers (tests/stack_support.py)
PUBLIC, SID, AUTH, TG_SECRET = PUBLIC_BASE_URL, TWILIO_SID, TWILIO_AUTH, TELEGRAM_SECRET
PROTOCOL_RE = re.compile(r"\b\d{20}\b")
MARIA = {"card": "100200300401", "cpf": "945.807.302-24", "birth": "12/03/1985"}
LINHA_DIGITAVEL_RE = re.compile(r"\d{5}\.\d{5} \d{5}\.\d{6} \d{5}\.\d{6} \d \d{14}")


def test_whatsapp_esqueci_senha(stack, fakes):
    twilio, _ = fakes
    maria = WhatsAppUser(stack, twilio, "+5579998110001")
    assert maria.say("oi", token="assinatura-errada") == "HTTP 403"
    greeting = maria.say("oi")
    assert re.search(r"^\d\. Esqueci minha senha$", greeting, re.M), greeting  # buttons as a numbered list
    assert "carteirinha" in maria.say("esqueci minha senha").lower()
    assert "cpf" in maria.say(MARIA["card"]).lower()
    assert "nascimento" in maria.say(MARIA["cpf"]).lower()
    question = maria.say(MARIA["birth"])
    assert "m***@exemplo.com.br" in question and "1. Sim\n2. Não" in question, question
    answer = maria.say("1")
    assert PROTOCOL_RE.search(answer) and "m***@exemplo.com.br" in answer, answer
    # (a reset moments ago on another channel is told again: Maria's either way)
    assert_protocol(stack, PROTOCOL_RE.search(answer).group(0), "password_reset", MARIA["card"])
    # segunda_via_boleto in the same (verified) conversation: options as a numbered list, the PDF as media
    answer = maria.say("quero a segunda via do boleto")
    assert "De qual mensalidade" in answer and re.search(r"^2\. .*vencida", answer, re.M), answer
    answer = maria.say("2")
    assert LINHA_DIGITAVEL_RE.search(answer) and "multa de 2%" in answer, answer
    assert_protocol(stack, PROTOCOL_RE.search(answer).group(0), "bank_slip_copy", MARIA["card"], maria.address)
    media = [m for m in twilio.to(maria.address) if m["MediaUrl"]]
    assert media and "/documentos/" in media[-1]["MediaUrl"][0]
    log = (stack.var_dir / "log" / "rasa.log").read_text(errors="replace")
    assert "5579998110001" not in log


class TelegramUser:
    _ids = itertools.count(1)

    def __init__(self, stack, api: FakeTelegram, chat_id: int):
        self.stack, self.api, self.chat_id = stack, api, chat_id

    def sent(self) -> list[dict]:
        return [p for m, p in self.api.calls if m == "sendMessage" and int(p["chat_id"]) == self.chat_id]

    def _post(self, update: dict, secret: str = TG_SECRET) -> int:
        return post(
            f"{self.stack.rasa_url}/webhooks/telegram/webhook",
            json.dumps(update).encode(),
            {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": secret},
        )

    def _exchange(self, update: dict) -> str:
        """Posts the update; the texts the turn produced."""
        before = len(self.sent())
        assert self._post(update) == 200
        wait_until_sync(lambda: len(self.sent()) > before, what="a Telegram reply")
        wait_turn(self.stack, str(self.chat_id), message_id=f"tg-{update['update_id']}")
        return "\n".join(p["text"] for p in self.sent()[before:])

    def say(self, text: str) -> str:
        return self._exchange(
            {
                "update_id": next(self._ids),
                "message": {
                    "message_id": next(self._ids),
                    "date": 1700000000,
                    "text": text,
                    "chat": {"id": self.chat_id, "type": "private"},
                    "from": {"id": self.chat_id, "is_bot": False, "first_name": "M"},
                },
            }
        )

    def press(self, title: str) -> str:
        message = next(p for p in reversed(self.sent()) if p.get("reply_markup"))
        keyboard = message["reply_markup"]["inline_keyboard"]
        data = next(b["callback_data"] for row in keyboard for b in row if b["text"] == title)
        return self._exchange(
            {
                "update_id": next(self._ids),
                "callback_query": {
                    "id": f"cb{next(self._ids)}",
                    "chat_instance": "x",
                    "data": data,
                    "from": {"id": self.chat_id, "is_bot": False, "first_name": "M"},
                    "message": {
                        "message_id": 1,
                        "date": 1700000000,
                        "chat": {"id": self.chat_id, "type": "private"},
                        "text": message["text"],
                        "reply_markup": {"inline_keyboard": keyboard},
                    },
                },
            }
        )

    def buttons(self) -> list[str]:
        last = self.sent()[-1]
        return [b["text"] for row in (last.get("reply_markup") or {}).get("inline_keyboard", []) for b in row]


def test_telegram_esqueci_senha(stack, fakes):
    _, api = fakes
    wait_until_sync(lambda: api.called("setWebhook"), what="the webhook registration")
    assert api.called("setWebhook")[0]["url"] == PUBLIC + "/webhooks/telegram/webhook"
    assert api.called("setWebhook")[0]["secret_token"] == TG_SECRET
    maria = TelegramUser(stack, api, 5550001)
    assert maria._post({"update_id": 1}, secret="errado") == 403
    maria.say("/start")
    assert "Esqueci minha senha" in maria.buttons()
    assert "carteirinha" in maria.say("esqueci minha senha").lower()
    assert "cpf" in maria.say(MARIA["card"]).lower()
    assert "nascimento" in maria.say(MARIA["cpf"]).lower()
    question = maria.say(MARIA["birth"])
    assert "m***@exemplo.com.br" in question and maria.buttons() == ["Sim", "Não"], question
    answer = maria.press("Sim")
    assert PROTOCOL_RE.search(answer) and "m***@exemplo.com.br" in answer, answer
    # (a reset moments ago on another channel is told again: Maria's either way)
    assert_protocol(stack, PROTOCOL_RE.search(answer).group(0), "password_reset", MARIA["card"])
    assert api.called("answerCallbackQuery")
    # segunda_via_boleto: the fee picked on an inline keyboard, the PDF uploaded as a document
    assert "De qual mensalidade" in maria.say("segunda via do boleto")
    answer = maria.press(next(title for title in maria.buttons() if "vencida" in title))
    assert LINHA_DIGITAVEL_RE.search(answer) and "multa de 2%" in answer, answer
    assert_protocol(stack, PROTOCOL_RE.search(answer).group(0), "bank_slip_copy", MARIA["card"], str(maria.chat_id))
    assert [p for p in api.called("sendDocument") if int(p["chat_id"]) == maria.chat_id]  # the bank slip PDF


def test_whatsapp_handoff_to_an_agent_and_back(stack, fakes):
    """Issue 7 on WhatsApp: protocol and queue, the agent's reply as a WhatsApp message, the user's
    message in the agent's ticket, the bot back when the agent closes."""
    twilio, _ = fakes
    token = agent_token(stack)
    user = WhatsAppUser(stack, twilio, "+5579998110077")
    user.say("esqueci minha senha")
    answer = user.say("quero falar com um atendente")
    protocol = PROTOCOL_RE.search(answer)
    assert protocol, answer
    assert_protocol(stack, protocol.group(0), "handoff", None, user.address)
    _, listing = agent_call(stack, "GET", "/api/agent/tickets?status=open", token)
    ticket = next(t for t in listing["tickets"] if t["protocol"] == protocol.group(0))
    assert ticket["channel"] == "whatsapp"
    assert agent_call(stack, "POST", f"/api/agent/tickets/{ticket['id']}/claim", token)[0] == 200

    before = len(twilio.to(user.address))
    assert (
        agent_call(
            stack,
            "POST",
            f"/api/agent/tickets/{ticket['id']}/messages",
            token,
            {"text": "Olá, aqui é a Ana, da central. Em que posso ajudar?"},
        )[0]
        == 201
    )
    wait_until_sync(lambda: len(twilio.to(user.address)) > before, what="the agent's reply on WhatsApp")
    assert "aqui é a Ana" in twilio.to(user.address)[-1]["Body"]

    before = len(twilio.to(user.address))
    status, message_id = user.send("não consigo entrar no aplicativo")
    assert status == 200
    tracker = wait_turn(stack, user.address, message_id=message_id)  # paused: recorded, not answered
    assert tracker["paused"] and len(twilio.to(user.address)) == before
    wait_until_sync(
        lambda: any(
            "consigo entrar" in (m.get("text") or "")
            for m in agent_call(stack, "GET", f"/api/agent/tickets/{ticket['id']}", token)[1]["messages"]
        ),
        what="the user's message in the agent's ticket",
    )

    assert (
        agent_call(
            stack,
            "POST",
            f"/api/agent/tickets/{ticket['id']}/close",
            token,
            {"resolution": "Orientado a usar esqueci minha senha"},
        )[0]
        == 200
    )
    wait_until_sync(lambda: len(twilio.to(user.address)) > before, what="the assistant back on WhatsApp")
    assert "voltei" in twilio.to(user.address)[-1]["Body"].lower()

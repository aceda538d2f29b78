"""esqueci_senha end to end on WhatsApp and Telegram: the three real processes (scripts.stack)
with both channels enabled, Twilio and Telegram replaced by fakes on loopback, webhooks posted
the way the providers do (signed / with the secret token)."""
from __future__ import annotations

import itertools
import json
import re
import urllib.error
import urllib.parse
import urllib.request

import pytest
from twilio.request_validator import RequestValidator

from fakes import FakeTelegram, FakeTwilio, wait_until_sync
from scripts.stack import Stack, free_port, latest_model

pytestmark = pytest.mark.integration

PUBLIC = "https://assistente.exemplo.com.br"
SID, AUTH = "AC" + "3" * 32, "twilio-auth-e2e"
TG_TOKEN, TG_SECRET = "999:E2E-TOKEN", "segredo-e2e"
PROTOCOL_RE = re.compile(r"\b\d{20}\b")
SETTLE_S = 2.0  # a turn is over when nothing more arrived for this long (a busy machine pauses between messages)
MARIA = {"card": "100200300401", "cpf": "945.807.302-24", "birth": "12/03/1985"}
LINHA_DIGITAVEL_RE = re.compile(r"\d{5}\.\d{5} \d{5}\.\d{6} \d{5}\.\d{6} \d \d{14}")


@pytest.fixture(scope="module")
def fakes():
    twilio = FakeTwilio(SID, AUTH).start_in_thread()
    telegram = FakeTelegram(TG_TOKEN).start_in_thread()
    yield twilio, telegram
    twilio.stop_thread()
    telegram.stop_thread()


@pytest.fixture(scope="module")
def stack(tmp_path_factory, fakes):
    try:
        model = latest_model()
    except FileNotFoundError as exc:
        pytest.skip(f"{exc} (make test trains it first)")
    twilio, telegram = fakes
    var_dir = tmp_path_factory.mktemp("var")
    stack = Stack(
        var_dir=var_dir, backend_port=free_port(), actions_port=free_port(), rasa_port=free_port(), model=model,
        extra_env={
            "DATABASE_URL": f"sqlite:///{var_dir / 'backend.db'}", "MAIL_BACKEND": "maildir",
            "PUBLIC_BASE_URL": PUBLIC,
            "TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": AUTH, "TWILIO_WHATSAPP_NUMBER": "whatsapp:+14155238886",
            "TWILIO_API_BASE_URL": twilio.url,
            "TELEGRAM_BOT_TOKEN": TG_TOKEN, "TELEGRAM_WEBHOOK_SECRET": TG_SECRET, "TELEGRAM_API_BASE_URL": telegram.url,
        },
    )
    stack.prepare_database()
    stack.start(timeout_s=600)  # loading the model takes long on a busy machine
    try:
        yield stack
    finally:
        stack.stop()


def post(url: str, data: bytes, headers: dict) -> int:
    request = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:
            return resp.status
    except urllib.error.HTTPError as err:
        return err.code


class WhatsAppUser:
    _sids = itertools.count(1)

    def __init__(self, stack, twilio, number: str):
        self.stack, self.twilio, self.address = stack, twilio, f"whatsapp:{number}"

    def say(self, text: str, token: str = AUTH) -> str:
        """Sends a signed webhook and returns the text of the replies it produced."""
        params = {"MessageSid": f"SM{next(self._sids):032d}", "AccountSid": SID, "From": self.address,
                  "To": "whatsapp:+14155238886", "Body": text, "NumMedia": "0"}
        signature = RequestValidator(token).compute_signature(PUBLIC + "/webhooks/whatsapp/webhook", params)
        before = len(self.twilio.to(self.address))
        status = post(f"{self.stack.rasa_url}/webhooks/whatsapp/webhook", urllib.parse.urlencode(params).encode(),
                      {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature})
        if status != 200:
            return f"HTTP {status}"
        wait_until_sync(lambda: len(self.twilio.to(self.address)) > before, what=f"a reply to {text!r}")
        return self._settle(before)

    def _settle(self, before: int) -> str:
        # a turn may produce several messages: wait until none arrived for a moment
        import time
        count = -1
        while count != len(self.twilio.to(self.address)):
            count = len(self.twilio.to(self.address))
            time.sleep(SETTLE_S)
        return "\n".join(m["Body"] for m in self.twilio.to(self.address)[before:])


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
    # segunda_via_boleto in the same (verified) conversation: options as a numbered list, the PDF as media
    answer = maria.say("quero a segunda via do boleto")
    assert "De qual mensalidade" in answer and re.search(r"^2\. .*vencida", answer, re.M), answer
    answer = maria.say("2")
    assert LINHA_DIGITAVEL_RE.search(answer) and "multa de 2%" in answer, answer
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
        return post(f"{self.stack.rasa_url}/webhooks/telegram/webhook", json.dumps(update).encode(),
                    {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": secret})

    def _exchange(self, update: dict) -> str:
        before = len(self.sent())
        assert self._post(update) == 200
        wait_until_sync(lambda: len(self.sent()) > before, what="a Telegram reply")
        import time
        count = -1
        while count != len(self.sent()):
            count = len(self.sent())
            time.sleep(SETTLE_S)
        return "\n".join(p["text"] for p in self.sent()[before:])

    def say(self, text: str) -> str:
        return self._exchange({"update_id": next(self._ids), "message": {
            "message_id": next(self._ids), "date": 1700000000, "text": text,
            "chat": {"id": self.chat_id, "type": "private"}, "from": {"id": self.chat_id, "is_bot": False, "first_name": "M"}}})

    def press(self, title: str) -> str:
        message = next(p for p in reversed(self.sent()) if p.get("reply_markup"))
        keyboard = message["reply_markup"]["inline_keyboard"]
        data = next(b["callback_data"] for row in keyboard for b in row if b["text"] == title)
        return self._exchange({"update_id": next(self._ids), "callback_query": {
            "id": f"cb{next(self._ids)}", "chat_instance": "x", "data": data,
            "from": {"id": self.chat_id, "is_bot": False, "first_name": "M"},
            "message": {"message_id": 1, "date": 1700000000, "chat": {"id": self.chat_id, "type": "private"},
                        "text": message["text"], "reply_markup": {"inline_keyboard": keyboard}}}})

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
    assert api.called("answerCallbackQuery")
    # segunda_via_boleto: the fee picked on an inline keyboard, the PDF uploaded as a document
    assert "De qual mensalidade" in maria.say("segunda via do boleto")
    answer = maria.press(next(title for title in maria.buttons() if "vencida" in title))
    assert LINHA_DIGITAVEL_RE.search(answer) and "multa de 2%" in answer, answer
    wait_until_sync(lambda: api.called("sendDocument"), what="the bank slip PDF")


def _agent(stack, method: str, path: str, token: str | None = None, body: dict | None = None) -> tuple[int, dict]:
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    request = urllib.request.Request(f"{stack.backend_url}{path}", method=method, headers=headers,
                                     data=json.dumps(body).encode() if body is not None else None)
    try:
        with urllib.request.urlopen(request, timeout=60) as resp:
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}")


def test_whatsapp_handoff_to_an_agent_and_back(stack, fakes):
    """Issue 7 on WhatsApp: protocol and queue, the agent's reply as a WhatsApp message, the user's
    message in the agent's ticket, the bot back when the agent closes."""
    twilio, _ = fakes
    status, login = _agent(stack, "POST", "/api/agent/login", body={"username": "atendente", "password": "Atende@2024"})
    assert status == 200, login
    token = login["token"]
    user = WhatsAppUser(stack, twilio, "+5579998110077")
    user.say("esqueci minha senha")
    answer = user.say("quero falar com um atendente")
    protocol = PROTOCOL_RE.search(answer)
    assert protocol, answer
    _, listing = _agent(stack, "GET", "/api/agent/tickets?status=open", token)
    ticket = next(t for t in listing["tickets"] if t["protocol"] == protocol.group(0))
    assert ticket["channel"] == "whatsapp"
    assert _agent(stack, "POST", f"/api/agent/tickets/{ticket['id']}/claim", token)[0] == 200

    before = len(twilio.to(user.address))
    assert _agent(stack, "POST", f"/api/agent/tickets/{ticket['id']}/messages", token,
                  {"text": "Olá, aqui é a Ana, da central. Em que posso ajudar?"})[0] == 201
    wait_until_sync(lambda: len(twilio.to(user.address)) > before, what="the agent's reply on WhatsApp")
    assert "aqui é a Ana" in twilio.to(user.address)[-1]["Body"]

    params = {"MessageSid": "SM" + "7" * 32, "AccountSid": SID, "From": user.address,
              "To": "whatsapp:+14155238886", "Body": "não consigo entrar no aplicativo", "NumMedia": "0"}
    signature = RequestValidator(AUTH).compute_signature(PUBLIC + "/webhooks/whatsapp/webhook", params)
    assert post(f"{stack.rasa_url}/webhooks/whatsapp/webhook", urllib.parse.urlencode(params).encode(),
                {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature}) == 200
    wait_until_sync(lambda: any("consigo entrar" in (m.get("text") or "") for m in
                                _agent(stack, "GET", f"/api/agent/tickets/{ticket['id']}", token)[1]["messages"]),
                    what="the user's message in the agent's ticket")

    before = len(twilio.to(user.address))
    assert _agent(stack, "POST", f"/api/agent/tickets/{ticket['id']}/close", token,
                  {"resolution": "Orientado a usar esqueci minha senha"})[0] == 200
    wait_until_sync(lambda: len(twilio.to(user.address)) > before, what="the assistant back on WhatsApp")
    assert "voltei" in twilio.to(user.address)[-1]["Body"].lower()

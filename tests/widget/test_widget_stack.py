"""The widget with the real assistant: the session's stack (tests/stack_support.py: backend serving the
demo page at /, action server and Rasa on free ports), the session's Chromium at 360 x 740. Needs the
trained model in models/ (make test trains it first).

- `esqueci_senha` through the widget up to the protocol, then a reload: the same conversation goes on,
  and the browser kept nothing of it (no CPF, no protocol, no message);
- Maria sees her virtual card in the widget while a second client replays her session id (the raw id,
  the conversation's sender_id, the id with a tampered signature): the second client gets a
  conversation of its own, none of her messages, and is asked for its own identity."""

from __future__ import annotations

import json
import re

import pytest
from stack_support import assert_protocol
from widget_support import Chat

from channels.web.socketio_channel import SessionSigner

playwright_api = pytest.importorskip("playwright.async_api", reason="the playwright package is not installed")
# the session's event loop: the session's Chromium lives there (conftest.session_browser)
pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]
expect = playwright_api.expect
PROTOCOL_RE = re.compile(r"\b\d{20}\b")
SLOW = 90_000  # ms: the first answers of a fresh Rasa on two shared cores
FOCUSED = """() => { const a = document.getElementById('assistente-widget')?.shadowRoot?.activeElement;
                      return a ? (a.id || a.className) : null; }"""


async def say(page, text: str) -> None:
    """Types and sends with the keyboard, then waits for the assistant's answer to that message."""
    answers = await page.locator(".msg.bot").count()
    await page.keyboard.type(text)
    await page.keyboard.press("Enter")
    await expect(page.locator(".msg.bot")).not_to_have_count(answers, timeout=SLOW)
    await expect(page.locator(".digitando.ativo")).to_have_count(0, timeout=SLOW)


async def test_esqueci_senha_through_the_widget_then_reload(stack, session_phone, artifacts):
    page = session_phone
    await page.goto(f"{stack.backend_url}/")
    await expect(page.get_by_role("button", name="Fale com a gente")).to_be_visible()
    for _ in range(10):  # keyboard only: Tab to the chat button, Enter opens it
        await page.keyboard.press("Tab")
        if await page.evaluate(FOCUSED) == "launcher":
            break
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("dialog", name="Assistente Vida Sergipe")).to_be_visible()
    assert await page.evaluate(FOCUSED) == "rw-mensagem"
    await expect(page.get_by_role("button", name="Esqueci minha senha")).to_be_visible(timeout=SLOW)  # greeting

    await say(page, "esqueci minha senha")
    await expect(page.locator(".msg.bot").last).to_contain_text("carteirinha", timeout=SLOW)
    await say(page, "100200300401")
    await expect(page.locator(".msg.bot").last).to_contain_text("CPF", timeout=SLOW)
    await say(page, "945.807.302-24")
    await expect(page.locator(".msg.bot").last).to_contain_text("nascimento", timeout=SLOW)
    await say(page, "12/03/1985")
    await expect(page.locator(".msg.bot", has_text="ainda é seu")).to_contain_text("m***@exemplo.com.br", timeout=SLOW)
    await page.screenshot(path=str(artifacts / "widget-esqueci-senha-1-confirmacao.png"))
    await page.get_by_role("button", name="Sim", exact=True).click()
    answer = page.locator(".msg.bot", has_text="Enviei uma senha temporária")
    await expect(answer).to_contain_text(PROTOCOL_RE, timeout=SLOW)
    protocol = PROTOCOL_RE.search(await answer.inner_text()).group(0)
    assert_protocol(stack, protocol, "password_reset", "100200300401")
    await expect(page.get_by_role("button", name="Não", exact=True)).to_be_disabled()
    await page.screenshot(path=str(artifacts / "widget-esqueci-senha-2-protocolo.png"))

    kept = await page.evaluate("JSON.stringify([localStorage, sessionStorage])")
    for typed in ("945", "807.302", "100200300401", "1985", protocol, "esqueci", "m***@"):
        assert typed not in kept, typed  # the browser keeps the signed session id only
    await page.reload()
    log = page.get_by_role("log", name="Conversa com o assistente")
    await expect(log).to_contain_text("Conversa retomada")
    await expect(log).not_to_contain_text(protocol)
    await page.get_by_role("textbox", name="Mensagem para o assistente").click()
    await say(page, "obrigado")  # the same conversation goes on after the reload (no second greeting)
    await expect(page.get_by_role("button", name="Esqueci minha senha")).to_have_count(0)
    await page.screenshot(path=str(artifacts / "widget-esqueci-senha-3-recarregada.png"))
    assert page.errors == []


async def test_segunda_via_boleto_through_the_widget(stack, session_phone, artifacts):
    page = session_phone
    await page.goto(f"{stack.backend_url}/")
    await page.get_by_role("button", name="Fale com a gente").click()
    await expect(page.get_by_role("button", name="Segunda via do boleto")).to_be_visible(timeout=SLOW)
    await page.get_by_role("textbox", name="Mensagem para o assistente").click()
    await say(page, "preciso da segunda via do boleto")
    await expect(page.locator(".msg.bot").last).to_contain_text("carteirinha", timeout=SLOW)
    await say(page, "100200300401")
    await say(page, "945.807.302-24")
    await say(page, "12/03/1985")
    await expect(page.locator(".msg.bot").last).to_contain_text("De qual mensalidade", timeout=SLOW)
    await page.get_by_role("button", name=re.compile("vencida")).click()
    answer = page.locator(".msg.bot", has_text="Linha digitável")
    await expect(answer).to_contain_text(re.compile(r"\d{5}\.\d{5} \d{5}\.\d{6} \d{5}\.\d{6} \d \d{14}"), timeout=SLOW)
    log = page.get_by_role("log", name="Conversa com o assistente")
    await expect(log).to_contain_text("multa de 2%", timeout=SLOW)  # the slip's explanation, in the bubble before
    download = page.get_by_role("link", name=re.compile("Baixar"))
    await expect(download.last).to_have_attribute("href", re.compile(r"/documentos/"))
    await page.screenshot(path=str(artifacts / "widget-segunda-via-boleto.png"))
    assert page.errors == []


MARIA = ("1002 0030 0401", "100200300401", "Maria", "Aparecida", "945.807.302-24", "m***@exemplo")


async def say_until(chat: Chat, text: str, expected: str) -> str:
    """Sends `text`; the texts of the answers up to the one that contains `expected`."""
    start = len(chat.answers)
    await chat.client.emit("user_uttered", {"message": text, "session_id": chat.session})
    while True:
        texts = [answer.get("text") or "" for answer in chat.answers[start:]]
        if any(expected.lower() in t.lower() for t in texts):
            return "\n".join(texts)
        await chat.wait_answers(len(chat.answers) + 1, timeout_s=SLOW / 1000)


async def test_a_replayed_session_id_does_not_get_marias_card(stack):
    signer = SessionSigner(stack.environment()["WIDGET_SESSION_SECRET"])
    async with Chat(stack.rasa_url) as maria:
        await say_until(maria, "quero ver minha carteirinha digital", "carteirinha")
        await say_until(maria, "100200300401", "CPF")
        await say_until(maria, "945.807.302-24", "nascimento")
        card = await say_until(maria, "12/03/1985", "1002 0030 0401")
        assert "Maria Aparecida Santos" in card
        signed = signer.verify(maria.session)
        sender = signed.sender_id if signed else maria.session  # what agents and logs know her by
        random = maria.session.split(".")[0]
        tampered = maria.session[:-2] + ("A" if maria.session[-2] != "A" else "B") + maria.session[-1]
        for name, spoof in (("raw id", random), ("sender_id", sender), ("tampered signature", tampered)):
            async with Chat(stack.rasa_url, spoof) as intruder:
                card = await say_until(maria, "quero ver minha carteirinha digital", "1002 0030 0401")
                assert "Maria Aparecida Santos" in card  # still verified: her card, to her
                # the intruder's own answer comes after Maria's on its socket: hers would be there by then
                asked = await say_until(intruder, "quero ver minha carteirinha digital", "carteirinha")
                assert "1002 0030 0401" not in asked  # asked for an identity of its own
                everything = json.dumps(intruder.answers, ensure_ascii=False)
                assert not [secret for secret in MARIA if secret in everything], (name, everything)
                assert intruder.session.split(".")[0] != random, name  # a conversation of its own

"""The agent console /atendente in a real browser (Debian's Chromium driven by Playwright, a laptop
screen) against the backend on a free port, with a fake Rasa that records what reaches the user:
login, live queue, claim, transcript and customer context, reply, the user's answer, close.
Screenshots go to var/artifacts/."""

import asyncio
import time

import aiohttp
import pytest
from backend_api import MARIA, SERVICE_HEADERS
from browser_support import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, MISSING, backend_on_free_port, post_json

from backend.api import agent as agent_api

playwright_api = pytest.importorskip(
    "playwright.async_api", reason="the playwright package is not installed (make test installs it)"
)
expect = playwright_api.expect
pytestmark = [
    pytest.mark.asyncio,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=MISSING),
]


@pytest.fixture
async def served(settings, rasa, monkeypatch):
    monkeypatch.setattr(agent_api, "EVENTS_INTERVAL_S", 0.3)
    async with backend_on_free_port(settings, shutdown_timeout=2, rasa_url=rasa.url) as base:
        yield base


async def test_agent_claims_replies_and_closes_in_chromium(served, rasa, request):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = f"console-{request.node.callspec.id}"
    conversation = MARIA["conversation_id"]
    async with aiohttp.ClientSession(headers=SERVICE_HEADERS) as http:
        status, verified = await post_json(
            http, f"{served}/api/identity/verifications", {**MARIA, "channel": "socketio"}
        )
        assert status == 201, verified
        status, handoff = await post_json(
            http,
            f"{served}/api/handoffs",
            {
                "conversation_id": conversation,
                "channel": "socketio",
                "reason": "dúvida sobre reembolso",
                "verification": verified["token"],
                "transcript": [
                    {"from": "user", "text": "quero saber do meu reembolso"},
                    {"from": "bot", "text": "Seu reembolso está em análise."},
                    {"from": "user", "text": "quero falar com um atendente"},
                ],
            },
        )
        assert status == 201, handoff
        rasa.trackers.setdefault(conversation, []).append({"event": "pause", "timestamp": time.time()})

    async with playwright_api.async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1366, "height": 768}, locale="pt-BR")
            errors = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            response = await page.goto(f"{served}/atendente")
            assert response.status == 200
            await expect(page.locator("#tela-login h1")).to_have_text("Entrar no console")

            await page.fill("#usuario", "atendente")
            await page.fill("#senha", "errada")
            await page.click("#form-login button[type=submit]")
            await expect(page.locator("#erro-login")).to_have_text("Usuário ou senha incorretos.")
            await page.screenshot(path=str(ARTIFACTS / f"{shot}-1-login-error.png"))
            await page.fill("#senha", "Atende@2024")
            await page.click("#form-login button[type=submit]")

            # the live queue: Maria waiting, first in line, with a wait time
            ticket = page.locator("#fila .ticket").first
            await expect(ticket).to_contain_text("Maria Aparecida Santos")
            await expect(ticket).to_contain_text("aguardando (1º)")
            await expect(ticket).to_contain_text("dúvida sobre reembolso")
            await expect(page.locator("#agente")).to_have_text("Atendente de Demonstração")
            await expect(ticket.locator(".espera")).to_have_text(lambda_free_wait())
            await page.screenshot(path=str(ARTIFACTS / f"{shot}-2-queue.png"))

            # a second user asks while the console is open: the queue updates by itself
            async with aiohttp.ClientSession(headers=SERVICE_HEADERS) as http:
                status, _ = await post_json(
                    http, f"{served}/api/handoffs", {"conversation_id": "conversa-zap", "channel": "whatsapp"}
                )
                assert status == 201
            await expect(page.locator("#fila .ticket")).to_have_count(2)
            await expect(page.locator("#fila .ticket").nth(1)).to_contain_text("aguardando (2º)")

            await ticket.locator("button").click()
            await expect(page.locator("#subtitulo")).to_contain_text(handoff["protocol"])
            await expect(page.locator("#mensagens")).to_contain_text("Seu reembolso está em análise.")
            await expect(page.locator("#contexto")).to_contain_text("***.807.302-**")
            await expect(page.locator("#contexto")).to_contain_text("vencida")
            await expect(page.locator("#contexto")).to_contain_text("titular")  # the label, not "holder"
            assert "945.807.302-24" not in await page.content()
            await expect(page.locator("#form-resposta")).to_be_hidden()
            await page.click("#assumir")
            await expect(page.locator("#form-resposta")).to_be_visible()
            await expect(ticket).to_contain_text("com você")
            await page.screenshot(path=str(ARTIFACTS / f"{shot}-3-claimed.png"))

            await page.fill("#texto", "Olá, Maria! Vou verificar o seu reembolso.")
            await page.click("#form-resposta button[type=submit]")
            await expect(page.locator("#mensagens .msg.atendente")).to_contain_text("Vou verificar o seu reembolso.")
            bot = [e for e in rasa.events(conversation) if e["event"] == "bot"]
            assert bot[-1]["text"] == "Olá, Maria! Vou verificar o seu reembolso."
            [call] = [c for c in rasa.calls_to("tracker/events") if c.query.get("execute_side_effects")]
            assert call.query["output_channel"] == "socketio"

            rasa.user_says(conversation, "Obrigada! Fico no aguardo.")  # the user answers on the widget
            await expect(page.locator("#mensagens .msg.cliente").last).to_contain_text("Fico no aguardo.")
            await page.screenshot(path=str(ARTIFACTS / f"{shot}-4-conversation.png"))

            await page.click("#form-encerrar button[type=submit]")  # no resolution yet: refused in the page
            await expect(page.locator("#aviso")).to_have_text("Descreva a resolução antes de encerrar.")
            await page.fill("#resolucao", "Reembolso em análise, prazo explicado.")
            await page.click("#form-encerrar button[type=submit]")
            await expect(page.locator("#aviso")).to_contain_text("Atendimento encerrado: Reembolso em análise")
            await expect(page.locator("#fila .ticket")).to_have_count(1)
            await page.screenshot(path=str(ARTIFACTS / f"{shot}-5-closed.png"))
            assert [e["event"] for e in rasa.events(conversation)].count("resume") == 1
            assert [c.body["name"] for c in rasa.calls_to("trigger_intent")] == ["atendimento_encerrado"]
            assert errors == []
        finally:
            await browser.close()
    await asyncio.sleep(0)


def lambda_free_wait():
    """The wait time as the console shows it: seconds or minutes."""
    import re

    return re.compile(r"^\d+ (s|min)$")

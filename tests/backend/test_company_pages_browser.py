"""The company portal's password page (first access, seed 003) in a real browser: Debian's Chromium
driven by Playwright, on a 360 px screen, against the backend served on a free port. Diego (RH500102,
no portal access yet) asks the first access, opens the e-mailed link, is stopped by a weak password and a
confirmation that differs, creates the password, and logs in with his user code. Screenshots go to
var/artifacts/."""

import re

import aiohttp
import pytest
from backend_api import SERVICE_HEADERS
from browser_support import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, MISSING, post_json
from company_support import CNPJ, DIEGO_CODE

playwright_api = pytest.importorskip(
    "playwright.async_api", reason="the playwright package is not installed (make test installs it)"
)
pytestmark = [
    pytest.mark.asyncio,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=MISSING),
]
NEW_PASSWORD = "Horizonte#2025"


async def test_diego_creates_his_portal_password_in_chromium_and_logs_in(served, outbox, request):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = f"company-activation-{request.node.callspec.id}"
    async with aiohttp.ClientSession(headers=SERVICE_HEADERS) as http:
        login = {"user_code": DIEGO_CODE, "password": NEW_PASSWORD}
        async with http.post(f"{served}/api/company/auth/login", json=login) as response:
            assert response.status == 401  # no portal access yet
        status, body = await post_json(
            http,
            f"{served}/api/company/access/first-access",
            {
                "user_code": "rh500102",
                "cnpj": CNPJ,
                "email": "dp@horizonte.exemplo.com.br",
                "channel": "rest",
                "conversation_id": "conversa-primeiro-acesso",
            },
        )
        assert status == 202, body
        [(message, text)] = outbox()
        assert message["To"] == "dp@horizonte.exemplo.com.br"
        [link] = re.findall(rf"{re.escape(served)}/conta/senha-empresa/[A-Za-z0-9_-]+", text)

        async with playwright_api.async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                page = await browser.new_page(viewport={"width": 360, "height": 740}, locale="pt-BR")
                response = await page.goto(link)
                assert response.status == 200
                await playwright_api.expect(page.locator("h1")).to_have_text("Crie a sua senha do portal da empresa")
                await playwright_api.expect(page.locator("main")).to_contain_text("RH500102")
                await playwright_api.expect(page.locator("main")).to_contain_text("Construtora Horizonte Ltda")
                assert await page.evaluate("document.documentElement.scrollWidth") <= 360  # no sideways scroll
                await page.screenshot(path=str(ARTIFACTS / f"{shot}-1-form.png"), full_page=True)

                await page.fill("#nova_senha", "diego1")
                warning = page.locator("#aviso-senha")
                await playwright_api.expect(warning).to_contain_text("Use pelo menos 8 caracteres.")
                await page.click("button[type=submit]")  # refused in the page itself: nothing is sent
                assert page.url == link

                await page.fill("#nova_senha", NEW_PASSWORD)
                await playwright_api.expect(warning).to_have_text("")
                await page.fill("#confirmacao", "Horizonte#2024")
                await playwright_api.expect(page.locator("#aviso-confirmacao")).to_contain_text("não são iguais")
                await page.fill("#confirmacao", NEW_PASSWORD)
                await playwright_api.expect(page.locator("#aviso-confirmacao")).to_have_text("")
                await page.click("button[type=submit]")
                await playwright_api.expect(page.locator("h1")).to_have_text("Senha criada!")
                await playwright_api.expect(page.locator("main")).to_contain_text("código de usuário RH500102")
                await page.screenshot(path=str(ARTIFACTS / f"{shot}-2-success.png"), full_page=True)

                again = await page.goto(link)  # the link worked once
                assert again.status == 410
            finally:
                await browser.close()

        async with http.post(f"{served}/api/company/auth/login", json=login) as response:
            assert response.status == 200, await response.text()

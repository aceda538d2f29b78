"""The activation page in a real browser: Debian's Chromium driven by Playwright, on a 360 px
screen, against the backend served on a free port. Screenshots go to var/artifacts/."""

import aiohttp
import pytest
from backend_api import JOSE, SERVICE_HEADERS, links_in
from browser_support import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, MISSING, post_json

playwright_api = pytest.importorskip(
    "playwright.async_api", reason="the playwright package is not installed (make test installs it)"
)
pytestmark = [
    pytest.mark.asyncio,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=MISSING),
]


async def test_jose_activates_his_account_in_chromium(served, outbox, request):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = f"activation-{request.node.callspec.id}"
    async with aiohttp.ClientSession(headers=SERVICE_HEADERS) as http:
        status, verified = await post_json(http, f"{served}/api/identity/verifications", JOSE)
        assert status == 201, verified
        status, body = await post_json(
            http,
            f"{served}/api/registrations",
            {
                "verification": verified["token"],
                "conversation_id": JOSE["conversation_id"],
                "channel": "rest",
                "email": "jose.oliveira@exemplo.com.br",
            },
        )
        assert status == 201, body
        [(_, text)] = outbox()
        [link] = links_in(text)
        assert link.startswith(f"{served}/conta/ativar/")

        async with playwright_api.async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                page = await browser.new_page(viewport={"width": 360, "height": 740}, locale="pt-BR")
                response = await page.goto(link)
                assert response.status == 200
                await playwright_api.expect(page.locator("h1")).to_have_text("Crie a sua senha")
                assert await page.evaluate("document.documentElement.scrollWidth") <= 360  # no sideways scroll
                await page.screenshot(path=str(ARTIFACTS / f"{shot}-1-form.png"), full_page=True)

                await page.fill("#nova_senha", "jose1")
                warning = page.locator("#aviso-senha")
                await playwright_api.expect(warning).to_contain_text("Use pelo menos 8 caracteres.")
                await playwright_api.expect(warning).to_contain_text("Inclua pelo menos um símbolo")
                await playwright_api.expect(page.locator('li[data-rule="digit"]')).to_have_class("ok")
                await page.click("button[type=submit]")  # refused in the page itself: nothing is sent
                assert page.url == link
                await page.screenshot(path=str(ARTIFACTS / f"{shot}-2-weak.png"), full_page=True)

                await page.fill("#nova_senha", "Oliveira#2025")
                await playwright_api.expect(warning).to_have_text("")
                await page.fill("#confirmacao", "Oliveira#2024")
                await playwright_api.expect(page.locator("#aviso-confirmacao")).to_contain_text("não são iguais")
                await page.fill("#confirmacao", "Oliveira#2025")
                await playwright_api.expect(page.locator("#aviso-confirmacao")).to_have_text("")
                await page.click("button[type=submit]")
                await playwright_api.expect(page.locator("h1")).to_have_text("Cadastro ativado!")
                await playwright_api.expect(page.locator("main")).to_contain_text(
                    "Entre no aplicativo com a carteirinha, o CPF ou o e-mail."
                )
                await page.screenshot(path=str(ARTIFACTS / f"{shot}-3-success.png"), full_page=True)
            finally:
                await browser.close()

        status, answer = await post_json(
            http, f"{served}/api/auth/login", {"login": JOSE["login"], "password": "Oliveira#2025"}
        )
        assert status == 200 and answer["must_change_password"] is False

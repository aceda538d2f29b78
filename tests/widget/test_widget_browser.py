"""The widget in Chromium at 360 px against a scripted Rasa (tests/widget/fake_rasa.py: the real Sanic
server and socket.io channel, no trained model needed): pasted into a site of another origin, on the
backend's demo page, by keyboard only. The browser keeps nothing but the signed session id: no message,
nothing typed. The real assistant is in test_widget_stack.py."""

from __future__ import annotations

import asyncio
import json
import re

import aiohttp
import pytest

from channels.web.socketio_channel import TOKEN_RE
from common.uploads import REFUSAL_TEXTS, UNSUPPORTED_TYPE

playwright_api = pytest.importorskip("playwright.async_api", reason="the playwright package is not installed")
pytestmark = pytest.mark.asyncio
expect = playwright_api.expect

UPLOAD_PATH = "/webhooks/socketio/upload"
FOCUSED = """() => { const a = document.getElementById('assistente-widget')?.shadowRoot?.activeElement;
                      return a ? (a.id || a.className) : null; }"""


def contrast(rgb_a: str, rgb_b: str) -> float:
    def luminance(rgb: str) -> float:
        channels = [int(c) / 255 for c in re.findall(r"\d+", rgb)[:3]]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    high, low = sorted((luminance(rgb_a), luminance(rgb_b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


async def colours(locator) -> tuple[str, str]:
    return await locator.evaluate("e => [getComputedStyle(e).color, getComputedStyle(e).backgroundColor]")


async def storage(page) -> dict:
    return await page.evaluate("""() => ({local: Object.assign({}, localStorage),
                                           session: Object.assign({}, sessionStorage)})""")


async def test_pasted_into_another_site_renders_every_kind_of_message_and_a_reload_resumes_it(
    fake_stack, phone, artifacts
):
    backend, rasa = fake_stack
    page = phone
    key = f"assistente-widget:{rasa.url}:"
    await page.goto(f"{rasa.url}/site")
    # what an earlier version of the widget left in this browser is wiped on the next page load
    await page.evaluate(
        "k => localStorage.setItem(k + 'conversa', JSON.stringify({itens: [{texto: '***.807.302-**'}]}))", key
    )
    await page.reload()
    launcher = page.get_by_role("button", name="Fale com a gente")
    await expect(launcher).to_be_visible()
    box = await launcher.bounding_box()
    assert box["width"] < 300  # the site's `button { width: 100% }` does not reach into the widget
    foreground, background = await colours(launcher)
    assert foreground == "rgb(17, 17, 17)" and contrast(foreground, background) >= 4.5  # light brand colour

    await launcher.click()
    dialog = page.get_by_role("dialog", name="Ajuda Vida")
    await expect(dialog).to_be_visible()
    dialog_box = await dialog.bounding_box()
    assert dialog_box["width"] == 360 and dialog_box["height"] == 740  # full screen on a phone
    await expect(page.locator(".msg.bot").first).to_contain_text("Olá! Sou o assistente virtual")
    await page.get_by_role("button", name="Esqueci minha senha").click()
    await expect(page.locator(".msg.usuario").last).to_have_text("Você: Esqueci minha senha")
    await expect(page.locator(".msg.bot").last).to_contain_text("Qual é o número da sua carteirinha?")
    await expect(page.get_by_role("button", name="Falar com atendente")).to_be_disabled()
    await expect(page.get_by_role("button", name="Esqueci minha senha")).to_have_attribute("aria-pressed", "true")

    box = page.get_by_role("textbox", name="Mensagem para o assistente")
    await box.fill("945.807.302-24")
    await box.press("Enter")
    await expect(page.locator(".msg.usuario").last).to_have_text("Você: 945.807.302-24")  # as typed, on screen only
    await expect(page.locator(".msg.bot").last).to_contain_text("Você disse: 945.807.302-24")

    await box.fill("mostre tudo")
    await page.get_by_role("button", name="Enviar mensagem").click()
    document = page.get_by_role("link", name=re.compile("Baixar boleto-2025-05.pdf"))
    await expect(document).to_have_attribute("download", "boleto-2025-05.pdf")
    await expect(document).to_have_attribute("href", f"{rasa.url}/boleto.pdf")
    text = page.locator(".msg.bot", has_text="Linha um")
    assert "Linha um\nLinha dois" in await text.inner_text()  # line breaks kept
    await expect(text.get_by_role("link", name="https://exemplo.com.br/ajuda?x=1")).to_have_attribute(
        "href", "https://exemplo.com.br/ajuda?x=1"
    )  # the final "." is not part of the link
    await expect(text).to_contain_text('<img src=x onerror="window.hacked=1">')  # shown, never run
    assert await page.evaluate("window.hacked") is None
    image = page.locator(".msg.bot img")
    await expect(image).to_have_attribute("src", f"{rasa.url}/img/cartao.png")
    await expect(image).to_have_attribute("alt", "Imagem enviada pelo assistente")
    assert await image.evaluate("img => img.complete && img.naturalWidth") == 1

    uploads = []
    page.on("response", lambda response: uploads.append(response) if response.url.endswith(UPLOAD_PATH) else None)
    await page.locator("input[type=file]").set_input_files(
        {"name": "recibo.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4 recibo"}
    )
    await expect(page.locator(".msg.usuario").last).to_have_text("Você: Arquivo enviado: recibo.pdf")
    await expect(page.locator(".msg.bot").last).to_have_text("Assistente: Recebi o arquivo recibo.pdf (15 bytes).")
    await page.locator("input[type=file]").set_input_files(
        {"name": "foto.heic", "mimeType": "image/heic", "buffer": b"xx"}
    )
    await expect(page.locator(".msg.sistema").last).to_contain_text(REFUSAL_TEXTS[UNSUPPORTED_TYPE])
    # a spreadsheet goes like a PDF (Windows calls a CSV application/vnd.ms-excel: the channel reads the bytes)
    accept = set((await page.locator("input[type=file]").get_attribute("accept")).split(","))
    assert {".csv", ".xlsx", "text/csv", ".pdf", "image/jpeg"} <= accept
    await page.locator("input[type=file]").set_input_files(
        {"name": "lote.csv", "mimeType": "application/vnd.ms-excel", "buffer": b"tipo;cpf\r\ninclusao;1\r\n"}
    )
    await expect(page.locator(".msg.usuario").last).to_have_text("Você: Arquivo enviado: lote.csv")
    await expect(page.locator(".msg.bot").last).to_have_text("Assistente: Recebi o arquivo lote.csv (22 bytes).")
    await page.screenshot(path=str(artifacts / "widget-site-1-conversa.png"))

    recorded = rasa.recorded()
    session = recorded["messages"][0]["sender"]
    assert [m["text"] for m in recorded["messages"]] == [
        "/saudacao",
        "/esqueci_senha",
        "945.807.302-24",
        "mostre tudo",
        "/enviar_documento",
        "/enviar_documento",
    ]
    assert {m["sender"] for m in recorded["messages"]} == {session}
    [sent] = recorded["messages"][-2]["metadata"]["attachments"]
    assert sent["file_id"].startswith("arquivo-do-backend")  # the backend's id: the channel kept no file
    assert {k: sent[k] for k in ("content_type", "filename", "size")} == {
        "content_type": "application/pdf",
        "filename": "recibo.pdf",
        "size": 15,
    }
    [sheet] = recorded["messages"][-1]["metadata"]["attachments"]
    assert (sheet["content_type"], sheet["filename"]) == ("text/csv", "lote.csv")
    assert [f["start"] for f in recorded["files"]] == ["%PDF-", "tipo;"]  # the bot read the files the browser sent
    answer, _ = uploads  # two uploads (the HEIC photo never left the browser)
    assert answer.status == 201 and set(await answer.json()) == {"upload_id", "filename", "content_type", "size"}
    assert "arquivo-do-backend" not in await answer.text()  # the backend's id never reaches the browser

    # the browser keeps the signed session id (and whether the chat is open), nothing of the conversation
    kept = await storage(page)
    assert kept["session"] == {}
    assert set(kept["local"]) == {key + "sessao", key + "aberto"}
    token = json.loads(kept["local"][key + "sessao"])
    assert TOKEN_RE.match(token) and json.loads(kept["local"][key + "aberto"]) is True
    everything = json.dumps(kept).replace(key, "")  # the keys hold the test server's address: a random port
    for text in ("945", "807", "302-24", "carteirinha", "Esqueci", "mostre", "recibo", "boleto", "Olá", "inbound"):
        assert text not in everything.replace(token, ""), text

    await page.reload()
    await expect(page.get_by_role("dialog", name="Ajuda Vida")).to_be_visible()  # still open
    log = page.get_by_role("log", name="Conversa com o assistente")
    await expect(log).to_have_attribute("aria-live", "polite")
    note = page.locator(".msg.nota")
    await expect(note).to_have_text(
        "Aviso: Conversa retomada. Por segurança, as mensagens anteriores não ficam salvas neste aparelho."
    )
    foreground, _ = await colours(note.locator(".balao"))
    assert contrast(foreground, "rgb(244, 246, 248)") >= 4.5  # on the log's background
    assert "carteirinha" not in await log.inner_text() and "807.302" not in await log.inner_text()
    await page.get_by_role("textbox", name="Mensagem para o assistente").fill("depois de recarregar")
    await page.keyboard.press("Enter")
    await expect(page.locator(".msg.bot").last).to_contain_text("Você disse: depois de recarregar")
    recorded = rasa.recorded()["messages"]
    assert recorded[-1]["sender"] == session  # the same conversation for Rasa...
    assert [m["text"] for m in recorded].count("/saudacao") == 1  # ...so no second greeting
    assert json.loads((await storage(page))["local"][key + "sessao"]).split(".")[0] == token.split(".")[0]
    assert "recarregar" not in json.dumps(await storage(page))
    await page.screenshot(path=str(artifacts / "widget-site-2-recarregada.png"))

    await page.get_by_role("button", name="Começar uma nova conversa").click()
    await expect(page.locator(".msg.bot").last).to_contain_text("Olá! Sou o assistente virtual")
    await expect(log).not_to_contain_text("recarregar")
    assert rasa.recorded()["messages"][-1]["sender"] != session
    assert json.loads((await storage(page))["local"][key + "sessao"]).split(".")[0] != token.split(".")[0]
    assert page.errors == []


async def test_keyboard_only(fake_stack, phone, artifacts):
    _, rasa = fake_stack
    page = phone
    await page.goto(f"{rasa.url}/site")
    await expect(page.get_by_role("button", name="Fale com a gente")).to_be_visible()
    for _ in range(10):
        await page.keyboard.press("Tab")
        if await page.evaluate(FOCUSED) == "launcher":
            break
    assert await page.evaluate(FOCUSED) == "launcher"
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("dialog")).to_be_visible()
    assert await page.evaluate(FOCUSED) == "rw-mensagem"  # focus goes to the message box
    await expect(page.locator(".msg.bot").first).to_contain_text("Olá!")
    await page.keyboard.type("oi, só pelo teclado")
    await page.keyboard.press("Enter")
    await expect(page.locator(".msg.bot").last).to_contain_text("Você disse: oi, só pelo teclado")
    await page.screenshot(path=str(artifacts / "widget-teclado-1-aberto.png"))

    for _ in range(12):  # full screen on a phone: Tab stays inside the chat
        await page.keyboard.press("Tab")
        assert await page.evaluate(FOCUSED) is not None
    await page.keyboard.press("Escape")
    await expect(page.get_by_role("dialog")).to_be_hidden()
    assert await page.evaluate(FOCUSED) == "launcher"  # back where it was
    await expect(page.get_by_role("button", name="Fale com a gente")).to_have_attribute("aria-expanded", "false")
    await page.keyboard.press(" ")
    await expect(page.get_by_role("dialog")).to_be_visible()
    await page.screenshot(path=str(artifacts / "widget-teclado-2-reaberto.png"))
    assert page.errors == []


async def test_a_document_by_keyboard_while_sending_and_refused_by_the_server(fake_stack, phone, artifacts):
    _, rasa = fake_stack
    page = phone
    await page.goto(f"{rasa.url}/site")
    await page.get_by_role("button", name="Fale com a gente").click()
    await expect(page.locator(".msg.bot").first).to_contain_text("Olá!")
    assert await page.evaluate(FOCUSED) == "rw-mensagem"
    await page.keyboard.press("Shift+Tab")  # the clip sits just before the message box
    assert await page.evaluate(FOCUSED) == "anexar"
    attach = page.get_by_role("button", name="Anexar arquivo (foto, PDF ou planilha)")

    release = asyncio.Event()

    async def slow(route):  # holds the upload until the test has seen the "sending" state
        await release.wait()
        await route.continue_()

    await page.route(f"**{UPLOAD_PATH}", slow)
    async with page.expect_file_chooser() as chooser:
        await attach.press("Enter")  # Enter on the clip (Playwright keeps the focus on it for the press)
    await (await chooser.value).set_files(
        {"name": "nota fiscal.jpg", "mimeType": "image/jpeg", "buffer": b"\xff\xd8\xff\xe0 foto"}
    )
    sending = page.locator(".msg.usuario.enviando")
    await expect(sending).to_have_text("Você: Enviando nota fiscal.jpg\u2026")
    await expect(attach).to_have_attribute("aria-busy", "true")
    assert await page.evaluate(FOCUSED) == "anexar"  # the keyboard user stays where they were
    await page.screenshot(path=str(artifacts / "widget-anexo-1-enviando.png"))
    release.set()
    await expect(page.locator(".msg.usuario").last).to_have_text("Você: Arquivo enviado: nota fiscal.jpg")
    await expect(sending).to_have_count(0)
    await expect(attach).to_have_attribute("aria-busy", "false")
    await expect(page.locator(".msg.bot").last).to_have_text("Assistente: Recebi o arquivo nota fiscal.jpg (9 bytes).")
    await page.unroute(f"**{UPLOAD_PATH}")

    # a type the browser does not name goes to the server, which refuses it: its message is shown
    async with page.expect_file_chooser() as chooser:
        await attach.press("Enter")
    await (await chooser.value).set_files({"name": "exame.dcm", "mimeType": "", "buffer": b"DICM"})
    await expect(page.locator(".msg.sistema").last).to_have_text(f"Aviso: {REFUSAL_TEXTS[UNSUPPORTED_TYPE]}")
    await expect(page.locator(".msg.usuario").last).to_have_text("Você: Arquivo enviado: nota fiscal.jpg")
    await page.screenshot(path=str(artifacts / "widget-anexo-2-recusado.png"))
    texts = [m["text"] for m in rasa.recorded()["messages"]]
    assert texts == ["/saudacao", "/enviar_documento"]  # the refused file never reached the bot
    page.errors = [e for e in page.errors if not e.startswith(f"415 {rasa.url}{UPLOAD_PATH}")]
    assert page.errors == []


async def test_demo_page_of_the_operator(fake_stack, phone, artifacts):
    backend, rasa = fake_stack
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{backend}/") as answer:
            assert answer.status == 200
            html = await answer.text()
            csp = answer.headers["Content-Security-Policy"]
        assert "<title>Caixa de Assistência Vida Sergipe (demonstração)</title>" in html
        assert f'<script src="/widget/widget.js" data-rasa-url="{rasa.url}"' in html
        assert f"connect-src 'self' {rasa.url} ws://127.0.0.1:" in csp
        for name, kind in (
            ("widget.js", "application/javascript"),
            ("widget.css", "text/css"),
            ("socket.io.min.js", "application/javascript"),
        ):
            async with http.get(f"{backend}/widget/{name}") as answer:
                assert answer.status == 200 and answer.content_type == kind
                assert answer.headers["Access-Control-Allow-Origin"] == "*"
        for name in ("..%2Fsocketio_channel.py", "socketio_channel.py", "nada.js"):
            async with http.get(f"{backend}/widget/{name}") as answer:
                assert answer.status == 404, name

    page = phone
    await page.goto(f"{backend}/")
    await expect(page.locator("h1")).to_have_text("Atendimento ao beneficiário")
    assert await page.evaluate("document.documentElement.scrollWidth") <= 360
    await page.screenshot(path=str(artifacts / "widget-demo-1-pagina.png"), full_page=True)
    launcher = page.get_by_role("button", name="Fale com a gente")
    await launcher.click()
    await expect(page.get_by_role("dialog", name="Assistente Vida Sergipe")).to_be_visible()
    await expect(page.locator(".msg.bot").first).to_contain_text("Olá!")  # the page's CSP lets it connect
    await page.get_by_role("button", name="Esqueci minha senha").click()
    await expect(page.locator(".msg.bot").last).to_contain_text("carteirinha")
    for selector in (".msg.usuario .balao", ".opcoes button.escolhido", ".topo", ".enviar"):
        foreground, background = await colours(page.locator(selector).first)
        if background == "rgba(0, 0, 0, 0)":
            background = "rgb(255, 255, 255)"
        assert contrast(foreground, background) >= 4.5, (selector, foreground, background)
    await page.screenshot(path=str(artifacts / "widget-demo-2-chat.png"))
    assert page.errors == []

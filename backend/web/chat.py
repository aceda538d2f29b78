"""The website chat: GET / is the operator's demo page with the widget, GET /widget/{file} serves the
widget's assets from channels/web/ (the one <script> tag an operator pastes; see docs/widget.md).

Where the page's widget finds Rasa: app[RASA_URL] if set (tests), else the PUBLIC_RASA_URL
environment variable, else port 5005 on the host the page was asked from (what `make run` starts)."""

from __future__ import annotations

import os
from html import escape
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import web

from backend.api.context import OPERATOR, SETTINGS
from common.pii import only_digits

WIDGET_DIR = Path(__file__).resolve().parent.parent.parent / "channels" / "web"
ASSETS = {  # only these files are served, whatever the URL asks for
    "widget.js": "application/javascript",
    "widget.css": "text/css",
    "socket.io.min.js": "application/javascript",
    "demo.css": "text/css",
}
RASA_URL = web.AppKey("public_rasa_url", str)
DEFAULT_RASA_PORT = 5005

routes = web.RouteTableDef()


def rasa_url(request: web.Request) -> str:
    configured = request.app.get(RASA_URL) or os.environ.get("PUBLIC_RASA_URL", "")
    if configured:
        return configured.rstrip("/")
    host = urlsplit(f"//{request.host}").hostname or "127.0.0.1"
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    return f"{request.scheme}://{host}:{DEFAULT_RASA_PORT}"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _websocket_origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{'wss' if parts.scheme == 'https' else 'ws'}://{parts.netloc}"


@routes.get("/")
async def demo_page(request: web.Request) -> web.Response:
    operator = request.app[OPERATOR]
    backend = request.app[SETTINGS].public_backend_url.rstrip("/")
    rasa = rasa_url(request)
    phone = operator.phones["central_24h"]
    values = {
        key: escape(value)
        for key, value in {
            "name": operator.name,
            "short": operator.short_name,
            "phone": phone,
            "tel": only_digits(phone),
            "rasa": rasa,
            "backend": backend,
            "hours": operator.opening_hours.text,
        }.items()
    }
    html = DEMO_PAGE.format(**values)
    csp = (
        f"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: http: https:; "
        f"connect-src 'self' {_origin(rasa)} {_websocket_origin(rasa)} {_origin(backend)}; "
        f"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
    return web.Response(
        text=html,
        content_type="text/html",
        charset="utf-8",
        headers={
            "Content-Security-Policy": csp,
            "Referrer-Policy": "no-referrer",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-cache",
        },
    )


@routes.get("/widget/{file}")
async def widget_asset(request: web.Request) -> web.StreamResponse:
    name = request.match_info["file"]
    if name not in ASSETS:
        raise web.HTTPNotFound(text="Arquivo não encontrado.")
    return web.FileResponse(
        WIDGET_DIR / name,
        headers={
            "Content-Type": f"{ASSETS[name]}; charset=utf-8",
            "Cache-Control": "public, max-age=300",
            "Access-Control-Allow-Origin": "*",  # any operator site may load the widget
            "Cross-Origin-Resource-Policy": "cross-origin",
            "X-Content-Type-Options": "nosniff",
        },
    )


DEMO_PAGE = """<!doctype html>
<html lang="pt-BR">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="robots" content="noindex">
  <title>{name}</title>
  <link rel="stylesheet" href="/static/conta.css">
  <link rel="stylesheet" href="/widget/demo.css">
</head>
<body>
  <header><span class="marca">{name}</span></header>
  <main>
    <h1>Atendimento ao beneficiário</h1>
    <p>Esta é a página de demonstração da {short}. O assistente virtual fica no botão
       <strong>Fale com a gente</strong>, no canto da tela: ele resolve pelo chat o que você precisa do
       plano, a qualquer hora, e chama um atendente quando for preciso.</p>
    <p>Para colocar o mesmo assistente em outro site, basta colar uma linha antes de
       <code>&lt;/body&gt;</code>:</p>
    <pre class="codigo"><code>&lt;script src="{backend}/widget/widget.js"
        data-rasa-url="{rasa}" defer&gt;&lt;/script&gt;</code></pre>
  </main>
  <footer>Central 24h: <a href="tel:{tel}">{phone}</a>. Atendimento humano {hours}.</footer>
  <script src="/widget/widget.js" data-rasa-url="{rasa}" data-title="Assistente {short}"
          data-subtitle="Atendimento virtual 24h" data-init-payload="/saudacao" defer></script>
</body>
</html>
"""

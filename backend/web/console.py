"""The call-centre console at /atendente (docs/handoff.md): one page, pt-BR, no external resources. It logs
the agent in through POST /api/agent/login, follows the queue through the event stream
GET /api/agent/events and uses the agent API of backend/api/agent.py (backend/static/console.js)."""

from __future__ import annotations

from aiohttp import web

from backend.api.context import OPERATOR
from backend.web.pages import fill

routes = web.RouteTableDef()

HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


@routes.get("/atendente")
async def console_page(request: web.Request) -> web.Response:
    operator = request.app[OPERATOR]
    html = fill("console", operator=operator.short_name, phone=operator.phones["central_24h"])
    return web.Response(text=html, content_type="text/html", charset="utf-8", headers=HEADERS)

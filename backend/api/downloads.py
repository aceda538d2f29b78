"""GET /documentos/{token}: the generated document a signed link points to.

Each document area registers a renderer for its kind with `@renderer("kind")`; the renderer gets
the open database session and the link's parameters and returns the file. Expired or altered
links get a pt-BR page saying what to do, never the document.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from backend.api.context import OPERATOR, SESSIONS, SETTINGS
from backend.signed_links import PATH_PREFIX, LinkRefused, verify
from backend.web.pages import message

routes = web.RouteTableDef()


@dataclass(frozen=True)
class File:
    content: bytes
    content_type: str  # application/pdf, image/png
    filename: str


Renderer = Callable[[web.Request, AsyncSession, dict[str, Any]], Awaitable[File]]
_RENDERERS: dict[str, Renderer] = {}


def renderer(kind: str) -> Callable[[Renderer], Renderer]:
    def register(function: Renderer) -> Renderer:
        if kind in _RENDERERS:
            raise ValueError(f"a renderer for {kind!r} is already registered")
        _RENDERERS[kind] = function
        return function

    return register


@routes.get(PATH_PREFIX + "{token}")
async def download(request: web.Request) -> web.StreamResponse:
    operator = request.app[OPERATOR]
    try:
        document = verify(request.app[SETTINGS].link_signing_secret, request.match_info["token"])
    except LinkRefused as exc:
        if exc.code == "expired":
            return message(
                operator,
                "Link expirado",
                "Este link vale por 15 minutos e já expirou.",
                "Peça o documento de novo no chat do assistente virtual.",
                status=410,
            )
        return message(
            operator,
            "Link inválido",
            "Este link não é válido. Confira se ele foi copiado inteiro ou peça o documento de novo no chat.",
            status=404,
        )
    render = _RENDERERS.get(document.kind)
    if render is None:
        return message(operator, "Link inválido", "Este documento não está mais disponível.", status=404)
    async with request.app[SESSIONS]() as session:
        file = await render(request, session, document.params)
    return web.Response(
        body=file.content,
        content_type=file.content_type,
        headers={
            "Content-Disposition": f'inline; filename="{file.filename}"',
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )

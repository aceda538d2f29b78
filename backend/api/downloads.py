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
from backend.api.errors import STATUS_BY_CODE
from backend.refusals import Refusals, Refused
from backend.signed_links import PATH_PREFIX, verify
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


_TITLES = {"link_invalid": "Link inválido", "link_expired": "Link expirado"}
REFUSALS = Refusals({"link_invalid": "Este documento não está mais disponível."})  # a kind nobody renders


def _refused_page(request: web.Request, refused: Refused) -> web.Response:
    """The pt-BR page of a link that cannot be served."""
    return message(request.app[OPERATOR], _TITLES[refused.code], refused.message(), status=STATUS_BY_CODE[refused.code])


@routes.get(PATH_PREFIX + "{token}")
async def download(request: web.Request) -> web.StreamResponse:
    try:
        document = verify(request.app[SETTINGS].link_signing_secret, request.match_info["token"])
    except Refused as exc:  # link_invalid, link_expired
        return _refused_page(request, exc)
    render = _RENDERERS.get(document.kind)
    if render is None:
        return _refused_page(request, REFUSALS.refuse("link_invalid"))
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

"""GET /api/card: the virtual card (cartao_virtual) of the verified beneficiary or, for a holder, of a
dependent (backend.card); its image is a signed link (kind "card") served by /documentos/{token}."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from backend.api.context import OPERATOR, SESSIONS, SETTINGS
from backend.api.downloads import File, renderer
from backend.api.identity import member_brief, verified_from_headers
from backend.api.plan import asked_card
from backend.api.responses import json_response
from backend.card import VirtualCard, card_of_number, virtual_card
from backend.card_image import render_png
from backend.clock import local_today
from backend.settings import Settings
from backend.signed_links import DEFAULT_TTL, sign, url
from common.labels import card_number_text

routes = web.RouteTableDef()
KIND = "card"


def _card_body(found: VirtualCard, settings: Settings) -> dict:
    token = sign(settings.link_signing_secret, KIND, {"card": found.owner.card_number})
    return {
        "card": found.card.as_json(),
        "text": found.card.text(),
        "image_url": url(settings.public_backend_url, token),
        "expires_in_minutes": int(DEFAULT_TTL.total_seconds() // 60),
        "members": [
            {
                **member_brief(person),
                "card_number_formatted": card_number_text(person.card_number),
                "selected": person.id == found.owner.id,
            }
            for person in found.members
        ],
    }


@routes.get("/api/card")
async def get_card(request: web.Request) -> web.Response:
    """Headers X-Verification, X-Conversation-Id; query `beneficiary` (card number, optional).

    200 {card, text, image_url, expires_in_minutes, members}; 400 invalid card number;
    401 verification_invalid; 403 not_in_family; 409 plan_cancelled.
    """
    card_number = asked_card(request)
    async with request.app[SESSIONS]() as session:
        verified = await verified_from_headers(request, session)
        found = await virtual_card(session, verified, card_number, request.app[OPERATOR], local_today())
    return json_response(_card_body(found, request.app[SETTINGS]))


@renderer(KIND)
async def render_card(request: web.Request, session: AsyncSession, params: dict) -> File:
    card = await card_of_number(session, str(params.get("card", "")), request.app[OPERATOR], local_today())
    return File(render_png(card), "image/png", f"carteirinha-{card.card_number}.png")

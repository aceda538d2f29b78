"""GET /api/card: the virtual card (cartao_virtual) of the verified beneficiary or, for a holder, of a
dependent; its image is a signed link (kind "card") served by /documentos/{token}."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.api.context import OPERATOR, SESSIONS, SETTINGS
from backend.api.downloads import File, renderer
from backend.api.errors import ApiError
from backend.api.identity import verified_from_headers
from backend.api.responses import json_response
from backend.card_image import card_data, format_card_number, render_png
from backend.clock import local_today
from backend.family import NotInFamily, member, visible_members
from backend.models import ACTIVE, Beneficiary, Plan
from backend.operator_profile import OperatorProfile
from backend.signed_links import DEFAULT_TTL, sign, url
from common.validators import InvalidValue, normalize_card

routes = web.RouteTableDef()
KIND = "card"


def not_in_family() -> ApiError:
    return ApiError(
        403, "not_in_family", "Só posso mostrar a sua carteirinha e, para quem é titular, a dos dependentes do plano."
    )


def plan_cancelled(beneficiary: Beneficiary, operator: OperatorProfile) -> ApiError:
    since = f" em {beneficiary.cancelled_at:%d/%m/%Y}" if beneficiary.cancelled_at else ""
    return ApiError(
        409,
        "plan_cancelled",
        f"O plano de {beneficiary.name.split()[0]} foi cancelado{since}, então a carteirinha não "
        f"vale mais para atendimentos. Para tirar dúvidas, ligue {operator.phones['central_24h']}.",
    )


async def _plan(session: AsyncSession, beneficiary: Beneficiary) -> Plan:
    return (await session.execute(select(Plan).where(Plan.id == beneficiary.plan_id))).scalar_one()


@routes.get("/api/card")
async def get_card(request: web.Request) -> web.Response:
    """Headers X-Verification, X-Conversation-Id; query `beneficiary` (card number, optional).

    200 {card, text, image_url, expires_in_minutes, members}; 400 invalid card number;
    401 verification_invalid; 403 not_in_family; 409 plan_cancelled.
    """
    asked = request.query.get("beneficiary", "").strip() or None
    if asked is not None:
        try:
            asked = normalize_card(asked)
        except InvalidValue as exc:
            raise ApiError(400, "invalid_request", str(exc), fields={"beneficiary": str(exc)}) from None
    operator = request.app[OPERATOR]
    settings = request.app[SETTINGS]
    async with request.app[SESSIONS]() as session:
        verified = await verified_from_headers(request, session)
        try:
            target = await member(session, verified, asked)
        except NotInFamily:
            raise not_in_family() from None
        members = await visible_members(session, verified)
        if target.status != ACTIVE:
            raise plan_cancelled(target, operator)
        card = card_data(target, await _plan(session, target), operator, local_today())
    token = sign(settings.link_signing_secret, KIND, {"card": target.card_number})
    return json_response(
        {
            "card": card.as_json(),
            "text": card.text(),
            "image_url": url(settings.public_backend_url, token),
            "expires_in_minutes": int(DEFAULT_TTL.total_seconds() // 60),
            "members": [
                {
                    "name": person.name,
                    "first_name": person.name.split()[0],
                    "card_number": person.card_number,
                    "card_number_formatted": format_card_number(person.card_number),
                    "holder": person.holder_id is None,
                    "selected": person.id == target.id,
                }
                for person in members
            ],
        }
    )


@renderer(KIND)
async def render_card(request: web.Request, session: AsyncSession, params: dict) -> File:
    beneficiary = (
        (await session.execute(select(Beneficiary).where(Beneficiary.card_number == str(params.get("card", "")))))
        .unique()
        .scalar_one_or_none()
    )
    if beneficiary is None:
        raise ApiError(404, "not_found", "Esta carteirinha não foi encontrada. Peça a carteirinha de novo no chat.")
    if beneficiary.status != ACTIVE:
        raise plan_cancelled(beneficiary, request.app[OPERATOR])
    card = card_data(beneficiary, await _plan(session, beneficiary), request.app[OPERATOR], local_today())
    return File(render_png(card), "image/png", f"carteirinha-{beneficiary.card_number}.png")

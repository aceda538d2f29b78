"""The verified beneficiary's plan and waiting periods (carências); the use cases are
backend.plan's. Headers X-Verification and X-Conversation-Id (see
backend.api.identity.verified_from_headers).

GET /api/plan[?beneficiary=<card>]  200 {beneficiary{name, card_number, role (holder|dependent),
    role_label, relationship, relationship_label}, plan{name, ans_product_registration, segments,
    segments_text, accommodation, coparticipation}, operator{name, ans_registration}, status:
    active|cancelled, cancelled_on, message}; 400 invalid card number; 401 verification_invalid;
    403 not_in_family.
GET /api/waiting-periods  200 {plan_status, cancelled_on, members: [{name, card_number, role,
    all_fulfilled, groups: [{group, fulfilled, until, days_left, fulfilled_on}], message}], message}.
"""

from __future__ import annotations

from aiohttp import web

from backend.api.context import OPERATOR, SESSIONS
from backend.api.identity import verified_from_headers
from backend.api.responses import json_response
from backend.clock import local_today
from backend.plan import plan_view, waiting_periods_view
from backend.refusals import invalid_field
from common.validators import InvalidValue, normalize_card

routes = web.RouteTableDef()


def asked_card(request: web.Request) -> str | None:
    """The card number of `?beneficiary=` (None when absent); 400 when it is not one."""
    asked = request.query.get("beneficiary", "").strip() or None
    if asked is None:
        return None
    try:
        return normalize_card(asked)
    except InvalidValue as exc:
        raise invalid_field("beneficiary", str(exc)) from None


@routes.get("/api/plan")
async def get_plan(request: web.Request) -> web.Response:
    """See the module's docstring."""
    card_number = asked_card(request)
    async with request.app[SESSIONS]() as session:
        verified = await verified_from_headers(request, session)
        body = await plan_view(session, verified, card_number, request.app[OPERATOR])
    return json_response(body)


@routes.get("/api/waiting-periods")
async def get_waiting_periods(request: web.Request) -> web.Response:
    """See the module's docstring."""
    async with request.app[SESSIONS]() as session:
        verified = await verified_from_headers(request, session)
        body = await waiting_periods_view(session, verified, local_today(), request.app[OPERATOR])
    return json_response(body)

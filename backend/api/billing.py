"""Fees (mensalidades) and bank-slip copies (segunda_via_boleto) of the verified holder; the use
cases are backend.billing.fees's.

GET  /api/fees                                 the last 12 fees, newest first, with a summary line
POST /api/fees/{document_number}/slips         a new slip (protocol, linha digitável, PIX, PDF link)
GET  /documentos/{token}  (kind "boleto")      the slip PDF, through backend.api.downloads

POST /api/fees/{document_number}/slips: body {verification, conversation_id, channel}. 201 {protocol,
document_number, reference_month, status, original_due_date, due_date, days_late, original_amount,
fine, interest, amount (+ *_text), fine_percent, monthly_interest_percent, linha_digitavel,
linha_digitavel_digits, barcode, pix_copia_e_cola, pdf_url, expires_in_minutes, message}; 400
invalid_request; 401 verification_invalid; 403 not_holder; 404 fee_not_found; 409 already_paid
(with paid_at); 503 billing_unavailable.
"""

from __future__ import annotations

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from backend.api.context import OPERATOR, SESSIONS, SETTINGS
from backend.api.downloads import File, renderer
from backend.api.forms import Form
from backend.api.identity import verified_beneficiary, verified_from_headers
from backend.api.responses import json_response
from backend.billing.fees import (
    fees_summary,
    holder_only,
    issue_slip,
    recent_fees,
    slip_json,
    slip_link_params,
    slip_pdf,
)
from backend.clock import local_today
from backend.models import ACTIVE
from backend.signed_links import DEFAULT_TTL, sign, url

routes = web.RouteTableDef()
KIND = "boleto"


@routes.get("/api/fees")
async def list_fees(request: web.Request) -> web.Response:
    """Headers X-Verification, X-Conversation-Id. 200 {holder: {name, first_name, card_number},
    plan_active, fees: [...], summary}; 401 verification_invalid; 403 not_holder (a dependent)."""
    async with request.app[SESSIONS]() as session:
        holder = holder_only(await verified_from_headers(request, session))
        fees = await recent_fees(session, holder, local_today())
    return json_response(
        {
            "holder": {"name": holder.name, "first_name": holder.name.split()[0], "card_number": holder.card_number},
            "plan_active": holder.status == ACTIVE,
            "fees": fees,
            "summary": fees_summary(fees, holder),
        }
    )


@routes.post("/api/fees/{document_number}/slips")
async def create_slip(request: web.Request) -> web.Response:
    """See the module's docstring."""
    form = await Form.read(request)
    token = form.verification()
    channel, conversation_id = form.channel(), form.conversation_id(request)
    form.validate()
    settings, today = request.app[SETTINGS], local_today()
    async with request.app[SESSIONS]() as session:
        verified = await verified_beneficiary(request, session, token, conversation_id)
        issued = await issue_slip(
            session,
            verified,
            request.match_info["document_number"].strip(),
            operator=request.app[OPERATOR],
            channel=channel,
            conversation_id=conversation_id,
            today=today,
        )
    link = sign(settings.link_signing_secret, KIND, slip_link_params(issued, verified.id, today))
    body = {**slip_json(issued), "pdf_url": url(settings.public_backend_url, link)}
    return json_response({**body, "expires_in_minutes": int(DEFAULT_TTL.total_seconds() // 60)}, status=201)


@renderer(KIND)
async def render_boleto(request: web.Request, session: AsyncSession, params: dict) -> File:
    content, filename = await slip_pdf(session, request.app[OPERATOR], params)
    return File(content=content, content_type="application/pdf", filename=filename)

"""The company's data, plans, users, invoices and protocols, for a company user (backend.company);
every call carries the service token and the company user's credential (backend.api.company_auth:
`X-Company-Session`, or `X-Company-Verification` + `X-Conversation-Id` + `X-Channel`). A user sees
only their own company.

GET  /api/company                 200 {company: {code, name, cnpj, email, phone, address, group: [...]}, user}
GET  /api/company/plans           200 {plans: [{name, ans_product_registration, coverage, coparticipation,
                                  contracted_on(_text), active_beneficiaries}]}
POST /api/company/contact-changes body {email?, phone?, address?, channel, conversation_id} -> 201
                                  {protocol, changes, message}; 400; 403 company_admin_only; 409 nothing_to_change
GET  /api/company/invoices?year=AAAA  (default: this year) 200 {year, years, invoices: [{document_number,
                                  reference_month(_text), due_date(_text), amount(_text), paid_at(_text),
                                  status (open|overdue|paid), status_text}], summary}; 400; 422 no_invoices_in_year
POST /api/company/invoices/{document_number}/slips  body {channel, conversation_id} -> 201 {protocol,
                                  document_number, status, original_due_date, due_date, days_late,
                                  original_amount, fine, interest, amount (+ *_text), fine_percent,
                                  monthly_interest_percent, linha_digitavel(_digits), barcode, pix_copia_e_cola,
                                  message, pdf_url, expires_in_minutes}; 404 invoice_not_found;
                                  409 invoice_already_paid; 503 billing_unavailable
GET  /documentos/{token}  (kind "fatura")  the slip's PDF (backend.api.downloads)
GET  /api/company/protocols       200 {protocols: [{protocol, kind, kind_label, status, status_label,
                                  created_at, created_on_text}]} (the latest 10 of the company)
GET  /api/company/protocols/{number}  200 {protocol, ...}; 404 protocol_not_found (another company's too)
401 company_unauthorized on every route without a valid company credential.
The portal's users: backend.api.company_admin; the reports: backend.api.company_reports.
"""

from __future__ import annotations

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from backend.api.company_auth import caller_json, company_caller
from backend.api.context import OPERATOR, SESSIONS, SETTINGS
from backend.api.downloads import File, renderer
from backend.api.errors import invalid_request
from backend.api.forms import Form
from backend.api.responses import json_response
from backend.clock import local_today
from backend.company.invoices import invoice_slip_pdf, invoices_of_year, issue_invoice_slip
from backend.company.profile import company_data, contracted_plans, request_contact_change
from backend.company.protocols import company_protocol, latest_protocols
from backend.signed_links import DEFAULT_TTL, sign, url
from common.validators import normalize_email

KIND = "fatura"

routes = web.RouteTableDef()


@routes.get("/api/company")
async def company(request: web.Request) -> web.Response:
    """See the module's docstring."""
    async with request.app[SESSIONS]() as session:
        caller = await company_caller(request, session)
        data = await company_data(session, caller)
    return json_response({"company": data, "user": caller_json(caller)["user"]})


@routes.get("/api/company/plans")
async def plans(request: web.Request) -> web.Response:
    """See the module's docstring."""
    async with request.app[SESSIONS]() as session:
        found = await contracted_plans(session, await company_caller(request, session))
    return json_response({"plans": found})


class ContactForm(Form):
    def changes(self) -> dict[str, str]:
        changes = {}
        if self.has("email") and (email := self.parsed("email", "o novo e-mail", normalize_email)):
            changes["email"] = email
        for field, label, limit in (("phone", "o novo telefone", 32), ("address", "o novo endereço", 240)):
            if self.has(field) and (value := self.text(field, label, max_length=limit)):
                changes[field] = " ".join(value.split())
        if not changes and not self.errors:
            self.errors["email"] = "Informe o novo e-mail, telefone ou endereço da empresa."
        return changes


@routes.post("/api/company/contact-changes")
async def contact_change(request: web.Request) -> web.Response:
    """See the module's docstring."""
    form = await ContactForm.read(request)
    changes, channel, conversation_id = form.changes(), form.channel(), form.optional("conversation_id")
    form.validate()
    async with request.app[SESSIONS]() as session:
        caller = await company_caller(request, session)
        done = await request_contact_change(
            session, caller, changes, operator=request.app[OPERATOR], channel=channel, conversation_id=conversation_id
        )
    return json_response({"protocol": done.protocol, "changes": done.changes, "message": done.message}, status=201)


def _year(request: web.Request) -> int:
    value = request.query.get("year", "")
    if not value:
        return local_today().year
    if not (value.isdigit() and len(value) == 4):
        raise invalid_request({"year": "Informe o ano com 4 números, por exemplo: 2025."})
    return int(value)


@routes.get("/api/company/invoices")
async def invoices(request: web.Request) -> web.Response:
    """See the module's docstring."""
    year = _year(request)
    async with request.app[SESSIONS]() as session:
        found = await invoices_of_year(session, await company_caller(request, session), year, local_today())
    return json_response(found)


@routes.post("/api/company/invoices/{document_number}/slips")
async def invoice_slip(request: web.Request) -> web.Response:
    """See the module's docstring."""
    form = await Form.read(request)
    channel, conversation_id = form.channel(), form.optional("conversation_id")
    form.validate()
    settings = request.app[SETTINGS]
    async with request.app[SESSIONS]() as session:
        body, params = await issue_invoice_slip(
            session,
            await company_caller(request, session),
            request.match_info["document_number"].strip(),
            operator=request.app[OPERATOR],
            channel=channel,
            conversation_id=conversation_id,
            today=local_today(),
        )
    link = url(settings.public_backend_url, sign(settings.link_signing_secret, KIND, params))
    minutes = int(DEFAULT_TTL.total_seconds() // 60)
    return json_response({**body, "pdf_url": link, "expires_in_minutes": minutes}, status=201)


@renderer(KIND)
async def render_invoice_slip(request: web.Request, session: AsyncSession, params: dict) -> File:
    content, filename = await invoice_slip_pdf(session, request.app[OPERATOR], params)
    return File(content=content, content_type="application/pdf", filename=filename)


@routes.get("/api/company/protocols")
async def protocols(request: web.Request) -> web.Response:
    """See the module's docstring."""
    async with request.app[SESSIONS]() as session:
        found = await latest_protocols(session, await company_caller(request, session))
    return json_response({"protocols": found})


@routes.get("/api/company/protocols/{number}")
async def protocol(request: web.Request) -> web.Response:
    """See the module's docstring."""
    async with request.app[SESSIONS]() as session:
        found = await company_protocol(session, await company_caller(request, session), request.match_info["number"])
    return json_response(found)

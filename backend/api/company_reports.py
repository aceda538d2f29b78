"""The company's reports (backend.company.reports), for any user of the company (credential:
backend.api.company_auth), behind a short-lived signed link.

POST /api/company/reports  body {kind: active|inactive|usage, format: csv|pdf, month? (usage:
    AAAA-MM, the previous month by default), channel?, conversation_id?} -> 201 {kind, format,
    month, rows, filename, message, url, expires_in_minutes}; 400 (a field); 401
    company_unauthorized; 422 no_active_beneficiaries | no_inactive_beneficiaries |
    no_usage_in_month | month_in_future.
GET  /documentos/{token}  (kind "relatorio-empresa")  the report, built when the link is opened for
    the company and the user it was issued to (404 link_invalid once that user is inactive).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timezone

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from backend.api.company_auth import company_caller
from backend.api.context import OPERATOR, SESSIONS, SETTINGS
from backend.api.downloads import File, renderer
from backend.api.forms import Form, required
from backend.api.responses import json_response
from backend.clock import local_today
from backend.company.reports import FORMATS, KINDS, USAGE_REPORT, issue_report, report_file
from backend.signed_links import DEFAULT_TTL, sign, url

KIND = "relatorio-empresa"
LINK_MINUTES = int(DEFAULT_TTL.total_seconds() // 60)
_MONTH_RE = re.compile(r"(\d{4})-(\d{2})")

routes = web.RouteTableDef()


class ReportForm(Form):
    def kind(self) -> str | None:
        value = self.text("kind", "o relatório (active, inactive ou usage)", max_length=20)
        if value is not None and value not in KINDS:
            self.errors["kind"] = (
                "Relatório desconhecido: use active (ativos), inactive (inativos) ou usage (utilização)."
            )
            return None
        return value

    def format(self) -> str | None:
        value = self.text("format", "o formato (csv ou pdf)", max_length=10)
        if value is not None and value.lower() not in FORMATS:
            self.errors["format"] = "Formato desconhecido: use csv ou pdf."
            return None
        return value.lower() if value else None

    def month(self, kind: str | None) -> date | None:
        value = self.optional("month", max_length=7)
        if kind != USAGE_REPORT or value is None:
            return None
        found = _MONTH_RE.fullmatch(value.strip())
        if not found or not 1 <= int(found.group(2)) <= 12:
            self.errors["month"] = "Informe o mês como AAAA-MM, por exemplo 2025-03."
            return None
        return date(int(found.group(1)), int(found.group(2)), 1)


@routes.post("/api/company/reports")
async def create_report(request: web.Request) -> web.Response:
    """See the module's docstring."""
    form = await ReportForm.read(request)
    kind, fmt = form.kind(), form.format()
    month = form.month(kind)
    form.channel()
    settings = request.app[SETTINGS]
    async with request.app[SESSIONS]() as session:
        caller = await company_caller(request, session)  # who asks, before what is asked
        form.validate()
        issued = await issue_report(
            session,
            caller,
            required(kind),
            required(fmt),
            month,
            today=local_today(),
            now=datetime.now(timezone.utc),
            link_minutes=LINK_MINUTES,
        )
    link = url(settings.public_backend_url, sign(settings.link_signing_secret, KIND, issued.params))
    return json_response({**issued.body, "url": link, "expires_in_minutes": LINK_MINUTES}, status=201)


@renderer(KIND)
async def render_report(request: web.Request, session: AsyncSession, params: dict) -> File:
    content, content_type, filename = await report_file(session, request.app[OPERATOR], params)
    return File(content=content, content_type=content_type, filename=filename)

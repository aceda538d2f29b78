"""The employer's side: a company user (HR) identified in the chat by a one-time code, the access
flows of the company portal, and the company's data, plans, users, invoices, slips and protocols.

POST /api/company/identity/codes           {user_code, cnpj, channel, conversation_id} -> 202 {message}
POST /api/company/identity/verifications   {user_code, cnpj, code, channel, conversation_id} -> 201 {token,
                                            user, company}; 401 company_code_invalid (attempts_left);
                                            410 company_code_expired; 423 company_code_locked; 429
POST /api/company/access/first-access      {user_code | company_code, cnpj, email, ...} -> 202 {message}
POST /api/company/access/password-reset    {user_code, cnpj, ...} -> 202 {message}
POST /api/company/access/user-code         {company_code, cnpj, email, ...} -> 202 {message}
GET  /api/company, /api/company/plans, /api/company/users, /api/company/invoices?year=,
     /api/company/protocols[/{number}]; POST /api/company/contact-changes,
     /api/company/invoices/{document_number}/slips
Every call after the identity carries CompanyCaller.headers() (backend/api/company_auth.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.backend.client import backend
from bot.backend.common import Refusal, answer, from_json, path_segment


@dataclass(frozen=True)
class CompanyCaller:
    """A conversation verified as a company user: the verification token, its channel and id."""

    verification: str | None
    channel: str
    conversation_id: str

    def headers(self) -> dict[str, str]:
        return {
            "X-Company-Verification": self.verification or "",
            "X-Conversation-Id": self.conversation_id,
            "X-Channel": self.channel,
        }

    def body(self) -> dict[str, str]:
        return {"channel": self.channel, "conversation_id": self.conversation_id}


@dataclass(frozen=True)
class Sent:
    """The backend's answer to a code or a link sent by e-mail (the same whether or not the data matched)."""

    message: str
    expires_in_minutes: int | None = None


@dataclass(frozen=True)
class CompanyVerification:
    token: str
    first_name: str
    user_code: str
    is_admin: bool
    company_code: str
    company_name: str
    cnpj: str  # formatted


@dataclass(frozen=True)
class CompanyData:
    code: str
    name: str
    cnpj: str
    email: str | None
    phone: str | None
    address: str | None
    group: tuple[str, ...]  # "name (CNPJ)" of the group's other companies


@dataclass(frozen=True)
class ContractedPlan:
    name: str
    ans_product_registration: str | None
    coverage: str
    coparticipation: bool
    contracted_on_text: str
    active_beneficiaries: int


@dataclass(frozen=True)
class CompanyUser:
    user_code: str
    name: str
    role: str
    status: str
    has_portal_access: bool


@dataclass(frozen=True)
class Invoice:
    document_number: str
    reference_month_text: str
    due_date_text: str
    amount_text: str
    status: str  # open | overdue | paid
    status_text: str
    paid_at_text: str | None

    @property
    def unpaid(self) -> bool:
        return self.status in ("open", "overdue")


@dataclass(frozen=True)
class Invoices:
    year: int
    years: tuple[int, ...]
    invoices: tuple[Invoice, ...]
    summary: str


@dataclass(frozen=True)
class InvoiceSlip:
    protocol: str
    document_number: str
    message: str
    linha_digitavel: str
    pix_copia_e_cola: str
    pdf_url: str
    due_date_text: str
    amount_text: str
    expires_in_minutes: int


@dataclass(frozen=True)
class CompanyProtocol:
    protocol: str
    kind_label: str
    status_label: str
    created_on_text: str


@dataclass(frozen=True)
class Done:
    """A request registered with a protocol (contact change, ...)."""

    protocol: str
    message: str


def _identity_body(caller: CompanyCaller, **fields: str | None) -> dict[str, Any]:
    return {**{key: value for key, value in fields.items() if value is not None}, **caller.body()}


def _sent(data: Mapping[str, Any]) -> Sent:
    return from_json(Sent, data)


async def request_code(caller: CompanyCaller, user_code: str, cnpj: str) -> Sent | Refusal:
    """Refusals: 400 (a field), 429 rate_limited."""
    body = _identity_body(caller, user_code=user_code, cnpj=cnpj)
    return await answer(backend.post("/api/company/identity/codes", body), _sent)


def _verification(data: Mapping[str, Any]) -> CompanyVerification:
    user, company = data["user"], data["company"]
    return CompanyVerification(
        token=str(data["token"]),
        first_name=str(user.get("first_name") or ""),
        user_code=str(user["user_code"]),
        is_admin=bool(user.get("is_admin")),
        company_code=str(company["code"]),
        company_name=str(company["name"]),
        cnpj=str(company["cnpj"]),
    )


async def verify_code(caller: CompanyCaller, user_code: str, cnpj: str, code: str) -> CompanyVerification | Refusal:
    """Refusals: 401 company_code_invalid (attempts_left), 410 company_code_expired, 423
    company_code_locked (retry_after_minutes), 429 too_many_attempts / rate_limited."""
    body = _identity_body(caller, user_code=user_code, cnpj=cnpj, code=code)
    return await answer(backend.post("/api/company/identity/verifications", body), _verification)


async def first_access(
    caller: CompanyCaller, cnpj: str, email: str, *, user_code: str | None = None, company_code: str | None = None
) -> Sent | Refusal:
    body = _identity_body(caller, user_code=user_code, company_code=company_code, cnpj=cnpj, email=email)
    return await answer(backend.post("/api/company/access/first-access", body), _sent)


async def password_reset(caller: CompanyCaller, user_code: str, cnpj: str) -> Sent | Refusal:
    body = _identity_body(caller, user_code=user_code, cnpj=cnpj)
    return await answer(backend.post("/api/company/access/password-reset", body), _sent)


async def user_code_reminder(caller: CompanyCaller, company_code: str, cnpj: str, email: str) -> Sent | Refusal:
    body = _identity_body(caller, company_code=company_code, cnpj=cnpj, email=email)
    return await answer(backend.post("/api/company/access/user-code", body), _sent)


def _company(data: Mapping[str, Any]) -> CompanyData:
    company = data["company"]
    group = tuple(f"{g['name']} ({g['cnpj']})" for g in company.get("group") or [])
    return from_json(CompanyData, company, group=group)


async def company_data(caller: CompanyCaller) -> CompanyData | Refusal:
    return await answer(backend.get("/api/company", headers=caller.headers()), _company)


async def plans(caller: CompanyCaller) -> tuple[ContractedPlan, ...] | Refusal:
    return await answer(
        backend.get("/api/company/plans", headers=caller.headers()),
        lambda data: tuple(from_json(ContractedPlan, p) for p in data["plans"]),
    )


async def users(caller: CompanyCaller) -> tuple[CompanyUser, ...] | Refusal:
    """Refusal: 403 company_admin_only."""
    return await answer(
        backend.get("/api/company/users", headers=caller.headers()),
        lambda data: tuple(from_json(CompanyUser, u) for u in data["users"]),
    )


async def change_contact(caller: CompanyCaller, changes: dict[str, str]) -> Done | Refusal:
    """`changes`: some of email, phone, address. Refusals: 400, 403 company_admin_only, 409 nothing_to_change."""
    request = backend.post("/api/company/contact-changes", {**changes, **caller.body()}, headers=caller.headers())
    return await answer(request, lambda data: from_json(Done, data))


async def invoices(caller: CompanyCaller, year: int | None = None) -> Invoices | Refusal:
    """Refusals: 400, 422 no_invoices_in_year."""
    params = {"year": str(year)} if year else None
    return await answer(
        backend.get("/api/company/invoices", params=params, headers=caller.headers()),
        lambda data: Invoices(
            year=int(data["year"]),
            years=tuple(int(y) for y in data.get("years") or []),
            invoices=tuple(from_json(Invoice, i) for i in data["invoices"]),
            summary=str(data.get("summary") or ""),
        ),
    )


async def invoice_slip(caller: CompanyCaller, document_number: str) -> InvoiceSlip | Refusal:
    """Refusals: 404 invoice_not_found, 409 invoice_already_paid (503 billing_unavailable raises)."""
    request = backend.post(
        f"/api/company/invoices/{path_segment(document_number)}/slips", caller.body(), headers=caller.headers()
    )
    return await answer(request, lambda data: from_json(InvoiceSlip, data))


async def protocols(caller: CompanyCaller) -> tuple[CompanyProtocol, ...] | Refusal:
    return await answer(
        backend.get("/api/company/protocols", headers=caller.headers()),
        lambda data: tuple(from_json(CompanyProtocol, p) for p in data["protocols"]),
    )


async def protocol(caller: CompanyCaller, number: str) -> CompanyProtocol | Refusal:
    """Refusal: 404 protocol_not_found."""
    return await answer(
        backend.get(f"/api/company/protocols/{path_segment(number)}", headers=caller.headers()),
        lambda data: from_json(CompanyProtocol, data),
    )

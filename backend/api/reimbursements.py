"""Reimbursements: request with protocol, status and history (the use cases are
backend.reimbursements's; the documents: reimbursement_documents.py).

    POST   /api/reimbursements                 JSON request                         -> 201 / 200 duplicate
    GET    /api/reimbursements[?beneficiary=card]                                   -> the visible requests

GETs carry the verification in the headers X-Verification and X-Conversation-Id; the POST of the
request carries {verification, conversation_id, channel} in its JSON body.

POST body {verification, conversation_id, channel, beneficiary?, provider_name, provider_document,
service_date, description, amount, document_ids}. 201 {protocol, status, status_label, answer_due_on,
answer_due_on_text, duplicate: false, summary, reimbursement}; 200 the same with duplicate: true for
a repeated request; 400 fields; 401; 403 not_in_family; 409 plan_cancelled; 422 documents_required /
documents_invalid.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from aiohttp import web

from backend.api.context import OPERATOR, SESSIONS
from backend.api.forms import Form, required
from backend.api.identity import verified_beneficiary, verified_from_headers
from backend.api.responses import json_response
from backend.clock import local_today
from backend.reimbursements import (
    MAX_PENDING_DOCUMENTS,
    ReimbursementClaim,
    reimbursements_of,
    request_reimbursement,
    summary_text,
)
from common.labels import date_text
from common.validators import (
    InvalidValue,
    normalize_amount,
    normalize_card,
    normalize_cpf_or_cnpj,
    normalize_service_date,
)

routes = web.RouteTableDef()

DESCRIPTION_MIN, DESCRIPTION_MAX = 3, 300
PROVIDER_NAME_MIN, PROVIDER_NAME_MAX = 2, 160
MAX_DOCUMENTS_PER_REQUEST = MAX_PENDING_DOCUMENTS


class ReimbursementForm(Form):
    def amount(self, name: str = "amount") -> Decimal | None:
        value = self.raw(name)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            try:
                return normalize_amount(value)
            except InvalidValue as exc:
                self.errors[name] = str(exc)
                return None
        return self.parsed(name, "o valor pago", normalize_amount)

    def bounded_text(self, name: str, label: str, minimum: int, maximum: int) -> str | None:
        value = self.text(name, label, max_length=maximum)
        if value is None:
            return None
        value = " ".join(value.split())
        if len(value) < minimum:
            self.errors[name] = f"Escreva {label} com pelo menos {minimum} letras."
            return None
        return value

    def document_ids(self, name: str = "document_ids") -> tuple[int, ...]:
        value = self.raw(name)
        if value is None:
            return ()
        if (
            not isinstance(value, list)
            or len(value) > MAX_DOCUMENTS_PER_REQUEST
            or not all(isinstance(item, int) and not isinstance(item, bool) for item in value)
        ):
            self.errors[name] = f"Envie a lista dos números dos documentos (até {MAX_DOCUMENTS_PER_REQUEST})."
            return ()
        return tuple(dict.fromkeys(value))

    def card_number(self) -> str | None:
        """The beneficiary the request is for (card number; None: the verified one)."""
        card = self.optional("beneficiary", max_length=40)
        if card is None:
            return None
        try:
            return normalize_card(card)
        except InvalidValue as exc:
            self.errors["beneficiary"] = str(exc)
            return None

    def claim(self) -> ReimbursementClaim | None:
        """The request's data (None when a field is wrong: the errors are recorded)."""
        provider_name = self.bounded_text(
            "provider_name", "o nome do profissional ou da clínica", PROVIDER_NAME_MIN, PROVIDER_NAME_MAX
        )
        provider_document = self.parsed("provider_document", "o CPF ou CNPJ de quem atendeu", normalize_cpf_or_cnpj)
        service_date = self.parsed(
            "service_date", "a data do atendimento", lambda value: normalize_service_date(value, today=local_today())
        )
        description = self.bounded_text(
            "description",
            "a descrição do procedimento (por exemplo: consulta com dermatologista)",
            DESCRIPTION_MIN,
            DESCRIPTION_MAX,
        )
        amount, document_ids = self.amount(), self.document_ids()
        if provider_name is None or provider_document is None or service_date is None:
            return None
        if description is None or amount is None:
            return None
        return ReimbursementClaim(provider_name, provider_document, service_date, description, amount, document_ids)


def _request_body(item: dict, duplicate: bool) -> dict:
    due = item["answer_due_on"]
    return {
        "protocol": item["protocol"],
        "status": item["status"],
        "status_label": item["status_label"],
        "answer_due_on": due,
        "answer_due_on_text": date_text(date.fromisoformat(due)) if due else None,
        "duplicate": duplicate,
        "summary": summary_text(item),
        "reimbursement": item,
    }


@routes.post("/api/reimbursements")
async def create_reimbursement(request: web.Request) -> web.Response:
    """See the module's docstring."""
    form = await ReimbursementForm.read(request)
    token = form.verification()
    conversation_id, channel = form.conversation_id(request), form.channel()
    card_number, claim = form.card_number(), form.claim()
    form.validate()
    async with request.app[SESSIONS]() as session:
        verified = await verified_beneficiary(request, session, token, conversation_id)
        item, duplicate = await request_reimbursement(
            session,
            verified,
            card_number,
            required(claim),
            conversation_id=conversation_id,
            channel=channel,
            ans_registration=request.app[OPERATOR].ans_registration,
        )
    return json_response(_request_body(item, duplicate), status=200 if duplicate else 201)


@routes.get("/api/reimbursements")
async def list_reimbursements(request: web.Request) -> web.Response:
    """{reimbursements: [...]} newest first: the verified beneficiary's and, for a holder, the
    dependents'; `?beneficiary=<card>` narrows to one of them (403 not_in_family otherwise)."""
    card_number = request.query.get("beneficiary") or None
    async with request.app[SESSIONS]() as session:
        verified = await verified_from_headers(request, session)
        return json_response({"reimbursements": await reimbursements_of(session, verified, card_number)})

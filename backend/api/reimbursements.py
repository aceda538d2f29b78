"""Reimbursements: request with protocol, status and history (the documents: reimbursement_documents.py).

    POST   /api/reimbursements                 JSON request                         -> 201 / 200 duplicate
    GET    /api/reimbursements[?beneficiary=card]                                   -> the visible requests
    GET    /api/reimbursements/{protocol}                                           -> one request

GETs carry the verification in the headers X-Verification and X-Conversation-Id; the POST of the
request carries {verification, conversation_id, channel} in its JSON body.
"""

from __future__ import annotations

from decimal import Decimal

from aiohttp import web

from backend.api.context import OPERATOR, SESSIONS
from backend.api.errors import ApiError
from backend.api.forms import Form, required
from backend.api.identity import verified_beneficiary, verified_from_headers
from backend.api.responses import json_response
from backend.clock import local_today
from backend.family import NotInFamily, member, visible_members
from backend.models import Beneficiary
from backend.reimbursements import (
    MAX_PENDING_DOCUMENTS,
    ReimbursementClaim,
    ReimbursementRefused,
    documents_of,
    submit,
    summary_text,
    view,
    visible_requests,
)
from common.validators import (
    InvalidValue,
    normalize_amount,
    normalize_card,
    normalize_cpf_or_cnpj,
    normalize_service_date,
)

routes = web.RouteTableDef()

UPLOAD_AREA = "reimbursements"
CHUNK_BYTES = 64 * 1024
SMALL_FIELD_BYTES = 1024
MULTIPART_OVERHEAD = 64 * 1024
DESCRIPTION_MIN, DESCRIPTION_MAX = 3, 300
PROVIDER_NAME_MIN, PROVIDER_NAME_MAX = 2, 160
MAX_DOCUMENTS_PER_REQUEST = MAX_PENDING_DOCUMENTS


def plan_cancelled_error(request: web.Request) -> ApiError:
    phone = request.app[OPERATOR].phones["central_24h"]
    return ApiError(
        409,
        "plan_cancelled",
        "O plano está cancelado, então não é possível pedir reembolso por aqui. "
        f"Se o atendimento foi antes do cancelamento, ligue {phone} (24 horas).",
    )


# --- requests -----------------------------------------------------------------------------------


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


@routes.post("/api/reimbursements")
async def create_reimbursement(request: web.Request) -> web.Response:
    """Body {verification, conversation_id, channel, beneficiary?, provider_name, provider_document,
    service_date, description, amount, document_ids}.

    201 {protocol, status, status_label, answer_due_on, answer_due_on_text, duplicate: false, summary,
    reimbursement}; 200 the same with duplicate: true for a repeated request; 400 fields; 401;
    403 not_in_family; 409 plan_cancelled; 422 documents_required / documents_invalid.
    """
    form = await ReimbursementForm.read(request)
    token = form.verification()
    conversation_id = form.conversation_id(request)
    channel = form.channel()
    card = form.optional("beneficiary", max_length=40)
    if card is not None:
        try:
            card = normalize_card(card)
        except InvalidValue as exc:
            form.errors["beneficiary"] = str(exc)
    provider_name = form.bounded_text(
        "provider_name", "o nome do profissional ou da clínica", PROVIDER_NAME_MIN, PROVIDER_NAME_MAX
    )
    provider_document = form.parsed("provider_document", "o CPF ou CNPJ de quem atendeu", normalize_cpf_or_cnpj)
    service_date = form.parsed(
        "service_date", "a data do atendimento", lambda value: normalize_service_date(value, today=local_today())
    )
    description = form.bounded_text(
        "description",
        "a descrição do procedimento (por exemplo: consulta com dermatologista)",
        DESCRIPTION_MIN,
        DESCRIPTION_MAX,
    )
    amount = form.amount()
    document_ids = form.document_ids()
    form.validate()

    claim = ReimbursementClaim(
        provider_name=required(provider_name),
        provider_document=required(provider_document),
        service_date=required(service_date),
        description=required(description),
        amount=required(amount),
        document_ids=document_ids,
    )
    async with request.app[SESSIONS]() as session:
        verified = await verified_beneficiary(request, session, token, conversation_id)
        try:
            beneficiary = await member(session, verified, card)
        except NotInFamily:
            raise ApiError(
                403,
                "not_in_family",
                "Só é possível pedir reembolso para você mesmo ou, se você for titular, para os seus dependentes.",
            ) from None
        try:
            reimbursement, duplicate = await submit(
                session,
                verified=verified,
                beneficiary=beneficiary,
                claim=claim,
                conversation_id=conversation_id,
                channel=channel,
                ans_registration=request.app[OPERATOR].ans_registration,
            )
        except ReimbursementRefused as exc:
            raise _refusal(request, exc) from None
        documents = (await documents_of(session, [reimbursement.id])).get(reimbursement.id, [])
        item = view(reimbursement, beneficiary, documents)
    return json_response(
        {
            "protocol": item["protocol"],
            "status": item["status"],
            "status_label": item["status_label"],
            "answer_due_on": item["answer_due_on"],
            "answer_due_on_text": _date_text(item["answer_due_on"]),
            "duplicate": duplicate,
            "summary": summary_text(item),
            "reimbursement": item,
        },
        status=200 if duplicate else 201,
    )


def _date_text(iso: str | None) -> str | None:
    return f"{iso[8:10]}/{iso[5:7]}/{iso[:4]}" if iso else None


def _refusal(request: web.Request, exc: ReimbursementRefused) -> ApiError:
    if exc.code == "plan_cancelled":
        return plan_cancelled_error(request)
    if exc.code == "documents_required":
        return ApiError(
            422,
            "documents_required",
            "Falta o recibo ou a nota fiscal do atendimento. Envie uma foto ou um PDF do recibo "
            "ou da nota fiscal para concluir o pedido.",
        )
    return ApiError(
        422,
        "documents_invalid",
        "Não encontrei alguns dos documentos enviados nesta conversa. Envie esses documentos de novo.",
        **exc.extra,
    )


@routes.get("/api/reimbursements")
async def list_reimbursements(request: web.Request) -> web.Response:
    """{reimbursements: [...]} newest first: the verified beneficiary's and, for a holder, the
    dependents'; `?beneficiary=<card>` narrows to one of them (403 not_in_family otherwise)."""
    card = request.query.get("beneficiary") or None
    async with request.app[SESSIONS]() as session:
        verified = await verified_from_headers(request, session)
        members = await visible_members(session, verified)
        if card is not None:
            try:
                members = [await member(session, verified, card)]
            except NotInFamily:
                raise ApiError(
                    403, "not_in_family", "Você só pode ver os reembolsos seus e dos seus dependentes."
                ) from None
        return json_response({"reimbursements": await _views(session, members)})


@routes.get("/api/reimbursements/{protocol}")
async def get_reimbursement(request: web.Request) -> web.Response:
    """{reimbursement: {...}}; 404 reimbursement_not_found (also for another family's protocol)."""
    number = request.match_info["protocol"]
    async with request.app[SESSIONS]() as session:
        verified = await verified_from_headers(request, session)
        members = await visible_members(session, verified)
        items = await _views(session, members, protocol=number)
    if not items:
        raise ApiError(
            404,
            "reimbursement_not_found",
            "Não encontrei um pedido de reembolso seu com esse protocolo. Confira os 20 números.",
        )
    return json_response({"reimbursement": items[0]})


async def _views(session, members: list[Beneficiary], protocol: str | None = None) -> list[dict]:
    by_id = {beneficiary.id: beneficiary for beneficiary in members}
    requests = await visible_requests(session, members, protocol)
    documents = await documents_of(session, [item.id for item in requests])
    return [view(item, by_id[item.beneficiary_id], documents.get(item.id, [])) for item in requests]

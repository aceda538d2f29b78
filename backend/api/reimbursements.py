"""Reimbursements: documents upload, request with protocol, status and history.

    POST   /api/reimbursement-documents        multipart/form-data: file (+ kind)   -> 201 document
    GET    /api/reimbursement-documents        documents of this conversation not yet submitted
    DELETE /api/reimbursement-documents/{id}   drops one of those                   -> 204
    POST   /api/reimbursements                 JSON request                         -> 201 / 200 duplicate
    GET    /api/reimbursements[?beneficiary=card]                                   -> the visible requests
    GET    /api/reimbursements/{protocol}                                           -> one request

Uploads and GETs carry the verification in the headers X-Verification and X-Conversation-Id; the
POST of the request carries {verification, conversation_id, channel} in its JSON body.
"""

from __future__ import annotations

from decimal import Decimal

from aiohttp import BodyPartReader, web
from sqlalchemy import select

from backend.api.context import OPERATOR, SESSIONS, SETTINGS
from backend.api.errors import ApiError, invalid_request
from backend.api.forms import Form, required
from backend.api.identity import verified_beneficiary, verified_from_headers
from backend.api.responses import json_response
from backend.clock import local_today
from backend.family import NotInFamily, member, visible_members
from backend.models import ACTIVE, Beneficiary, ReimbursementDocument
from backend.reimbursements import (
    DOCUMENT_KINDS,
    MAX_PENDING_DOCUMENTS,
    ReimbursementClaim,
    ReimbursementRefused,
    count_pending_documents,
    document_view,
    documents_of,
    pending_documents,
    submit,
    summary_text,
    view,
    visible_requests,
)
from backend.uploads import MAX_UPLOAD_BYTES, UploadRefused, remove_stored, safe_filename, store_stream
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


def _plan_cancelled(request: web.Request) -> ApiError:
    phone = request.app[OPERATOR].phones["central_24h"]
    return ApiError(
        409,
        "plan_cancelled",
        "O plano está cancelado, então não é possível pedir reembolso por aqui. "
        f"Se o atendimento foi antes do cancelamento, ligue {phone} (24 horas).",
    )


_UPLOAD_REFUSALS = {
    "file_too_large": (
        413,
        (
            "O arquivo passa do limite de 10 MB. Envie uma foto ou um PDF menor "
            "(se precisar, mande uma foto de cada página)."
        ),
    ),
    "unsupported_type": (
        415,
        "Só consigo receber fotos (JPG ou PNG) e arquivos PDF. Envie o documento em um desses formatos.",
    ),
    "empty_file": (400, "O arquivo chegou vazio. Envie de novo, por favor."),
}


def _too_many_documents() -> ApiError:
    return ApiError(
        409,
        "too_many_documents",
        f"Você já enviou {MAX_PENDING_DOCUMENTS} documentos nesta conversa, que é o máximo por pedido. "
        "Conclua o pedido de reembolso ou remova algum documento.",
        limit=MAX_PENDING_DOCUMENTS,
    )


# --- documents ----------------------------------------------------------------------------------


async def _verified_uploader(request: web.Request) -> tuple[Beneficiary, str]:
    conversation_id = request.headers.get("X-Conversation-Id", "")
    async with request.app[SESSIONS]() as session:
        beneficiary = await verified_from_headers(request, session)
        if beneficiary.status != ACTIVE:
            raise _plan_cancelled(request)
        if await count_pending_documents(session, conversation_id) >= MAX_PENDING_DOCUMENTS:
            raise _too_many_documents()
    return beneficiary, conversation_id


async def _chunks(part: BodyPartReader):
    while True:
        chunk = await part.read_chunk(CHUNK_BYTES)
        if not chunk:
            return
        yield chunk


async def _small_field(part: BodyPartReader) -> str | None:
    data = bytearray()
    async for chunk in _chunks(part):
        data += chunk
        if len(data) > SMALL_FIELD_BYTES:
            return None
    try:
        return data.decode("utf-8").strip()
    except UnicodeDecodeError:
        return None


@routes.post("/api/reimbursement-documents")
async def upload_document(request: web.Request) -> web.Response:
    """multipart/form-data with the file in the field `file` (JPEG, PNG or PDF, at most 10 MB) and
    optionally `kind` (recibo | nota_fiscal | relatorio | outro; default outro).

    201 {id, kind, kind_label, filename, size, content_type, pending_count}; 400 no file / bad kind /
    empty file; 401; 409 plan_cancelled / too_many_documents; 413 file_too_large; 415 unsupported_type.
    """
    if request.content_length is not None and request.content_length > MAX_UPLOAD_BYTES + MULTIPART_OVERHEAD:
        raise ApiError(413, "file_too_large", _UPLOAD_REFUSALS["file_too_large"][1], max_bytes=MAX_UPLOAD_BYTES)
    if not request.content_type.startswith("multipart/"):
        raise invalid_request({"file": "Envie o arquivo como multipart/form-data, no campo 'file'."})
    beneficiary, conversation_id = await _verified_uploader(request)

    var_dir = request.app[SETTINGS].var_dir
    stored = None
    filename = None
    kind = "outro"
    errors: dict[str, str] = {}
    try:
        reader = await request.multipart()
        # next() rather than `async for`: aiohttp types the iteration as BodyPartReader only, while a
        # part may be a nested multipart (MultipartReader), which is refused here
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                errors["file"] = "Envie um arquivo por vez, no campo 'file'."
                break
            if part.name == "file":
                if stored is not None:
                    errors["file"] = "Envie um arquivo por vez."
                    break
                stored = await store_stream(_chunks(part), var_dir, UPLOAD_AREA)
                filename = part.filename
            elif part.name == "kind":
                kind = await _small_field(part) or ""
            else:
                await _small_field(part)
    except UploadRefused as exc:
        status, message = _UPLOAD_REFUSALS[exc.code]
        raise ApiError(status, exc.code, message, max_bytes=MAX_UPLOAD_BYTES) from None
    except ValueError:  # malformed multipart
        errors.setdefault("file", "Não consegui ler o arquivo enviado. Envie de novo.")
    if stored is None and "file" not in errors:
        errors["file"] = "Envie o arquivo (foto ou PDF) no campo 'file'."
    if kind not in DOCUMENT_KINDS:
        errors["kind"] = "Tipo de documento inválido: use recibo, nota_fiscal, relatorio ou outro."
    if errors or stored is None:  # no file: errors["file"] says so
        if stored is not None:
            await remove_stored(var_dir, stored.relative_path)
        raise invalid_request(errors)

    async with request.app[SESSIONS]() as session:
        # Lock like a request submission does, so two parallel uploads cannot pass the limit.
        await session.execute(select(Beneficiary.id).where(Beneficiary.id == beneficiary.id).with_for_update())
        pending = await count_pending_documents(session, conversation_id)
        if pending >= MAX_PENDING_DOCUMENTS:
            await remove_stored(var_dir, stored.relative_path)
            raise _too_many_documents()
        document = ReimbursementDocument(
            beneficiary_id=beneficiary.id,
            conversation_id=conversation_id,
            kind=kind,
            filename=safe_filename(filename, stored.extension),
            content_type=stored.content_type,
            size=stored.size,
            sha256=stored.sha256,
            storage_path=stored.relative_path,
        )
        session.add(document)
        await session.commit()
    return json_response({**document_view(document), "pending_count": pending + 1}, status=201)


@routes.get("/api/reimbursement-documents")
async def list_pending_documents(request: web.Request) -> web.Response:
    """The documents sent in this conversation and not yet part of a request: {documents: [...]}."""
    async with request.app[SESSIONS]() as session:
        beneficiary = await verified_from_headers(request, session)
        documents = await pending_documents(session, request.headers["X-Conversation-Id"], beneficiary.id)
    return json_response(
        {"documents": [document_view(document) for document in documents], "limit": MAX_PENDING_DOCUMENTS}
    )


@routes.delete("/api/reimbursement-documents/{id}")
async def delete_pending_document(request: web.Request) -> web.Response:
    """204; 404 document_not_found (unknown, of another conversation, or already submitted)."""
    document_id = request.match_info["id"]
    async with request.app[SESSIONS]() as session:
        beneficiary = await verified_from_headers(request, session)
        documents = await pending_documents(session, request.headers["X-Conversation-Id"], beneficiary.id)
        document = next((item for item in documents if str(item.id) == document_id), None)
        if document is None:
            raise ApiError(404, "document_not_found", "Não encontrei esse documento entre os enviados nesta conversa.")
        await session.delete(document)
        await session.commit()
    await remove_stored(request.app[SETTINGS].var_dir, document.storage_path)
    return web.Response(status=204)


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
        return _plan_cancelled(request)
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

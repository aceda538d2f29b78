"""The company's beneficiary movements, one by one and by file (backend.company.movements,
backend.company.movement_batch), for any active user of the company, with the same credential as
backend.api.company (`X-Company-Session`, or `X-Company-Verification` + `X-Conversation-Id` +
`X-Channel`; 401 company_unauthorized otherwise). Another company's beneficiary or file is not found.

GET  /api/company/movements/options  200 {plans, start_dates: [{date, label, retroactive}],
        retroactive_warning, transfer_start_date, exclusion_reasons: [{code, label, dependents_only}],
        exclusion_dates: {first, last (+ _text)}, kinships: [{code, label}], dependent_cpf_from_age,
        reactivation_months, group_companies: [{code, name}]}
POST /api/company/movements/inclusions     body {name, cpf, birth_date, mother_name, plan, kinship
        (holder by default; spouse | son | daughter or in pt-BR), holder (a dependent's holder: CPF or
        card), start_date?}
POST /api/company/movements/exclusions     body {beneficiary (CPF or card), reason, date?}
POST /api/company/movements/changes        body {beneficiary, name?, mother_name?, birth_date?}
POST /api/company/movements/plan-changes   body {beneficiary, plan, start_date?}
POST /api/company/movements/reactivations  body {beneficiary, start_date?, plan?, name?, mother_name?,
        birth_date?}
POST /api/company/movements/transfers      body {beneficiary, target_company (code), plan?}
        Every movement body also takes {channel, conversation_id}; dates as dd/mm/aaaa or aaaa-mm-dd.
        -> 201 {kind, kind_label, protocol, message, beneficiary: {name, card_number(_text), kinship(_label),
        plan, status[, company_code]}, dependents: [...], effective_date(_text), retroactive, warning};
        400 invalid_request {fields}; 404 beneficiary_not_found; 409 cpf_already_active,
        cpf_inactive_here, cpf_in_use, dependent_already_included, beneficiary_inactive,
        beneficiary_active, holder_inactive, same_plan, nothing_to_change, movement_conflict;
        422 holder_not_found, plan_not_contracted, dependent_plan_differs, start_date_not_allowed
        {allowed_dates}, age_below_minimum, age_above_maximum, exclusion_date_not_allowed,
        reason_not_for_holder, reactivation_period_over, reactivation_before_exit,
        dependent_follows_holder, transfer_outside_group, plan_not_contracted_by_target.
        A refusal about one field says which: {"error": {code, message, field}}.
GET  /api/company/movements/template?format=csv|xlsx  200 {format, filename, url, expires_in_minutes}:
        a signed link (GET /documentos/{token}, kind "modelo-movimentacao") to the template
POST /api/company/movements/batches[?filename=<name>]  body: the CSV or XLSX file itself (any
        Content-Type but application/json; the content decides), or multipart/form-data with the
        file in its first part, or JSON {"file_id": "<inbound file id>"} (Content-Type
        application/json) for a file sent through the chat; headers X-Channel / X-Conversation-Id
        name the conversation of the protocol (and, with file_id, the conversation the file must
        have been sent in).
        -> 201 {protocol, status "processed", file_format, filename, total_lines, applied_lines,
        refused_lines, counts {kind: lines}, errors: [{line, column, code, message}], summary,
        message, example_skipped, created_at}; 400 empty_file, unreadable_file,
        batch_columns_missing, invalid_request (no file_id); 404 inbound_file_not_found (file_id
        unknown, of another conversation or channel, expired or already used); 413 file_too_large
        (2 MB), too_many_lines (1000); 415 unsupported_type, old_excel_format, not_a_spreadsheet (the
        file_id of a photo or PDF, left unused); 422 no_movement_lines
GET  /api/company/movements/batches/{number}  200 the same without message; 404 protocol_not_found

A file sent through a chat channel is referred to by its id: the channel handed it to POST
/api/inbound-files (the upload policy of common/uploads.py takes CSV and XLSX as spreadsheets,
besides photos and PDFs) and passed the assistant only the id; the action sends {"file_id"} here
with the conversation's headers. The inbound file is claimed (backend.inbound_files.claim: it serves
once, its bytes are deleted once read) only when the file is processed; a refusal leaves it where it
was (backend.company.movement_batch.process_inbound_batch).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import BodyPartReader, web
from sqlalchemy.ext.asyncio import AsyncSession

from backend.api.company_auth import company_caller
from backend.api.context import OPERATOR, SESSIONS, SETTINGS
from backend.api.downloads import File, renderer
from backend.api.errors import invalid_request
from backend.api.forms import DEFAULT_CHANNEL, Form, required
from backend.api.responses import json_response
from backend.clock import local_today
from backend.company.auth import CompanyCaller
from backend.company.movement_batch import (
    CSV,
    MAX_BYTES,
    XLSX,
    batch_status,
    movement_template,
    process_batch,
    process_inbound_batch,
    too_large,
)
from backend.company.movements import (
    DATA_CHANGE,
    EXCLUSION,
    INCLUSION,
    PLAN_CHANGE,
    REACTIVATION,
    TRANSFER,
    MovementContext,
    make_movement,
    movement_options,
)
from backend.signed_links import DEFAULT_TTL, sign, url

TEMPLATE_KIND = "modelo-movimentacao"
CHUNK_BYTES = 64 * 1024
FILENAME_MAX_LENGTH = 200
FILE_ID_MAX_LENGTH = 64
NOT_FIELDS = {"channel", "conversation_id"}
MAX_CONVERSATION_ID_LENGTH = 128
_CHANNEL_RE = re.compile(r"^[a-z][a-z0-9_]{0,19}$")  # as backend.api.forms

routes = web.RouteTableDef()


class MovementForm(Form):
    def fields(self) -> dict[str, Any]:
        """The movement's fields as sent (the service reads and checks each one)."""
        return {name: value for name, value in self._body.items() if name not in NOT_FIELDS}


async def _move(request: web.Request, kind: str) -> web.Response:
    """Reads the body, checks the company credential, makes the movement."""
    form = await MovementForm.read(request)
    channel, conversation_id = form.channel(), form.optional("conversation_id")
    async with request.app[SESSIONS]() as session:
        caller = await company_caller(request, session)
        form.validate()
        ctx = MovementContext(request.app[OPERATOR], channel, conversation_id, local_today())
        result = await make_movement(session, caller, kind, form.fields(), ctx)
    return json_response(result.json(), status=201)


@routes.get("/api/company/movements/options")
async def options(request: web.Request) -> web.Response:
    """See the module's docstring."""
    async with request.app[SESSIONS]() as session:
        found = await movement_options(session, await company_caller(request, session), local_today())
    return json_response(found)


@routes.post("/api/company/movements/inclusions")
async def inclusion(request: web.Request) -> web.Response:
    """See the module's docstring."""
    return await _move(request, INCLUSION)


@routes.post("/api/company/movements/exclusions")
async def exclusion(request: web.Request) -> web.Response:
    """See the module's docstring."""
    return await _move(request, EXCLUSION)


@routes.post("/api/company/movements/changes")
async def data_change(request: web.Request) -> web.Response:
    """See the module's docstring."""
    return await _move(request, DATA_CHANGE)


@routes.post("/api/company/movements/plan-changes")
async def plan_change(request: web.Request) -> web.Response:
    """See the module's docstring."""
    return await _move(request, PLAN_CHANGE)


@routes.post("/api/company/movements/reactivations")
async def reactivation(request: web.Request) -> web.Response:
    """See the module's docstring."""
    return await _move(request, REACTIVATION)


@routes.post("/api/company/movements/transfers")
async def transfer(request: web.Request) -> web.Response:
    """See the module's docstring."""
    return await _move(request, TRANSFER)


@routes.get("/api/company/movements/template")
async def template(request: web.Request) -> web.Response:
    """See the module's docstring."""
    async with request.app[SESSIONS]() as session:
        await company_caller(request, session)
    file_format = request.query.get("format", XLSX).strip().lower()
    if file_format not in (CSV, XLSX):
        raise invalid_request({"format": "Escolha o formato do modelo: csv ou xlsx."})
    settings = request.app[SETTINGS]
    link = url(settings.public_backend_url, sign(settings.link_signing_secret, TEMPLATE_KIND, {"format": file_format}))
    minutes = int(DEFAULT_TTL.total_seconds() // 60)
    filename = movement_template(file_format)[2]
    return json_response({"format": file_format, "filename": filename, "url": link, "expires_in_minutes": minutes})


@renderer(TEMPLATE_KIND)
async def render_template(request: web.Request, session: AsyncSession, params: dict) -> File:
    content, content_type, filename = movement_template(XLSX if params.get("format") == XLSX else CSV)
    return File(content=content, content_type=content_type, filename=filename)


async def _limited(chunks: AsyncIterator[bytes]) -> bytes:
    """The bytes of a stream, refused (file_too_large) as soon as they pass MAX_BYTES."""
    content = bytearray()
    async for chunk in chunks:
        content.extend(chunk)
        if len(content) > MAX_BYTES:
            raise too_large()
    return bytes(content)


async def read_upload(request: web.Request) -> tuple[bytes, str | None]:
    """(content, file name) of the file sent: the raw body, or the first part of a multipart body.
    The body is streamed (the app's 64 KB body limit is for JSON) and cut at MAX_BYTES."""
    if request.content_length is not None and request.content_length > MAX_BYTES + CHUNK_BYTES:
        raise too_large()
    filename = request.query.get("filename") or None
    if request.content_type.startswith("multipart/"):
        part = await (await request.multipart()).next()
        if part is None or not isinstance(part, BodyPartReader):
            return b"", filename
        chunks = iter_part(part)
        filename = part.filename or filename
    else:
        chunks = request.content.iter_chunked(CHUNK_BYTES)
    if filename is not None and len(filename) > FILENAME_MAX_LENGTH:
        raise invalid_request({"filename": f"Use um nome de arquivo de até {FILENAME_MAX_LENGTH} caracteres."})
    return await _limited(chunks), filename


def _conversation(request: web.Request) -> tuple[str, str | None]:
    """The batch protocol's channel and conversation (X-Channel, X-Conversation-Id headers)."""
    channel = request.headers.get("X-Channel") or DEFAULT_CHANNEL
    conversation_id = request.headers.get("X-Conversation-Id") or None
    errors = {}
    if not _CHANNEL_RE.match(channel):
        errors["X-Channel"] = "Canal inválido: use letras minúsculas, como 'rest' ou 'whatsapp'."
    if conversation_id is not None and len(conversation_id) > MAX_CONVERSATION_ID_LENGTH:
        errors["X-Conversation-Id"] = f"Use um id de conversa de até {MAX_CONVERSATION_ID_LENGTH} caracteres."
    if errors:
        raise invalid_request(errors)
    return channel, conversation_id


async def iter_part(part: BodyPartReader) -> AsyncIterator[bytes]:
    while chunk := await part.read_chunk(CHUNK_BYTES):
        yield chunk


async def read_file_id(request: web.Request) -> str:
    """The JSON body's `file_id` (the id POST /api/inbound-files gave the channel); 400 otherwise."""
    form = await Form.read(request)
    file_id = form.text("file_id", "o arquivo enviado na conversa (file_id)", max_length=FILE_ID_MAX_LENGTH)
    form.validate()
    return required(file_id)


async def _process(request: web.Request, session: AsyncSession, caller: CompanyCaller) -> dict:
    """The request's file processed for the caller: a file sent through the chat (JSON {"file_id"}),
    or the file itself in the body."""
    channel, conversation_id = _conversation(request)
    where: dict[str, Any] = {
        "operator": request.app[OPERATOR],
        "channel": channel,
        "conversation_id": conversation_id,
        "today": local_today(),
    }
    if request.content_type == "application/json":
        return await process_inbound_batch(session, caller, await read_file_id(request), **where)
    content, filename = await read_upload(request)
    return await process_batch(session, caller, content, filename=filename, **where)


@routes.post("/api/company/movements/batches")
async def batch(request: web.Request) -> web.Response:
    """See the module's docstring."""
    async with request.app[SESSIONS]() as session:
        caller = await company_caller(request, session)
        await session.commit()  # no transaction open while the file arrives
        body = await _process(request, session, caller)
    return json_response(body, status=201)


@routes.get("/api/company/movements/batches/{number}")
async def batch_lookup(request: web.Request) -> web.Response:
    """See the module's docstring."""
    async with request.app[SESSIONS]() as session:
        found = await batch_status(session, await company_caller(request, session), request.match_info["number"])
    return json_response(found)

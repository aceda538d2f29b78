"""Card reissue requests (solicitar_carteirinha, status_carteirinha).

POST /api/card-requests     body {verification, conversation_id, channel, beneficiary?, reason,
                                  police_report?, note?}
GET  /api/card-requests     headers X-Verification, X-Conversation-Id
GET  /api/card-requests/reasons   (no identity) the reasons and what users call them
"""

from __future__ import annotations

import re

from aiohttp import web

from backend.api.context import OPERATOR, SESSIONS
from backend.api.errors import ApiError, invalid_request
from backend.api.forms import Form, required
from backend.api.identity import verified_beneficiary, verified_from_headers
from backend.api.plan import br_date, not_in_family
from backend.api.responses import json_response
from backend.card_requests import (
    EXPECTED_BUSINESS_DAYS,
    IN_PROGRESS,
    NOTE_MAX,
    POLICE_REPORT_MAX,
    POLICE_REPORT_MIN,
    STATUS_LABELS,
    CardRequestRefused,
    NewCardRequest,
    expected_by,
    request_card,
    requests_of,
)
from backend.clock import iso_utc
from backend.family import NotInFamily, member, visible_members
from backend.models import Beneficiary, CardRequest
from common.card_reasons import (
    CARD_REISSUE_REASONS,
    REASON_SYNONYMS,
    ROBBERY,
    ROBBERY_WITH_REPORT,
    ROBBERY_WITHOUT_REPORT,
    normalize_reason,
)
from common.text import fold
from common.validators import InvalidValue, normalize_card

routes = web.RouteTableDef()
_POLICE_REPORT_RE = re.compile(r"^[A-Za-z0-9./\- ]+$")
_MYSELF = {
    "eu",
    "eu mesmo",
    "eu mesma",
    "mim",
    "para mim",
    "pra mim",
    "minha",
    "a minha",
    "meu",
    "titular",
    "o titular",
    "a titular",
}
REASONS_TEXT = "Danificação, Extravio, Renovação, Roubo C/ B.O ou Roubo S/ B.O"


def _member_brief(person: Beneficiary) -> dict:
    return {
        "name": person.name,
        "card_number": person.card_number,
        "role": "titular" if person.holder_id is None else "dependente",
    }


def _request_body(request: CardRequest, person: Beneficiary) -> dict:
    due = expected_by(request)
    return {
        "protocol": request.protocol_number,
        "beneficiary": _member_brief(person),
        "reason": request.reason,
        "status": request.status,
        "status_label": STATUS_LABELS.get(request.status, request.status),
        "in_progress": request.status in IN_PROGRESS,
        "requested_at": iso_utc(request.requested_at),
        "requested_on": request.requested_at.date().isoformat(),
        "expected_by": due.isoformat() if due else None,
        "note": request.note,
    }


async def _pick_member(session, verified: Beneficiary, said: str | None) -> Beneficiary:
    """By card number (NotInFamily -> 403) or by name among the visible members (400 otherwise)."""
    if not said or fold(said) in _MYSELF:
        return verified
    if re.fullmatch(r"[\d\s.\-/]+", said):
        try:
            card = normalize_card(said)
        except InvalidValue as exc:
            raise invalid_request({"beneficiary": str(exc)}) from None
        try:
            return await member(session, verified, card)
        except NotInFamily:
            raise not_in_family() from None
    members = await visible_members(session, verified)
    wanted = fold(said)
    found = [m for m in members if fold(m.name) == wanted or fold(m.name).startswith(wanted + " ")]
    if len(found) == 1:
        return found[0]
    names = ", ".join(m.name for m in members)
    if found:
        message = f"Encontrei mais de uma pessoa com esse nome. Para quem é a carteirinha? {names}."
    else:
        message = f'Não encontrei "{said}" no seu grupo familiar. Para quem é a carteirinha? {names}.'
    raise ApiError(
        400, "invalid_request", message, fields={"beneficiary": message}, members=[_member_brief(m) for m in members]
    )


def _read_reason(form: Form) -> tuple[str | None, str | None]:
    """(reason, police report), recording field errors in the form."""
    police_report = form.optional("police_report", max_length=200)
    said = form.text("reason", f"o motivo: {REASONS_TEXT}", max_length=120)
    reason = normalize_reason(said, police_report=police_report) if said else None
    if said and reason is None:
        form.errors["reason"] = f"Não entendi o motivo. Escolha um destes: {REASONS_TEXT}."
    if reason == ROBBERY_WITH_REPORT:
        report = " ".join((police_report or "").split())
        if not report:
            form.errors["police_report"] = "Para roubo com B.O., informe o número do boletim de ocorrência."
        elif not POLICE_REPORT_MIN <= len(report) <= POLICE_REPORT_MAX or not _POLICE_REPORT_RE.match(report):
            form.errors["police_report"] = (
                f"O número do B.O. deve ter de {POLICE_REPORT_MIN} a {POLICE_REPORT_MAX} "
                "caracteres, só com letras, números, ponto, barra ou hífen."
            )
        return reason, report or None
    return reason, None


@routes.post("/api/card-requests")
async def create_card_request(request: web.Request) -> web.Response:
    """201 {protocol, beneficiary{name, card_number, role}, reason, status, status_label, requested_at,
    expected_days, expected_by, message}; 400 invalid_request (fields: reason, police_report, note,
    beneficiary), 400 reason_ambiguous (robbery, B.O. not said: options); 401 verification_invalid;
    403 not_in_family; 409 plan_cancelled | already_requested (protocol, status_label and `request`, the
    request in progress as GET lists it)."""
    form = await Form.read(request)
    token = form.verification()
    conversation_id = form.conversation_id(request)
    channel = form.channel()
    said_member = form.optional("beneficiary", max_length=160)
    reason, police_report = _read_reason(form)
    note = form.optional("note", max_length=NOTE_MAX)
    form.validate()
    reason = required(reason)
    if reason == ROBBERY:
        question = "Você registrou boletim de ocorrência (B.O.) do roubo? Responda com B.O. ou sem B.O."
        raise ApiError(
            400,
            "reason_ambiguous",
            question,
            fields={"reason": question},
            options=[ROBBERY_WITH_REPORT, ROBBERY_WITHOUT_REPORT],
        )

    operator = request.app[OPERATOR]
    phone = operator.phones["central_24h"]
    async with request.app[SESSIONS]() as session:
        verified = await verified_beneficiary(request, session, token, conversation_id)
        person = await _pick_member(session, verified, said_member)
        try:
            created = await request_card(
                session,
                verified,
                person,
                NewCardRequest(reason=reason, police_report=police_report, note=note),
                ans_registration=operator.ans_registration,
                channel=channel,
                conversation_id=conversation_id,
            )
        except CardRequestRefused as exc:
            if exc.code == "plan_cancelled":
                raise ApiError(
                    409,
                    "plan_cancelled",
                    f"O plano de {person.name.split()[0]} está cancelado, então não é possível pedir "
                    f"uma nova carteirinha. Para mais informações, ligue {phone}.",
                ) from None
            if exc.existing is None:  # only already_requested carries the request in progress
                raise
            existing = _request_body(exc.existing, person)
            raise ApiError(
                409,
                "already_requested",
                f"Já existe um pedido de carteirinha para {person.name} em andamento: protocolo "
                f"{existing['protocol']}, {existing['status_label']}, pedido em "
                f"{br_date(exc.existing.requested_at.date())}. Não é preciso pedir de novo.",
                protocol=existing["protocol"],
                status_label=existing["status_label"],
                request=existing,
            ) from None
        body = _request_body(created, person)
    due = expected_by(created)  # a request just made is in progress: it has a date
    body.update(
        expected_days=EXPECTED_BUSINESS_DAYS,
        message=(
            f"Pronto! Pedi uma nova carteirinha para {person.name} (motivo: {reason}). "
            f"Protocolo: {body['protocol']}. A carteirinha fica pronta em até {EXPECTED_BUSINESS_DAYS} "
            f"dias úteis{f' (até {br_date(due)})' if due else ''}. Enquanto isso, use a carteirinha virtual."
        ),
    )
    return json_response(body, status=201)


@routes.get("/api/card-requests")
async def list_card_requests(request: web.Request) -> web.Response:
    """200 {requests: [{protocol, beneficiary, reason, status, status_label, in_progress, requested_at,
    requested_on, expected_by, note}] newest first, members: [{name, card_number, role}]}: the bot words it."""
    async with request.app[SESSIONS]() as session:
        verified = await verified_from_headers(request, session)
        members = await visible_members(session, verified)
        by_id = {m.id: m for m in members}
        items = await requests_of(session, members)
        found = [_request_body(item, by_id[item.beneficiary_id]) for item in items]
    return json_response({"requests": found, "members": [_member_brief(m) for m in members]})


@routes.get("/api/card-requests/reasons")
async def list_reasons(request: web.Request) -> web.Response:
    """200 {reasons: [{name, synonyms, needs_police_report}], expected_days}: for the bot's buttons/NLU."""
    return json_response(
        {
            "reasons": [
                {
                    "name": name,
                    "synonyms": list(REASON_SYNONYMS.get(name, ())),
                    "needs_police_report": name == ROBBERY_WITH_REPORT,
                }
                for name in CARD_REISSUE_REASONS
            ],
            "expected_days": EXPECTED_BUSINESS_DAYS,
        }
    )

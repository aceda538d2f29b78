"""Card reissue requests (solicitar_carteirinha, status_carteirinha); the use cases are
backend.card_requests's, the reasons as people say them common.card_reasons's (the bot uses them too).

POST /api/card-requests     body {verification, conversation_id, channel, beneficiary?, reason,
                                  police_report?, note?}
    201 {protocol, beneficiary{name, card_number, role (holder|dependent), role_label}, reason, status,
    status_label, requested_at, expected_days, expected_by, message}; 400 invalid_request (fields:
    reason, police_report, note, beneficiary), 400 reason_ambiguous (robbery, B.O. not said: options);
    401 verification_invalid; 403 not_in_family; 409 plan_cancelled | already_requested (protocol,
    status_label and `request`, the request in progress as GET lists it).
GET  /api/card-requests     headers X-Verification, X-Conversation-Id
    200 {requests: [{protocol, beneficiary, reason, status, status_label, in_progress, requested_at,
    requested_on, expected_by, note}] newest first, members: [{name, card_number, role, role_label}]}:
    the bot words it.
"""

from __future__ import annotations

import re

from aiohttp import web

from backend.api.context import OPERATOR, SESSIONS
from backend.api.forms import Form, required
from backend.api.identity import verified_beneficiary, verified_from_headers
from backend.api.responses import json_response
from backend.card_requests import (
    EXPECTED_BUSINESS_DAYS,
    NOTE_MAX,
    POLICE_REPORT_MAX,
    POLICE_REPORT_MIN,
    REFUSALS,
    NewCardRequest,
    created_message,
    member_brief,
    pick_member,
    request_card,
    request_json,
    requests_of,
)
from backend.family import visible_members
from common.card_reasons import ROBBERY, ROBBERY_WITH_REPORT, ROBBERY_WITHOUT_REPORT, normalize_reason

routes = web.RouteTableDef()
_POLICE_REPORT_RE = re.compile(r"^[A-Za-z0-9./\- ]+$")
REASONS_TEXT = "Danificação, Extravio, Renovação, Roubo C/ B.O ou Roubo S/ B.O"


class CardRequestForm(Form):
    def card_request(self) -> NewCardRequest | None:
        """The reason (robbery without saying about the report: reason_ambiguous), the police
        report and the note; None when a field is wrong (the error is recorded)."""
        reason, police_report = self._reason()
        note = self.optional("note", max_length=NOTE_MAX)
        if reason == ROBBERY and not self.errors:
            question = REFUSALS["reason_ambiguous"]
            options = [ROBBERY_WITH_REPORT, ROBBERY_WITHOUT_REPORT]
            raise REFUSALS.refuse("reason_ambiguous", fields={"reason": question}, options=options)
        return NewCardRequest(reason=reason, police_report=police_report, note=note) if reason else None

    def _reason(self) -> tuple[str | None, str | None]:
        police_report = self.optional("police_report", max_length=200)
        said = self.text("reason", f"o motivo: {REASONS_TEXT}", max_length=120)
        reason = normalize_reason(said, police_report=police_report) if said else None
        if said and reason is None:
            self.errors["reason"] = f"Não entendi o motivo. Escolha um destes: {REASONS_TEXT}."
        if reason != ROBBERY_WITH_REPORT:
            return reason, None
        report = " ".join((police_report or "").split())
        if not report:
            self.errors["police_report"] = "Para roubo com B.O., informe o número do boletim de ocorrência."
        elif not POLICE_REPORT_MIN <= len(report) <= POLICE_REPORT_MAX or not _POLICE_REPORT_RE.match(report):
            self.errors["police_report"] = (
                f"O número do B.O. deve ter de {POLICE_REPORT_MIN} a {POLICE_REPORT_MAX} "
                "caracteres, só com letras, números, ponto, barra ou hífen."
            )
        return reason, report or None


@routes.post("/api/card-requests")
async def create_card_request(request: web.Request) -> web.Response:
    """See the module's docstring."""
    form = await CardRequestForm.read(request)
    token = form.verification()
    conversation_id, channel = form.conversation_id(request), form.channel()
    said_member = form.optional("beneficiary", max_length=160)
    asked = form.card_request()
    form.validate()
    async with request.app[SESSIONS]() as session:
        verified = await verified_beneficiary(request, session, token, conversation_id)
        person = await pick_member(session, verified, said_member)
        created = await request_card(
            session,
            verified,
            person,
            required(asked),
            ans_registration=request.app[OPERATOR].ans_registration,
            channel=channel,
            conversation_id=conversation_id,
        )
        body = request_json(created, person)
    body.update(expected_days=EXPECTED_BUSINESS_DAYS, message=created_message(created, person))
    return json_response(body, status=201)


@routes.get("/api/card-requests")
async def list_card_requests(request: web.Request) -> web.Response:
    """See the module's docstring."""
    async with request.app[SESSIONS]() as session:
        members = await visible_members(session, await verified_from_headers(request, session))
        by_id = {m.id: m for m in members}
        found = [request_json(item, by_id[item.beneficiary_id]) for item in await requests_of(session, members)]
    return json_response({"requests": found, "members": [member_brief(m) for m in members]})

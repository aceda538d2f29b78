"""Reissue of the physical card (CASSE "Solicitação de Carteirinha"): reasons as users say them,
one request in progress per beneficiary, a protocol for each request, statuses in pt-BR.

The reasons as people type them are in common.card_reasons, which the bot uses too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend import plan
from backend.clock import iso_utc, utcnow
from backend.family import NotInFamily, member, visible_members
from backend.models import ACTIVE, Beneficiary, CardRequest
from backend.protocols import new_protocol
from backend.refusals import COMMON, Refusals, Refused
from common.labels import ROLE_LABELS, date_text, role
from common.text import fold
from common.validators import InvalidValue, normalize_card

PROTOCOL_KIND = "card_reissue"
# The manuals give no deadline; 15 business days is the usual plastic-card production and mailing time.
EXPECTED_BUSINESS_DAYS = 15
POLICE_REPORT_MIN, POLICE_REPORT_MAX = 3, 40
NOTE_MAX = 300

STATUS_LABELS = {
    "requested": "solicitada",
    "in_production": "em produção",
    "shipped": "enviada",
    "delivered": "entregue",
}
IN_PROGRESS = ("requested", "in_production", "shipped")
# what people answer to "para quem é a carteirinha?" when it is for themselves
MYSELF = {
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

REFUSALS = Refusals(
    {
        "not_in_family": plan.REFUSALS["not_in_family"],
        "invalid_request": "{problem} Para quem é a carteirinha? {names}.",  # a name not in the family
        "reason_ambiguous": "Você registrou boletim de ocorrência (B.O.) do roubo? Responda com B.O. ou sem B.O.",
        "plan_cancelled": "O plano de {first_name} está cancelado, então não é possível pedir uma nova carteirinha. "
        "Para mais informações, ligue {central_24h}.",
        "already_requested": "Já existe um pedido de carteirinha para {name} em andamento: protocolo {protocol}, "
        "{status_label}, pedido em {requested_on}. Não é preciso pedir de novo.",
    }
)


def add_business_days(start: date, days: int) -> date:
    """Mondays to Fridays (national holidays are not counted out)."""
    current = start
    while days > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            days -= 1
    return current


def expected_by(request: CardRequest) -> date | None:
    if request.status not in IN_PROGRESS:
        return None
    return add_business_days(request.requested_at.date(), EXPECTED_BUSINESS_DAYS)


def member_brief(person: Beneficiary) -> dict:
    """{name, card_number, role (holder | dependent), role_label}."""
    who = role(person.holder_id is None)
    return {"name": person.name, "card_number": person.card_number, "role": who, "role_label": ROLE_LABELS[who]}


def request_json(request: CardRequest, person: Beneficiary) -> dict:
    due = expected_by(request)
    return {
        "protocol": request.protocol_number,
        "beneficiary": member_brief(person),
        "reason": request.reason,
        "status": request.status,
        "status_label": STATUS_LABELS.get(request.status, request.status),
        "in_progress": request.status in IN_PROGRESS,
        "requested_at": iso_utc(request.requested_at),
        "requested_on": request.requested_at.date().isoformat(),
        "expected_by": due.isoformat() if due else None,
        "note": request.note,
    }


def created_message(request: CardRequest, person: Beneficiary) -> str:
    due = expected_by(request)  # a request just made is in progress: it has a date
    return (
        f"Pronto! Pedi uma nova carteirinha para {person.name} (motivo: {request.reason}). "
        f"Protocolo: {request.protocol_number}. A carteirinha fica pronta em até {EXPECTED_BUSINESS_DAYS} "
        f"dias úteis{f' (até {date_text(due)})' if due else ''}. Enquanto isso, use a carteirinha virtual."
    )


async def pick_member(session: AsyncSession, verified: Beneficiary, said: str | None) -> Beneficiary:
    """Whom the card is for: by card number (refuses not_in_family) or by name among the visible
    members (refuses invalid_request with `members`)."""
    if not said or fold(said) in MYSELF:
        return verified
    if re.fullmatch(r"[\d\s.\-/]+", said):
        try:
            card = normalize_card(said)
        except InvalidValue as exc:
            raise COMMON.refuse("invalid_request", fields={"beneficiary": str(exc)}) from None
        try:
            return await member(session, verified, card)
        except NotInFamily:
            raise REFUSALS.refuse("not_in_family") from None
    members = await visible_members(session, verified)
    wanted = fold(said)
    found = [m for m in members if fold(m.name) == wanted or fold(m.name).startswith(wanted + " ")]
    if len(found) == 1:
        return found[0]
    problem = (
        "Encontrei mais de uma pessoa com esse nome." if found else f'Não encontrei "{said}" no seu grupo familiar.'
    )
    refused = REFUSALS.refuse(
        "invalid_request",
        words={"problem": problem, "names": ", ".join(m.name for m in members)},
        members=[member_brief(m) for m in members],
    )
    refused.data["fields"] = {"beneficiary": refused.message()}
    raise refused


def _already_requested(existing: CardRequest, person: Beneficiary) -> Refused:
    body = request_json(existing, person)
    return REFUSALS.refuse(
        "already_requested",
        words={"name": person.name, "requested_on": date_text(existing.requested_at.date())},
        protocol=body["protocol"],
        status_label=body["status_label"],
        request=body,
    )


def plan_cancelled(beneficiary: Beneficiary, holder: Beneficiary | None) -> bool:
    return any(person is not None and person.status != ACTIVE for person in (beneficiary, holder))


async def in_progress_for(session: AsyncSession, beneficiary_id: int) -> CardRequest | None:
    return (
        await session.execute(
            select(CardRequest)
            .where(CardRequest.beneficiary_id == beneficiary_id, CardRequest.status.in_(IN_PROGRESS))
            .order_by(CardRequest.requested_at.desc())
            .limit(1)
        )
    ).scalar_one_or_none()


@dataclass
class NewCardRequest:
    reason: str
    police_report: str | None
    note: str | None


async def request_card(
    session: AsyncSession,
    requester: Beneficiary,
    beneficiary: Beneficiary,
    data: NewCardRequest,
    *,
    ans_registration: str,
    channel: str,
    conversation_id: str,
) -> CardRequest:
    """Creates the protocol and the request and commits; refuses plan_cancelled or
    already_requested (with the request in progress). The beneficiary row is locked (PostgreSQL)
    so two concurrent requests for the same card cannot both pass the in-progress check."""
    holder = None
    if beneficiary.holder_id is not None:
        holder = (
            (await session.execute(select(Beneficiary).where(Beneficiary.id == beneficiary.holder_id)))
            .unique()
            .scalar_one()
        )
    if plan_cancelled(beneficiary, holder):
        raise REFUSALS.refuse("plan_cancelled", words={"first_name": beneficiary.name.split()[0]})
    await session.execute(select(Beneficiary.id).where(Beneficiary.id == beneficiary.id).with_for_update())
    existing = await in_progress_for(session, beneficiary.id)
    if existing is not None:
        raise _already_requested(existing, beneficiary)
    protocol = await new_protocol(
        session,
        PROTOCOL_KIND,
        ans_registration=ans_registration,
        channel=channel,
        status="open",
        beneficiary_id=requester.id,
        conversation_id=conversation_id,
        details={"reason": data.reason, "card_number": beneficiary.card_number},
    )
    request = CardRequest(
        beneficiary_id=beneficiary.id,
        reason=data.reason,
        police_report=data.police_report,
        status="requested",
        requested_at=utcnow(),
        note=data.note,
        protocol_number=protocol.number,
    )
    session.add(request)
    await session.commit()
    return request


async def requests_of(session: AsyncSession, members: list[Beneficiary]) -> list[CardRequest]:
    """Newest first."""
    return list(
        (
            await session.execute(
                select(CardRequest)
                .where(CardRequest.beneficiary_id.in_([m.id for m in members]))
                .order_by(CardRequest.requested_at.desc(), CardRequest.id.desc())
            )
        )
        .scalars()
        .all()
    )

"""Reissue of the physical card (CASSE "Solicitação de Carteirinha"): reasons as users say them,
one request in progress per beneficiary, a protocol for each request, statuses in pt-BR.

The reasons as people type them are in common.card_reasons, which the bot uses too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.clock import utcnow
from backend.models import ACTIVE, Beneficiary, CardRequest
from backend.protocols import new_protocol

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


class CardRequestRefused(Exception):
    def __init__(self, code: str, existing: CardRequest | None = None) -> None:
        super().__init__(code)
        self.code, self.existing = code, existing


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
    """Creates the protocol and the request and commits; CardRequestRefused('plan_cancelled' |
    'already_requested') otherwise. The beneficiary row is locked (PostgreSQL) so two concurrent
    requests for the same card cannot both pass the in-progress check."""
    holder = None
    if beneficiary.holder_id is not None:
        holder = (
            (await session.execute(select(Beneficiary).where(Beneficiary.id == beneficiary.holder_id)))
            .unique()
            .scalar_one()
        )
    if plan_cancelled(beneficiary, holder):
        raise CardRequestRefused("plan_cancelled")
    await session.execute(select(Beneficiary.id).where(Beneficiary.id == beneficiary.id).with_for_update())
    existing = await in_progress_for(session, beneficiary.id)
    if existing is not None:
        raise CardRequestRefused("already_requested", existing)
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

"""The virtual card (cartao_virtual) of the verified beneficiary or, for a holder, of a dependent:
its data, the family members it can be asked for, and its image (backend.card_image draws it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.card_image import CardData, card_data
from backend.family import NotInFamily, member, visible_members
from backend.models import ACTIVE, Beneficiary, Plan
from backend.operator_profile import OperatorProfile
from backend.refusals import Refusals, Refused
from common.labels import date_text

REFUSALS = Refusals(
    {
        "not_in_family": "Só posso mostrar a sua carteirinha e, para quem é titular, a dos dependentes do plano.",
        "plan_cancelled": "O plano de {first_name} foi cancelado{since}, então a carteirinha não vale mais para "
        "atendimentos. Para tirar dúvidas, ligue {central_24h}.",
        "not_found": "Esta carteirinha não foi encontrada. Peça a carteirinha de novo no chat.",
    }
)


@dataclass(frozen=True)
class VirtualCard:
    card: CardData
    owner: Beneficiary
    members: list[Beneficiary]  # whose card the verified beneficiary may ask for


def _plan_cancelled(beneficiary: Beneficiary) -> Refused:
    since = f" em {date_text(beneficiary.cancelled_at)}" if beneficiary.cancelled_at else ""
    return REFUSALS.refuse("plan_cancelled", words={"first_name": beneficiary.name.split()[0], "since": since})


async def _card(session: AsyncSession, beneficiary: Beneficiary, operator: OperatorProfile, today: date) -> CardData:
    if beneficiary.status != ACTIVE:
        raise _plan_cancelled(beneficiary)
    plan = (await session.execute(select(Plan).where(Plan.id == beneficiary.plan_id))).scalar_one()
    return card_data(beneficiary, plan, operator, today)


async def virtual_card(
    session: AsyncSession, verified: Beneficiary, card_number: str | None, operator: OperatorProfile, today: date
) -> VirtualCard:
    """The card of `card_number` (None: the verified beneficiary's); refuses not_in_family or
    plan_cancelled."""
    try:
        owner = await member(session, verified, card_number)
    except NotInFamily:
        raise REFUSALS.refuse("not_in_family") from None
    members = await visible_members(session, verified)
    return VirtualCard(await _card(session, owner, operator, today), owner, members)


async def card_of_number(session: AsyncSession, card_number: str, operator: OperatorProfile, today: date) -> CardData:
    """The card a signed link points to; refuses not_found or plan_cancelled."""
    beneficiary = (
        (await session.execute(select(Beneficiary).where(Beneficiary.card_number == card_number)))
        .unique()
        .scalar_one_or_none()
    )
    if beneficiary is None:
        raise REFUSALS.refuse("not_found")
    return await _card(session, beneficiary, operator, today)

"""Whose data a verified beneficiary may see: a holder sees themself and their dependents; a
dependent sees only themself. Every plan-services area asks here."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.models import Beneficiary


class NotInFamily(Exception):
    """The asked beneficiary is not the verified one nor one of their dependents."""


def holder_id_of(beneficiary: Beneficiary) -> int:
    return beneficiary.holder_id or beneficiary.id


async def visible_members(session: AsyncSession, verified: Beneficiary) -> list[Beneficiary]:
    """The verified beneficiary first, then (for a holder) their dependents by age, eldest first."""
    if verified.holder_id is not None:
        return [verified]
    dependents = (
        (
            await session.execute(
                select(Beneficiary).where(Beneficiary.holder_id == verified.id).order_by(Beneficiary.birth_date)
            )
        )
        .unique()
        .scalars()
        .all()
    )
    return [verified, *dependents]


async def member(session: AsyncSession, verified: Beneficiary, card_number: str | None) -> Beneficiary:
    """The beneficiary with `card_number` if the verified one may see them (None: the verified one)."""
    if not card_number or card_number == verified.card_number:
        return verified
    for candidate in await visible_members(session, verified):
        if candidate.card_number == card_number:
            return candidate
    raise NotInFamily(card_number)


async def family_of_holder(session: AsyncSession, verified: Beneficiary) -> list[Beneficiary]:
    """Everyone on the verified beneficiary's contract (holder first): for fees, which the holder pays."""
    holder_id = holder_id_of(verified)
    members = (
        (
            await session.execute(
                select(Beneficiary)
                .where(or_(Beneficiary.id == holder_id, Beneficiary.holder_id == holder_id))
                .order_by(Beneficiary.holder_id.is_not(None), Beneficiary.birth_date)
            )
        )
        .unique()
        .scalars()
        .all()
    )
    return list(members)

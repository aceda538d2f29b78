"""The company's own protocols (seed 003, "Protocolos"): one by its number, or the latest ones.
A protocol of another company, or of a beneficiary, is not found — the same answer as a number that
does not exist. A movement's protocol shows what it did (`movement`: backend.company.movements), a
file's the summary and the refused lines (`batch`: backend.company.movement_batch)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.clock import iso_utc, local_date
from backend.company.auth import CompanyCaller
from backend.company.movement_batch import batch_of_protocol
from backend.company.movements import movement_of_protocol
from backend.models import Protocol
from backend.protocols import PROTOCOL_DIGITS, REFUSALS, kind_label, status_label
from common.labels import date_text

LATEST = 10


def protocol_json(protocol: Protocol) -> dict:
    return {
        "protocol": protocol.number,
        "kind": protocol.kind,
        "kind_label": kind_label(protocol.kind),
        "status": protocol.status,
        "status_label": status_label(protocol.status),
        "created_at": iso_utc(protocol.created_at),
        "created_on_text": date_text(local_date(protocol.created_at)),
    }


async def company_protocol(session: AsyncSession, caller: CompanyCaller, number: str) -> dict:
    """Refuses protocol_not_found (backend.protocols' words) unless it is the caller's company's."""
    protocol = None
    if number.isdigit() and len(number) == PROTOCOL_DIGITS:
        protocol = (
            await session.execute(
                select(Protocol).where(Protocol.number == number, Protocol.company_id == caller.company.id)
            )
        ).scalar_one_or_none()
    if protocol is None:
        await session.commit()
        raise REFUSALS.refuse("protocol_not_found")
    body = protocol_json(protocol)
    if movement := await movement_of_protocol(session, protocol):
        body["movement"] = movement
    if batch := await batch_of_protocol(session, protocol):
        body["batch"] = batch
    await session.commit()
    return body


async def latest_protocols(session: AsyncSession, caller: CompanyCaller) -> list[dict]:
    rows = (
        (
            await session.execute(
                select(Protocol)
                .where(Protocol.company_id == caller.company.id)
                .order_by(Protocol.created_at.desc(), Protocol.id.desc())
                .limit(LATEST)
            )
        )
        .scalars()
        .all()
    )
    await session.commit()
    return [protocol_json(row) for row in rows]

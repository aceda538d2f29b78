"""Alterar e-mail (AMS): after the identity check and the full name, a confirmation link (24 h) goes
to the new address and a notice to the old one; the e-mail changes only when the link is confirmed."""
from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.identity import confirm_extra_factor, same_name
from backend.links import EMAIL_CHANGE, issue_link, link_url, use_link
from backend.mail import Mailer, MailError, send_email_change_link, send_email_change_notice
from backend.models import AccountLink, Beneficiary
from backend.operator_profile import OperatorProfile
from backend.protocols import new_protocol, set_protocol_status
from common.pii import mask_email

KIND = "email_change"

log = logging.getLogger(__name__)


class EmailChangeRefused(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class EmailChangeResult:
    protocol: str
    new_email_masked: str


async def email_in_use(session: AsyncSession, email: str, beneficiary_id: int) -> bool:
    """True when another beneficiary has this e-mail (it is a login, so it must stay unique)."""
    query = select(func.count()).select_from(Beneficiary).where(
        func.lower(Beneficiary.email) == email.lower(), Beneficiary.id != beneficiary_id)
    return (await session.execute(query)).scalar_one() > 0


async def request_email_change(
    session: AsyncSession,
    beneficiary: Beneficiary,
    full_name: str,
    new_email: str,
    *,
    operator: OperatorProfile,
    mailer: Mailer,
    public_url: str,
    channel: str,
    conversation_id: str | None,
) -> EmailChangeResult:
    """Raises IdentityError (wrong full name), EmailChangeRefused or MailError."""
    await confirm_extra_factor(session, beneficiary, same_name(full_name, beneficiary.name), conversation_id)
    if beneficiary.email and beneficiary.email.lower() == new_email:
        raise EmailChangeRefused("same_email")
    if await email_in_use(session, new_email, beneficiary.id):
        raise EmailChangeRefused("email_in_use")
    new_email_masked = mask_email(new_email)
    protocol = await new_protocol(
        session, KIND, ans_registration=operator.ans_registration, channel=channel,
        beneficiary_id=beneficiary.id, conversation_id=conversation_id,
        details={"new_email_masked": new_email_masked},
    )
    token = await issue_link(session, EMAIL_CHANGE, beneficiary.id, email=new_email, protocol_number=protocol.number)
    await session.commit()
    first_name = beneficiary.name.split()[0]
    try:
        if beneficiary.email:
            await send_email_change_notice(mailer, operator, beneficiary.email, first_name, new_email, protocol.number)
        await send_email_change_link(mailer, operator, new_email, first_name,
                                     link_url(public_url, EMAIL_CHANGE, token), protocol.number)
    except MailError:
        protocol.status = "failed"
        await session.commit()
        raise
    log.info("e-mail change link sent", extra={"protocol": protocol.number, "beneficiary_id": beneficiary.id})
    return EmailChangeResult(protocol=protocol.number, new_email_masked=new_email_masked)


async def confirm_email_change(session: AsyncSession, link: AccountLink, beneficiary: Beneficiary) -> bool:
    """Uses the link and sets the e-mail; False when the link was used or expired meanwhile."""
    if not await use_link(session, link):
        await session.rollback()
        return False
    beneficiary.email = link.email
    await set_protocol_status(session, link.protocol_number, "completed")
    await session.commit()
    log.info("e-mail changed", extra={"beneficiary_id": beneficiary.id, "protocol": link.protocol_number})
    return True

"""Cadastro (first access): a pending account and an activation link by e-mail (24 h). The page of
the link sets the password and activates the account; the e-mail on file changes only then, since
opening the link proves the address."""
from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from backend.account_passwords import store_password
from backend.email_change import email_in_use
from backend.links import ACTIVATION, issue_link, link_url, use_link
from backend.mail import Mailer, MailError, send_activation_link
from backend.models import ACTIVE, PENDING, Account, AccountLink, Beneficiary
from backend.operator_profile import OperatorProfile
from backend.protocols import new_protocol, set_protocol_status
from common.pii import mask_email

KIND = "registration"

log = logging.getLogger(__name__)


class RegistrationRefused(Exception):
    """Identity confirmed, but there is no registration to do; `code` says why."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class RegistrationResult:
    protocol: str
    email_masked: str


async def register(
    session: AsyncSession,
    beneficiary: Beneficiary,
    email: str,
    *,
    operator: OperatorProfile,
    mailer: Mailer,
    public_url: str,
    channel: str,
    conversation_id: str | None,
) -> RegistrationResult:
    """Creates (or keeps) the pending account and e-mails a new activation link to `email`.
    Raises RegistrationRefused or MailError (then the protocol ends as 'failed')."""
    if beneficiary.status != ACTIVE:
        raise RegistrationRefused("plan_cancelled")
    account = beneficiary.account
    if account is not None and account.status == ACTIVE:
        raise RegistrationRefused("already_registered")
    if await email_in_use(session, email, beneficiary.id):
        raise RegistrationRefused("email_in_use")
    if account is None:
        session.add(Account(beneficiary_id=beneficiary.id, status=PENDING, password_hash=None))
    email_masked = mask_email(email)
    protocol = await new_protocol(
        session, KIND, ans_registration=operator.ans_registration, channel=channel,
        beneficiary_id=beneficiary.id, conversation_id=conversation_id, details={"email_masked": email_masked},
    )
    token = await issue_link(session, ACTIVATION, beneficiary.id, email=email, protocol_number=protocol.number)
    await session.commit()
    try:
        await send_activation_link(mailer, operator, email, beneficiary.name.split()[0],
                                   link_url(public_url, ACTIVATION, token), protocol.number)
    except MailError:
        protocol.status = "failed"
        await session.commit()
        raise
    log.info("activation link sent", extra={"protocol": protocol.number, "beneficiary_id": beneficiary.id})
    return RegistrationResult(protocol=protocol.number, email_masked=email_masked)


async def activate(session: AsyncSession, link: AccountLink, account: Account, beneficiary: Beneficiary,
                   password_hash: str) -> bool:
    """Uses the link and activates the account; False (nothing changed) when the link was used or
    expired meanwhile."""
    if not await use_link(session, link):
        await session.rollback()
        return False
    account.status = ACTIVE
    await store_password(session, account, password_hash)
    beneficiary.email = link.email
    await set_protocol_status(session, link.protocol_number, "completed")
    await session.commit()
    log.info("account activated", extra={"account_id": account.id, "protocol": link.protocol_number})
    return True

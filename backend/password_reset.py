"""'Esqueci minha senha': identity check, temporary password by e-mail, protocol."""
from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from backend.mail import Mailer, MailError, send_temporary_password
from backend.models import ACTIVE, Beneficiary
from backend.operator_profile import OperatorProfile
from backend.passwords import hash_password
from backend.protocols import new_protocol
from common.pii import mask_email

KIND = "password_reset"

log = logging.getLogger(__name__)


class ResetRefused(Exception):
    """Identity confirmed, but the reset cannot be done here; `code` says why."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class ResetResult:
    protocol: str
    email_masked: str


async def reset_password(
    session: AsyncSession,
    beneficiary: Beneficiary,
    *,
    operator: OperatorProfile,
    mailer: Mailer,
    bcrypt_rounds: int,
    channel: str,
    conversation_id: str | None,
) -> ResetResult:
    """For a beneficiary whose identity was already verified. Raises ResetRefused or MailError.

    The new password is stored only after the e-mail went out, so a mail failure leaves the old
    password working; the protocol then ends as 'failed'.
    """
    account = beneficiary.account
    if beneficiary.status != ACTIVE:
        raise ResetRefused("plan_cancelled")
    if account is None or account.status != ACTIVE:
        raise ResetRefused("no_account")
    if not beneficiary.email:
        raise ResetRefused("no_email_on_file")

    await session.commit()  # end the reads: no database lock is held while bcrypt runs
    password = operator.password_policy.generate_temporary()
    password_hash = await hash_password(password, bcrypt_rounds)
    email_masked = mask_email(beneficiary.email)
    protocol = await new_protocol(
        session, KIND, ans_registration=operator.ans_registration, channel=channel,
        beneficiary_id=beneficiary.id, conversation_id=conversation_id,
        details={"email_masked": email_masked},
    )
    await session.commit()
    try:
        await send_temporary_password(
            mailer, operator, beneficiary.email, beneficiary.name.split()[0], password, protocol.number
        )
    except MailError:
        protocol.status = "failed"
        await session.commit()
        raise
    account.password_hash = password_hash
    account.must_change_password = True
    account.failed_logins, account.locked_until = 0, None
    protocol.status = "completed"
    await session.commit()
    log.info("temporary password sent", extra={"protocol": protocol.number, "account_id": account.id})
    return ResetResult(protocol=protocol.number, email_masked=email_masked)

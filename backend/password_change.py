"""Alterar senha: a single-use link (15 min) to a page that asks the current password and the new
one. The bot gets it after the identity check; a login with a temporary password gets one too."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from backend import password_reset
from backend.account_passwords import store_password
from backend.auth import AccountLocked, record_failed_login
from backend.clock import utcnow
from backend.links import PASSWORD_CHANGE, issue_link, link_url, use_link
from backend.models import ACTIVE, Account, AccountLink, Beneficiary
from backend.operator_profile import OperatorProfile
from backend.passwords import verify_password
from backend.protocols import new_protocol, set_protocol_status
from backend.refusals import Refusals

KIND = "password_change"

log = logging.getLogger(__name__)


REFUSALS = Refusals(
    {
        "plan_cancelled": "Seu plano está cancelado, então não é possível trocar a senha por aqui. "
        "Para mais informações, ligue {central_24h}.",
        "no_account": password_reset.REFUSALS["no_account"],
    }
)


@dataclass(frozen=True)
class ChangeLink:
    url: str
    protocol: str


async def request_change_link(
    session: AsyncSession,
    beneficiary: Beneficiary,
    *,
    operator: OperatorProfile,
    public_url: str,
    channel: str,
    conversation_id: str | None,
) -> ChangeLink:
    """For a verified beneficiary with an active account; refuses plan_cancelled or no_account."""
    if beneficiary.status != ACTIVE:
        raise REFUSALS.refuse("plan_cancelled")
    if beneficiary.account is None or beneficiary.account.status != ACTIVE:
        raise REFUSALS.refuse("no_account")
    protocol = await new_protocol(
        session,
        KIND,
        ans_registration=operator.ans_registration,
        channel=channel,
        beneficiary_id=beneficiary.id,
        conversation_id=conversation_id,
    )
    token = await issue_link(session, PASSWORD_CHANGE, beneficiary.id, protocol_number=protocol.number)
    await session.commit()
    log.info("password change link issued", extra={"protocol": protocol.number, "beneficiary_id": beneficiary.id})
    return ChangeLink(url=link_url(public_url, PASSWORD_CHANGE, token), protocol=protocol.number)


async def login_change_url(session: AsyncSession, beneficiary_id: int, public_url: str) -> str:
    """The link a login with a temporary password gets (no protocol: nobody asked for it)."""
    token = await issue_link(session, PASSWORD_CHANGE, beneficiary_id)
    await session.commit()
    return link_url(public_url, PASSWORD_CHANGE, token)


async def check_current_password(session: AsyncSession, account: Account, password: str) -> bool:
    """Like a login: a wrong current password counts towards the account lockout. Raises
    AccountLocked. Call it outside any transaction (bcrypt)."""
    now = utcnow()
    if account.locked_until and account.locked_until > now:
        raise AccountLocked(account.locked_until, now)
    if await verify_password(password, account.password_hash):
        return True
    locked_until = await record_failed_login(session, account.id, now)
    log.info("password change: wrong current password", extra={"account_id": account.id})
    if locked_until:
        raise AccountLocked(locked_until, now)
    return False


async def change_password(session: AsyncSession, link: AccountLink, account: Account, password_hash: str) -> bool:
    """Uses the link and sets the new password; False when the link was used or expired meanwhile."""
    if not await use_link(session, link):
        await session.rollback()
        return False
    await store_password(session, account, password_hash)
    if link.protocol_number:
        await set_protocol_status(session, link.protocol_number, "completed")
    await session.commit()
    log.info("password changed", extra={"account_id": account.id})
    return True

"""The company portal's login (user code + password) and who a company call is made for.

Same security as the app's login (backend.auth): counted before anything is checked, per client
address and per user code; the lockout (5 wrong passwords -> 30 minutes) is reserved before
bcrypt runs, off the event loop; an unknown code, a user without portal access yet and a wrong
password get the same answer after the same time.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.auth import AccountLocked, Lockout, locked, reserve_attempt, settle_failure
from backend.clock import utcnow
from backend.models import ACTIVE, Company, CompanySession, CompanyUser, CompanyVerification
from backend.passwords import burn_verification_time, verify_password
from backend.rate_limits import LOGIN_PER_ADDRESS, DataKeys, RateLimited, Rule, hit_all, too_many
from backend.refusals import Refusals, Refused

log = logging.getLogger(__name__)

SESSION_TTL = timedelta(hours=12)
ADMIN, USER = "admin", "user"
COMPANY_LOGIN_PER_USER = Rule(
    "company_login.user", 10, timedelta(minutes=15), "Foram muitas tentativas de entrar com esse código de usuário."
)
LOCKOUT = Lockout(CompanyUser, CompanyUser.id, "company_user_id")

_FORGOT = 'Se esqueceu a senha, peça no chat: "esqueci a senha do portal da empresa".'
REFUSALS = Refusals(
    {
        "invalid_credentials": "Código de usuário ou senha incorretos. Confira e tente de novo.",
        "account_locked": "Por segurança, o acesso ficou bloqueado depois de várias tentativas erradas. "
        "{try_again} " + _FORGOT,
        "rate_limited": "{limit} {try_again} " + _FORGOT,
        "company_unauthorized": "Para isso é preciso confirmar o acesso da empresa de novo.",
        "company_admin_only": "Só o administrador do portal da empresa pode fazer isso. "
        "Peça ao administrador da sua empresa.",
    }
)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class CompanyCaller:
    """Who a company call is made for: the user and their company (the only one they see)."""

    user: CompanyUser
    company: Company

    @property
    def is_admin(self) -> bool:
        return self.user.role == ADMIN


def require_admin(caller: CompanyCaller) -> CompanyCaller:
    """Refuses company_admin_only (403) to a plain user."""
    if not caller.is_admin:
        raise REFUSALS.refuse("company_admin_only")
    return caller


async def company_login(
    session: AsyncSession, user_code: str, password: str, *, keys: DataKeys, client: str, bcrypt_rounds: int
) -> tuple[str, CompanyCaller]:
    """(token, caller) of a right user code + password. Refuses rate_limited, invalid_credentials
    or account_locked (423, with when to try again)."""
    try:
        await hit_all(session, keys, [(LOGIN_PER_ADDRESS, (client,)), (COMPANY_LOGIN_PER_USER, (user_code,))])
    except RateLimited as exc:
        raise too_many(exc, REFUSALS) from None
    user = await _user_by_code(session, user_code)
    await session.commit()  # no database lock is held while bcrypt runs
    if user is None or user.password_hash is None or user.status != ACTIVE or user.company.status != ACTIVE:
        await burn_verification_time(bcrypt_rounds)
        raise REFUSALS.refuse("invalid_credentials")
    try:
        await _check_password(session, user.id, password, user.password_hash)
    except AccountLocked as exc:
        raise locked(exc, REFUSALS) from None
    token = secrets.token_urlsafe(32)
    session.add(
        CompanySession(token_hash=hash_token(token), company_user_id=user.id, expires_at=utcnow() + SESSION_TTL)
    )
    await session.commit()
    log.info("company login succeeded", extra={"company_user_id": user.id})
    return token, CompanyCaller(user, user.company)


async def _check_password(session: AsyncSession, user_id: int, password: str, password_hash: str) -> None:
    model, id_column, _ = LOCKOUT
    now = utcnow()
    reserved = await reserve_attempt(session, model, id_column, user_id, now)
    if not await verify_password(password, password_hash):
        locked_until = await settle_failure(session, model, id_column, user_id, reserved, now)
        log.info("company login failed", extra={"company_user_id": user_id, "locked": locked_until is not None})
        if locked_until:
            raise AccountLocked(locked_until, now)
        raise REFUSALS.refuse("invalid_credentials")
    await session.execute(update(model).where(id_column == user_id).values(failed_logins=0, locked_until=None))


async def _user_by_code(session: AsyncSession, user_code: str) -> CompanyUser | None:
    return (
        (await session.execute(select(CompanyUser).where(CompanyUser.user_code == user_code)))
        .unique()
        .scalar_one_or_none()
    )


def _unauthorized() -> Refused:
    return REFUSALS.refuse("company_unauthorized")


async def _caller(session: AsyncSession, user_id: int) -> CompanyCaller:
    user = await session.get(CompanyUser, user_id)
    if user is None or user.status != ACTIVE or user.company.status != ACTIVE:
        raise _unauthorized()
    return CompanyCaller(user, user.company)


async def caller_from_session(session: AsyncSession, token: str) -> CompanyCaller:
    """The caller of a login token (X-Company-Session); 401 company_unauthorized when unknown or expired."""
    row = (
        await session.execute(
            select(CompanySession).where(
                CompanySession.token_hash == hash_token(token), CompanySession.expires_at > utcnow()
            )
        )
    ).scalar_one_or_none()
    if row is None:
        raise _unauthorized()
    return await _caller(session, row.company_user_id)


async def caller_from_verification(
    session: AsyncSession, token: str, *, channel: str, conversation_id: str, idle_ttl: timedelta
) -> CompanyCaller:
    """The caller of a chat verification (backend.company.identity), when it was issued to this very
    conversation on this channel and has not expired; each use pushes its expiry `idle_ttl` on.
    401 company_unauthorized otherwise."""
    row = (
        await session.execute(select(CompanyVerification).where(CompanyVerification.token_hash == hash_token(token)))
    ).scalar_one_or_none()
    now = utcnow()
    if row is None or row.expires_at <= now or (row.channel, row.conversation_id) != (channel, conversation_id):
        raise _unauthorized()
    row.expires_at = now + idle_ttl
    await session.commit()
    return await _caller(session, row.company_user_id)

"""Logins (beneficiary accounts and call-centre agents) and the bearer tokens they get."""

from __future__ import annotations

import hashlib
import logging
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.clock import utcnow
from backend.email_change import apply_due_email_changes
from backend.handoff import touch_agent
from backend.models import ACTIVE, Account, Agent, AgentState, ApiSession, Beneficiary
from backend.passwords import burn_verification_time, verify_password
from backend.rate_limits import (
    LOGIN_PER_ADDRESS,
    LOGIN_PER_LOGIN,
    DataKeys,
    RateLimited,
    hit_all,
    too_many,
    try_again_text,
)
from backend.refusals import Refusals, Refused

MAX_LOGIN_FAILURES = 5
LOGIN_LOCK_TIME = timedelta(minutes=30)
SESSION_TTL = timedelta(hours=12)

log = logging.getLogger(__name__)

_FORGOT = 'Se esqueceu a senha, peça uma nova no chat: "esqueci minha senha".'
REFUSALS = Refusals(  # the app's login (the agents' is backend.agent_desk's)
    {
        "invalid_credentials": "Login ou senha incorretos. Confira e tente de novo.",
        "account_locked": "Por segurança, seu acesso ficou bloqueado depois de várias tentativas erradas. "
        "{try_again} " + _FORGOT,
        "rate_limited": "{limit} {try_again} " + _FORGOT,
    }
)


class InvalidCredentials(Exception):
    pass


class AccountLocked(Exception):
    def __init__(self, until: datetime, now: datetime) -> None:
        super().__init__("account locked")
        self.retry_after_seconds = max(1, math.ceil((until - now).total_seconds()))
        self.retry_after_minutes = max(1, math.ceil(self.retry_after_seconds / 60))


def locked(exc: AccountLocked, refusals: Refusals) -> Refused:
    """account_locked (423) with when to try again, in the wording of `refusals`."""
    return refusals.refuse(
        "account_locked",
        words={"try_again": try_again_text(exc.retry_after_seconds)},
        retry_after_seconds=exc.retry_after_seconds,
        retry_after_minutes=exc.retry_after_minutes,
    )


@dataclass(frozen=True)
class LoginResult:
    token: str
    must_change_password: bool
    beneficiary_id: int
    change_password_url: str | None = None  # app_login: the change page a temporary password leads to


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(session: AsyncSession, *, account_id: int | None = None, agent_id: int | None = None) -> str:
    token = secrets.token_urlsafe(32)
    session.add(
        ApiSession(
            token_hash=hash_token(token), account_id=account_id, agent_id=agent_id, expires_at=utcnow() + SESSION_TTL
        )
    )
    return token


class Lockout(NamedTuple):
    """Where a login's failures are counted: the table, its column of the row's id, and the name of
    that id in the logs."""

    model: Any
    id_column: Any
    log_key: str


ACCOUNT_LOCKOUT = Lockout(Account, Account.id, "account_id")
AGENT_LOCKOUT = Lockout(AgentState, AgentState.agent_id, "agent_id")


async def login_beneficiary(
    session: AsyncSession, login_kind: str, login: str, password: str, bcrypt_rounds: int
) -> LoginResult:
    """`login_kind` is card, cpf or email (normalised). Raises InvalidCredentials or AccountLocked.

    The lockout is reserved before bcrypt runs (reserve_attempt), so N concurrent wrong passwords
    lock the account exactly at MAX_LOGIN_FAILURES: that many reach bcrypt, the others get 423."""
    await apply_due_email_changes(session)  # a change whose wait is over: the new e-mail logs in
    account = await _find_account(session, login_kind, login)
    await session.commit()  # end the read: no database lock is held while bcrypt runs
    if account is None or account.status != ACTIVE:
        await burn_verification_time(bcrypt_rounds)
        raise InvalidCredentials()
    await _check_password(session, ACCOUNT_LOCKOUT, account.id, password, account.password_hash, "login failed")
    token = issue_token(session, account_id=account.id)
    await session.commit()
    log.info("login succeeded", extra={"account_id": account.id})
    return LoginResult(
        token=token, must_change_password=account.must_change_password, beneficiary_id=account.beneficiary_id
    )


async def _check_password(
    session: AsyncSession, lockout: Lockout, row_id: int, password: str, password_hash: str, failed_log: str
) -> None:
    """`password` against the hash, under the row's lockout (reserve_attempt, settle_failure): raises
    AccountLocked or InvalidCredentials (and logs `failed_log`); the right one gives the failures
    back, in the caller's transaction."""
    model, id_column, log_key = lockout
    now = utcnow()
    reserved = await reserve_attempt(session, model, id_column, row_id, now)
    if not await verify_password(password, password_hash):
        locked_until = await settle_failure(session, model, id_column, row_id, reserved, now)
        log.info(failed_log, extra={log_key: row_id, "locked": locked_until is not None})
        if locked_until:
            raise AccountLocked(locked_until, now)
        raise InvalidCredentials()
    await session.execute(update(model).where(id_column == row_id).values(failed_logins=0, locked_until=None))


async def reserve_attempt(session: AsyncSession, model, id_column, row_id: int, now: datetime) -> int:
    """Takes one of the MAX_LOGIN_FAILURES attempts of an account (or agent) before its password
    is checked: `failed_logins` goes up at once, in one atomic UPDATE that only succeeds while
    the row is not locked and has attempts left. Returns the attempt's number (1..MAX); raises
    AccountLocked when none is left. A success gives them all back; a failure keeps its own."""
    open_row = or_(model.locked_until.is_(None), model.locked_until <= now)
    result = await session.execute(
        update(model)
        .where(id_column == row_id, model.failed_logins < MAX_LOGIN_FAILURES, open_row)
        .values(failed_logins=model.failed_logins + 1)
    )
    if result.rowcount == 1:
        reserved = (await session.execute(select(model.failed_logins).where(id_column == row_id))).scalar_one()
        await session.commit()  # the row lock ends here: bcrypt runs outside any transaction
        return reserved
    # every attempt is taken: locked, or the last ones are being checked right now. Lock now too
    # (a check that never settles, e.g. a crashed process, cannot keep the row unusable forever).
    await session.execute(
        update(model)
        .where(id_column == row_id, model.failed_logins >= MAX_LOGIN_FAILURES, open_row)
        .values(failed_logins=0, locked_until=now + LOGIN_LOCK_TIME)
    )
    locked_until = (await session.execute(select(model.locked_until).where(id_column == row_id))).scalar_one()
    await session.commit()
    raise AccountLocked(locked_until if locked_until and locked_until > now else now + LOGIN_LOCK_TIME, now)


async def app_login(
    session: AsyncSession,
    login_kind: str,
    login: str,
    password: str,
    *,
    keys: DataKeys,
    client: str,
    bcrypt_rounds: int,
    public_url: str,
) -> LoginResult:
    """POST /api/auth/login: counted before anything is checked, per client address and per login
    (whether or not the login exists); a temporary password gets the link of the change page.
    Refuses rate_limited, invalid_credentials or account_locked."""
    from backend.password_change import login_change_url  # (password_change imports this module)

    try:
        await hit_all(session, keys, [(LOGIN_PER_ADDRESS, (client,)), (LOGIN_PER_LOGIN, (login_kind, login))])
        result = await login_beneficiary(session, login_kind, login, password, bcrypt_rounds)
    except RateLimited as exc:
        raise too_many(exc, REFUSALS) from None
    except InvalidCredentials:
        raise REFUSALS.refuse("invalid_credentials") from None
    except AccountLocked as exc:
        raise locked(exc, REFUSALS) from None
    if not result.must_change_password:
        return result
    url = await login_change_url(session, result.beneficiary_id, public_url)
    return LoginResult(result.token, True, result.beneficiary_id, url)


async def settle_failure(
    session: AsyncSession, model, id_column, row_id: int, reserved: int, now: datetime
) -> datetime | None:
    """After a wrong password: the attempt that took the last slot locks the row for
    LOGIN_LOCK_TIME and returns the lock's end; the others keep their count and return None."""
    if reserved < MAX_LOGIN_FAILURES:
        return None
    await session.execute(
        update(model)
        .where(id_column == row_id, model.failed_logins >= MAX_LOGIN_FAILURES)
        .values(failed_logins=0, locked_until=now + LOGIN_LOCK_TIME)
    )
    locked_until = (await session.execute(select(model.locked_until).where(id_column == row_id))).scalar_one()
    await session.commit()
    return locked_until if locked_until and locked_until > now else None


async def record_failed_login(session: AsyncSession, account_id: int, now: datetime) -> datetime | None:
    """Adds a failed login atomically after the fact (the current-password check of the password
    change page, reached only through a single-use link); locks at the limit."""
    await session.execute(
        update(Account).where(Account.id == account_id).values(failed_logins=Account.failed_logins + 1)
    )
    failures = (await session.execute(select(Account.failed_logins).where(Account.id == account_id))).scalar_one()
    locked_until = None
    if failures >= MAX_LOGIN_FAILURES:
        locked_until = now + LOGIN_LOCK_TIME
        await session.execute(
            update(Account).where(Account.id == account_id).values(failed_logins=0, locked_until=locked_until)
        )
    await session.commit()
    return locked_until


async def login_agent(session: AsyncSession, username: str, password: str, bcrypt_rounds: int) -> str:
    """Same lockout as the beneficiaries' logins, kept in agent_states. A disabled agent
    (backend.agents) answers like an unknown one."""
    agent = (await session.execute(select(Agent).where(Agent.username == username))).scalar_one_or_none()
    await session.commit()  # no database lock held while bcrypt runs
    if agent is None or agent.disabled_at is not None:
        await burn_verification_time(bcrypt_rounds)
        raise InvalidCredentials()
    await _ensure_agent_state(session, agent.id)
    await _check_password(session, AGENT_LOCKOUT, agent.id, password, agent.password_hash, "agent login failed")
    await touch_agent(session, agent.id)  # a logged-in agent counts as online (backend.handoff)
    token = issue_token(session, agent_id=agent.id)
    await session.commit()
    log.info("agent login succeeded", extra={"agent_id": agent.id})
    return token


async def _ensure_agent_state(session: AsyncSession, agent_id: int) -> None:
    if session.bind.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    await session.execute(
        insert(AgentState)
        .values(agent_id=agent_id, failed_logins=0)
        .on_conflict_do_nothing(index_elements=["agent_id"])
    )
    await session.commit()


async def _find_account(session: AsyncSession, login_kind: str, login: str) -> Account | None:
    column = {
        "card": Beneficiary.card_number,
        "cpf": Beneficiary.cpf,
        "email": func.lower(Beneficiary.email),
    }[login_kind]
    query = select(Account).join(Beneficiary, Account.beneficiary_id == Beneficiary.id).where(column == login)
    return (await session.execute(query.order_by(Account.id))).scalars().first()

"""Logins (beneficiary accounts and call-centre agents) and the bearer tokens they get."""
from __future__ import annotations

import hashlib
import logging
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from backend.clock import utcnow
from backend.handoff import touch_agent
from backend.models import ACTIVE, Account, Agent, AgentState, ApiSession, Beneficiary
from backend.passwords import burn_verification_time, verify_password

MAX_LOGIN_FAILURES = 5
LOGIN_LOCK_TIME = timedelta(minutes=30)
SESSION_TTL = timedelta(hours=12)

log = logging.getLogger(__name__)


class InvalidCredentials(Exception):
    pass


class AccountLocked(Exception):
    def __init__(self, until: datetime, now: datetime) -> None:
        super().__init__("account locked")
        self.retry_after_minutes = max(1, math.ceil((until - now).total_seconds() / 60))


@dataclass(frozen=True)
class LoginResult:
    token: str
    must_change_password: bool
    beneficiary_id: int


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(session: AsyncSession, *, account_id: int | None = None, agent_id: int | None = None) -> str:
    token = secrets.token_urlsafe(32)
    session.add(ApiSession(token_hash=hash_token(token), account_id=account_id, agent_id=agent_id,
                           expires_at=utcnow() + SESSION_TTL))
    return token


async def login_beneficiary(
    session: AsyncSession, login_kind: str, login: str, password: str, bcrypt_rounds: int
) -> LoginResult:
    """`login_kind` is card, cpf or email (normalised). Raises InvalidCredentials or AccountLocked."""
    account = await _find_account(session, login_kind, login)
    await session.commit()  # end the read: no database lock is held while bcrypt runs
    if account is None or account.status != ACTIVE:
        await burn_verification_time(bcrypt_rounds)
        raise InvalidCredentials()
    now = utcnow()
    if account.locked_until and account.locked_until > now:
        raise AccountLocked(account.locked_until, now)
    if not await verify_password(password, account.password_hash):
        locked_until = await record_failed_login(session, account.id, now)
        log.info("login failed", extra={"account_id": account.id, "locked": locked_until is not None})
        if locked_until:
            raise AccountLocked(locked_until, now)
        raise InvalidCredentials()
    await session.execute(update(Account).where(Account.id == account.id).values(failed_logins=0, locked_until=None))
    token = issue_token(session, account_id=account.id)
    await session.commit()
    log.info("login succeeded", extra={"account_id": account.id})
    return LoginResult(token=token, must_change_password=account.must_change_password,
                       beneficiary_id=account.beneficiary_id)


async def record_failed_login(session: AsyncSession, account_id: int, now: datetime) -> datetime | None:
    """Adds a failed login atomically (concurrent attempts all count); locks at the limit."""
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
    agent = (await session.execute(select(Agent).where(Agent.username == username))).scalar_one_or_none()
    await session.commit()  # no database lock held while bcrypt runs
    if agent is None:
        await burn_verification_time(bcrypt_rounds)
        raise InvalidCredentials()
    now = utcnow()
    state = await session.get(AgentState, agent.id)
    await session.commit()
    if state is not None and state.locked_until and state.locked_until > now:
        raise AccountLocked(state.locked_until, now)
    if not await verify_password(password, agent.password_hash):
        locked_until = await record_failed_agent_login(session, agent.id, now)
        log.info("agent login failed", extra={"agent_id": agent.id, "locked": locked_until is not None})
        if locked_until:
            raise AccountLocked(locked_until, now)
        raise InvalidCredentials()
    await session.execute(update(AgentState).where(AgentState.agent_id == agent.id)
                          .values(failed_logins=0, locked_until=None))
    await touch_agent(session, agent.id)  # a logged-in agent counts as online (backend.handoff)
    token = issue_token(session, agent_id=agent.id)
    await session.commit()
    log.info("agent login succeeded", extra={"agent_id": agent.id})
    return token


async def record_failed_agent_login(session: AsyncSession, agent_id: int, now: datetime) -> datetime | None:
    """Same rule as the beneficiaries' logins, kept in agent_states (issue 7)."""
    if await session.get(AgentState, agent_id) is None:
        session.add(AgentState(agent_id=agent_id, failed_logins=0))
        try:
            await session.commit()
        except IntegrityError:  # a concurrent failure created it
            await session.rollback()
    await session.execute(
        update(AgentState).where(AgentState.agent_id == agent_id).values(failed_logins=AgentState.failed_logins + 1)
    )
    failures = (await session.execute(select(AgentState.failed_logins).where(AgentState.agent_id == agent_id))).scalar_one()
    locked_until = None
    if failures >= MAX_LOGIN_FAILURES:
        locked_until = now + LOGIN_LOCK_TIME
        await session.execute(update(AgentState).where(AgentState.agent_id == agent_id)
                              .values(failed_logins=0, locked_until=locked_until))
    await session.commit()
    return locked_until


async def _find_account(session: AsyncSession, login_kind: str, login: str) -> Account | None:
    column = {
        "card": Beneficiary.card_number,
        "cpf": Beneficiary.cpf,
        "email": func.lower(Beneficiary.email),
    }[login_kind]
    query = select(Account).join(Beneficiary, Account.beneficiary_id == Beneficiary.id).where(column == login)
    return (await session.execute(query.order_by(Account.id))).scalars().first()

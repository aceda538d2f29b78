"""Identity verification shared by every flow: login (card or e-mail) + CPF + birth date, with
"não possuo CPF" (the beneficiary has no CPF on file) and the mother's full name when the operator
asks for it.

Failures look the same whichever field did not match. A login key is locked for LOCK_TIME after
MAX_FAILURES failures within FAILURE_WINDOW. Before the check, backend.rate_limits counts the
attempt for the conversation (channel + sender), for the person (CPF, or the birth date when there
is no CPF: failures only) and for everybody (a global ceiling); then the login's own counter row is
taken, which serialises the checks of one login, so N concurrent guesses cannot all read "not
locked yet". Attempts and counters live in the database, so every backend process shares them,
and their keys are HMAC-SHA256 under DATA_HMAC_SECRET (attempt_key), never the login itself.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import math
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import NoReturn

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.clock import utcnow
from backend.family import visible_members
from backend.models import Beneficiary, IdentityAttempt, IdentityVerification
from backend.rate_limits import (
    IDENTITY_FAILURES_PER_PERSON,
    IDENTITY_GLOBAL,
    IDENTITY_PER_CLIENT,
    IDENTITY_PER_LOGIN,
    DataKeys,
    RateLimited,
    give_back,
    hit,
    hit_all,
    too_many,
    try_again_text,
)
from backend.refusals import Refusals, Refused
from common.text import without_accents

MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
LOCK_TIME = timedelta(minutes=30)
VERIFICATION_TTL = timedelta(minutes=15)  # default idle time of a verified conversation (Settings)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IdentityClaim:
    """Already normalised values (see common.validators)."""

    login_kind: str  # "card" | "email"
    login: str
    cpf: str | None  # None: "não possuo CPF"
    birth_date: date
    mother_name: str | None = None  # checked only when given


REFUSALS = Refusals(
    {
        "identity_not_confirmed": "Não consegui confirmar seus dados. Confira as informações e tente de novo.",
        "identity_locked": "Por segurança, a confirmação de identidade ficou bloqueada por alguns minutos "
        "depois de várias tentativas. {try_again}",
        "too_many_attempts": "{limit} {try_again}",  # a rate limit of backend.rate_limits
        "verification_invalid": "Para isso eu preciso confirmar seus dados com o CPF: a confirmação sem CPF vale "
        "só para o cadastro no aplicativo.",  # a check without CPF used for more than registration
    }
)


def _not_confirmed(attempts_left: int) -> Refused:
    return REFUSALS.refuse("identity_not_confirmed", attempts_left=attempts_left)


def _locked(until: datetime, now: datetime) -> Refused:
    minutes = _minutes_until(until, now)
    return REFUSALS.refuse(
        "identity_locked",
        words={"try_again": try_again_text(minutes * 60)},
        retry_after_seconds=minutes * 60,
        retry_after_minutes=minutes,
    )


def _minutes_until(until: datetime, now: datetime) -> int:
    return max(1, math.ceil((until - now).total_seconds() / 60))


def attempt_key(keys: DataKeys, login_kind: str, login: str) -> str:
    return keys.key("identity-attempt", login_kind, login)


def normalize_name(name: str) -> str:
    """Case, accents and spacing do not matter: ' Lúcia  LIMA ' -> 'lucia lima'."""
    return " ".join(without_accents(name).split()).casefold()


def same_name(typed: str, on_file: str) -> bool:
    return normalize_name(typed) == normalize_name(on_file)


@contextlib.asynccontextmanager
async def _committed_when_refused(session: AsyncSession) -> AsyncIterator[None]:
    """A check refused (identity_locked, or a rate limit: too_many_attempts) still commits what it
    counted before the refusal leaves."""
    try:
        yield
    except RateLimited as exc:
        await session.commit()
        raise too_many(exc, REFUSALS, "too_many_attempts") from None
    except Refused:  # identity_locked
        await session.commit()
        raise


async def verify_identity(
    session: AsyncSession,
    claim: IdentityClaim,
    conversation_id: str | None,
    *,
    keys: DataKeys,
    channel: str = "rest",
) -> Beneficiary:
    """Returns the beneficiary or raises Refused (identity_not_confirmed, identity_locked,
    too_many_attempts: a rate limit).
    Commits the recorded attempt and the counters."""
    from backend.email_change import apply_due_email_changes  # (email_change imports this module)

    now = utcnow()
    await apply_due_email_changes(session, now)  # a change whose wait is over: the new e-mail logs in
    key = attempt_key(keys, claim.login_kind, claim.login)
    person = ("cpf", claim.cpf) if claim.cpf else ("birth_date", claim.birth_date.isoformat())
    checks = [(IDENTITY_FAILURES_PER_PERSON, person), (IDENTITY_GLOBAL, ())]
    if conversation_id:
        checks.insert(0, (IDENTITY_PER_CLIENT, (channel, conversation_id)))
    async with _committed_when_refused(session):
        counted = await hit_all(session, keys, checks, now)
        # the login's counter row stays locked until the commit below: one check of a login at a time
        await hit(session, keys, IDENTITY_PER_LOGIN, claim.login_kind, claim.login, now=now)
        failures = await _failures_unless_locked(session, key, now)
        beneficiary = await _match(session, claim)
        session.add(
            IdentityAttempt(key=key, succeeded=beneficiary is not None, created_at=now, conversation_id=conversation_id)
        )
        if beneficiary is not None:
            person_count = counted[[rule for rule, _ in checks].index(IDENTITY_FAILURES_PER_PERSON)]
            await give_back(session, person_count)  # the person's rule counts failures only
        await session.commit()
    if beneficiary is not None:
        log.info("identity confirmed", extra={"key": key[:12], "beneficiary_id": beneficiary.id})
        return beneficiary
    _raise_failure(key, failures + [now], now)


async def confirm_extra_factor(
    session: AsyncSession,
    beneficiary: Beneficiary,
    matches: bool,
    conversation_id: str | None,
    *,
    keys: DataKeys,
) -> None:
    """A factor asked after the verification (the full name, to change the e-mail). A mismatch
    makes the verification it completes a failed one, counted for the beneficiary's card (its
    success no longer resets the count); refuses like verify_identity."""
    now = utcnow()
    key = attempt_key(keys, "card", beneficiary.card_number)
    # the card's counter row is held until the commit: one check of this login at a time
    async with _committed_when_refused(session):
        await hit(session, keys, IDENTITY_PER_LOGIN, "card", beneficiary.card_number, now=now)
        await _failures_unless_locked(session, key, now)
    if matches:
        await session.commit()
        return
    success = (
        await session.execute(
            select(IdentityAttempt)
            .where(
                IdentityAttempt.conversation_id == conversation_id,
                IdentityAttempt.succeeded.is_(True),
                IdentityAttempt.created_at > now - VERIFICATION_TTL,
            )
            .order_by(IdentityAttempt.created_at.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    if success is not None:
        success.succeeded = False
    if success is None or success.key != key:
        session.add(IdentityAttempt(key=key, succeeded=False, created_at=now, conversation_id=conversation_id))
    await session.commit()
    _raise_failure(key, await _recent_failures(session, key, now), now)


async def _failures_unless_locked(session: AsyncSession, key: str, now: datetime) -> list[datetime]:
    failures = await _recent_failures(session, key, now)
    locked_until = _lock_end(failures)
    if locked_until and locked_until > now:
        log.info("identity verification refused: key locked", extra={"key": key[:12]})
        raise _locked(locked_until, now)
    return failures


def _raise_failure(key: str, failures: list[datetime], now: datetime) -> NoReturn:
    """`failures` includes the one just recorded."""
    window_failures = [t for t in failures if t > now - FAILURE_WINDOW]
    log.info("identity not confirmed", extra={"key": key[:12], "failures": len(window_failures)})
    locked_until = _lock_end(failures)
    if locked_until and locked_until > now:
        raise _locked(locked_until, now)
    raise _not_confirmed(MAX_FAILURES - len(window_failures))


async def _recent_failures(session: AsyncSession, key: str, now: datetime) -> list[datetime]:
    """Failures since the last success that can still matter (window + lock time)."""
    since = now - FAILURE_WINDOW - LOCK_TIME
    last_success = (
        await session.execute(
            select(func.max(IdentityAttempt.created_at)).where(
                IdentityAttempt.key == key, IdentityAttempt.succeeded.is_(True)
            )
        )
    ).scalar_one()
    if last_success and last_success > since:
        since = last_success
    rows = await session.execute(
        select(IdentityAttempt.created_at)
        .where(IdentityAttempt.key == key, IdentityAttempt.succeeded.is_(False), IdentityAttempt.created_at > since)
        .order_by(IdentityAttempt.created_at)
    )
    return list(rows.scalars())


def _lock_end(failures: list[datetime]) -> datetime | None:
    """End of the latest lock: LOCK_TIME after any MAX_FAILURES failures within FAILURE_WINDOW."""
    end = None
    for i in range(MAX_FAILURES - 1, len(failures)):
        if failures[i] - failures[i - MAX_FAILURES + 1] <= FAILURE_WINDOW:
            end = failures[i] + LOCK_TIME
    return end


async def _match(session: AsyncSession, claim: IdentityClaim) -> Beneficiary | None:
    cpf = Beneficiary.cpf.is_(None) if claim.cpf is None else Beneficiary.cpf == claim.cpf
    query = select(Beneficiary).where(cpf, Beneficiary.birth_date == claim.birth_date)
    if claim.login_kind == "card":
        query = query.where(Beneficiary.card_number == claim.login)
    else:
        query = query.where(func.lower(Beneficiary.email) == claim.login)
    beneficiary = (await session.execute(query)).unique().scalars().first()
    if (
        beneficiary is not None
        and claim.mother_name is not None
        and not same_name(claim.mother_name, beneficiary.mother_name)
    ):
        return None
    return beneficiary


FULL_SCOPE = "full"  # login + CPF + birth date (+ mother's name): every verified request
REGISTRATION_SCOPE = "registration"  # "não possuo CPF" (login + birth date): registration only
SCOPES = frozenset({FULL_SCOPE, REGISTRATION_SCOPE})


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def issue_verification(
    session: AsyncSession,
    beneficiary: Beneficiary,
    conversation_id: str,
    idle_ttl: timedelta = VERIFICATION_TTL,
    *,
    channel: str,
    scope: str = FULL_SCOPE,
) -> str:
    """A token proving that this conversation — `conversation_id` on `channel` — passed the
    identity check; only its hash is stored. `scope` REGISTRATION_SCOPE: the check was made
    without a CPF, and the token serves registration only."""
    if scope not in SCOPES:
        raise ValueError(f"unknown verification scope {scope!r}")
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        IdentityVerification(
            token_hash=_token_hash(token),
            beneficiary_id=beneficiary.id,
            conversation_id=conversation_id,
            channel=channel,
            scope=scope,
            created_at=now,
            expires_at=now + idle_ttl,
        )
    )
    await session.commit()
    return token


async def redeem_verification(
    session: AsyncSession,
    token: str,
    conversation_id: str,
    idle_ttl: timedelta = VERIFICATION_TTL,
    *,
    channel: str,
    accepted_scopes: frozenset[str] = frozenset({FULL_SCOPE}),
) -> Beneficiary | None:
    """The verified beneficiary, if `token` is unexpired, was issued to this very conversation
    (same sender id on the same channel: the same id on another channel is somebody else) and
    its scope is one of `accepted_scopes`; None otherwise. Refuses a valid token of another scope
    (a check without CPF used for more than registration: verification_invalid with `reason`
    "cpf_required"), so the caller can say what is missing.

    The session is one of inactivity: every use pushes the expiry to `idle_ttl` from now."""
    row = (
        await session.execute(select(IdentityVerification).where(IdentityVerification.token_hash == _token_hash(token)))
    ).scalar_one_or_none()
    now = utcnow()
    if row is None or row.expires_at <= now or (row.conversation_id, row.channel) != (conversation_id, channel):
        return None
    if row.scope not in accepted_scopes:
        raise REFUSALS.refuse("verification_invalid", reason="cpf_required")
    row.expires_at = now + idle_ttl
    await session.commit()
    return await session.get(Beneficiary, row.beneficiary_id)


@dataclass(frozen=True)
class Verified:
    token: str
    beneficiary: Beneficiary
    dependents: int  # how many dependents the verified holder has (0 for a dependent)


async def start_verified_session(
    session: AsyncSession,
    claim: IdentityClaim,
    conversation_id: str,
    idle_ttl: timedelta,
    *,
    keys: DataKeys,
    channel: str,
    scope: str,
) -> Verified:
    """The identity check of a conversation and, when it passes, the token of its verified
    session; refuses like verify_identity."""
    beneficiary = await verify_identity(session, claim, conversation_id, channel=channel, keys=keys)
    token = await issue_verification(session, beneficiary, conversation_id, idle_ttl, channel=channel, scope=scope)
    dependents = len(await visible_members(session, beneficiary)) - 1
    return Verified(token, beneficiary, dependents)

"""The chat's check of a company user: user code + CNPJ -> a 6-digit one-time code e-mailed to the
user's address on file (valid CODE_TTL, stored as an HMAC) -> the code typed in the same
conversation -> a verification token bound to (channel, conversation), like the beneficiaries'
(backend.identity). The password never goes through the chat.

Asking for a code answers the same whether or not the user code and the CNPJ matched (nobody learns
who is a user). Every check is counted before it is made (rate_limits): per conversation, and per
user code for the wrong codes — the CODE_FAILURES.limit-th wrong code locks the user code's checks
for the rest of the rule's window and voids the codes sent.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.clock import utcnow
from backend.company.auth import CompanyCaller, hash_token
from backend.mail import Mailer, MailError, send_templated
from backend.models import ACTIVE, Company, CompanyLoginCode, CompanyUser, CompanyVerification
from backend.operator_profile import OperatorProfile
from backend.rate_limits import DataKeys, RateLimited, Rule, give_back, hit, hit_all, too_many, try_again_text
from backend.refusals import Refusals, Refused
from common.pii import mask_email

log = logging.getLogger(__name__)

CODE_TTL = timedelta(minutes=10)
CODE_DIGITS = 6
CODE_REQUESTS_PER_CONVERSATION = Rule(
    "company_code.request.conversation", 5, timedelta(hours=1), "Esta conversa já pediu vários códigos."
)
CODE_REQUESTS_PER_USER = Rule(
    "company_code.request.user", 5, timedelta(hours=1), "Já enviamos vários códigos para esse usuário."
)
CODE_CHECKS_PER_CONVERSATION = Rule(
    "company_code.check.conversation", 10, timedelta(minutes=15), "Foram muitas tentativas de código nesta conversa."
)
CODE_FAILURES = Rule("company_code.failures", 5, timedelta(minutes=30), "Foram muitos códigos errados.")

SENT_MESSAGE = (
    "Se o código de usuário e o CNPJ estiverem certos, enviei um código de 6 números para o e-mail "
    "cadastrado. Ele vale por 10 minutos."
)
REFUSALS = Refusals(
    {
        "company_code_invalid": "O código não confere. Confira o e-mail mais recente e digite os 6 números de novo.",
        "company_code_expired": "Esse código venceu: ele vale por 10 minutos. Peça um novo código.",
        "company_code_locked": "Por segurança, a confirmação por código ficou bloqueada depois de várias "
        "tentativas erradas. {try_again}",
        "rate_limited": "{limit} {try_again}",
        "too_many_attempts": "{limit} {try_again}",
    }
)


@dataclass(frozen=True)
class CompanyVerified:
    token: str
    caller: CompanyCaller


def _code_hash(keys: DataKeys, user_id: int, code: str) -> str:
    return keys.key("company-code", user_id, code)


async def _match(session: AsyncSession, user_code: str, cnpj: str) -> CompanyUser | None:
    """The active user with this code in the active company with this CNPJ."""
    return (
        (
            await session.execute(
                select(CompanyUser)
                .join(Company, CompanyUser.company_id == Company.id)
                .where(
                    CompanyUser.user_code == user_code,
                    Company.cnpj == cnpj,
                    CompanyUser.status == ACTIVE,
                    Company.status == ACTIVE,
                )
            )
        )
        .unique()
        .scalar_one_or_none()
    )


async def _void_codes(session: AsyncSession, user_id: int, now: datetime) -> None:
    await session.execute(
        update(CompanyLoginCode)
        .where(CompanyLoginCode.company_user_id == user_id, CompanyLoginCode.used_at.is_(None))
        .values(used_at=now)
    )


async def send_code(
    session: AsyncSession,
    user_code: str,
    cnpj: str,
    *,
    channel: str,
    conversation_id: str,
    keys: DataKeys,
    mailer: Mailer,
    operator: OperatorProfile,
) -> None:
    """E-mails a new code when the user code and the CNPJ match (voiding the user's earlier ones);
    answers the same when they do not. Refuses rate_limited (429)."""
    now = utcnow()
    checks = [(CODE_REQUESTS_PER_CONVERSATION, (channel, conversation_id)), (CODE_REQUESTS_PER_USER, (user_code,))]
    try:
        await hit_all(session, keys, checks, now)
    except RateLimited as exc:
        raise too_many(exc, REFUSALS) from None
    user = await _match(session, user_code, cnpj)
    if user is None:
        await session.commit()
        log.info("company code not sent: no such user", extra={"channel": channel})
        return
    await _void_codes(session, user.id, now)
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    session.add(
        CompanyLoginCode(
            company_user_id=user.id,
            code_hash=_code_hash(keys, user.id, code),
            channel=channel,
            conversation_id=conversation_id,
            created_at=now,
            expires_at=now + CODE_TTL,
        )
    )
    email, first_name, company = user.email, user.name.split()[0], user.company.name
    await session.commit()
    try:
        await send_templated(
            mailer,
            operator,
            email,
            "company_code",
            "código de acesso da empresa",
            first_name=first_name,
            company=company,
            code=code,
        )
    except MailError:  # the same answer: the user asks again; the log says why nothing arrived
        log.exception("company code e-mail not sent", extra={"company_user_id": user.id, "to": mask_email(email)})


def _locked(exc: RateLimited) -> Refused:
    return REFUSALS.refuse(
        "company_code_locked",
        words={"try_again": try_again_text(exc.retry_after_seconds)},
        retry_after_seconds=exc.retry_after_seconds,
        retry_after_minutes=exc.retry_after_minutes,
    )


async def _latest_code(
    session: AsyncSession, user_id: int, channel: str, conversation_id: str
) -> CompanyLoginCode | None:
    return (
        await session.execute(
            select(CompanyLoginCode)
            .where(
                CompanyLoginCode.company_user_id == user_id,
                CompanyLoginCode.channel == channel,
                CompanyLoginCode.conversation_id == conversation_id,
                CompanyLoginCode.used_at.is_(None),
            )
            .order_by(CompanyLoginCode.created_at.desc(), CompanyLoginCode.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()


async def verify_code(
    session: AsyncSession,
    user_code: str,
    cnpj: str,
    code: str,
    *,
    channel: str,
    conversation_id: str,
    keys: DataKeys,
    idle_ttl: timedelta,
) -> CompanyVerified:
    """The verification of this conversation when `code` is the latest unused one sent to it for
    this user. Refuses too_many_attempts (429), company_code_locked (423), company_code_expired
    (410) or company_code_invalid (401, with attempts_left; the same whatever did not match)."""
    now = utcnow()
    try:
        await hit(session, keys, CODE_CHECKS_PER_CONVERSATION, channel, conversation_id, now=now)
        failures = await hit(session, keys, CODE_FAILURES, user_code, now=now)
    except RateLimited as exc:
        await session.commit()
        if exc.rule is CODE_FAILURES:
            raise _locked(exc) from None
        raise too_many(exc, REFUSALS, "too_many_attempts") from None
    user = await _match(session, user_code, cnpj)
    row = await _latest_code(session, user.id, channel, conversation_id) if user else None
    if user is not None and row is not None and row.expires_at <= now:
        row.used_at = now
        await give_back(session, failures)
        await session.commit()
        raise REFUSALS.refuse("company_code_expired")
    if user is None or row is None or not hmac.compare_digest(row.code_hash, _code_hash(keys, user.id, code)):
        attempts_left = max(0, CODE_FAILURES.limit - failures.hits)
        if attempts_left == 0 and user is not None:
            await _void_codes(session, user.id, now)
        await session.commit()
        log.info("company code refused", extra={"attempts_left": attempts_left})
        if attempts_left == 0:
            raise _locked(RateLimited(CODE_FAILURES, failures.window_start + CODE_FAILURES.window - now))
        raise REFUSALS.refuse("company_code_invalid", attempts_left=attempts_left)
    row.used_at = now
    await give_back(session, failures)
    token = secrets.token_urlsafe(32)
    session.add(
        CompanyVerification(
            token_hash=hash_token(token),
            company_user_id=user.id,
            channel=channel,
            conversation_id=conversation_id,
            created_at=now,
            expires_at=now + idle_ttl,
        )
    )
    await session.commit()
    log.info("company user verified", extra={"company_user_id": user.id})
    return CompanyVerified(token, CompanyCaller(user, user.company))

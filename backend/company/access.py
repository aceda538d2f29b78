"""Access to the company portal without the password (seed 003): "Primeiro acesso" (company code
or user code + CNPJ + e-mail -> a link that creates the password), "Esqueci minha senha" (user code
+ CNPJ -> a link), "Esqueci meu usuário" (company code + CNPJ + e-mail -> the user code by e-mail).

Everything goes only to the e-mail on file, and each request answers the same whether or not the
data matched (nobody learns who is a user or which e-mail is on file); a matched user gets at most
MAILS_PER_USER e-mails an hour (the ones over it are dropped silently, and logged). The links are
single-use, stored as their SHA-256, and only the newest of a user and purpose works (like
backend.links); the page that opens them (backend.api.company_pages) sets the password, which the
portal login (backend.company.auth) then takes with the user code.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.clock import utcnow
from backend.links import LinkState
from backend.mail import Mailer, MailError, send_templated
from backend.models import ACTIVE, Company, CompanyLink, CompanySession, CompanyUser
from backend.operator_profile import OperatorProfile
from backend.passwords import PasswordPolicy
from backend.rate_limits import DataKeys, RateLimited, Rule, hit, too_many
from backend.refusals import Refusals

log = logging.getLogger(__name__)

FIRST_ACCESS = "first_access"
PASSWORD_RESET = "password_reset"  # noqa: S105 (a link purpose, not a password)
TTL = {FIRST_ACCESS: timedelta(hours=24), PASSWORD_RESET: timedelta(minutes=30)}
VALID_FOR = {FIRST_ACCESS: "24 horas", PASSWORD_RESET: "30 minutos"}
PAGE_PATH = "/conta/senha-empresa"
REQUESTS_PER_CONVERSATION = Rule(
    "company_access.conversation", 5, timedelta(hours=1), "Esta conversa já fez vários pedidos de acesso."
)
MAILS_PER_USER = Rule("company_access.user", 3, timedelta(hours=1), "")  # silent: never shown
ANSWERS = {
    FIRST_ACCESS: "Se os dados estiverem certos, enviei para o e-mail cadastrado um link para criar a sua senha "
    "do portal da empresa. Ele vale por 24 horas.",
    PASSWORD_RESET: "Se os dados estiverem certos, enviei para o e-mail cadastrado um link para criar uma nova "
    "senha. Ele vale por 30 minutos.",
    "user_code": "Se os dados estiverem certos, enviei o seu código de usuário para o e-mail cadastrado.",
}
REFUSALS = Refusals({"rate_limited": "{limit} {try_again}"})
USER_CODE_RULE = "Não use o seu código de usuário."


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class AccessServices:
    keys: DataKeys
    mailer: Mailer
    operator: OperatorProfile
    public_url: str


async def _count_conversation(session: AsyncSession, keys: DataKeys, channel: str, conversation_id: str) -> None:
    try:
        await hit(session, keys, REQUESTS_PER_CONVERSATION, channel, conversation_id)
    except RateLimited as exc:
        await session.commit()
        raise too_many(exc, REFUSALS) from None


async def _may_mail(session: AsyncSession, keys: DataKeys, user: CompanyUser) -> bool:
    try:
        await hit(session, keys, MAILS_PER_USER, user.id)
    except RateLimited:
        log.info("company access e-mail dropped: too many for this user", extra={"company_user_id": user.id})
        return False
    return True


async def _find_user(
    session: AsyncSession,
    cnpj: str,
    *,
    user_code: str | None = None,
    company_code: str | None = None,
    email: str | None = None,
) -> CompanyUser | None:
    query = (
        select(CompanyUser)
        .join(Company, CompanyUser.company_id == Company.id)
        .where(Company.cnpj == cnpj, Company.status == ACTIVE, CompanyUser.status == ACTIVE)
    )
    if user_code is not None:
        query = query.where(CompanyUser.user_code == user_code)
    if company_code is not None:
        query = query.where(Company.code == company_code)
    if email is not None:
        query = query.where(func.lower(CompanyUser.email) == email.lower())
    return (await session.execute(query.order_by(CompanyUser.id))).unique().scalars().first()


async def _issue_link(session: AsyncSession, user: CompanyUser, purpose: str) -> str:
    """Voids the user's unused links (any purpose: one way in at a time) and adds a new one."""
    now = utcnow()
    await session.execute(
        update(CompanyLink)
        .where(CompanyLink.company_user_id == user.id, CompanyLink.used_at.is_(None), CompanyLink.expires_at > now)
        .values(expires_at=now)
    )
    token = secrets.token_urlsafe(32)
    session.add(
        CompanyLink(
            token_hash=_hash(token),
            purpose=purpose,
            company_user_id=user.id,
            created_at=now,
            expires_at=now + TTL[purpose],
        )
    )
    return token


async def _mail_link(
    session: AsyncSession, user: CompanyUser, purpose: str, services: AccessServices, intro: str | None = None
) -> None:
    token = await _issue_link(session, user, purpose)
    await session.commit()  # the link works before its e-mail leaves
    intro = intro or (
        "Recebemos o pedido de primeiro acesso ao portal da empresa."
        if purpose == FIRST_ACCESS and user.password_hash is None
        else "Recebemos o pedido de uma nova senha do portal da empresa."
    )
    try:
        await send_templated(
            services.mailer,
            services.operator,
            user.email,
            "company_password_link",
            "crie a sua senha do portal da empresa",
            first_name=user.name.split()[0],
            intro=intro,
            company=user.company.name,
            url=f"{services.public_url.rstrip('/')}{PAGE_PATH}/{token}",
            valid_for=VALID_FOR[purpose],
            user_code=user.user_code,
        )
    except MailError:
        log.exception("company access e-mail not sent", extra={"company_user_id": user.id})


async def send_first_access(session: AsyncSession, user: CompanyUser, intro: str, services: AccessServices) -> bool:
    """E-mails a user an admin added (or reactivated) the first-access link, `intro` saying why;
    counted in MAILS_PER_USER like the others. Commits; False when the e-mail was dropped."""
    mailed = await _may_mail(session, services.keys, user)
    if mailed:
        await _mail_link(session, user, FIRST_ACCESS, services, intro)
    await session.commit()
    return mailed


async def request_first_access(
    session: AsyncSession,
    cnpj: str,
    email: str,
    *,
    user_code: str | None,
    company_code: str | None,
    channel: str,
    conversation_id: str,
    services: AccessServices,
) -> str:
    """ "Primeiro acesso": by user code, or by company code (the company's user with that e-mail).
    A user who already has a password gets a new-password link instead. Returns the answer (the
    same whatever matched); refuses rate_limited (per conversation)."""
    await _count_conversation(session, services.keys, channel, conversation_id)
    user = await _find_user(session, cnpj, user_code=user_code, company_code=company_code, email=email)
    if user is not None and await _may_mail(session, services.keys, user):
        await _mail_link(session, user, FIRST_ACCESS if user.password_hash is None else PASSWORD_RESET, services)
    await session.commit()
    return ANSWERS[FIRST_ACCESS]


async def request_password_reset(
    session: AsyncSession, user_code: str, cnpj: str, *, channel: str, conversation_id: str, services: AccessServices
) -> str:
    """ "Esqueci minha senha": a link to the e-mail on file (a user without a password yet gets the
    first-access one). Answers the same whatever matched; refuses rate_limited."""
    await _count_conversation(session, services.keys, channel, conversation_id)
    user = await _find_user(session, cnpj, user_code=user_code)
    if user is not None and await _may_mail(session, services.keys, user):
        await _mail_link(session, user, PASSWORD_RESET if user.password_hash else FIRST_ACCESS, services)
    await session.commit()
    return ANSWERS[PASSWORD_RESET]


async def request_user_code(
    session: AsyncSession,
    company_code: str,
    cnpj: str,
    email: str,
    *,
    channel: str,
    conversation_id: str,
    services: AccessServices,
) -> str:
    """ "Esqueci meu usuário": the user code, by e-mail, to the company's user with that e-mail."""
    await _count_conversation(session, services.keys, channel, conversation_id)
    user = await _find_user(session, cnpj, company_code=company_code, email=email)
    if user is not None and await _may_mail(session, services.keys, user):
        await session.commit()
        try:
            await send_templated(
                services.mailer,
                services.operator,
                user.email,
                "company_user_code",
                "o seu código de usuário do portal da empresa",
                first_name=user.name.split()[0],
                company=user.company.name,
                user_code=user.user_code,
            )
        except MailError:
            log.exception("company user code e-mail not sent", extra={"company_user_id": user.id})
    await session.commit()
    return ANSWERS["user_code"]


# --- the page of the link --------------------------------------------------------------------------


async def open_link(session: AsyncSession, token: str) -> tuple[LinkState, CompanyLink | None, CompanyUser | None]:
    link = (
        await session.execute(select(CompanyLink).where(CompanyLink.token_hash == _hash(token)))
    ).scalar_one_or_none()
    user = await session.get(CompanyUser, link.company_user_id) if link else None
    await session.commit()
    if link is None or user is None or user.status != ACTIVE:
        return LinkState.UNKNOWN, None, None
    if link.used_at is not None:
        return LinkState.USED, link, user
    if link.expires_at <= utcnow():
        return LinkState.EXPIRED, link, user
    return LinkState.VALID, link, user


def password_problems(
    policy: PasswordPolicy, user: CompanyUser, password: str, confirmation: str, mismatch: str
) -> list[str]:
    problems = policy.violations(password)
    if user.user_code.casefold() in password.casefold():
        problems.append(USER_CODE_RULE)
    if password != confirmation:
        problems.append(mismatch)
    return problems


async def set_password(session: AsyncSession, link: CompanyLink, password_hash: str) -> bool:
    """Uses the link (atomically: False when it was used or expired meanwhile) and sets the user's
    password; the lockout is cleared and the user's login sessions end. Commits."""
    now = utcnow()
    used = await session.execute(
        update(CompanyLink)
        .where(CompanyLink.id == link.id, CompanyLink.used_at.is_(None), CompanyLink.expires_at > now)
        .values(used_at=now)
    )
    if used.rowcount != 1:
        await session.rollback()
        return False
    await session.execute(
        update(CompanyUser)
        .where(CompanyUser.id == link.company_user_id)
        .values(password_hash=password_hash, failed_logins=0, locked_until=None)
    )
    await session.execute(delete(CompanySession).where(CompanySession.company_user_id == link.company_user_id))
    await session.commit()
    log.info("company password set", extra={"company_user_id": link.company_user_id, "purpose": link.purpose})
    return True

"""The portal's users of a company (seed 003, "Administração de usuários": inclusão, edição ou
correção, inativação), for the company's admins only (`require_admin`, re-checked on every call:
the caller is read from the database each time, so a demoted or deactivated admin loses the right
at once).

- A new user gets a user code like the company's others (RH500103: the company code plus a
  sequence) and no password: the first-access link (backend.company.access) goes to their e-mail.
- Deactivating ends everything the user holds: login sessions, chat verifications, unused links
  and codes, and the password itself — a user reactivated later creates a new one through the
  e-mailed first-access link. An admin cannot deactivate themself, nor change their own role, and
  the company always keeps one active admin.
- A user of another company is not found (404), the same answer as a code that does not exist.

No protocol: the manual gives these none (they are the company's own administration); each change
is logged with who made it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from backend.clock import utcnow
from backend.company.access import AccessServices, send_first_access
from backend.company.auth import ADMIN, USER, CompanyCaller, require_admin
from backend.models import (
    ACTIVE,
    Company,
    CompanyLink,
    CompanyLoginCode,
    CompanySession,
    CompanyUser,
    CompanyVerification,
)
from backend.rate_limits import RateLimited, Rule, hit, too_many
from backend.refusals import Refusals

log = logging.getLogger(__name__)

INACTIVE = "inactive"
ROLES = (ADMIN, USER)
ROLE_LABELS = {ADMIN: "administrador", USER: "usuário"}
STATUS_LABELS = {ACTIVE: "ativo", INACTIVE: "inativo"}
FIELD_LABELS = {"name": "nome", "email": "e-mail", "role": "perfil"}
CODE_PREFIX = "RH"
NEW_USERS_PER_COMPANY = Rule("company_users.added", 20, timedelta(days=1), "A empresa já incluiu muitos usuários hoje.")
REFUSALS = Refusals(
    {
        "company_user_not_found": "Não encontrei esse usuário do portal na sua empresa. Confira o código de usuário.",
        "company_user_self": "Você não pode inativar o seu próprio usuário nem mudar o seu perfil. "
        "Peça a outro administrador da empresa.",
        "company_last_admin": "A empresa precisa ter pelo menos um administrador ativo. "
        "Inclua ou promova outro administrador antes.",
        "company_user_already_inactive": "Esse usuário já está inativo.",
        "company_user_already_active": "Esse usuário já está ativo.",
        "email_in_use": "Esse e-mail já é de outro usuário do portal da empresa.",
        "nothing_to_change": "Esses já são os dados desse usuário, então não há o que alterar.",
        "rate_limited": "{limit} {try_again}",
    }
)


def user_json(user: CompanyUser) -> dict:
    return {
        "user_code": user.user_code,
        "name": user.name,
        "email": user.email,
        "role": user.role,
        "role_label": ROLE_LABELS.get(user.role, user.role),
        "status": user.status,
        "status_label": STATUS_LABELS.get(user.status, user.status),
        "has_portal_access": user.password_hash is not None,
    }


@dataclass(frozen=True)
class UserChange:
    user: dict
    message: str
    changes: dict[str, str] | None = None


async def company_users(session: AsyncSession, caller: CompanyCaller) -> list[dict]:
    """The portal's users of the caller's company (admin only: company_admin_only)."""
    require_admin(caller)
    users = (
        (
            await session.execute(
                select(CompanyUser).where(CompanyUser.company_id == caller.company.id).order_by(CompanyUser.user_code)
            )
        )
        .unique()
        .scalars()
        .all()
    )
    await session.commit()
    return [user_json(u) for u in users]


async def _user(session: AsyncSession, caller: CompanyCaller, user_code: str) -> CompanyUser:
    """The caller's company's user with that code; company_user_not_found otherwise (another
    company's user too)."""
    user = (
        (
            await session.execute(
                select(CompanyUser).where(
                    CompanyUser.user_code == user_code.strip().upper(), CompanyUser.company_id == caller.company.id
                )
            )
        )
        .unique()
        .scalar_one_or_none()
    )
    if user is None:
        await session.commit()
        raise REFUSALS.refuse("company_user_not_found")
    return user


async def company_user(session: AsyncSession, caller: CompanyCaller, user_code: str) -> dict:
    require_admin(caller)
    user = await _user(session, caller, user_code)
    await session.commit()
    return user_json(user)


async def _lock_company(session: AsyncSession, company_id: int) -> None:
    """Serialises the changes of a company's users (PostgreSQL: the company's row; SQLite takes the
    write lock when the transaction begins), so that two admins cannot remove each other."""
    await session.execute(select(Company.id).where(Company.id == company_id).with_for_update())


async def _check_email_free(session: AsyncSession, company_id: int, email: str, but: int | None = None) -> None:
    """Two users of a company never share an e-mail ("Esqueci meu usuário" finds the user by it)."""
    query = select(func.count()).where(
        CompanyUser.company_id == company_id, func.lower(CompanyUser.email) == email.lower()
    )
    if but is not None:
        query = query.where(CompanyUser.id != but)
    if (await session.execute(query)).scalar_one():
        await session.rollback()
        raise REFUSALS.refuse("email_in_use")


async def _other_active_admins(session: AsyncSession, company_id: int, user_id: int) -> int:
    return (
        await session.execute(
            select(func.count()).where(
                CompanyUser.company_id == company_id,
                CompanyUser.id != user_id,
                CompanyUser.role == ADMIN,
                CompanyUser.status == ACTIVE,
            )
        )
    ).scalar_one()


async def _next_user_code(session: AsyncSession, company_id: int, company_code: str) -> str:
    """RH + the company code plus the company's next number (RH500103 after RH500102), skipping
    codes taken by anyone (the codes are unique across companies)."""
    width = len(company_code)
    codes = (
        (await session.execute(select(CompanyUser.user_code).where(CompanyUser.company_id == company_id)))
        .scalars()
        .all()
    )
    numbers = [int(code[len(CODE_PREFIX) :]) for code in codes if code[len(CODE_PREFIX) :].isdigit()]
    number = max([int(company_code), *numbers]) + 1
    while (
        await session.execute(select(func.count()).where(CompanyUser.user_code == f"{CODE_PREFIX}{number:0{width}d}"))
    ).scalar_one():
        number += 1
    return f"{CODE_PREFIX}{number:0{width}d}"


async def _count_new_user(session: AsyncSession, caller: CompanyCaller, services: AccessServices) -> None:
    try:
        await hit(session, services.keys, NEW_USERS_PER_COMPANY, caller.company.id)
    except RateLimited as exc:
        await session.commit()
        raise too_many(exc, REFUSALS) from None


async def _insert_user(session: AsyncSession, company_id: int, company_code: str, **values: str) -> CompanyUser:
    """Adds the user with the company's next code (committed); a code taken meanwhile by another
    admin (the unique constraint) gets the next one."""
    for attempt in range(3):
        await _lock_company(session, company_id)
        await _check_email_free(session, company_id, values["email"])
        user = CompanyUser(
            company_id=company_id,
            company=await session.get(Company, company_id),
            user_code=await _next_user_code(session, company_id, company_code),
            status=ACTIVE,
            **values,
        )
        session.add(user)
        try:
            await session.commit()
            return user
        except IntegrityError:
            await session.rollback()
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


async def add_user(
    session: AsyncSession, caller: CompanyCaller, name: str, email: str, role: str, *, services: AccessServices
) -> UserChange:
    """A new user of the caller's company, without a password: the first-access link goes to
    `email`. Refuses company_admin_only, email_in_use, rate_limited (per company and day)."""
    require_admin(caller)
    await _count_new_user(session, caller, services)
    company = caller.company
    company_id, company_code, company_name = company.id, company.code, company.name
    admin_id, admin_name = caller.user.id, caller.user.name  # (a retry's rollback expires them)
    user = await _insert_user(session, company_id, company_code, name=name, email=email, role=role)
    log.info(
        "company user added",
        extra={"company_user_id": user.id, "company_id": company_id, "by_company_user_id": admin_id},
    )
    intro = f"{admin_name} incluiu você como {ROLE_LABELS[role]} do portal da empresa {company_name}."
    await send_first_access(session, user, intro, services)
    message = (
        f"Usuário {user.user_code} ({name}) incluído como {ROLE_LABELS[role]}. Enviei para {email} o link para "
        "criar a senha do portal; ele vale por 24 horas. Se vencer, a pessoa pede um novo no chat com "
        '"primeiro acesso da empresa".'
    )
    return UserChange(user_json(user), message)


async def edit_user(
    session: AsyncSession, caller: CompanyCaller, user_code: str, changes: dict[str, str]
) -> UserChange:
    """Changes the name, e-mail and/or role of a user of the caller's company. A new e-mail voids
    the links sent to the old one. Refuses company_admin_only, company_user_not_found,
    nothing_to_change, email_in_use, company_user_self (own role), company_last_admin."""
    require_admin(caller)
    await _lock_company(session, caller.company.id)
    user = await _user(session, caller, user_code)
    changes = {field: value for field, value in changes.items() if value != getattr(user, field)}
    if "email" in changes and changes["email"].lower() == user.email.lower():
        changes.pop("email")
    if not changes:
        await session.rollback()
        raise REFUSALS.refuse("nothing_to_change")
    if "role" in changes:
        if changes["role"] != ADMIN and user.status == ACTIVE:
            await _keep_an_admin(session, user)
        if user.id == caller.user.id:
            await session.rollback()
            raise REFUSALS.refuse("company_user_self")
    if "email" in changes:
        await _check_email_free(session, caller.company.id, changes["email"], but=user.id)
        await _void_links(session, user.id)
    for field, value in changes.items():
        setattr(user, field, value)
    await session.commit()
    log.info(
        "company user changed",
        extra={"company_user_id": user.id, "fields": sorted(changes), "by_company_user_id": caller.user.id},
    )
    fields = ", ".join(FIELD_LABELS[field] for field in changes)
    return UserChange(user_json(user), f"Alteração de {fields} do usuário {user.user_code} feita.", changes)


async def _keep_an_admin(session: AsyncSession, user: CompanyUser) -> None:
    if user.role == ADMIN and not await _other_active_admins(session, user.company_id, user.id):
        await session.rollback()
        raise REFUSALS.refuse("company_last_admin")


async def _void_links(session: AsyncSession, user_id: int) -> None:
    now = utcnow()
    await session.execute(
        update(CompanyLink)
        .where(CompanyLink.company_user_id == user_id, CompanyLink.used_at.is_(None), CompanyLink.expires_at > now)
        .values(expires_at=now)
    )


async def deactivate_user(session: AsyncSession, caller: CompanyCaller, user_code: str) -> UserChange:
    """Inactivates a user of the caller's company and ends what they hold (see the module's
    docstring). Refuses company_admin_only, company_user_not_found, company_user_already_inactive,
    company_last_admin (the only active admin: the caller, then), company_user_self."""
    require_admin(caller)
    await _lock_company(session, caller.company.id)
    user = await _user(session, caller, user_code)
    if user.status != ACTIVE:
        await session.rollback()
        raise REFUSALS.refuse("company_user_already_inactive")
    await _keep_an_admin(session, user)
    if user.id == caller.user.id:
        await session.rollback()
        raise REFUSALS.refuse("company_user_self")
    now = utcnow()
    user.status, user.password_hash, user.failed_logins, user.locked_until = INACTIVE, None, 0, None
    await session.execute(delete(CompanySession).where(CompanySession.company_user_id == user.id))
    await session.execute(delete(CompanyVerification).where(CompanyVerification.company_user_id == user.id))
    await session.execute(
        update(CompanyLoginCode)
        .where(CompanyLoginCode.company_user_id == user.id, CompanyLoginCode.used_at.is_(None))
        .values(used_at=now)
    )
    await _void_links(session, user.id)
    await session.commit()
    log.info("company user deactivated", extra={"company_user_id": user.id, "by_company_user_id": caller.user.id})
    message = (
        f"Usuário {user.user_code} ({user.name}) inativado: o acesso ao portal e ao chat da empresa foi "
        "encerrado agora."
    )
    return UserChange(user_json(user), message)


async def reactivate_user(
    session: AsyncSession, caller: CompanyCaller, user_code: str, *, services: AccessServices
) -> UserChange:
    """Reactivates an inactive user of the caller's company; the first-access link goes to the
    e-mail on file (the old password was dropped). Refuses company_admin_only,
    company_user_not_found, company_user_already_active."""
    require_admin(caller)
    await _lock_company(session, caller.company.id)
    user = await _user(session, caller, user_code)
    if user.status == ACTIVE:
        await session.rollback()
        raise REFUSALS.refuse("company_user_already_active")
    user.status = ACTIVE
    await session.commit()
    log.info("company user reactivated", extra={"company_user_id": user.id, "by_company_user_id": caller.user.id})
    intro = f"{caller.user.name} reativou o seu acesso ao portal da empresa {caller.company.name}."
    await send_first_access(session, user, intro, services)
    message = (
        f"Usuário {user.user_code} ({user.name}) reativado. Enviei para {user.email} o link para criar uma nova "
        "senha do portal; ele vale por 24 horas."
    )
    return UserChange(user_json(user), message)

"""Rules for a password a beneficiary chooses on a page, besides the operator policy: not the
CPF, card number or birth date, not one of the last HISTORY_SIZE passwords, typed twice alike."""

from __future__ import annotations

import asyncio
import re

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.models import Account, Beneficiary, PasswordHistory
from backend.passwords import PasswordPolicy, verify_password

HISTORY_SIZE = 3
_SEPARATORS_RE = re.compile(r"[\s./\-]")

MISMATCH = "As duas senhas não são iguais. Digite a mesma senha nos dois campos."
REUSED = f"Essa senha já foi usada. Escolha uma diferente das suas últimas {HISTORY_SIZE} senhas."
SAME_AS_CURRENT = "A nova senha precisa ser diferente da senha atual."


def personal_data_violations(password: str, beneficiary: Beneficiary) -> list[str]:
    """The password may not contain the CPF, card number or birth date, with or without
    separators (94580730224, 945.807.302-24, 12031985, 12/03/1985, 1985-03-12...)."""
    compact = _SEPARATORS_RE.sub("", password)
    birth = beneficiary.birth_date
    found = []
    if beneficiary.cpf and beneficiary.cpf in compact:
        found.append("A senha não pode conter o seu CPF.")
    if beneficiary.card_number in compact:
        found.append("A senha não pode conter o número da sua carteirinha.")
    if any(form in compact for form in (f"{birth:%d%m%Y}", f"{birth:%Y%m%d}")):
        found.append("A senha não pode conter a sua data de nascimento.")
    return found


async def recent_password_hashes(session: AsyncSession, account_id: int) -> list[str]:
    rows = await session.execute(
        select(PasswordHistory.password_hash)
        .where(PasswordHistory.account_id == account_id)
        .order_by(PasswordHistory.created_at.desc(), PasswordHistory.id.desc())
        .limit(HISTORY_SIZE)
    )
    return list(rows.scalars())


async def new_password_problems(
    policy: PasswordPolicy, beneficiary: Beneficiary, password: str, confirmation: str, recent_hashes: list[str]
) -> list[str]:
    """Every reason to refuse `password`, in pt-BR. Call it outside any transaction: it runs bcrypt."""
    problems = policy.violations(password) + personal_data_violations(password, beneficiary)
    if password != confirmation:
        problems.append(MISMATCH)
    if not problems and recent_hashes:
        matches = await asyncio.gather(*(verify_password(password, hashed) for hashed in recent_hashes))
        if any(matches):
            problems.append(REUSED)
    return problems


async def store_password(session: AsyncSession, account: Account, password_hash: str) -> None:
    """Sets a chosen password and keeps it in the history (the caller commits)."""
    account.password_hash = password_hash
    account.must_change_password = False
    account.failed_logins, account.locked_until = 0, None
    session.add(PasswordHistory(account_id=account.id, password_hash=password_hash))
    await session.flush()
    keep = (
        select(PasswordHistory.id)
        .where(PasswordHistory.account_id == account.id)
        .order_by(PasswordHistory.created_at.desc(), PasswordHistory.id.desc())
        .limit(HISTORY_SIZE)
    )
    await session.execute(
        delete(PasswordHistory)
        .where(PasswordHistory.account_id == account.id, PasswordHistory.id.not_in(keep))
        .execution_options(synchronize_session=False)
    )

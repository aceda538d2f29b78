"""Single-use links (account activation, password change, e-mail confirmation).

The token goes only into the link; the database keeps its SHA-256. Issuing a link voids the
unused links of the same purpose for the same beneficiary, so only the newest one works.
"""

from __future__ import annotations

import enum
import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.clock import utcnow
from backend.models import AccountLink

ACTIVATION = "activation"
PASSWORD_CHANGE = "password_change"  # noqa: S105 (a link kind, not a password)
EMAIL_CHANGE = "email_change"

PATHS = {ACTIVATION: "/conta/ativar", PASSWORD_CHANGE: "/conta/alterar-senha", EMAIL_CHANGE: "/conta/confirmar-email"}
TTL = {ACTIVATION: timedelta(hours=24), PASSWORD_CHANGE: timedelta(minutes=15), EMAIL_CHANGE: timedelta(hours=24)}


class LinkState(enum.Enum):
    VALID = "valid"
    EXPIRED = "expired"  # also: replaced by a newer link
    USED = "used"
    UNKNOWN = "unknown"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def link_url(public_base_url: str, purpose: str, token: str) -> str:
    return f"{public_base_url.rstrip('/')}{PATHS[purpose]}/{token}"


async def issue_link(
    session: AsyncSession,
    purpose: str,
    beneficiary_id: int,
    *,
    email: str | None = None,
    protocol_number: str | None = None,
) -> str:
    """Adds the link (the caller commits) and returns its token."""
    now = utcnow()
    await session.execute(
        update(AccountLink)
        .where(
            AccountLink.beneficiary_id == beneficiary_id,
            AccountLink.purpose == purpose,
            AccountLink.used_at.is_(None),
            AccountLink.expires_at > now,
        )
        .values(expires_at=now)
    )
    token = secrets.token_urlsafe(32)
    session.add(
        AccountLink(
            token_hash=_hash(token),
            purpose=purpose,
            beneficiary_id=beneficiary_id,
            email=email,
            protocol_number=protocol_number,
            created_at=now,
            expires_at=now + TTL[purpose],
        )
    )
    return token


async def find_link(session: AsyncSession, purpose: str, token: str) -> tuple[LinkState, AccountLink | None]:
    link = (
        await session.execute(
            select(AccountLink).where(AccountLink.token_hash == _hash(token), AccountLink.purpose == purpose)
        )
    ).scalar_one_or_none()
    if link is None:
        return LinkState.UNKNOWN, None
    if link.used_at is not None:
        return LinkState.USED, link
    if link.expires_at <= utcnow():
        return LinkState.EXPIRED, link
    return LinkState.VALID, link


async def use_link(session: AsyncSession, link: AccountLink) -> bool:
    """Marks the link used, atomically: False when it was used or expired meanwhile."""
    now = utcnow()
    result = await session.execute(
        update(AccountLink)
        .where(AccountLink.id == link.id, AccountLink.used_at.is_(None), AccountLink.expires_at > now)
        .values(used_at=now)
    )
    return result.rowcount == 1

"""Alterar e-mail, and every other way a new address could become the e-mail on file.

Why a waiting period the current address can cancel (and not an approval by that address)
------------------------------------------------------------------------------------------
The e-mail on file is what recovers an account: the temporary password of "esqueci minha senha"
and the activation link of the registration go to it. Whoever changes it owns the account, and
the identity check in front of the change (card, CPF, birth date, full name) is made of data that
leaks together. So a change of the e-mail on file never happens on that data alone:

1. the new address must prove it is reachable: a confirmation link (24 h) goes to it, and nothing
   changes until it is opened;
2. when there is an address on file, it gets a notice at once, with a link that cancels the
   change, and the change only happens EMAIL_CHANGE_WAIT (72 h, a weekend included) after the
   request — applied by the first login or identity check after that moment, in any backend
   process (apply_due_email_changes). Until then the old address keeps working and a repeated
   request starts over (the newest one replaces the older ones).

The alternative — the old address must approve the change — was rejected because the most common
reason to change the e-mail is having lost the old one (the chat offers the change exactly when
the user says the address on file is no longer theirs, on the way to a temporary password): an
approval would send all of them to the call centre, and an attacker who controls neither address
gets nothing from either design. With the wait, the real owner who still reads the old address
has 72 hours to press "cancelar"; the one who lost it only has to wait.

Without an address on file (persona Ana Beatriz Lima) there is nobody to warn: the change happens
when the new address confirms it (step 1 only). The registration of someone without an e-mail on
file is the same: its activation link goes to the typed address, and the address is stored only
when that link is used (backend.registration). A registration that types an address different
from the one on file does not send an activation link to it: it asks for this change instead.

Repeating the same request within rate_limits.REPEAT_WINDOW returns the same protocol and sends
nothing; the e-mails a beneficiary and a conversation can cause are rate-limited.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.clock import OPERATOR_TZ, utcnow
from backend.identity import confirm_extra_factor, same_name
from backend.links import EMAIL_CHANGE, issue_link, link_url, use_link
from backend.mail import Mailer, MailError, send_email_change_link, send_templated
from backend.models import AccountLink, Beneficiary, EmailChange, Protocol
from backend.operator_profile import OperatorProfile
from backend.protocols import fail_request, new_protocol, set_protocol_status
from backend.rate_limits import ACCOUNT_MAIL, REPEAT_WINDOW, DataKeys, claim_once, count_mail
from backend.refusals import Refusals
from common.pii import mask_email

KIND = "email_change"
EMAIL_CHANGE_WAIT = timedelta(hours=72)
CANCEL_PATH = "/conta/cancelar-troca-de-email"

log = logging.getLogger(__name__)


REFUSALS = Refusals(
    {
        "same_email": "Esse já é o e-mail do seu cadastro, então não é preciso trocar.",
        "email_in_use": "Esse e-mail já está no cadastro de outra pessoa. Informe outro e-mail.",
        "email_not_sent": "Não consegui enviar o e-mail de confirmação agora e nada mudou no seu cadastro. "
        "Tente de novo em alguns minutos.",
        "rate_limited": "{limit} {try_again}",
    }
)


@dataclass(frozen=True)
class EmailChangeResult:
    protocol: str
    new_email_masked: str
    effective_at: datetime | None  # None: no address on file, the confirmation is enough
    repeated: bool = False  # the same request was made moments ago: nothing was sent again

    @property
    def effective_text(self) -> str | None:
        return when_text(self.effective_at) if self.effective_at else None


def when_text(instant: datetime) -> str:
    """'02/12 às 14h35' in the operator's time zone."""
    local = instant.replace(tzinfo=timezone.utc).astimezone(OPERATOR_TZ)
    return f"{local:%d/%m} às {local:%H}h{local:%M}"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def cancel_url(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}{CANCEL_PATH}/{token}"


async def email_in_use(session: AsyncSession, email: str, beneficiary_id: int) -> bool:
    """True when another beneficiary has this e-mail (it is a login, so it must stay unique)."""
    query = (
        select(func.count())
        .select_from(Beneficiary)
        .where(func.lower(Beneficiary.email) == email.lower(), Beneficiary.id != beneficiary_id)
    )
    return (await session.execute(query)).scalar_one() > 0


@dataclass(frozen=True)
class MailServices:
    """What the use cases that e-mail a link need: the keys of the rate limits, the operator, the
    mailer and the backend's public address (the links' host)."""

    keys: DataKeys
    operator: OperatorProfile
    mailer: Mailer
    public_url: str


async def request_email_change(
    session: AsyncSession,
    beneficiary: Beneficiary,
    full_name: str,
    new_email: str,
    *,
    mail: MailServices,
    channel: str,
    conversation_id: str | None,
) -> EmailChangeResult:
    """The chat's "alterar e-mail": the full name first (a wrong one is a failed identity check:
    identity_not_confirmed, identity_locked, too_many_attempts); then schedule_email_change."""
    matches = same_name(full_name, beneficiary.name)
    await confirm_extra_factor(session, beneficiary, matches, conversation_id, keys=mail.keys)
    return await schedule_email_change(
        session, beneficiary, new_email, mail=mail, channel=channel, conversation_id=conversation_id
    )


async def schedule_email_change(
    session: AsyncSession,
    beneficiary: Beneficiary,
    new_email: str,
    *,
    mail: MailServices,
    channel: str,
    conversation_id: str | None,
) -> EmailChangeResult:
    """Records the change, e-mails the confirmation link to `new_email` and, when there is an
    address on file, the notice with the cancel link to it (see the module's docstring). What the
    links need is committed before any e-mail leaves. Refuses same_email, email_in_use,
    rate_limited or email_not_sent (then the change is void and the protocol ends as 'failed')."""
    new_email = new_email.lower()
    old_email = beneficiary.email
    if old_email and old_email.lower() == new_email:
        raise REFUSALS.refuse("same_email")
    if await email_in_use(session, new_email, beneficiary.id):
        raise REFUSALS.refuse("email_in_use")
    now = utcnow()
    first, claim = await claim_once(session, mail.keys, "email_change", beneficiary.id, new_email, now=now)
    if not first:  # the same request moments ago (a concurrent one waited for it to commit)
        previous = await _recent_change(session, beneficiary.id, new_email, now)
        if previous is not None:
            await session.commit()
            return EmailChangeResult(
                previous.protocol_number,
                mask_email(new_email),
                previous.effective_at if old_email else None,
                repeated=True,
            )
    await count_mail(
        session, mail.keys, ACCOUNT_MAIL, beneficiary.id, channel, conversation_id, refusals=REFUSALS, now=now
    )
    await _supersede_pending(session, beneficiary.id, now)
    new_email_masked = mask_email(new_email)
    protocol = await new_protocol(
        session,
        KIND,
        ans_registration=mail.operator.ans_registration,
        channel=channel,
        status="in_progress",
        beneficiary_id=beneficiary.id,
        conversation_id=conversation_id,
        details={"new_email_masked": new_email_masked},
    )
    cancel_token = secrets.token_urlsafe(32) if old_email else None
    effective_at = now + EMAIL_CHANGE_WAIT if old_email else now
    change = EmailChange(
        beneficiary_id=beneficiary.id,
        new_email=new_email,
        protocol_number=protocol.number,
        cancel_token_hash=_hash(cancel_token) if cancel_token else None,
        requested_at=now,
        effective_at=effective_at,
    )
    session.add(change)
    token = await issue_link(session, EMAIL_CHANGE, beneficiary.id, email=new_email, protocol_number=protocol.number)
    await session.commit()
    first_name = beneficiary.name.split()[0]
    try:
        if cancel_token is not None:  # there is an address on file to warn (it gets the cancel link)
            await send_pending_notice(
                mail.mailer,
                mail.operator,
                old_email,
                first_name,
                new_email_masked,
                protocol.number,
                when_text(effective_at),
                cancel_url(mail.public_url, cancel_token),
            )
        link = link_url(mail.public_url, EMAIL_CHANGE, token)
        await send_email_change_link(mail.mailer, mail.operator, new_email, first_name, link, protocol.number)
    except MailError:
        await session.execute(update(EmailChange).where(EmailChange.id == change.id).values(cancelled_at=utcnow()))
        await fail_request(session, protocol.number, claim)
        raise REFUSALS.refuse("email_not_sent") from None
    log.info(
        "e-mail change requested",
        extra={"protocol": protocol.number, "beneficiary_id": beneficiary.id, "waits": old_email is not None},
    )
    return EmailChangeResult(protocol.number, new_email_masked, effective_at if old_email else None)


async def _recent_change(
    session: AsyncSession, beneficiary_id: int, new_email: str, now: datetime
) -> EmailChange | None:
    return (
        await session.execute(
            select(EmailChange)
            .join(Protocol, Protocol.number == EmailChange.protocol_number)
            .where(
                EmailChange.beneficiary_id == beneficiary_id,
                EmailChange.new_email == new_email,
                EmailChange.requested_at > now - REPEAT_WINDOW,
                EmailChange.cancelled_at.is_(None),
                Protocol.status != "failed",
            )
            .order_by(EmailChange.requested_at.desc(), EmailChange.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()


async def _supersede_pending(session: AsyncSession, beneficiary_id: int, now: datetime) -> None:
    """Only the newest request counts: older pending changes end (their links are voided by
    issue_link)."""
    pending = (
        await session.execute(
            select(EmailChange.id, EmailChange.protocol_number).where(
                EmailChange.beneficiary_id == beneficiary_id,
                EmailChange.applied_at.is_(None),
                EmailChange.cancelled_at.is_(None),
            )
        )
    ).all()
    for change_id, protocol_number in pending:
        await session.execute(update(EmailChange).where(EmailChange.id == change_id).values(cancelled_at=now))
        await set_protocol_status(session, protocol_number, "cancelled")


async def send_pending_notice(
    mailer: Mailer,
    operator: OperatorProfile,
    to: str,
    first_name: str,
    new_email_masked: str,
    protocol: str,
    effective: str,
    url: str,
) -> None:
    values = {
        "first_name": first_name,
        "new_email_masked": new_email_masked,
        "protocol": protocol,
        "effective": effective,
        "cancel_url": url,
    }
    await send_templated(mailer, operator, to, "email_change_pending_notice", "pedido de troca do seu e-mail", **values)


# --- confirmation, cancellation, application -----------------------------------------------------


@dataclass(frozen=True)
class Confirmation:
    """What the confirmation page says (backend.web.account)."""

    applied: bool
    new_email_masked: str
    effective_at: datetime

    @property
    def title(self) -> str:
        return "E-mail atualizado!" if self.applied else "E-mail confirmado!"

    @property
    def paragraphs(self) -> list[str]:
        if self.applied:
            return [f"A partir de agora, as mensagens do plano vão para {self.new_email_masked}."]
        return [
            (
                f"Por segurança, a troca para {self.new_email_masked} vale a partir de "
                f"{when_text(self.effective_at)}. Até lá, o e-mail atual do cadastro continua valendo; "
                "ele recebeu um aviso e pode cancelar o pedido."
            ),
            "Você não precisa fazer mais nada.",
        ]


async def confirm_email_change(
    session: AsyncSession, link: AccountLink, beneficiary: Beneficiary
) -> Confirmation | None:
    """The new address opened its link: uses the link and marks the change confirmed; it is
    applied now if its wait is over (or there was none). None when the link was used, expired
    or its change was cancelled meanwhile."""
    change = (
        (
            await session.execute(select(EmailChange).where(EmailChange.protocol_number == link.protocol_number))
        ).scalar_one_or_none()
        if link.protocol_number
        else None
    )
    if change is None or change.cancelled_at is not None or change.applied_at is not None:
        await session.rollback()
        return None  # (a link issued before this design has no change to confirm: ask again)
    if not await use_link(session, link):
        await session.rollback()
        return None
    now = utcnow()
    confirmed = await session.execute(
        update(EmailChange)
        .where(EmailChange.id == change.id, EmailChange.cancelled_at.is_(None), EmailChange.applied_at.is_(None))
        .values(confirmed_at=now)
    )
    if confirmed.rowcount != 1:
        await session.rollback()
        return None
    applied = change.effective_at <= now and await _apply(session, change.id, now)
    await session.commit()
    log.info("e-mail change confirmed", extra={"protocol": change.protocol_number, "applied": applied})
    return Confirmation(applied, mask_email(change.new_email), change.effective_at)


class CancelOutcome:
    CANCELLED = "cancelled"
    ALREADY_CANCELLED = "already_cancelled"
    ALREADY_APPLIED = "already_applied"
    UNKNOWN = "unknown"


async def find_by_cancel_token(session: AsyncSession, token: str) -> EmailChange | None:
    return (
        await session.execute(select(EmailChange).where(EmailChange.cancel_token_hash == _hash(token)))
    ).scalar_one_or_none()


async def cancel_email_change(session: AsyncSession, token: str) -> str:
    """The address on file cancels a pending change (CancelOutcome); its links stop working."""
    change = await find_by_cancel_token(session, token)
    if change is None:
        await session.commit()
        return CancelOutcome.UNKNOWN
    now = utcnow()
    result = await session.execute(
        update(EmailChange)
        .where(EmailChange.id == change.id, EmailChange.applied_at.is_(None), EmailChange.cancelled_at.is_(None))
        .values(cancelled_at=now)
    )
    if result.rowcount != 1:
        await session.commit()
        await session.refresh(change)
        return CancelOutcome.ALREADY_APPLIED if change.applied_at else CancelOutcome.ALREADY_CANCELLED
    await set_protocol_status(session, change.protocol_number, "cancelled")
    await session.execute(
        update(AccountLink)
        .where(
            AccountLink.protocol_number == change.protocol_number,
            AccountLink.used_at.is_(None),
            AccountLink.expires_at > now,
        )
        .values(expires_at=now)
    )
    await session.commit()
    log.info("e-mail change cancelled by the address on file", extra={"protocol": change.protocol_number})
    return CancelOutcome.CANCELLED


async def apply_due_email_changes(session: AsyncSession, now: datetime | None = None) -> int:
    """Applies the confirmed changes whose wait is over (each once, whichever process gets it
    first) and commits. Returns how many were applied."""
    now = now or utcnow()
    due = (
        (
            await session.execute(
                select(EmailChange.id).where(
                    EmailChange.applied_at.is_(None),
                    EmailChange.cancelled_at.is_(None),
                    EmailChange.confirmed_at.is_not(None),
                    EmailChange.effective_at <= now,
                )
            )
        )
        .scalars()
        .all()
    )
    applied = 0
    for change_id in due:
        applied += await _apply(session, change_id, now)
    await session.commit()
    return applied


async def _apply(session: AsyncSession, change_id: int, now: datetime) -> bool:
    """In the caller's transaction: marks the change applied (atomically) and sets the e-mail."""
    result = await session.execute(
        update(EmailChange)
        .where(EmailChange.id == change_id, EmailChange.applied_at.is_(None), EmailChange.cancelled_at.is_(None))
        .values(applied_at=now)
    )
    if result.rowcount != 1:
        return False
    change = (await session.execute(select(EmailChange).where(EmailChange.id == change_id))).scalar_one()
    if await email_in_use(session, change.new_email, change.beneficiary_id):  # taken meanwhile
        await session.execute(
            update(EmailChange).where(EmailChange.id == change_id).values(applied_at=None, cancelled_at=now)
        )
        await set_protocol_status(session, change.protocol_number, "failed")
        return False
    await session.execute(
        update(Beneficiary).where(Beneficiary.id == change.beneficiary_id).values(email=change.new_email)
    )
    await set_protocol_status(session, change.protocol_number, "completed")
    log.info("e-mail changed", extra={"beneficiary_id": change.beneficiary_id, "protocol": change.protocol_number})
    return True

"""Cadastro (first access): a pending account and an activation link by e-mail (24 h). The page of
the link sets the password and activates the account.

Where the activation link goes (backend.email_change explains the design):
- with an e-mail on file, always to it. A different address typed in the chat gets no activation
  link: it starts the change of the e-mail on file (confirmation by the new address, a notice with
  a cancel link to the current one, and a 72-hour wait); once the change is in, registering again
  sends the link to the new address, which is then the one on file;
- without an e-mail on file, to the typed address, and that address becomes the e-mail on file
  only when its link is used (opening it proves the address). Activation never replaces an e-mail
  on file: a link whose address is no longer the one on file does not activate.

The pending account and the link are committed before the e-mail leaves; the same request within
rate_limits.REPEAT_WINDOW (a double submit, "não chegou") returns the same protocol and sends
nothing; activation e-mails are rate-limited per beneficiary and per conversation.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend import email_change
from backend.account_passwords import store_password
from backend.clock import utcnow
from backend.email_change import MailServices, email_in_use, schedule_email_change
from backend.links import ACTIVATION, issue_link, link_url, use_link
from backend.mail import MailError, send_activation_link
from backend.models import ACTIVE, PENDING, Account, AccountLink, Beneficiary, Protocol
from backend.protocols import fail_request, new_protocol, set_protocol_status
from backend.rate_limits import ACCOUNT_MAIL, REPEAT_WINDOW, claim_once, count_mail
from backend.refusals import COMMON, Refusals, Refused
from common.pii import mask_email

KIND = "registration"

log = logging.getLogger(__name__)


REFUSALS = Refusals(
    {
        "already_registered": "Você já tem cadastro no aplicativo. Se não lembra a senha, posso ajudar a "
        'recuperar: é só pedir "esqueci minha senha".',
        "plan_cancelled": "Seu plano está cancelado, então não é possível fazer o cadastro no aplicativo. "
        "Para mais informações, ligue {central_24h}.",
        "email_in_use": email_change.REFUSALS["email_in_use"],
        "email_not_sent": "Não consegui enviar o e-mail de ativação agora. Tente de novo em alguns minutos.",
        "rate_limited": "{limit} {try_again}",
    }
)


@dataclass(frozen=True)
class RegistrationResult:
    protocol: str
    email_masked: str
    repeated: bool = False  # the same request moments ago: same protocol, nothing sent again
    # a typed address other than the one on file: no activation link yet, the e-mail change of
    # this protocol must happen first (at `effective_at`, if confirmed and not cancelled)
    email_change_effective_at: datetime | None = None
    email_change_effective_text: str | None = None
    current_email_masked: str | None = None


async def register(
    session: AsyncSession,
    beneficiary: Beneficiary,
    email: str | None,
    *,
    mail: MailServices,
    channel: str,
    conversation_id: str | None,
) -> RegistrationResult:
    """`email`: the address typed in the chat, None when the user confirmed the one on file.
    Refuses plan_cancelled, already_registered, invalid_request (no address at all: `fields`),
    email_in_use, rate_limited or email_not_sent (then the protocol ends as 'failed')."""
    if beneficiary.status != ACTIVE:
        raise REFUSALS.refuse("plan_cancelled")
    account = beneficiary.account
    if account is not None and account.status == ACTIVE:
        raise REFUSALS.refuse("already_registered")
    on_file = beneficiary.email.lower() if beneficiary.email else None
    target = email.lower() if email else on_file
    if not target:
        raise COMMON.refuse("invalid_request", fields={"email": "Informe o e-mail: não há e-mail no seu cadastro."})
    if on_file and target != on_file:
        return await _change_email_first(
            session, beneficiary, target, mail=mail, channel=channel, conversation_id=conversation_id
        )
    if not on_file and await email_in_use(session, target, beneficiary.id):
        raise REFUSALS.refuse("email_in_use")

    now = utcnow()
    first, claim = await claim_once(session, mail.keys, "activation", beneficiary.id, target, now=now)
    if not first:  # the same request moments ago (a concurrent one waited for it to commit)
        previous = await _recent_activation(session, beneficiary.id, target, now)
        if previous is not None:
            await session.commit()
            return RegistrationResult(protocol=previous, email_masked=mask_email(target), repeated=True)
    await count_mail(
        session, mail.keys, ACCOUNT_MAIL, beneficiary.id, channel, conversation_id, refusals=REFUSALS, now=now
    )
    if account is None:
        session.add(Account(beneficiary_id=beneficiary.id, status=PENDING, password_hash=None))
    email_masked = mask_email(target)
    protocol = await new_protocol(
        session,
        KIND,
        ans_registration=mail.operator.ans_registration,
        channel=channel,
        beneficiary_id=beneficiary.id,
        conversation_id=conversation_id,
        details={"email_masked": email_masked},
    )
    token = await issue_link(session, ACTIVATION, beneficiary.id, email=target, protocol_number=protocol.number)
    await session.commit()  # the link works before the e-mail that carries it leaves
    try:
        await send_activation_link(
            mail.mailer,
            mail.operator,
            target,
            beneficiary.name.split()[0],
            link_url(mail.public_url, ACTIVATION, token),
            protocol.number,
        )
    except MailError:
        await fail_request(session, protocol.number, claim)
        raise REFUSALS.refuse("email_not_sent") from None
    log.info("activation link sent", extra={"protocol": protocol.number, "beneficiary_id": beneficiary.id})
    return RegistrationResult(protocol=protocol.number, email_masked=email_masked)


async def _change_email_first(
    session: AsyncSession, beneficiary: Beneficiary, new_email: str, **kwargs
) -> RegistrationResult:
    """A typed address other than the one on file: the pending account, and the e-mail change.
    Refuses like schedule_email_change (email_not_sent in this flow's words)."""
    if beneficiary.account is None:
        session.add(Account(beneficiary_id=beneficiary.id, status=PENDING, password_hash=None))
    try:
        change = await schedule_email_change(session, beneficiary, new_email, **kwargs)  # commits the account too
    except Refused as exc:
        if exc.code == "email_not_sent":
            raise REFUSALS.refuse("email_not_sent") from None
        raise
    return RegistrationResult(
        protocol=change.protocol,
        email_masked=change.new_email_masked,
        repeated=change.repeated,
        email_change_effective_at=change.effective_at,
        email_change_effective_text=change.effective_text,
        current_email_masked=mask_email(beneficiary.email),
    )


async def _recent_activation(session: AsyncSession, beneficiary_id: int, email: str, now: datetime) -> str | None:
    return (
        await session.execute(
            select(AccountLink.protocol_number)
            .join(Protocol, Protocol.number == AccountLink.protocol_number)
            .where(
                AccountLink.purpose == ACTIVATION,
                AccountLink.beneficiary_id == beneficiary_id,
                func.lower(AccountLink.email) == email,
                AccountLink.created_at > now - REPEAT_WINDOW,
                AccountLink.used_at.is_(None),
                Protocol.status != "failed",
            )
            .order_by(AccountLink.created_at.desc(), AccountLink.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()


async def activate(
    session: AsyncSession, link: AccountLink, account: Account, beneficiary: Beneficiary, password_hash: str
) -> bool:
    """Uses the link and activates the account; False (nothing changed) when the link was used or
    expired meanwhile, or its address is no longer the one on file (or is someone else's now)."""
    on_file = beneficiary.email.lower() if beneficiary.email else None
    link_email = (link.email or "").lower()
    if (on_file and link_email != on_file) or (
        not on_file and (not link_email or await email_in_use(session, link_email, beneficiary.id))
    ):
        await session.rollback()
        log.info("activation refused: the link's address is not the one on file", extra={"account_id": account.id})
        return False
    if not await use_link(session, link):
        await session.rollback()
        return False
    account.status = ACTIVE
    await store_password(session, account, password_hash)
    if not on_file:
        beneficiary.email = link_email  # the address proved itself by opening the link
    await set_protocol_status(session, link.protocol_number, "completed")
    await session.commit()
    log.info("account activated", extra={"account_id": account.id, "protocol": link.protocol_number})
    return True

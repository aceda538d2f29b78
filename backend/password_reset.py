"""'Esqueci minha senha': identity check, temporary password by e-mail, protocol.

Order of a reset: the temporary password is hashed (bcrypt, outside any transaction); then, in one
transaction, the beneficiary's reset is claimed (rate_limits.claim_once), the limits are counted,
the protocol is created and the new hash stored — committed before the e-mail leaves, so the
password in the e-mail always works. A repeat within rate_limits.REPEAT_WINDOW (a double submit,
two taps on "sim") waits for the first one's commit, gets its protocol and sends nothing: one
e-mail, one password. If the e-mail cannot be sent, the previous password is put back (unless it
was changed meanwhile) and the protocol ends as 'failed'.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.clock import utcnow
from backend.mail import Mailer, MailError, send_temporary_password
from backend.models import ACTIVE, Account, Beneficiary, Protocol
from backend.operator_profile import OperatorProfile
from backend.passwords import hash_password
from backend.protocols import fail_request, new_protocol
from backend.rate_limits import REPEAT_WINDOW, RESET_MAIL, DataKeys, claim_once, count_mail
from backend.refusals import Refusals
from common.pii import mask_email

KIND = "password_reset"

log = logging.getLogger(__name__)


REFUSALS = Refusals(
    {
        "plan_cancelled": "Seu plano está cancelado, então não é possível recuperar a senha por aqui. "
        "Para mais informações, ligue {central_24h}.",
        "no_account": "Você ainda não tem cadastro no aplicativo. Faça o seu primeiro acesso pela opção Cadastro.",
        "no_email_on_file": "Confirmei seus dados, mas não há e-mail no seu cadastro, e a senha temporária "
        "só pode ser enviada por e-mail. Para cadastrar um e-mail, ligue para o setor de cadastro: "
        '{cadastro}, ou escreva "atendente".',
        "rate_limited": "{limit} {try_again} Se a senha temporária já chegou, use a do e-mail mais recente.",
        "email_not_sent": "Não consegui enviar o e-mail agora e sua senha não foi alterada. "
        "Tente de novo em alguns minutos.",
    }
)


@dataclass(frozen=True)
class ResetResult:
    protocol: str
    email_masked: str
    repeated: bool = False  # the same request moments ago: same protocol, no new password


async def reset_password(
    session: AsyncSession,
    beneficiary: Beneficiary,
    *,
    keys: DataKeys,
    operator: OperatorProfile,
    mailer: Mailer,
    bcrypt_rounds: int,
    channel: str,
    conversation_id: str | None,
) -> ResetResult:
    """For a beneficiary whose identity was already verified. Refuses plan_cancelled, no_account,
    no_email_on_file, rate_limited or email_not_sent (see the module's docstring)."""
    account = beneficiary.account
    if beneficiary.status != ACTIVE:
        raise REFUSALS.refuse("plan_cancelled")
    if account is None or account.status != ACTIVE:
        raise REFUSALS.refuse("no_account")
    if not beneficiary.email:
        raise REFUSALS.refuse("no_email_on_file")
    email_masked = mask_email(beneficiary.email)

    previous = await _recent_reset(session, beneficiary.id, utcnow())  # a repeat needs no bcrypt
    await session.commit()  # end the reads: no database lock is held while bcrypt runs
    if previous is not None:
        return ResetResult(previous, email_masked, repeated=True)
    password = operator.password_policy.generate_temporary()
    password_hash = await hash_password(password, bcrypt_rounds)

    now = utcnow()
    first, claim = await claim_once(session, keys, "password_reset", beneficiary.id, now=now)
    if not first:  # a concurrent request got here first: it has committed by now
        previous = await _recent_reset(session, beneficiary.id, now)
        if previous is not None:
            await session.commit()
            return ResetResult(previous, email_masked, repeated=True)
    await count_mail(session, keys, RESET_MAIL, beneficiary.id, channel, conversation_id, refusals=REFUSALS, now=now)
    old_hash, old_must_change = (
        await session.execute(
            select(Account.password_hash, Account.must_change_password).where(Account.id == account.id)
        )
    ).one()
    protocol = await new_protocol(
        session,
        KIND,
        ans_registration=operator.ans_registration,
        channel=channel,
        status="completed",
        beneficiary_id=beneficiary.id,
        conversation_id=conversation_id,
        details={"email_masked": email_masked},
    )
    await session.execute(
        update(Account)
        .where(Account.id == account.id)
        .values(password_hash=password_hash, must_change_password=True, failed_logins=0, locked_until=None)
    )
    await session.commit()  # the password works before the e-mail that carries it leaves
    try:
        await send_temporary_password(
            mailer, operator, beneficiary.email, beneficiary.name.split()[0], password, protocol.number
        )
    except MailError:
        await session.execute(
            update(Account)
            .where(Account.id == account.id, Account.password_hash == password_hash)
            .values(password_hash=old_hash, must_change_password=old_must_change)
        )
        await fail_request(session, protocol.number, claim)
        raise REFUSALS.refuse("email_not_sent") from None
    log.info("temporary password sent", extra={"protocol": protocol.number, "account_id": account.id})
    return ResetResult(protocol=protocol.number, email_masked=email_masked)


async def _recent_reset(session: AsyncSession, beneficiary_id: int, now: datetime) -> str | None:
    return (
        await session.execute(
            select(Protocol.number)
            .where(
                Protocol.kind == KIND,
                Protocol.beneficiary_id == beneficiary_id,
                Protocol.status == "completed",
                Protocol.created_at > now - REPEAT_WINDOW,
            )
            .order_by(Protocol.created_at.desc(), Protocol.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()

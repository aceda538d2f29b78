"""Outgoing e-mail: a Maildir under VAR_DIR (default) or a real SMTP server, plus the templates."""

from __future__ import annotations

import asyncio
import logging
import mailbox
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid, parseaddr
from html import escape
from pathlib import Path
from string import Template

import aiosmtplib

from backend.operator_profile import OperatorProfile
from backend.settings import Settings
from common.pii import mask_email

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
SMTP_TIMEOUT_S = 20

log = logging.getLogger(__name__)


class MailError(RuntimeError):
    """The message could not be delivered to the mail backend."""


class Mailer:
    def __init__(self, settings: Settings, sender_name: str) -> None:
        self._settings = settings
        name, address = parseaddr(settings.mail_from)
        self._from = formataddr((name or sender_name, address))

    async def send_mail(self, to: str, subject: str, text: str, html: str) -> None:
        message = self._build(to, subject, text, html)
        try:
            if self._settings.mail_backend == "smtp":
                await self._send_smtp(message)
            else:
                await asyncio.get_running_loop().run_in_executor(None, self._store_maildir, message)
        except (OSError, aiosmtplib.SMTPException) as exc:
            raise MailError(f"could not send mail via {self._settings.mail_backend}: {exc}") from exc
        log.info("mail sent", extra={"to": mask_email(to), "backend": self._settings.mail_backend})

    def _build(self, to: str, subject: str, text: str, html_body: str) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self._from
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=True)
        message["Message-ID"] = make_msgid()
        message.set_content(text)
        message.add_alternative(html_body, subtype="html")
        return message

    def _store_maildir(self, message: EmailMessage) -> None:
        mailbox.Maildir(self._settings.maildir, create=True).add(message)

    async def _send_smtp(self, message: EmailMessage) -> None:
        s = self._settings
        await aiosmtplib.send(
            message,
            hostname=s.smtp_host,
            port=s.smtp_port,
            username=s.smtp_user,
            password=s.smtp_password,
            start_tls=s.smtp_starttls,
            timeout=SMTP_TIMEOUT_S,
        )


def render(name: str, **values: str) -> tuple[str, str]:
    """Fills templates/<name>.txt and .html; values are HTML-escaped in the HTML part."""
    text = Template((TEMPLATES_DIR / f"{name}.txt").read_text(encoding="utf-8")).substitute(values)
    escaped = {key: escape(value) for key, value in values.items()}
    html_body = Template((TEMPLATES_DIR / f"{name}.html").read_text(encoding="utf-8")).substitute(escaped)
    return text, html_body


def _operator_values(operator: OperatorProfile) -> dict[str, str]:
    return {
        "operator": operator.name,
        "short_name": operator.short_name,
        "central_phone": operator.phones["central_24h"],
        "policy": operator.password_policy.description,
    }


async def send_templated(
    mailer: Mailer, operator: OperatorProfile, to: str, template: str, subject: str, **values: str
) -> None:
    """templates/<template>.txt and .html filled with `values` and the operator's (name, phones,
    password policy), sent to `to` as "<the operator's short name>: <subject>"."""
    text, html_body = render(template, **values, **_operator_values(operator))
    await mailer.send_mail(to, f"{operator.short_name}: {subject}", text, html_body)


async def send_temporary_password(
    mailer: Mailer, operator: OperatorProfile, to: str, first_name: str, password: str, protocol: str
) -> None:
    values = {"first_name": first_name, "password": password, "protocol": protocol}
    await send_templated(mailer, operator, to, "temporary_password", "sua senha temporária", **values)


async def send_activation_link(
    mailer: Mailer, operator: OperatorProfile, to: str, first_name: str, url: str, protocol: str
) -> None:
    values = {"first_name": first_name, "url": url, "protocol": protocol}
    await send_templated(mailer, operator, to, "activation", "ative o seu cadastro", **values)


async def send_email_change_link(
    mailer: Mailer, operator: OperatorProfile, to: str, first_name: str, url: str, protocol: str
) -> None:
    values = {"first_name": first_name, "url": url, "protocol": protocol}
    await send_templated(mailer, operator, to, "email_change_confirm", "confirme o seu novo e-mail", **values)


async def send_email_change_notice(
    mailer: Mailer, operator: OperatorProfile, to: str, first_name: str, new_email: str, protocol: str
) -> None:
    values = {"first_name": first_name, "new_email_masked": mask_email(new_email), "protocol": protocol}
    await send_templated(mailer, operator, to, "email_change_notice", "pedido de troca do seu e-mail", **values)

"""Masking of personal data (LGPD) for logs and for any text echoed back to a user.

CPF  -> ***.807.302-**        e-mail -> m***@exemplo.com.br
birth date -> **/**/1985      phone  -> +55 79 *****-0001
"""
from __future__ import annotations

import logging
import re

from common.patterns import CPF_RE as _CPF_RE
from common.patterns import EMAIL_RE as _EMAIL_RE
from common.patterns import ISO_DATE_RE as _ISO_DATE_RE
from common.patterns import NUMERIC_DATE_RE as _DATE_RE

_PHONE_RE = re.compile(r"(?<!\d)(\+?55\s?)?\(?(\d{2})\)?[\s-]?9?\d{4}-(\d{4})(?!\d)")
_E164_BR_RE = re.compile(r"\+55(\d{2})\d{4,5}(\d{4})(?!\d)")


def only_digits(value: str) -> str:
    return re.sub(r"\D", "", value or "")


def mask_cpf(cpf: str) -> str:
    """'945.807.302-24' or '94580730224' -> '***.807.302-**'."""
    digits = only_digits(cpf)
    if len(digits) != 11:
        return "***"
    return f"***.{digits[3:6]}.{digits[6:9]}-**"


def mask_email(email: str) -> str:
    """'maria.santos@exemplo.com.br' -> 'm***@exemplo.com.br'."""
    if not email or "@" not in email:
        return "***"
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


def mask_birth_date(value: str) -> str:
    """Keeps only the year: '12/03/1985' or '1985-03-12' -> '**/**/1985'."""
    m = _ISO_DATE_RE.search(value or "")
    if m:
        return f"**/**/{m.group(1)}"
    m = _DATE_RE.search(value or "")
    if m:
        return f"**/**/{m.group(4)}"
    return "**/**/****"


def mask_phone(value: str) -> str:
    digits = only_digits(value)
    if len(digits) < 8:
        return "***"
    return f"*****-{digits[-4:]}"


def mask_text(text: str) -> str:
    """Masks every CPF, e-mail, date and phone found in free text (used on log lines)."""
    if not text:
        return text
    text = _EMAIL_RE.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", text)
    text = _CPF_RE.sub(lambda m: f"***.{m.group(2)}.{m.group(3)}-**", text)
    text = _ISO_DATE_RE.sub(lambda m: f"{m.group(1)}-**-**", text)
    text = _DATE_RE.sub(lambda m: f"**{m.group(2)}**{m.group(2)}{m.group(4)}", text)
    text = _PHONE_RE.sub(lambda m: f"{m.group(1) or ''}{m.group(2)} *****-{m.group(3)}", text)
    text = _E164_BR_RE.sub(lambda m: f"+55{m.group(1)}*****{m.group(2)}", text)
    return text


class PiiMaskingFilter(logging.Filter):
    """Rewrites every log record so no CPF, e-mail, date or phone reaches a log file."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not kill logging
            message = str(record.msg)
        record.msg = mask_text(message)
        record.args = None
        if record.exc_text:
            record.exc_text = mask_text(record.exc_text)
        return True

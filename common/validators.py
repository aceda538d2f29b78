"""Validation of the identifiers users type: card number, CPF, e-mail, birth date.

Each validator returns the normalised value or raises InvalidValue with a short pt-BR
message that says what is wrong and what to type.
"""
from __future__ import annotations

import re
from datetime import date

from validate_docbr import CPF as _CPF

from common.dates import has_numeric_date, parse_date_pt
from common.patterns import EMAIL_RE
from common.pii import only_digits

CARD_DIGITS = 12
MAX_AGE_YEARS = 130
_cpf = _CPF()


class InvalidValue(ValueError):
    """A value typed by the user that cannot be accepted; str(exc) is the pt-BR message."""


def normalize_card(value: str) -> str:
    raw = (value or "").strip()
    compact = re.sub(r"[\s.\-/]", "", raw)
    if re.search(r"[A-Za-z]", compact):
        raise InvalidValue(
            "O número da carteirinha tem só números (12 dígitos), sem letras. "
            "Confira no cartão e digite de novo, por exemplo: 100200300401."
        )
    digits = only_digits(compact)
    if len(digits) != CARD_DIGITS:
        raise InvalidValue(
            f"O número da carteirinha tem 12 dígitos e você digitou {len(digits)}. "
            "Confira no cartão e digite de novo, por exemplo: 100200300401."
        )
    return digits


def normalize_cpf(value: str) -> str:
    digits = only_digits(value)
    if len(digits) != 11:
        raise InvalidValue(
            f"O CPF tem 11 números e você digitou {len(digits)}. "
            "Digite de novo, com ou sem pontos: 123.456.789-09."
        )
    if not _cpf.validate(digits):
        raise InvalidValue(
            "Esse CPF não é válido: os dígitos verificadores não batem. "
            "Confira o número e digite de novo."
        )
    return digits


def normalize_email(value: str) -> str:
    email = (value or "").strip().strip(".,;").lower()
    if not EMAIL_RE.fullmatch(email):
        raise InvalidValue(
            "Esse e-mail não parece completo. Digite no formato nome@provedor.com.br."
        )
    return email


def normalize_birth_date(value: str, today: date | None = None) -> date:
    today = today or date.today()
    parsed = parse_date_pt(value, today=today, past=True)
    if parsed is None and has_numeric_date(value):
        raise InvalidValue(
            "Essa data não existe no calendário. Confira o dia e o mês e digite de novo, "
            "por exemplo: 12/03/1985."
        )
    if parsed is None:
        raise InvalidValue(
            "Não entendi essa data. Digite a data de nascimento como dia/mês/ano, "
            "por exemplo: 12/03/1985."
        )
    if parsed >= today:
        raise InvalidValue(
            "A data de nascimento precisa ser anterior a hoje. Confira e digite de novo, "
            "por exemplo: 12/03/1985."
        )
    if today.year - parsed.year > MAX_AGE_YEARS:
        raise InvalidValue(
            "Essa data está muito no passado. Confira o ano e digite de novo, por exemplo: 12/03/1985."
        )
    return parsed


def classify_login(value: str) -> tuple[str, str]:
    """A login is a card number or an e-mail: returns ('card'|'email', normalised value)."""
    if "@" in (value or ""):
        return "email", normalize_email(value)
    return "card", normalize_card(value)

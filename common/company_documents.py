"""What a company user types to identify the company (employer's side): the CNPJ — numeric or the
Receita Federal's alphanumeric one (12 of [0-9A-Z] + 2 check digits), with or without mask — the
company user's code (RH500101) and the company code (500100).

One place for the bot and the backend: the bot checks what was typed before asking the backend, so a
typo is said at once and in pt-BR; the backend checks the same way again.
"""

from __future__ import annotations

import re

from validate_docbr import CNPJ

from common.validators import InvalidValue

CNPJ_LENGTH = 14
_MASK_RE = re.compile(r"[\s.\-/]")
_SHAPE_RE = re.compile(r"[0-9A-Z]{12}[0-9]{2}")
# a CNPJ as typed, inside a message: 33.445.566/0001-86, 33445566000186, 12.ABC.345/01DE-35
CNPJ_IN_TEXT_RE = re.compile(
    r"(?<![0-9A-Za-z])[0-9A-Za-z]{2}\.?[0-9A-Za-z]{3}\.?[0-9A-Za-z]{3}/?[0-9A-Za-z]{4}-?\d{2}(?![0-9A-Za-z])"
)
# letters glued to the digits (RH500101): "faturas de 2025" holds no user code; "rh 500101" typed as the
# answer to the question is read whole (the validation drops the space)
USER_CODE_IN_TEXT_RE = re.compile(r"(?<![0-9A-Za-z])([A-Za-z]{2,4})(\d{4,10})(?![0-9A-Za-z])")
COMPANY_CODE_IN_TEXT_RE = re.compile(r"(?<![\d./-])(\d{4,10})(?![\d./-])")
_cnpj = CNPJ()
_CNPJ_HINT = "Digite o CNPJ da empresa (14 caracteres), por exemplo: 33.445.566/0001-86."
_USER_CODE_RE = re.compile(r"[A-Z]{0,4}[0-9]{4,10}")
_COMPANY_CODE_RE = re.compile(r"[0-9]{4,10}")


def normalize_cnpj(value: str) -> str:
    """'33.445.566/0001-86' -> '33445566000186'; '12.abc.345/01de-35' -> '12ABC34501DE35'."""
    compact = _MASK_RE.sub("", value or "").upper()
    if not compact:
        raise InvalidValue(_CNPJ_HINT)
    if len(compact) != CNPJ_LENGTH or not (compact.isascii() and compact.isalnum()):
        raise InvalidValue(f"Esse CNPJ não está completo. {_CNPJ_HINT}")
    if not _SHAPE_RE.fullmatch(compact):
        raise InvalidValue("Esse CNPJ não é válido: os dois últimos caracteres são sempre números.")
    if len(set(compact)) == 1 or not _cnpj.validate(compact):
        raise InvalidValue("Esse CNPJ não é válido: os dígitos verificadores não batem. Confira e digite de novo.")
    return compact


def format_cnpj(cnpj: str) -> str:
    """'33445566000186' -> '33.445.566/0001-86'."""
    return f"{cnpj[:2]}.{cnpj[2:5]}.{cnpj[5:8]}/{cnpj[8:12]}-{cnpj[12:]}"


def normalize_user_code(value: str) -> str:
    """'rh500101' -> 'RH500101'."""
    code = "".join((value or "").split()).upper()
    if not _USER_CODE_RE.fullmatch(code):
        raise InvalidValue("Digite o código de usuário do portal da empresa, por exemplo: RH500101.")
    return code


def normalize_company_code(value: str) -> str:
    """'500 100' -> '500100'."""
    code = "".join((value or "").split())
    if not _COMPANY_CODE_RE.fullmatch(code):
        raise InvalidValue("Digite o código da empresa (só números), por exemplo: 500100.")
    return code


def find_cnpj(text: str) -> str | None:
    """The first thing in `text` shaped like a CNPJ (validated later), as typed."""
    for match in CNPJ_IN_TEXT_RE.finditer(text or ""):
        compact = _MASK_RE.sub("", match.group(0))
        if sum(c.isdigit() for c in compact) >= 6:  # not a word with a few digits
            return match.group(0)
    return None


def find_user_code(text: str) -> str | None:
    """'meu usuario é rh500101' -> 'rh500101' (letters then digits)."""
    match = USER_CODE_IN_TEXT_RE.search(text or "")
    return match.group(1) + match.group(2) if match else None


def find_company_code(text: str) -> str | None:
    """'codigo da empresa 500100' -> '500100' (4 to 10 digits alone, not part of a CNPJ or a date)."""
    match = COMPANY_CODE_IN_TEXT_RE.search(text or "")
    return match.group(1) if match else None

"""The company's CNPJ as typed: 14 characters, numeric or the Receita Federal's alphanumeric one
(12 of [0-9A-Z] + 2 check digits), with or without mask."""

from __future__ import annotations

import re

from validate_docbr import CNPJ

from common.validators import InvalidValue

_MASK_RE = re.compile(r"[\s.\-/]")
_SHAPE_RE = re.compile(r"[0-9A-Z]{12}[0-9]{2}")
_cnpj = CNPJ()
_HINT = "Digite o CNPJ da empresa (14 caracteres), por exemplo: 33.445.566/0001-86."


def normalize_cnpj(value: str) -> str:
    """'33.445.566/0001-86' -> '33445566000186'; '12.abc.345/01de-35' -> '12ABC34501DE35'."""
    compact = _MASK_RE.sub("", value or "").upper()
    if not compact:
        raise InvalidValue(_HINT)
    if len(compact) != 14 or not (compact.isascii() and compact.isalnum()):
        raise InvalidValue(f"Esse CNPJ não está completo. {_HINT}")
    if not _SHAPE_RE.fullmatch(compact):
        raise InvalidValue("Esse CNPJ não é válido: os dois últimos caracteres são sempre números.")
    if len(set(compact)) == 1 or not _cnpj.validate(compact):
        raise InvalidValue("Esse CNPJ não é válido: os dígitos verificadores não batem. Confira e digite de novo.")
    return compact


def format_cnpj(cnpj: str) -> str:
    return f"{cnpj[:2]}.{cnpj[2:5]}.{cnpj[5:8]}/{cnpj[8:12]}-{cnpj[12:]}"


_USER_CODE_RE = re.compile(r"[A-Z]{0,4}[0-9]{4,10}")
_COMPANY_CODE_RE = re.compile(r"[0-9]{4,10}")


def normalize_user_code(value: str) -> str:
    """'rh500101' -> 'RH500101'."""
    code = "".join((value or "").split()).upper()
    if not _USER_CODE_RE.fullmatch(code):
        raise InvalidValue("Digite o código de usuário do portal da empresa, por exemplo: RH500101.")
    return code


def normalize_company_code(value: str) -> str:
    code = "".join((value or "").split())
    if not _COMPANY_CODE_RE.fullmatch(code):
        raise InvalidValue("Digite o código da empresa (só números), por exemplo: 500100.")
    return code

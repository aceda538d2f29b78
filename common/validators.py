"""Validation of the identifiers users type: card number, CPF, e-mail, birth date.

Each validator returns the normalised value or raises InvalidValue with a short pt-BR
message that says what is wrong and what to type.
"""

from __future__ import annotations

import re
from calendar import monthrange
from datetime import date
from decimal import Decimal

from validate_docbr import CNPJ as _CNPJ
from validate_docbr import CPF as _CPF

from common.clock import local_today
from common.dates import has_numeric_date, parse_date_pt
from common.money import format_brl
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
            f"O CPF tem 11 números e você digitou {len(digits)}. Digite de novo, com ou sem pontos: 123.456.789-09."
        )
    if not _cpf.validate(digits):
        raise InvalidValue(
            "Esse CPF não é válido: os dígitos verificadores não batem. Confira o número e digite de novo."
        )
    return digits


def normalize_email(value: str) -> str:
    email = (value or "").strip().strip(".,;").lower()
    if not EMAIL_RE.fullmatch(email):
        raise InvalidValue("Esse e-mail não parece completo. Digite no formato nome@provedor.com.br.")
    return email


def normalize_birth_date(value: str, today: date | None = None) -> date:
    today = today or local_today()
    parsed = parse_date_pt(value, today=today, past=True)
    if parsed is None and has_numeric_date(value):
        raise InvalidValue(
            "Essa data não existe no calendário. Confira o dia e o mês e digite de novo, por exemplo: 12/03/1985."
        )
    if parsed is None:
        raise InvalidValue(
            "Não entendi essa data. Digite a data de nascimento como dia/mês/ano, por exemplo: 12/03/1985."
        )
    if parsed >= today:
        raise InvalidValue(
            "A data de nascimento precisa ser anterior a hoje. Confira e digite de novo, por exemplo: 12/03/1985."
        )
    if today.year - parsed.year > MAX_AGE_YEARS:
        raise InvalidValue("Essa data está muito no passado. Confira o ano e digite de novo, por exemplo: 12/03/1985.")
    return parsed


def classify_login(value: str) -> tuple[str, str]:
    """A login is a card number or an e-mail: returns ('card'|'email', normalised value)."""
    if "@" in (value or ""):
        return "email", normalize_email(value)
    return "card", normalize_card(value)


_FULL_NAME_RE = re.compile(r"^[A-Za-zÀ-ÿ' .-]+$")
_NAME_PREFIX_RE = re.compile(
    r"^(o nome (completo )?(dela|da minha m[aã]e) [eé]|meu nome( completo)? [eé]|"
    r"minha m[aã]e (se chama|[eé])|nome:?)\s+",
    re.IGNORECASE,
)


def normalize_full_name(value: str, example: str = "Maria Aparecida Santos") -> str:
    """A person's full name as typed ('meu nome é maria  santos' -> 'maria santos'): at least
    two words, letters only (accents, apostrophes and hyphens allowed)."""
    name = _NAME_PREFIX_RE.sub("", " ".join((value or "").split())).strip(" .")
    if len(name) > 160 or len(name.split()) < 2 or not _FULL_NAME_RE.match(name):
        raise InvalidValue(f"Preciso do nome completo, só com letras, como está no cadastro. Por exemplo: {example}.")
    return name


# --- Reimbursements: provider document, amount paid, date of service ---------------------------

CPF_DIGITS = 11
CNPJ_LENGTH = 14
MAX_REIMBURSEMENT_AMOUNT = Decimal("100000.00")
SERVICE_DATE_MAX_MONTHS = 12
_cnpj = _CNPJ()
_DOCUMENT_MASK_RE = re.compile(r"[\s.\-/]")
_CNPJ_SHAPE_RE = re.compile(r"[0-9A-Z]{12}[0-9]{2}")
_DOCUMENT_HINT = (
    "Digite o CPF (11 números) ou o CNPJ (14 caracteres) de quem atendeu, como está no "
    "recibo ou na nota fiscal, por exemplo: 12.345.678/0001-95."
)


def normalize_cpf_or_cnpj(value: str) -> str:
    """The provider's CPF (11 digits) or CNPJ (14 characters, numeric or the new alphanumeric one of
    the Receita Federal: 12 of [0-9A-Z] + 2 check digits), with or without mask; returns it bare and
    upper-case ('12.abc.345/01de-35' -> '12ABC34501DE35')."""
    compact = _DOCUMENT_MASK_RE.sub("", value or "").upper()
    if compact.isascii() and compact.isdigit() and len(compact) == CPF_DIGITS:
        if not _cpf.validate(compact):
            raise InvalidValue(
                "Esse CPF não é válido: os dígitos verificadores não batem. Confira no recibo e digite de novo."
            )
        return compact
    if len(compact) == CNPJ_LENGTH and compact.isascii() and compact.isalnum():
        if not _CNPJ_SHAPE_RE.fullmatch(compact):
            raise InvalidValue(
                "Esse CNPJ não é válido: os dois últimos caracteres são sempre números. "
                "Confira na nota fiscal e digite de novo."
            )
        if len(set(compact)) == 1 or not _cnpj.validate(compact):
            raise InvalidValue(
                "Esse CNPJ não é válido: os dígitos verificadores não batem. Confira na nota fiscal e digite de novo."
            )
        return compact
    if not compact:
        raise InvalidValue(_DOCUMENT_HINT)
    if not (compact.isascii() and compact.isalnum()):
        raise InvalidValue("O CPF e o CNPJ só têm números e letras (além de pontos, barra e traço). " + _DOCUMENT_HINT)
    raise InvalidValue(f"Você digitou {len(compact)} caracteres. " + _DOCUMENT_HINT)


_CURRENCY_WORDS_RE = re.compile(r"r\$|\breais\b|\breal\b|\brs\b", re.IGNORECASE)
_CENTS_RE = re.compile(r"^(?P<reais>.*?)\s*(?:\be\s+)?(?P<cents>\d{1,2})\s*centavos?$", re.IGNORECASE)
_THOUSANDS_DOT_RE = re.compile(r"\d{1,3}(\.\d{3})+")
_THOUSANDS_COMMA_RE = re.compile(r"\d{1,3}(,\d{3})+\.\d{1,2}")
_AMOUNT_EXAMPLE = "Digite só o valor, por exemplo: 150,00 ou R$ 1.250,00."


def normalize_amount(value: str | int | float | Decimal, maximum: Decimal = MAX_REIMBURSEMENT_AMOUNT) -> Decimal:
    """An amount in reais as people type it -> Decimal with cents.

    'R$ 1.250,00', '1250', '150 reais', '150,5', '150.50', '1.250' (thousands), '1,250.00',
    '150 reais e 50 centavos'. Must be > 0 and <= `maximum`; at most two decimal places.
    """
    if isinstance(value, bool):
        raise InvalidValue(_AMOUNT_EXAMPLE)
    if isinstance(value, (int, float, Decimal)):
        text = str(value)
    else:
        text = " ".join((value or "").split())
    cents = Decimal(0)
    match = _CENTS_RE.match(text)
    if match:
        cents = Decimal(match.group("cents")) / 100
        text = match.group("reais")
    number = _CURRENCY_WORDS_RE.sub("", text).replace(" ", "")
    if match and number == "":
        number = "0"
    if "," in number and "." in number:
        if _THOUSANDS_COMMA_RE.fullmatch(number):  # 1,250.00 (US style)
            number = number.replace(",", "")
        else:  # 1.250,00
            whole, _, fraction = number.rpartition(",")
            if not _THOUSANDS_DOT_RE.fullmatch(whole):
                raise InvalidValue(f"Não entendi esse valor. {_AMOUNT_EXAMPLE}")
            number = whole.replace(".", "") + "." + fraction
    elif "," in number:
        number = number.replace(",", ".")
    elif "." in number and _THOUSANDS_DOT_RE.fullmatch(number):
        number = number.replace(".", "")  # 1.250 = mil duzentos e cinquenta
    if not re.fullmatch(r"\d+(\.\d+)?", number):
        raise InvalidValue(f"Não entendi esse valor. {_AMOUNT_EXAMPLE}")
    if "." in number and len(number.split(".")[1]) > 2:
        raise InvalidValue(f"O valor tem no máximo dois dígitos de centavos. {_AMOUNT_EXAMPLE}")
    amount = (Decimal(number) + cents).quantize(Decimal("0.01"))
    if amount <= 0:
        raise InvalidValue(f"O valor precisa ser maior que zero. {_AMOUNT_EXAMPLE}")
    if amount > maximum:
        raise InvalidValue(
            f"O valor máximo por pedido é de {format_brl(maximum)}. Confira o valor pago e digite de novo."
        )
    return amount


def months_before(day: date, months: int) -> date:
    """The same day `months` months earlier (the month's last day when it has no such day)."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    return date(year, month + 1, min(day.day, monthrange(year, month + 1)[1]))


def normalize_service_date(value: str, today: date | None = None, max_months: int = SERVICE_DATE_MAX_MONTHS) -> date:
    """Date of a service already done: not in the future and at most `max_months` months ago."""
    today = today or local_today()
    parsed = parse_date_pt(value, today=today, past=True)
    if parsed is None and has_numeric_date(value):
        raise InvalidValue(
            "Essa data não existe no calendário. Confira o dia e o mês e digite de novo, por exemplo: 05/03/2026."
        )
    if parsed is None:
        raise InvalidValue(
            f"Não entendi essa data. Digite a data do atendimento como dia/mês/ano, por exemplo: {today:%d/%m/%Y}."
        )
    if parsed > today:
        raise InvalidValue("A data do atendimento não pode ser no futuro. Confira e digite de novo.")
    oldest = months_before(today, max_months)
    if parsed < oldest:
        raise InvalidValue(
            f"O reembolso pode ser pedido até {max_months} meses depois do atendimento "
            f"(atendimentos a partir de {oldest:%d/%m/%Y}). Esse atendimento passou do prazo."
        )
    return parsed

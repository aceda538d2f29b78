"""Provider CPF/CNPJ (numeric and the new alphanumeric CNPJ), amounts in reais, date of service."""

from datetime import date
from decimal import Decimal

import pytest

from common.validators import (
    InvalidValue,
    months_before,
    normalize_amount,
    normalize_cpf_or_cnpj,
    normalize_service_date,
)

TODAY = date(2026, 11, 23)


def receita_check_digits(base12: str) -> str:
    """The Receita Federal's rule, written here independently of the code under test: value of a
    character = ASCII code - 48; weights 2..9 from the right, cycling; remainder < 2 -> 0, else 11 - r."""

    def digit(chars: str) -> str:
        total = sum((ord(ch) - 48) * (2 + i % 8) for i, ch in enumerate(reversed(chars)))
        remainder = total % 11
        return "0" if remainder < 2 else str(11 - remainder)

    first = digit(base12)
    return first + digit(base12 + first)


def test_receita_published_example_has_check_digits_35():
    # "CNPJ alfanumérico" Q&A of the Receita Federal: 12.ABC.345/01DE-35.
    assert receita_check_digits("12ABC34501DE") == "35"
    # and the independent rule agrees with a well-known numeric CNPJ
    assert receita_check_digits("112223330001") == "81"


@pytest.mark.parametrize(
    "typed, normalised",
    [
        ("12.ABC.345/01DE-35", "12ABC34501DE35"),
        ("12ABC34501DE35", "12ABC34501DE35"),
        ("12.abc.345/01de-35", "12ABC34501DE35"),
        (" 12 ABC 345 01DE 35 ", "12ABC34501DE35"),
        ("11.222.333/0001-81", "11222333000181"),
        ("11222333000181", "11222333000181"),
        ("945.807.302-24", "94580730224"),  # a provider who is a person: CPF
        ("94580730224", "94580730224"),
    ],
)
def test_valid_provider_documents(typed, normalised):
    assert normalize_cpf_or_cnpj(typed) == normalised


@pytest.mark.parametrize("base", ["A1B2C3D4E5F6", "ZZZZZZZZ0001", "00ABCDEF0001"])
def test_alphanumeric_cnpj_with_receita_digits_is_accepted_and_one_wrong_digit_is_not(base):
    digits = receita_check_digits(base)
    assert normalize_cpf_or_cnpj(base + digits) == base + digits
    wrong = f"{(int(digits[1]) + 1) % 10}"
    with pytest.raises(InvalidValue, match="dígitos verificadores"):
        normalize_cpf_or_cnpj(base + digits[0] + wrong)


@pytest.mark.parametrize(
    "typed, says",
    [
        ("12.ABC.345/01DE-36", "CNPJ não é válido: os dígitos verificadores"),
        ("11.222.333/0001-82", "CNPJ não é válido: os dígitos verificadores"),
        ("00.000.000/0000-00", "CNPJ não é válido"),
        ("12.ABC.345/01DE-AB", "os dois últimos caracteres são sempre números"),
        ("945.807.302-25", "CPF não é válido"),
        ("111.111.111-11", "CPF não é válido"),
        ("12345", "Você digitou 5 caracteres"),
        ("", "CPF (11 números) ou o CNPJ (14 caracteres)"),
        ("12.ÁBC.345/01DE-35", "só têm números e letras"),
    ],
)
def test_invalid_provider_documents_say_what_is_wrong(typed, says):
    with pytest.raises(InvalidValue, match=says.replace("(", r"\(").replace(")", r"\)")):
        normalize_cpf_or_cnpj(typed)


@pytest.mark.parametrize(
    "typed, amount",
    [
        ("R$ 1.250,00", "1250.00"),
        ("R$1.250,00", "1250.00"),
        ("1250", "1250.00"),
        ("150 reais", "150.00"),
        ("150,5", "150.50"),
        ("150,50", "150.50"),
        ("150.50", "150.50"),
        ("1.250", "1250.00"),
        ("1,250.00", "1250.00"),
        ("150 reais e 50 centavos", "150.50"),
        ("R$ 0,99", "0.99"),
        ("R$ 100.000,00", "100000.00"),
        (150.5, "150.50"),
        (80, "80.00"),
    ],
)
def test_amounts_as_people_type_them(typed, amount):
    assert normalize_amount(typed) == Decimal(amount)


@pytest.mark.parametrize(
    "typed, says",
    [
        ("0", "maior que zero"),
        ("R$ 0,00", "maior que zero"),
        ("-10", "Não entendi"),
        ("cento e cinquenta", "Não entendi"),
        ("1.2.3", "Não entendi"),
        ("150,555", "dois dígitos de centavos"),
        ("R$ 100.000,01", "R$ 100.000,00"),
        ("", "Não entendi"),
    ],
)
def test_bad_amounts(typed, says):
    with pytest.raises(InvalidValue, match=says.replace("$", r"\$")):
        normalize_amount(typed)


def test_months_before_keeps_the_day_or_takes_the_month_end():
    assert months_before(date(2026, 11, 23), 12) == date(2025, 11, 23)
    assert months_before(date(2026, 3, 31), 1) == date(2026, 2, 28)
    assert months_before(date(2024, 2, 29), 12) == date(2023, 2, 28)
    assert months_before(date(2026, 1, 15), 13) == date(2024, 12, 15)


@pytest.mark.parametrize(
    "typed, expected",
    [
        ("23/11/2026", date(2026, 11, 23)),  # today
        ("ontem", date(2026, 11, 22)),
        ("2026-05-01", date(2026, 5, 1)),
        ("23/11/2025", date(2025, 11, 23)),  # exactly 12 months ago
    ],
)
def test_service_dates_accepted(typed, expected):
    assert normalize_service_date(typed, today=TODAY) == expected


@pytest.mark.parametrize(
    "typed, says",
    [
        ("24/11/2026", "não pode ser no futuro"),
        ("22/11/2025", "até 12 meses depois do atendimento"),
        ("23/10/2025", "a partir de 23/11/2025"),  # 13 months ago
        ("31/02/2026", "não existe no calendário"),
        ("semana que vem talvez", "não pode ser no futuro|Não entendi"),
    ],
)
def test_service_dates_refused(typed, says):
    with pytest.raises(InvalidValue, match=says):
        normalize_service_date(typed, today=TODAY)

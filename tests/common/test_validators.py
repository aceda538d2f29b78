from datetime import date, timedelta

import pytest

from common.clock import local_today
from common.validators import (
    InvalidValue,
    classify_login,
    normalize_birth_date,
    normalize_card,
    normalize_cpf,
    normalize_email,
)

TODAY = local_today()  # the dates below are relative to the day the tests run, as the assistant's are


@pytest.mark.parametrize("typed", ["945.807.302-24", "94580730224", " 945 807 302 24 ", "945807302-24"])
def test_cpf_accepts_any_common_mask(typed):
    assert normalize_cpf(typed) == "94580730224"


@pytest.mark.parametrize(
    "typed, says",
    [
        ("945.807.302-25", "dígitos verificadores"),
        ("111.111.111-11", "dígitos verificadores"),
        ("945.807.302", "você digitou 9"),
        ("", "você digitou 0"),
    ],
)
def test_cpf_rejections_say_what_is_wrong(typed, says):
    with pytest.raises(InvalidValue, match=says):
        normalize_cpf(typed)


@pytest.mark.parametrize("typed", ["100200300401", "1002 0030 0401", "1002.0030.0401"])
def test_card_accepts_12_digits_with_separators(typed):
    assert normalize_card(typed) == "100200300401"


@pytest.mark.parametrize(
    "typed, says",
    [("10020030040A", "sem letras"), ("10020030040", "você digitou 11"), ("1002003004011", "você digitou 13")],
)
def test_card_rejections(typed, says):
    with pytest.raises(InvalidValue, match=says):
        normalize_card(typed)


@pytest.mark.parametrize(
    "typed",
    [
        "12/03/1985",
        "12/03/85",
        "12-03-1985",
        "12.03.1985",
        "12031985",
        "1985-03-12",
        "12 de março de 1985",
        "12 de marco de 1985",
        "nasci em 12/03/1985",
    ],
)
def test_birth_date_common_brazilian_formats(typed):
    assert normalize_birth_date(typed, today=TODAY) == date(1985, 3, 12)


def test_two_digit_year_never_lands_in_the_future():
    fourteen_years_ago, in_four_years = TODAY.year - 14, TODAY.year + 4
    assert normalize_birth_date(f"30/07/{fourteen_years_ago % 100:02d}", today=TODAY) == date(fourteen_years_ago, 7, 30)
    # in four years, this century: so a hundred years earlier
    assert normalize_birth_date(f"30/07/{in_four_years % 100:02d}", today=TODAY) == date(in_four_years - 100, 7, 30)


def test_the_default_day_is_the_operators_today():
    assert normalize_birth_date(f"{TODAY - timedelta(days=1):%d/%m/%Y}") == TODAY - timedelta(days=1)
    with pytest.raises(InvalidValue, match="anterior a hoje"):
        normalize_birth_date(f"{TODAY:%d/%m/%Y}")


@pytest.mark.parametrize(
    "typed, says",
    [
        ("31/02/1990", "não existe"),
        (f"01/01/{TODAY.year + 4}", "anterior a hoje"),
        (f"{TODAY + timedelta(days=1):%d/%m/%Y}", "anterior a hoje"),
        (f"{TODAY:%d/%m/%Y}", "anterior a hoje"),
        ("01/01/1850", "muito no passado"),
        ("sei la", "Não entendi"),
    ],
)
def test_birth_date_rejections(typed, says):
    with pytest.raises(InvalidValue, match=says):
        normalize_birth_date(typed, today=TODAY)


def test_login_is_card_or_email():
    assert classify_login("Maria.Santos@Exemplo.com.br") == ("email", "maria.santos@exemplo.com.br")
    assert classify_login("100200300401") == ("card", "100200300401")
    with pytest.raises(InvalidValue, match="e-mail"):
        normalize_email("maria@exemplo")


def test_no_cpf_or_card_inside_a_longer_word():
    from common.patterns import find_card, find_cpf

    assert find_cpf("20030040050I") is None and find_card("200300400501X") is None
    assert find_cpf("cpf: 945.807.302-24") == "945.807.302-24"
    assert find_card("cartão 1002 0030 0401") == "1002 0030 0401"

"""FEBRABAN bank-slip (boleto de cobrança) barcode and *linha digitável*, as pure functions.

Barcode, 44 digits:
    bank (3) | currency 9 (1) | general check digit (1) | due-date factor (4) | amount in cents (10)
    | free field (25, the bank's layout)
Linha digitável, 47 digits, in five fields:
    1: bank + currency + free field[0:5] + DV (mod 10)      -> "BBBMC.CCCCD"
    2: free field[5:15] + DV (mod 10)                        -> "CCCCC.CCCCCD"
    3: free field[15:25] + DV (mod 10)                       -> "CCCCC.CCCCCD"
    4: the barcode's general check digit                     -> "D"
    5: due-date factor + amount                              -> "FFFFVVVVVVVVVV"

The due-date factor counts days from 07/10/1997 (factor 1000 = 03/07/2000). It reached 9999 on
21/02/2025 and restarted at 1000 on 22/02/2025 (FEBRABAN's 2025 factor reset), repeating every
9000 days.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

BASE_DATE = date(1997, 10, 7)
RESET_DATE = date(2025, 2, 22)  # factor back to 1000 (the day after 9999 = 21/02/2025)
FACTOR_MIN, FACTOR_CYCLE = 1000, 9000
CURRENCY_REAL = "9"
MAX_AMOUNT_CENTS = 10**10 - 1


class InvalidSlipCode(ValueError):
    pass


def due_date_factor(due: date) -> int:
    """Four-digit due-date factor, with the 22/02/2025 restart."""
    if due < RESET_DATE:
        factor = (due - BASE_DATE).days
        if factor < FACTOR_MIN:
            raise InvalidSlipCode(f"due date {due} is before the first factor date (03/07/2000)")
        return factor
    return FACTOR_MIN + (due - RESET_DATE).days % FACTOR_CYCLE


def due_date_from_factor(factor: int, *, near: date) -> date:
    """The due date of `factor` in the factor cycle closest to `near` (a factor repeats every 9000 days)."""
    if not FACTOR_MIN <= factor <= 9999:
        raise InvalidSlipCode(f"factor out of range: {factor}")
    candidates = [BASE_DATE + timedelta(days=factor)]
    candidates += [RESET_DATE + timedelta(days=factor - FACTOR_MIN + FACTOR_CYCLE * cycle) for cycle in range(3)]
    return min(candidates, key=lambda day: abs((day - near).days))


def mod10(digits: str) -> int:
    """Check digit of a linha digitável field: weights 2, 1, 2, … from the right; the digits of
    each product are summed; DV = 10 - (sum mod 10), and 10 becomes 0."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        product = int(char) * (2 if position % 2 == 0 else 1)
        total += product // 10 + product % 10
    return (10 - total % 10) % 10


def mod11(digits: str) -> int:
    """General check digit of the barcode (over its 43 other digits): weights 2..9 repeating from
    the right; DV = 11 - (sum mod 11), and 0, 10 or 11 become 1."""
    total = sum(int(char) * (2 + position % 8) for position, char in enumerate(reversed(digits)))
    digit = 11 - total % 11
    return 1 if digit in (0, 10, 11) else digit


def amount_in_cents(amount: Decimal) -> int:
    cents = int((Decimal(amount) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    if not 0 <= cents <= MAX_AMOUNT_CENTS:
        raise InvalidSlipCode(f"amount out of range: {amount}")
    return cents


def barcode(bank_code: str, due: date, amount: Decimal, free_field: str, currency: str = CURRENCY_REAL) -> str:
    """The 44-digit barcode."""
    if not re.fullmatch(r"\d{3}", bank_code):
        raise InvalidSlipCode("bank code must have 3 digits")
    if not re.fullmatch(r"\d{25}", free_field):
        raise InvalidSlipCode("free field must have 25 digits")
    tail = f"{due_date_factor(due):04d}{amount_in_cents(amount):010d}{free_field}"
    head = bank_code + currency
    return f"{head}{mod11(head + tail)}{tail}"


def linha_digitavel(code: str) -> str:
    """The 47 digits of the linha digitável of a 44-digit barcode."""
    if not re.fullmatch(r"\d{44}", code):
        raise InvalidSlipCode("the barcode must have 44 digits")
    free = code[19:44]
    field1 = code[0:4] + free[0:5]
    field2 = free[5:15]
    field3 = free[15:25]
    return f"{field1}{mod10(field1)}{field2}{mod10(field2)}{field3}{mod10(field3)}{code[4]}{code[5:19]}"


def format_linha(digits: str) -> str:
    """'00190000090123456700400000321117213140000080400' -> '00190.00009 01234.567004 00000.321117 2 13140000080400'."""
    if not re.fullmatch(r"\d{47}", digits):
        raise InvalidSlipCode("the linha digitável must have 47 digits")
    d = digits
    return f"{d[0:5]}.{d[5:10]} {d[10:15]}.{d[15:21]} {d[21:26]}.{d[26:32]} {d[32]} {d[33:47]}"


def barcode_from_linha(linha: str) -> str:
    """The barcode a (formatted or raw) linha digitável encodes; every check digit is verified."""
    d = re.sub(r"[\s.]", "", linha)
    if not re.fullmatch(r"\d{47}", d):
        raise InvalidSlipCode("the linha digitável must have 47 digits")
    for field, dv in ((d[0:9], d[9]), (d[10:20], d[20]), (d[21:31], d[31])):
        if mod10(field) != int(dv):
            raise InvalidSlipCode("a field check digit does not match")
    code = d[0:4] + d[32] + d[33:47] + d[4:9] + d[10:20] + d[21:31]
    if mod11(code[:4] + code[5:]) != int(code[4]):
        raise InvalidSlipCode("the general check digit does not match")
    return code


def bb_free_field(convenio: str, sequence: int, carteira: str) -> str:
    """Banco do Brasil free field for a 7-digit convênio: '000000' + nosso número (convênio + 10-digit
    sequence, 17 digits) + carteira (2)."""
    if not re.fullmatch(r"\d{7}", convenio) or not re.fullmatch(r"\d{2}", carteira):
        raise InvalidSlipCode("BB convênio must have 7 digits and carteira 2")
    if not 0 <= sequence < 10**10:
        raise InvalidSlipCode("nosso número sequence must fit 10 digits")
    return f"000000{convenio}{sequence:010d}{carteira}"

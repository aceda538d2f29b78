"""FEBRABAN bank-slip codes, PIX BR Code and overdue charges, against independent published values
(never against this code's own output)."""

from datetime import date
from decimal import Decimal

import pytest

from backend.billing import febraban, pix
from backend.billing.charges import charge_on, effective_status

# Banco do Brasil, carteira 11/019, convênio 1234567 (7 digits), from the BoletoNetCore test suite:
# github.com/EvertonJSilva/BoletoNetCore, BoletoNetCore.Testes/Bancos/Brasil/Carteiras/
# BancoBrasilCarteira11_019Tests.cs (commit 09515d4) - due dates after the 2025 factor reset.
# (amount, nosso número, due date, barcode, linha digitável)
BB_2026 = [
    (
        "200",
        "00000000000000000",
        date(2026, 12, 25),  # the vector with an empty nosso número
        "00191167100000200000000000000000000000000011",
        "00190.00009 00000.000000 00000.000117 1 16710000020000",
    ),
    (
        "804",
        "12345670000000321",
        date(2026, 1, 2),
        "00192131400000804000000001234567000000032111",
        "00190.00009 01234.567004 00000.321117 2 13140000080400",
    ),
    (
        "791",
        "12345679999999901",
        date(2026, 3, 10),
        "00194138100000791000000001234567999999990111",
        "00190.00009 01234.567996 99999.901111 4 13810000079100",
    ),
    (
        "800",
        "12345670000000001",
        date(2026, 2, 28),
        "00197137100000800000000001234567000000000111",
        "00190.00009 01234.567004 00000.001115 7 13710000080000",
    ),
    (
        "220.58",
        "12345670000000003",
        date(2026, 5, 24),
        "00199145600000220580000001234567000000000311",
        "00190.00009 01234.567004 00000.003111 9 14560000022058",
    ),
    (
        "350",
        "12345670047850002",
        date(2026, 12, 30),
        "00191167600000350000000001234567004785000211",
        "00190.00009 01234.567004 47850.002115 1 16760000035000",
    ),
]
# Before the reset: pyboleto (github.com/eduardocereto/pyboleto) tests/test_banco_do_brasil.py,
# BB convênio 7777777, nosso número 87654, carteira 18, due 08/03/2011, R$ 2.952,95.
BB_2011_LINHA = "00190.00009 07777.777009 00087.654182 6 49000000295295"
# pyboleto tests/test_banco_banrisul.py: Banrisul (041), due 04/07/2000 (factor 1001), R$ 5,50.
BANRISUL_LINHA = "04192.11107 29000.150226 83256.340593 8 10010000055000"
BANRISUL_BARCODE = "04198100100000550002111029000150228325634059"

# The example of the BCB "Manual de Padrões para Iniciação do Pix" (static BR Code, random key),
# quoted in many open-source Pix libraries' tests.
BCB_EXAMPLE = (
    "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-426655440000"
    "5204000053039865802BR5913Fulano de Tal6008BRASILIA62070503***63041D3D"
)


@pytest.mark.parametrize(
    ("day", "factor"),
    [
        (date(2000, 7, 3), 1000),  # the first 4-digit factor
        (date(2000, 7, 4), 1001),
        (date(2011, 3, 8), 4900),  # pyboleto BB vector
        (date(2025, 2, 21), 9999),  # the last day of the first cycle
        (date(2025, 2, 22), 1000),  # FEBRABAN reset: back to 1000
        (date(2025, 2, 23), 1001),
        (date(2026, 1, 2), 1314),  # BoletoNetCore 2026 vectors
        (date(2026, 12, 25), 1671),
    ],
)
def test_due_date_factor_with_the_2025_reset(day, factor):
    assert febraban.due_date_factor(day) == factor


def test_due_date_from_factor_picks_the_cycle_near_today():
    assert febraban.due_date_from_factor(1000, near=date(2026, 11, 23)) == date(2025, 2, 22)
    assert febraban.due_date_from_factor(1000, near=date(2001, 1, 1)) == date(2000, 7, 3)


@pytest.mark.parametrize(("amount", "our_number", "due", "barcode", "linha"), BB_2026)
def test_bb_barcode_and_linha_match_published_vectors(amount, our_number, due, barcode, linha):
    free = febraban.bb_free_field(our_number[:7], int(our_number[7:]), "11")
    code = febraban.barcode("001", due, Decimal(amount), free)
    assert code == barcode
    assert febraban.format_linha(febraban.linha_digitavel(code)) == linha
    assert febraban.barcode_from_linha(linha) == barcode


def test_vectors_before_the_reset():
    code = febraban.barcode("001", date(2011, 3, 8), Decimal("2952.95"), febraban.bb_free_field("7777777", 87654, "18"))
    assert febraban.format_linha(febraban.linha_digitavel(code)) == BB_2011_LINHA
    assert febraban.barcode_from_linha(BANRISUL_LINHA) == BANRISUL_BARCODE
    assert febraban.format_linha(febraban.linha_digitavel(BANRISUL_BARCODE)) == BANRISUL_LINHA


def test_check_digit_rules():
    # mod 10 of the published field "001900000" is 9 (first field of every BB vector above)
    assert febraban.mod10("001900000") == 9
    # mod 11: results 0, 10 and 11 become 1 (the 2026-12-25 BB vector has general digit 1)
    assert febraban.mod11("0019167100000200000000000000000000000000011") == 1


@pytest.mark.parametrize("position", [0, 9, 20, 31, 32, 40])
def test_a_mistyped_digit_is_caught(position):
    digits = BB_2026[1][4].replace(".", "").replace(" ", "")
    wrong = digits[:position] + str((int(digits[position]) + 1) % 10) + digits[position + 1 :]
    with pytest.raises(febraban.InvalidSlipCode):
        febraban.barcode_from_linha(wrong)


def test_crc16_ccitt_false_check_value():
    assert pix.crc16_ccitt_false(b"123456789") == 0x29B1


def test_bcb_example_parses_and_its_crc_is_recomputed():
    fields = pix.parse(BCB_EXAMPLE)
    assert fields["00"] == "01" and fields["63"] == "1D3D"
    assert pix.parse_fields(fields["26"]) == {"00": "br.gov.bcb.pix", "01": "123e4567-e12b-12d1-a456-426655440000"}
    assert f"{pix.crc16_ccitt_false(BCB_EXAMPLE[:-4].encode()):04X}" == "1D3D"
    with pytest.raises(pix.InvalidBrCode):
        pix.parse(BCB_EXAMPLE[:-4] + "1D3E")


def test_brcode_reproduces_the_bcb_example():
    assert (
        pix.brcode(key="123e4567-e12b-12d1-a456-426655440000", merchant_name="Fulano de Tal", merchant_city="BRASILIA")
        == BCB_EXAMPLE
    )


def test_brcode_with_amount_accents_and_long_names():
    code = pix.brcode(
        key="financeiro@vidasergipe.example.com.br",
        merchant_name="Caixa de Assistência Vida Sergipe Ltda",
        merchant_city="São Cristóvão do Sul",
        amount=Decimal("462.3"),
        transaction_id="MENS-300401202610-20261123-extra-long",
    )
    fields = pix.parse(code)
    assert fields["52"] == "0000" and fields["53"] == "986" and fields["58"] == "BR"
    assert fields["54"] == "462.30"
    assert fields["59"] == "Caixa de Assistencia Vida" and len(fields["59"]) <= 25
    assert fields["60"] == "Sao Cristovao d" and len(fields["60"]) <= 15
    txid = pix.parse_fields(fields["62"])["05"]
    assert txid.isalnum() and len(txid) <= 25
    code.encode("ascii")


def test_overdue_charge_fine_and_pro_rata_interest():
    # R$ 450,00 due 03/11, paid 23/11 (20 days): fine 2% = 9,00; interest 1%/30 x 20 = 3,00
    charge = charge_on(Decimal("450.00"), date(2026, 11, 3), date(2026, 11, 23))
    assert (charge.fine, charge.interest, charge.amount) == (Decimal("9.00"), Decimal("3.00"), Decimal("462.00"))
    assert charge.due_date == date(2026, 11, 23) and charge.days_late == 20
    # half-up to cents: 389,90 x 1%/30 x 7 = 0,90976... -> 0,91; fine 7,798 -> 7,80
    charge = charge_on(Decimal("389.90"), date(2026, 1, 10), date(2026, 1, 17))
    assert (charge.fine, charge.interest) == (Decimal("7.80"), Decimal("0.91"))
    # exactly half a cent rounds up (not to even): 0,25 x 2% = 0,005; 1,50 x 1%/30 x 10 = 0,005
    assert charge_on(Decimal("0.25"), date(2026, 1, 1), date(2026, 1, 2)).fine == Decimal("0.01")
    assert charge_on(Decimal("1.50"), date(2026, 1, 1), date(2026, 1, 11)).interest == Decimal("0.01")


def test_no_charge_on_or_before_the_due_date():
    charge = charge_on(Decimal("450.00"), date(2026, 12, 3), date(2026, 12, 3))
    assert (charge.fine, charge.interest, charge.amount, charge.due_date) == (
        0,
        0,
        Decimal("450.00"),
        date(2026, 12, 3),
    )


def test_an_unpaid_fee_past_due_is_overdue_even_if_stored_open():
    assert effective_status("open", None, date(2026, 11, 3), date(2026, 11, 4)) == "overdue"
    assert effective_status("open", None, date(2026, 11, 3), date(2026, 11, 3)) == "open"
    assert effective_status("paid", date(2026, 11, 1), date(2026, 11, 3), date(2026, 12, 1)) == "paid"

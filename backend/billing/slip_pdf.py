"""The bank-slip PDF (fpdf2): payee, payer, document, due date, amounts, linha digitável, the
barcode drawn as Interleaved 2 of 5 and the PIX QR code (segno)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import segno
from fpdf import FPDF

from common.labels import date_text, month_text
from common.money import format_brl

BARCODE_WIDE_BAR_MM = 0.76  # narrow bar = 1/3 of it (~0.25 mm); 44 digits -> ~103 mm, as on printed slips
BARCODE_HEIGHT_MM = 13


@dataclass(frozen=True)
class SlipData:
    operator_name: str
    bank_name: str
    bank_code: str
    payee_name: str
    payee_cnpj: str
    agency_account: str
    payer_name: str
    payer_card: str
    document_number: str
    our_number: str
    reference_month: date
    original_due_date: date
    due_date: date
    original_amount: Decimal
    fine: Decimal
    interest: Decimal
    amount: Decimal
    fine_percent: Decimal
    monthly_interest_percent: Decimal
    protocol: str
    linha_digitavel: str  # formatted
    barcode: str
    pix_copia_e_cola: str
    issued_on: date


def percent_text(value: Decimal) -> str:
    """Decimal("2.00") -> '2%', Decimal("0.033") -> '0,033%'."""
    return f"{value.normalize():f}".replace(".", ",") + "%"


def _cnpj(digits: str) -> str:
    return f"{digits[:2]}.{digits[2:5]}.{digits[5:8]}/{digits[8:12]}-{digits[12:]}"


def slip_fields(data: SlipData) -> list[tuple[str, str]]:
    """The labelled fields printed on the slip, in order (also what the tests check)."""
    fields = [
        ("Beneficiário", f"{data.payee_name} - CNPJ {_cnpj(data.payee_cnpj)}"),
        ("Agência / Código do beneficiário", data.agency_account),
        ("Pagador", f"{data.payer_name} - carteirinha {data.payer_card}"),
        ("Nº do documento", data.document_number),
        ("Nosso número", data.our_number),
        ("Referência", month_text(data.reference_month)),
        ("Vencimento", date_text(data.due_date)),
        ("Valor do documento", format_brl(data.original_amount)),
    ]
    if data.due_date != data.original_due_date:
        fields[6] = ("Vencimento", f"{date_text(data.due_date)} (original: {date_text(data.original_due_date)})")
        fields += [
            (f"Multa ({percent_text(data.fine_percent)})", format_brl(data.fine)),
            (f"Juros ({percent_text(data.monthly_interest_percent)} ao mês)", format_brl(data.interest)),
        ]
    fields.append(("Valor cobrado", format_brl(data.amount)))
    return fields


def instructions(data: SlipData) -> str:
    return (
        f"Pague até {date_text(data.due_date)} em qualquer banco, lotérica ou aplicativo, pelo código de barras "
        f"ou pelo PIX abaixo. Depois do vencimento: multa de {percent_text(data.fine_percent)} e juros de "
        f"{percent_text(data.monthly_interest_percent)} ao mês, proporcionais aos dias de atraso."
    )


def qr_png(payload: str) -> bytes:
    buffer = io.BytesIO()
    segno.make(payload, error="m", micro=False).save(buffer, kind="png", scale=6, border=2)
    return buffer.getvalue()


def render_slip(data: SlipData, *, compress: bool = True) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_compression(compress)
    pdf.set_title(f"Boleto {data.document_number}")
    pdf.set_author(data.operator_name)
    pdf.set_auto_page_break(False)
    pdf.add_page()
    pdf.set_margins(15, 15, 15)
    width = pdf.w - 30

    pdf.set_font("Helvetica", "B", 14)
    pdf.cell(width, 8, data.operator_name, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    pdf.cell(
        width,
        6,
        f"2ª via de boleto - mensalidade {month_text(data.reference_month)} - protocolo {data.protocol}",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.cell(width, 6, f"Emitido em {date_text(data.issued_on)}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)

    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(42, 9, data.bank_name, border="B")
    pdf.cell(18, 9, f"{data.bank_code}-9", border="LRB", align="C")
    size = 12.0
    while size > 8 and pdf.get_string_width(data.linha_digitavel) > width - 62:
        size -= 0.5
        pdf.set_font_size(size)
    pdf.cell(width - 60, 9, data.linha_digitavel, border="B", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)

    for label, value in slip_fields(data):
        pdf.set_font("Helvetica", "", 8)
        pdf.cell(width, 4, label, new_x="LMARGIN", new_y="NEXT")
        bold = label in ("Vencimento", "Valor cobrado")
        pdf.set_font("Helvetica", "B" if bold else "", 11)
        pdf.cell(width, 6, value, border="B", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font("Helvetica", "", 9)
    pdf.multi_cell(width, 5, instructions(data), align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)

    pdf.set_fill_color(0, 0, 0)
    pdf.interleaved2of5(data.barcode, x=pdf.l_margin, y=pdf.get_y(), w=BARCODE_WIDE_BAR_MM, h=BARCODE_HEIGHT_MM)
    pdf.set_y(pdf.get_y() + BARCODE_HEIGHT_MM + 8)

    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(width, 7, "Pague com PIX", new_x="LMARGIN", new_y="NEXT")
    top = pdf.get_y()
    pdf.image(io.BytesIO(qr_png(data.pix_copia_e_cola)), x=pdf.l_margin, y=top, w=45, h=45)
    pdf.set_xy(pdf.l_margin + 50, top)
    pdf.set_font("Helvetica", "", 9)
    pdf.multi_cell(
        width - 50,
        4.5,
        "Abra o aplicativo do seu banco, escolha PIX > Ler QR code, ou use o PIX copia e cola:",
        new_x="LEFT",
        new_y="NEXT",
    )
    pdf.set_font("Courier", "", 8)
    pdf.multi_cell(width - 50, 4, data.pix_copia_e_cola, align="L", new_x="LEFT", new_y="NEXT")
    return bytes(pdf.output())

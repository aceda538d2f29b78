"""The statements as PDF (fpdf2, core Helvetica: Latin-1, enough for Portuguese)."""

from __future__ import annotations

from datetime import datetime

from fpdf import FPDF

from backend.operator_profile import OperatorProfile
from backend.pdf_text import fit, latin1
from backend.statements.data import (
    DebtDischargeStatement,
    IncomeTaxStatement,
    Person,
    ServicesStatement,
)
from common.labels import date_text, month_text
from common.money import format_brl
from common.pii import mask_cpf

GREY = (96, 104, 112)


def _cpf(person: Person) -> str:
    return mask_cpf(person.cpf) if person.cpf else "não informado"


class _Document(FPDF):
    def __init__(self, operator: OperatorProfile, title: str, protocol: str, issued_at: datetime) -> None:
        super().__init__(format="A4")
        self.operator, self.doc_title, self.protocol, self.issued_at = operator, title, protocol, issued_at
        self.set_margins(18, 18, 18)
        self.set_auto_page_break(True, margin=22)
        self.set_title(latin1(title))
        self.set_author(latin1(operator.name))
        self.add_page()

    def header(self) -> None:
        self.set_font("Helvetica", "B", 13)
        self.cell(0, 7, latin1(self.operator.name), new_x="LMARGIN", new_y="NEXT")
        self.set_font("Helvetica", "", 9)
        identity = f"Registro ANS nº {self.operator.ans_registration}"
        cnpj = getattr(self.operator, "cnpj", None)
        if cnpj:
            identity += f" · CNPJ {cnpj}"
        identity += f" · {self.operator.city}/{self.operator.state}"
        self.cell(0, 5, latin1(identity), new_x="LMARGIN", new_y="NEXT")
        self.set_draw_color(0, 94, 120)
        self.set_line_width(0.6)
        self.line(self.l_margin, self.get_y() + 2, self.w - self.r_margin, self.get_y() + 2)
        self.ln(6)

    def footer(self) -> None:
        self.set_y(-16)
        self.set_font("Helvetica", "", 8)
        self.set_text_color(*GREY)
        self.cell(
            0,
            4,
            latin1(
                f"Emitido em {date_text(self.issued_at)} às {self.issued_at:%H:%M} pelo assistente virtual · "
                f"Protocolo nº {self.protocol}"
            ),
            new_x="LMARGIN",
            new_y="NEXT",
        )
        self.cell(
            0,
            4,
            latin1(f"Página {self.page_no()}/{{nb}} · Central 24 horas: {self.operator.phones.get('central_24h', '')}"),
        )
        self.set_text_color(0, 0, 0)

    def title_block(self, subtitle: str, holder: Person) -> None:
        self.set_font("Helvetica", "B", 14)
        self.cell(0, 8, latin1(self.doc_title), new_x="LMARGIN", new_y="NEXT")
        self.set_font("Helvetica", "", 10)
        self.cell(0, 6, latin1(subtitle), new_x="LMARGIN", new_y="NEXT")
        self.ln(2)
        self.label_value("Beneficiário", holder.name)
        self.label_value("Carteirinha", holder.card_number)
        self.label_value("CPF", _cpf(holder))
        self.label_value("Protocolo", self.protocol)
        self.label_value("Data de emissão", date_text(self.issued_at))
        self.ln(4)

    def label_value(self, label: str, value: str) -> None:
        self.set_font("Helvetica", "B", 10)
        self.cell(38, 6, latin1(f"{label}:"))
        self.set_font("Helvetica", "", 10)
        self.cell(0, 6, latin1(value), new_x="LMARGIN", new_y="NEXT")

    def paragraph(self, text: str, size: int = 10) -> None:
        self.set_font("Helvetica", "", size)
        self.multi_cell(0, 5.5, latin1(text), new_x="LMARGIN", new_y="NEXT")
        self.ln(2)

    def data_table(
        self,
        headings: list[str],
        widths: list[float],
        rows: list[list[str]],
        aligns: list[str],
        total: list[str] | None = None,
    ) -> None:
        self.set_font("Helvetica", "B", 9)
        self.set_fill_color(230, 240, 243)
        for heading, width, align in zip(headings, widths, aligns, strict=True):
            self.cell(width, 7, latin1(heading), border="B", align=align, fill=True)
        self.ln()
        self.set_font("Helvetica", "", 9)
        for row in rows:
            for value, width, align in zip(row, widths, aligns, strict=True):
                self.cell(width, 6.5, latin1(fit(self, value, width)), border="B", align=align)
            self.ln()
        if total:
            self.set_font("Helvetica", "B", 9)
            for value, width, align in zip(total, widths, aligns, strict=True):
                self.cell(width, 7, latin1(value), align=align)
            self.ln()
        self.ln(4)


def _output(document: _Document) -> bytes:
    return bytes(document.output())


def income_tax_pdf(
    statement: IncomeTaxStatement, holder: Person, operator: OperatorProfile, protocol: str, issued_at: datetime
) -> bytes:
    doc = _Document(
        operator, f"Demonstrativo para o Imposto de Renda - ano-calendário {statement.year}", protocol, issued_at
    )
    subtitle = (
        "Valores pagos ao plano de saúde no ano-calendário"
        if not statement.partial
        else f"PARCIAL: pagamentos de 01/01/{statement.year} até {date_text(statement.until)}"
    )
    doc.title_block(subtitle, holder)
    doc.set_font("Helvetica", "B", 11)
    doc.cell(0, 7, "Valores por beneficiário", new_x="LMARGIN", new_y="NEXT")
    doc.data_table(
        ["Beneficiário", "CPF", "Relação", "Mensalidades", "Coparticipação", "Total"],
        [52, 28, 22, 26, 26, 20],
        [
            [
                m.person.name,
                _cpf(m.person),
                "Titular" if m.person.holder else "Dependente",
                format_brl(m.fees),
                format_brl(m.coparticipation),
                format_brl(m.total),
            ]
            for m in statement.members
        ],
        ["L", "L", "L", "R", "R", "R"],
        total=["Total pago no ano", "", "", "", "", format_brl(statement.total)],
    )
    doc.set_font("Helvetica", "B", 11)
    doc.cell(0, 7, "Mensalidades pagas", new_x="LMARGIN", new_y="NEXT")
    doc.data_table(
        ["Competência", "Documento", "Vencimento", "Pagamento", "Valor"],
        [30, 40, 34, 34, 36],
        [
            [
                month_text(fee.reference_month),
                fee.document_number,
                date_text(fee.due_date),
                date_text(fee.paid_at) if fee.paid_at else "-",  # (the payments are paid)
                format_brl(fee.amount),
            ]
            for fee in statement.payments
        ],
        ["L", "L", "L", "L", "R"],
    )
    doc.paragraph(
        "As mensalidades são do contrato familiar e foram pagas pelo titular. Para a declaração, cada "
        "mensalidade foi dividida em partes iguais entre os beneficiários cobertos naquele mês (os centavos "
        "da divisão ficam com o titular); a coparticipação fica com quem usou o atendimento. Informe esses "
        "valores em Pagamentos Efetuados, código 26 (Planos de saúde no Brasil).",
        size=9,
    )
    if statement.partial:
        doc.paragraph(
            f"Este demonstrativo é parcial. O definitivo de {statement.year} fica disponível a partir de "
            f"janeiro de {statement.year + 1}.",
            size=9,
        )
    return _output(doc)


def debt_discharge_pdf(
    statement: DebtDischargeStatement, holder: Person, operator: OperatorProfile, protocol: str, issued_at: datetime
) -> bytes:
    doc = _Document(operator, f"Declaração Anual de Quitação de Débitos - {statement.year}", protocol, issued_at)
    doc.title_block("Lei nº 12.007, de 29 de julho de 2009", holder)
    doc.paragraph(
        f"Declaramos, para os fins da Lei nº 12.007/2009, que o(a) beneficiário(a) titular {holder.name}, "
        f"carteirinha {holder.card_number}, CPF {_cpf(holder)}, está quite com as mensalidades do plano de saúde "
        f"referentes ao período de janeiro a dezembro de {statement.year} que constam em nosso cadastro, "
        f"listadas abaixo."
    )
    doc.data_table(
        ["Competência", "Documento", "Tipo", "Vencimento", "Pagamento", "Valor"],
        [26, 34, 30, 28, 28, 28],
        [
            [
                month_text(fee.reference_month),
                fee.document_number,
                fee.type,
                date_text(fee.due_date),
                date_text(fee.paid_at) if fee.paid_at else "-",
                format_brl(fee.amount),
            ]
            for fee in statement.fees
        ],
        ["L", "L", "L", "L", "L", "R"],
        total=["Total", "", "", "", "", format_brl(statement.total)],
    )
    doc.paragraph(
        "Esta declaração substitui, para a comprovação do pagamento, os comprovantes das mensalidades "
        "do ano. Ela não quita valores que venham a ser cobrados depois por atendimentos do período.",
        size=9,
    )
    return _output(doc)


def services_pdf(
    statement: ServicesStatement, holder: Person, operator: OperatorProfile, protocol: str, issued_at: datetime
) -> bytes:
    doc = _Document(operator, f"Extrato de Atendimentos - {statement.month_name}", protocol, issued_at)
    doc.title_block("Atendimentos realizados pelo plano no mês", holder)
    doc.data_table(
        ["Data", "Beneficiário", "Prestador", "Procedimento", "Valor", "Copart."],
        [19, 20, 50, 51, 18, 16],
        [
            [
                date_text(row.service_date),
                person.first_name,
                row.provider,
                row.procedure,
                format_brl(row.amount),
                format_brl(row.coparticipation),
            ]
            for person, row in statement.rows
        ],
        ["L", "L", "L", "L", "R", "R"],
        total=["Total", "", "", "", format_brl(statement.total), format_brl(statement.coparticipation)],
    )
    doc.paragraph(
        "Valor: o que o plano pagou ao prestador. Copart.: a coparticipação cobrada do beneficiário, "
        "quando o plano tem coparticipação.",
        size=9,
    )
    return _output(doc)

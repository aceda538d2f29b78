"""The company's reports (seed 003, "Relatórios"): its beneficiaries active, its beneficiaries
inactive, and the use of the plan in a month — as CSV (UTF-8 with BOM, `;`, what a Brazilian
spreadsheet opens as is) or PDF (fpdf2), behind a short-lived signed link (backend.signed_links).
Any user of the company may ask (the portal shows reports to every user); a report holds only the
caller's company's beneficiaries.

What a report shows (LGPD: what the employer needs to run the benefit, no more):
- the beneficiary lists: name, CPF masked (***.456.789-**: enough to tell two namesakes apart, the
  full number stays with the operator), card, who they are on the contract, their holder, plan,
  birth date, situation and, for the inactive, since when;
- the usage: per beneficiary, how many services and their value (and the coparticipation the
  company may have to deduct) — never the procedure or the provider, which are health data
  (art. 11) the employer has no need for.

The link carries the company, the user who asked and the report, and is rendered when it is
opened: a link of a user deactivated since, or of a company that left, opens nothing.
"""

from __future__ import annotations

import csv
import io
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal

from fpdf import FPDF
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.clock import OPERATOR_TZ
from backend.company.auth import CompanyCaller
from backend.models import ACTIVE, Beneficiary, Company, CompanyUser, ServiceUsage
from backend.operator_profile import OperatorProfile
from backend.pdf_text import fit, latin1
from backend.refusals import Refusals
from common.company_documents import format_cnpj
from common.labels import date_text, month_name, month_text, relationship_label
from common.money import format_brl
from common.pii import mask_cpf

log = logging.getLogger(__name__)

ACTIVE_REPORT, INACTIVE_REPORT, USAGE_REPORT = "active", "inactive", "usage"
KINDS = (ACTIVE_REPORT, INACTIVE_REPORT, USAGE_REPORT)
CSV, PDF = "csv", "pdf"
FORMATS = (CSV, PDF)
CONTENT_TYPES = {CSV: "text/csv", PDF: "application/pdf"}
TITLES = {
    ACTIVE_REPORT: "Beneficiários ativos",
    INACTIVE_REPORT: "Beneficiários inativos",
    USAGE_REPORT: "Utilização do plano",
}
SLUGS = {ACTIVE_REPORT: "beneficiarios-ativos", INACTIVE_REPORT: "beneficiarios-inativos", USAGE_REPORT: "utilizacao"}
REFUSALS = Refusals(
    {
        "no_active_beneficiaries": "A empresa não tem beneficiários ativos no momento.",
        "no_inactive_beneficiaries": "A empresa não tem beneficiários inativos.",
        "no_usage_in_month": "Nenhum beneficiário da empresa usou o plano em {month_text}.",
        "month_in_future": "{month} ainda não chegou. Informe um mês que já começou.",
        # the link of a user deactivated since, or of a company no longer active
        "link_invalid": "Este relatório não está mais disponível. Peça um novo no chat.",
    }
)
_EMPTY = {ACTIVE_REPORT: "no_active_beneficiaries", INACTIVE_REPORT: "no_inactive_beneficiaries"}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Column:
    heading: str
    weight: float  # share of the PDF's width
    align: str = "L"


@dataclass
class Report:
    kind: str
    subtitle: str
    columns: list[Column]
    rows: list[list[str]]
    total: list[str] | None = None
    notes: list[str] = field(default_factory=list)
    summary: str = ""


def shift_month(first_day: date, months: int) -> date:
    """The first day of the month `months` away from `first_day`'s."""
    year, month = divmod(first_day.year * 12 + first_day.month - 1 + months, 12)
    return date(year, month + 1, 1)


def previous_month(today: date) -> date:
    return shift_month(today.replace(day=1), -1)


# --- the data --------------------------------------------------------------------------------------


async def _members(session: AsyncSession, company_id: int) -> list[Beneficiary]:
    """The company's beneficiaries, holders each followed by their dependents, families by name."""
    found = (
        (await session.execute(select(Beneficiary).where(Beneficiary.company_id == company_id)))
        .unique()
        .scalars()
        .all()
    )
    by_id = {b.id: b for b in found}

    def family(b: Beneficiary) -> tuple:
        holder = by_id.get(b.holder_id) if b.holder_id else b
        holder = holder or b
        return (holder.name.casefold(), holder.card_number, b.holder_id is not None, b.name.casefold())

    return sorted(found, key=family)


def _holder_name(b: Beneficiary, by_id: dict[int, Beneficiary]) -> str:
    """The holder of a dependent ("" for a holder)."""
    holder = by_id.get(b.holder_id) if b.holder_id else None
    return holder.name if holder else ""


def _beneficiaries_report(kind: str, members: list[Beneficiary], today: date) -> Report:
    by_id = {b.id: b for b in members}
    chosen = [b for b in members if (b.status == ACTIVE) == (kind == ACTIVE_REPORT)]
    if not chosen:
        raise REFUSALS.refuse(_EMPTY[kind])
    columns = [
        Column("Nome", 24),
        Column("CPF", 12),
        Column("Carteirinha", 12),
        Column("Vínculo", 9),
        Column("Titular", 20),
        Column("Plano", 14),
        Column("Nascimento", 10),
        Column("Situação", 8),
    ]
    if kind == INACTIVE_REPORT:
        columns.append(Column("Inativo desde", 10))
    rows = []
    for b in chosen:
        row = [
            b.name,
            mask_cpf(b.cpf) if b.cpf else "não informado",
            b.card_number,
            relationship_label(b.relationship, b.holder_id is None),
            _holder_name(b, by_id),
            b.plan.name,
            date_text(b.birth_date),
            "ativo" if b.status == ACTIVE else "inativo",
        ]
        if kind == INACTIVE_REPORT:
            row.append(date_text(b.cancelled_at) if b.cancelled_at else "")
        rows.append(row)
    word = "ativo" if kind == ACTIVE_REPORT else "inativo"
    count = f"{len(rows)} beneficiário{'s' if len(rows) > 1 else ''} {word}{'s' if len(rows) > 1 else ''}"
    return Report(
        kind,
        f"Posição em {date_text(today)}: {count}",
        columns,
        rows,
        notes=["CPF mascarado: o número completo fica só com a operadora (LGPD)."],
        summary=count,
    )


async def _usage_report(session: AsyncSession, members: list[Beneficiary], month: date) -> Report:
    """Per beneficiary: services used in `month` and their value (no procedure, no provider)."""
    ids = [b.id for b in members]
    end = shift_month(month, 1)
    usages = (
        (
            await session.execute(
                select(ServiceUsage).where(
                    ServiceUsage.beneficiary_id.in_(ids),
                    ServiceUsage.service_date >= month,
                    ServiceUsage.service_date < end,
                )
            )
        )
        .scalars()
        .all()
        if ids
        else []
    )
    words = {"month_text": month_name(month.month, month.year)}
    if not usages:
        raise REFUSALS.refuse("no_usage_in_month", words=words, month=f"{month:%Y-%m}")
    per_person: dict[int, list[ServiceUsage]] = defaultdict(list)
    for usage in usages:
        per_person[usage.beneficiary_id].append(usage)
    rows = []
    for b in members:
        used = per_person.get(b.id)
        if not used:
            continue
        amount = sum((u.amount for u in used), Decimal(0))
        coparticipation = sum((u.coparticipation for u in used), Decimal(0))
        rows.append(
            [
                b.name,
                b.card_number,
                relationship_label(b.relationship, b.holder_id is None),
                b.plan.name,
                "ativo" if b.status == ACTIVE else "inativo",
                str(len(used)),
                format_brl(amount),
                format_brl(coparticipation),
            ]
        )
    total = sum((u.amount for u in usages), Decimal(0))
    total_coparticipation = sum((u.coparticipation for u in usages), Decimal(0))
    people = f"{len(rows)} beneficiário{'s' if len(rows) > 1 else ''}"
    services = f"{len(usages)} atendimento{'s' if len(usages) > 1 else ''}"
    return Report(
        USAGE_REPORT,
        f"Mês de referência: {month_name(month.month, month.year)} ({month_text(month)})",
        [
            Column("Beneficiário", 26),
            Column("Carteirinha", 13),
            Column("Vínculo", 9),
            Column("Plano", 15),
            Column("Situação", 8),
            Column("Atendimentos", 10, "R"),
            Column("Valor", 11, "R"),
            Column("Coparticipação", 12, "R"),
        ],
        rows,
        total=["Total", "", "", "", "", str(len(usages)), format_brl(total), format_brl(total_coparticipation)],
        notes=[
            (
                "Valor: o que o plano pagou pelos atendimentos do mês. Coparticipação: a parte do beneficiário, "
                "quando o plano tem coparticipação."
            ),
            "Por sigilo (LGPD, dados de saúde), o relatório não mostra procedimentos nem prestadores.",
        ],
        summary=f"{people}, {services}, {format_brl(total)}",
    )


async def build_report(session: AsyncSession, company_id: int, kind: str, month: date | None, today: date) -> Report:
    """The report of the company (refuses no_active_beneficiaries, no_inactive_beneficiaries,
    no_usage_in_month)."""
    members = await _members(session, company_id)
    if kind == USAGE_REPORT:
        return await _usage_report(session, members, month or previous_month(today))
    return _beneficiaries_report(kind, members, today)


# --- the files -------------------------------------------------------------------------------------


def _csv_cell(value: str) -> str:
    """A value a spreadsheet will not run as a formula (CSV injection)."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def report_csv(report: Report) -> bytes:
    """UTF-8 with BOM, `;`-separated, CRLF: Excel in Portuguese opens it with the accents right."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([column.heading for column in report.columns])
    writer.writerows([[_csv_cell(value) for value in row] for row in report.rows])
    if report.total:
        writer.writerow([_csv_cell(value) for value in report.total])
    return buffer.getvalue().encode("utf-8-sig")


@dataclass(frozen=True)
class Heading:
    operator: OperatorProfile
    company: Company
    issued_by: str
    issued_at: datetime  # local time


class _ReportPdf(FPDF):
    def __init__(self, heading: Heading, title: str) -> None:
        super().__init__(orientation="landscape", format="A4")
        self.heading, self.doc_title = heading, title
        self.set_margins(12, 12, 12)
        self.set_auto_page_break(True, margin=18)
        self.set_title(latin1(title))
        self.set_author(latin1(heading.operator.name))
        self.add_page()

    def header(self) -> None:
        operator, company = self.heading.operator, self.heading.company
        self.set_font("Helvetica", "B", 12)
        self.cell(0, 6, latin1(operator.name), new_x="LMARGIN", new_y="NEXT")
        self.set_font("Helvetica", "", 9)
        self.cell(0, 5, latin1(f"Registro ANS nº {operator.ans_registration}"), new_x="LMARGIN", new_y="NEXT")
        self.set_font("Helvetica", "B", 11)
        line = f"{self.doc_title} - {company.name} (código {company.code}, CNPJ {format_cnpj(company.cnpj)})"
        self.cell(0, 7, latin1(line), new_x="LMARGIN", new_y="NEXT")
        self.set_draw_color(0, 94, 120)
        self.line(self.l_margin, self.get_y() + 1, self.w - self.r_margin, self.get_y() + 1)
        self.ln(4)

    def footer(self) -> None:
        self.set_y(-13)
        self.set_font("Helvetica", "", 8)
        self.set_text_color(96, 104, 112)
        issued = self.heading.issued_at
        self.cell(
            0,
            4,
            latin1(
                f"Emitido em {date_text(issued)} às {issued:%H:%M} para {self.heading.issued_by} · "
                f"Dados pessoais: uso restrito à gestão do benefício (LGPD) · Página {self.page_no()}/{{nb}}"
            ),
        )
        self.set_text_color(0, 0, 0)

    def report_table(self, report: Report) -> None:
        width = self.w - self.l_margin - self.r_margin
        weights = sum(column.weight for column in report.columns)
        widths = [width * column.weight / weights for column in report.columns]
        self.set_font("Helvetica", "B", 8.5)
        self.set_fill_color(230, 240, 243)
        for column, w in zip(report.columns, widths, strict=True):
            self.cell(w, 7, latin1(column.heading), border="B", align=column.align, fill=True)
        self.ln()
        self.set_font("Helvetica", "", 8.5)
        for row in report.rows:
            for value, column, w in zip(row, report.columns, widths, strict=True):
                self.cell(w, 6, latin1(fit(self, value, w)), border="B", align=column.align)
            self.ln()
        if report.total:
            self.set_font("Helvetica", "B", 8.5)
            for value, column, w in zip(report.total, report.columns, widths, strict=True):
                self.cell(w, 7, latin1(value), align=column.align)
            self.ln()
        self.ln(3)


def report_pdf(report: Report, heading: Heading) -> bytes:
    doc = _ReportPdf(heading, TITLES[report.kind])
    doc.set_font("Helvetica", "", 10)
    doc.cell(0, 6, latin1(report.subtitle), new_x="LMARGIN", new_y="NEXT")
    doc.ln(2)
    doc.report_table(report)
    doc.set_font("Helvetica", "", 8.5)
    for note in report.notes:
        doc.multi_cell(0, 4.5, latin1(note), new_x="LMARGIN", new_y="NEXT")
    return bytes(doc.output())


# --- the use cases ---------------------------------------------------------------------------------


def _filename(company: Company, kind: str, fmt: str, month: date | None, today: date) -> str:
    when = f"{month:%Y-%m}" if kind == USAGE_REPORT and month else f"{today:%Y-%m-%d}"
    return f"{SLUGS[kind]}-{company.code}-{when}.{fmt}"


@dataclass(frozen=True)
class IssuedReport:
    body: dict  # what the API answers, without the link
    params: dict  # what the signed link carries


async def issue_report(
    session: AsyncSession,
    caller: CompanyCaller,
    kind: str,
    fmt: str,
    month: date | None,
    *,
    today: date,
    now: datetime,
    link_minutes: int,
) -> IssuedReport:
    """Checks the report has something (refusing as build_report, or month_in_future) and says
    what its link will open; any user of the company may ask."""
    if kind == USAGE_REPORT:
        month = month or previous_month(today)
        if month > today.replace(day=1):
            raise REFUSALS.refuse("month_in_future", words={"month": month_name(month.month, month.year).capitalize()})
    else:
        month = None
    try:
        report = await build_report(session, caller.company.id, kind, month, today)
    finally:
        await session.commit()
    log.info(
        "company report issued",
        extra={"company_id": caller.company.id, "company_user_id": caller.user.id, "report": kind, "format": fmt},
    )
    filename = _filename(caller.company, kind, fmt, month, today)
    what = TITLES[kind].lower() + (f" de {month_name(month.month, month.year)}" if month else "")
    message = (
        f"Relatório de {what} da {caller.company.name} em {fmt.upper()} ({report.summary}). "
        f"Baixe pelo link em até {link_minutes} minutos."
    )
    body = {
        "kind": kind,
        "format": fmt,
        "month": f"{month:%Y-%m}" if month else None,
        "rows": len(report.rows),
        "filename": filename,
        "message": message,
    }
    params = {
        "company": caller.company.id,
        "user": caller.user.id,
        "report": kind,
        "format": fmt,
        "month": body["month"],
        "issued_at": now.astimezone(timezone.utc).isoformat(timespec="seconds"),
    }
    return IssuedReport(body, params)


async def report_file(session: AsyncSession, operator: OperatorProfile, params: dict) -> tuple[bytes, str, str]:
    """(content, content type, filename) of the report a signed link points to, built now for the
    user and company it was issued to — while both are still active."""
    user = await session.get(CompanyUser, params["user"])
    if user is None or user.status != ACTIVE or user.company_id != params["company"] or user.company.status != ACTIVE:
        await session.commit()
        raise REFUSALS.refuse("link_invalid")
    company, kind, fmt = user.company, params["report"], params["format"]
    issued_at = datetime.fromisoformat(params["issued_at"]).astimezone(OPERATOR_TZ)
    today = issued_at.date()
    month = date.fromisoformat(params["month"] + "-01") if params.get("month") else None
    try:
        report = await build_report(session, company.id, kind, month, today)
    finally:
        await session.commit()
    filename = _filename(company, kind, fmt, month, today)
    if fmt == CSV:
        return report_csv(report), CONTENT_TYPES[CSV], filename
    heading = Heading(operator, company, f"{user.name} ({user.user_code})", issued_at)
    return report_pdf(report, heading), CONTENT_TYPES[PDF], filename

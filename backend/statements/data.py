"""What each statement says, computed from plain rows (no database, no PDF): testable directly.

Rules chosen (the seed has no per-member price, only the family's monthly fee paid by the holder):

* demonstrativo_ir (income tax): amounts *paid* in the calendar year (by payment date, as the
  Receita Federal asks for health expenses), per beneficiary. Each paid fee is split in equal
  shares among the members of the contract covered in that fee's month (born by its end); the
  cents left by the division go to the holder, so the shares always add up to what was paid.
  Coparticipation is added to the member who used the service, by service date. The current year
  is issued as a *partial* statement (payments up to today); a future year, a year before the
  plan's first fee, or a year with nothing paid are refused.
* quitacao_debitos (Lei 12.007/2009): only for a year that is over, and only when every fee whose
  reference month is in that year is paid; otherwise the open ones are listed.
* extrato_atendimentos: services by service date in the month (not a future month), with
  coparticipation; an empty month is not an error (the API answers `empty`).
"""

from __future__ import annotations

from calendar import monthrange
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_DOWN, Decimal

from backend.refusals import Refusals
from common.labels import FEE_STATUS_LABELS, date_text, month_name, month_text
from common.money import format_brl

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
PAID = "paid"
INCOME_TAX_NAME = "demonstrativo para o imposto de renda"
DEBT_DISCHARGE_NAME = "declaração de quitação"

# Why a statement cannot be issued (the statements area's refusals: backend.statements too).
REFUSALS = Refusals(
    {
        "year_in_future": "{year} ainda não chegou, então não há {what} desse ano. Informe um ano até {current_year}.",
        "no_fees": "Não encontrei mensalidades no seu plano para emitir {what}.",
        "before_plan_start": "Não há {what} de {year}: as mensalidades do seu plano começam em {first_year}. "
        "Informe um ano a partir de {first_year}.",
        "no_payments": "Não houve pagamentos ao plano em {year}{so_far}, então não há valores para declarar. "
        "Se quiser, peço o de outro ano.",
        "year_not_closed": "A declaração de quitação de {year} só pode ser emitida depois que o ano terminar, "
        "porque ela cobre as mensalidades de janeiro a dezembro. Posso emitir a de {previous_year}.",
        "no_fees_in_year": "Não há mensalidades de {year} no seu plano.",
        "open_fees": "Não posso emitir a declaração de quitação de {year} porque {there_are} em aberto: {listed}. "
        "Depois do pagamento, é só pedir de novo.",
        "month_in_future": "{month} ainda não chegou. Informe um mês que já começou.",
        "holder_only": "Esse documento é emitido para o titular do plano, que paga as mensalidades. "
        "Peça para o titular solicitar pelo assistente ou pelo portal.",
        "not_in_family": "Só posso mostrar os seus atendimentos e, para quem é titular, os dos dependentes do plano.",
        "not_found": "Este documento não está mais disponível. Peça de novo no chat.",
    }
)


@dataclass(frozen=True)
class Person:
    id: int
    name: str
    card_number: str
    relationship: str
    cpf: str | None
    birth_date: date
    holder: bool

    @property
    def first_name(self) -> str:
        return self.name.split()[0]


@dataclass(frozen=True)
class FeeRow:
    document_number: str
    reference_month: date
    due_date: date
    type: str
    amount: Decimal
    status: str
    paid_at: date | None

    def as_json(self) -> dict:
        return {
            "document_number": self.document_number,
            "reference_month": month_text(self.reference_month),
            "due_date": self.due_date.isoformat(),
            "due_date_text": date_text(self.due_date),
            "type": self.type,
            "amount": str(self.amount),
            "amount_text": format_brl(self.amount),
            "status": self.status,
            "status_text": FEE_STATUS_LABELS.get(self.status, self.status),
        }


@dataclass(frozen=True)
class ServiceRow:
    beneficiary_id: int
    service_date: date
    provider: str
    procedure: str
    amount: Decimal
    coparticipation: Decimal


@dataclass
class MemberTotal:
    person: Person
    fees: Decimal = ZERO
    coparticipation: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        return self.fees + self.coparticipation


@dataclass
class IncomeTaxStatement:
    year: int
    partial: bool
    until: date
    payments: list[FeeRow]
    members: list[MemberTotal]

    @property
    def total(self) -> Decimal:
        return sum((m.total for m in self.members), ZERO)

    @property
    def coparticipation(self) -> Decimal:
        return sum((m.coparticipation for m in self.members), ZERO)


@dataclass
class DebtDischargeStatement:
    year: int
    fees: list[FeeRow]

    @property
    def total(self) -> Decimal:
        return sum((fee.amount for fee in self.fees), ZERO)


@dataclass
class ServicesStatement:
    year: int
    month: int
    rows: list[tuple[Person, ServiceRow]] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return sum((row.amount for _, row in self.rows), ZERO)

    @property
    def coparticipation(self) -> Decimal:
        return sum((row.coparticipation for _, row in self.rows), ZERO)

    @property
    def month_name(self) -> str:
        return month_name(self.month, self.year)


def _end_of_month(day: date) -> date:
    return day.replace(day=monthrange(day.year, day.month)[1])


def _first_year(fees: list[FeeRow]) -> int | None:
    return min((fee.reference_month.year for fee in fees), default=None)


def _check_not_future(year: int, today: date, what: str) -> None:
    if year > today.year:
        raise REFUSALS.refuse("year_in_future", words={"year": year, "what": what, "current_year": today.year})


def _check_plan_years(year: int, fees: list[FeeRow], what: str) -> None:
    first = _first_year(fees)
    if first is None:
        raise REFUSALS.refuse("no_fees", words={"what": what})
    if year < first:
        raise REFUSALS.refuse("before_plan_start", words={"what": what, "year": year}, first_year=first)


def split_fee(amount: Decimal, covered: list[Person]) -> dict[int, Decimal]:
    """Equal shares rounded down to the cent; the remainder goes to the first (the holder)."""
    share = (amount / len(covered)).quantize(CENT, rounding=ROUND_DOWN)
    shares = {person.id: share for person in covered}
    shares[covered[0].id] += amount - share * len(covered)
    return shares


def income_tax(
    year: int, today: date, members: list[Person], fees: list[FeeRow], services: list[ServiceRow]
) -> IncomeTaxStatement:
    """`members`: the contract, holder first. `fees`: all of the holder's fees."""
    _check_not_future(year, today, INCOME_TAX_NAME)
    _check_plan_years(year, fees, INCOME_TAX_NAME)
    totals = {person.id: MemberTotal(person) for person in members}
    payments = sorted(
        (fee for fee in fees if fee.status == PAID and fee.paid_at and fee.paid_at.year == year),
        key=lambda fee: (fee.paid_at, fee.reference_month),
    )
    for fee in payments:
        end = _end_of_month(fee.reference_month)
        covered = [person for person in members if person.birth_date <= end] or members[:1]
        for person_id, share in split_fee(fee.amount, covered).items():
            totals[person_id].fees += share
    for service in services:
        if service.service_date.year == year and service.service_date <= today and service.beneficiary_id in totals:
            totals[service.beneficiary_id].coparticipation += service.coparticipation
    statement = IncomeTaxStatement(
        year=year,
        partial=year == today.year,
        until=min(today, date(year, 12, 31)),
        payments=payments,
        members=list(totals.values()),
    )
    if statement.total == ZERO:
        raise REFUSALS.refuse("no_payments", words={"year": year, "so_far": " até hoje" if statement.partial else ""})
    return statement


def debt_discharge(year: int, today: date, fees: list[FeeRow]) -> DebtDischargeStatement:
    _check_not_future(year, today, DEBT_DISCHARGE_NAME)
    if year == today.year:
        raise REFUSALS.refuse("year_not_closed", words={"year": year, "previous_year": year - 1})
    _check_plan_years(year, fees, DEBT_DISCHARGE_NAME)
    of_year = sorted((fee for fee in fees if fee.reference_month.year == year), key=lambda fee: fee.reference_month)
    if not of_year:
        raise REFUSALS.refuse("no_fees_in_year", words={"year": year})
    open_fees = [fee for fee in of_year if fee.status != PAID]
    if open_fees:
        listed = "; ".join(
            f"{month_text(fee.reference_month)} (vencimento {date_text(fee.due_date)}, {format_brl(fee.amount)})"
            for fee in open_fees
        )
        there_are = "há mensalidades" if len(open_fees) > 1 else "há uma mensalidade"
        raise REFUSALS.refuse(
            "open_fees",
            words={"year": year, "there_are": there_are, "listed": listed},
            open_fees=[fee.as_json() for fee in open_fees],
        )
    return DebtDischargeStatement(year=year, fees=of_year)


def services_statement(
    year: int, month: int, today: date, members: list[Person], services: list[ServiceRow]
) -> ServicesStatement:
    if (year, month) > (today.year, today.month):
        raise REFUSALS.refuse("month_in_future", words={"month": month_name(month, year).capitalize()})
    people = {person.id: person for person in members}
    rows = sorted(
        (
            (people[s.beneficiary_id], s)
            for s in services
            if s.beneficiary_id in people and (s.service_date.year, s.service_date.month) == (year, month)
        ),
        key=lambda pair: (pair[1].service_date, pair[0].name),
    )
    return ServicesStatement(year=year, month=month, rows=rows)

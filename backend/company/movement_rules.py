"""The rules of a company's beneficiary movements, in one place for the one-by-one movements
(backend.company.movements) and the file (backend.company.movement_batch): how each field is read,
which start and exclusion dates are allowed, the ages, the kinships, the exclusion reasons, the
company's plans and people. Every "no" is a Refused of the table below; a refusal about one field
carries `field` (the file lists it by line and column).

Dates (seed 003, "Movimentação cadastral"; nothing else in the manual sets them):
- start (inclusion, plan change, reactivation): the next first of the month, or one of the three
  first days before it ("Retroativo": the portal offers three consecutive first days, like
  01/12/2022, 01/01/2023, 01/02/2023) — this month's first day and the two before; a retroactive
  start is charged on the invoices (RETROACTIVE_WARNING). A transfer starts on the next first.
- exclusion: from today to the last day of next month; never in the past.
- reactivation: up to REACTIVATION_MONTHS after the exclusion; later, the registration team.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.company.auth import CompanyCaller
from backend.models import ACTIVE, Beneficiary, Company, CompanyPlan, Plan
from backend.refusals import COMMON, Refusals, Refused
from common.dates import has_numeric_date, parse_date_pt
from common.labels import RELATIONSHIP_LABELS, date_text
from common.pii import only_digits
from common.text import fold
from common.validators import (
    CARD_DIGITS,
    CPF_DIGITS,
    InvalidValue,
    normalize_birth_date,
    normalize_cpf,
    normalize_full_name,
)

REFUSALS = Refusals(
    {
        "invalid_request": COMMON["invalid_request"],
        "beneficiary_not_found": "Não encontrei beneficiário da empresa com esse CPF ou carteirinha. "
        "Confira o número e tente de novo.",
        "holder_not_found": "Não encontrei titular ativo da empresa com esse CPF ou carteirinha. "
        "Confira o número ou inclua o titular primeiro.",
        "cpf_already_active": "Esse CPF já é de um beneficiário ativo da empresa. Não é preciso incluir de novo.",
        "cpf_inactive_here": "Esse CPF é de um ex-beneficiário da empresa. Para trazer a pessoa de volta, "
        "use a reativação.",
        "cpf_in_use": "Esse CPF já tem cadastro na operadora em outro contrato. Para incluir essa pessoa, "
        "fale com o setor de cadastro: {cadastro}.",
        "dependent_already_included": "Esse dependente já está incluído para esse titular.",
        "plan_not_contracted": "A empresa não contratou esse plano. Planos contratados: {plans_text}.",
        "dependent_plan_differs": "O dependente fica no mesmo plano do titular: {plan}.",
        "start_date_not_allowed": "Essa data de início não está entre as permitidas: {dates_text}.",
        "age_below_minimum": "Para {kinship_label}, a idade mínima é de {min_age} anos. Confira a data de nascimento.",
        "age_above_maximum": "Para {kinship_label}, a idade máxima é de {max_age} anos. Confira a data de nascimento.",
        "exclusion_date_not_allowed": "A data de exclusão precisa ser de hoje ({first_text}) até o fim do mês "
        "que vem ({last_text}).",
        "reason_not_for_holder": "Esse motivo vale só para dependentes. Para o titular, escolha outro motivo.",
        "beneficiary_inactive": "Esse beneficiário está inativo. Para trazê-lo de volta, use a reativação.",
        "beneficiary_active": "Esse beneficiário já está ativo, então não há o que reativar.",
        "reactivation_period_over": "A reativação só é possível até {months} meses depois da exclusão, e esse "
        "prazo já passou. Para incluir a pessoa de novo, fale com o setor de cadastro: {cadastro}.",
        "reactivation_before_exit": "A nova vigência precisa começar depois da saída, em {exit_text}. "
        "Escolha uma data posterior.",
        "holder_inactive": "O titular desse dependente está inativo. Reative o titular primeiro.",
        "same_plan": "O beneficiário já está nesse plano.",
        "dependent_follows_holder": "O dependente segue o plano e a empresa do titular. "
        "Faça essa movimentação pelo titular.",
        "transfer_outside_group": "Só é possível transferir para outra empresa do mesmo grupo. "
        "Confira o código da empresa de destino.",
        "plan_not_contracted_by_target": "A empresa de destino não contratou o plano atual. "
        "Informe um destes planos: {plans_text}.",
        "nothing_to_change": "Esses já são os dados do beneficiário, então não há o que alterar.",
        "movement_conflict": "Outra movimentação com esses dados acabou de ser registrada. Confira e tente de novo.",
    }
)

RETROACTIVE_STARTS = 3  # the portal offers three retroactive dates
RETROACTIVE_WARNING = "Atenção: a data retroativa implica a cobrança retroativa nas faturas da empresa."
REACTIVATION_MONTHS = 6
MAX_TEXT = 254

HOLDER = "holder"
# kinship (stored as Beneficiary.relationship) -> (min age, max age)
AGE_LIMITS = {HOLDER: (14, 100), "spouse": (16, 100), "son": (0, 23), "daughter": (0, 23)}
KINSHIP_WORDS = {
    HOLDER: ("holder", "titular", "funcionario", "empregado"),
    "spouse": ("spouse", "conjuge", "esposa", "esposo", "marido", "mulher", "companheira", "companheiro"),
    "son": ("son", "filho", "enteado"),
    "daughter": ("daughter", "filha", "enteada"),
}
DEPENDENT_CPF_AGE = 18  # from this age a dependent needs a CPF too (the holder always)

# exclusion reason -> label; only for dependents: LOSS_OF_DEPENDENCY
LOSS_OF_DEPENDENCY = "loss_of_dependency"
EXCLUSION_REASONS = {
    "dismissal": "desligamento ou demissão",
    "own_request": "a pedido do beneficiário",
    "death": "óbito",
    "retirement": "aposentadoria",
    LOSS_OF_DEPENDENCY: "perda da condição de dependente",
}
REASON_WORDS = {
    "dismissal": ("dismissal", "desligamento", "demissao", "desligamento ou demissao", "rescisao"),
    "own_request": ("own request", "own_request", "a pedido", "pedido", "a pedido do beneficiario"),
    "death": ("death", "obito", "falecimento"),
    "retirement": ("retirement", "aposentadoria"),
    LOSS_OF_DEPENDENCY: (
        "loss of dependency",
        "loss_of_dependency",
        "perda da condicao de dependente",
        "perda de dependencia",
        "divorcio",
        "limite de idade",
    ),
}


def _words(table: dict[str, tuple[str, ...]]) -> dict[str, str]:
    return {fold(word): code for code, words in table.items() for word in words}


_KINSHIP_BY_WORD = _words(KINSHIP_WORDS)
_REASON_BY_WORD = _words(REASON_WORDS)


def refuse(code: str, /, *, field: str | None = None, words: Mapping[str, Any] | None = None, **data: Any) -> Refused:
    """A refusal of this table, about `field` when it is about one."""
    if field is not None:
        data["field"] = field
    return REFUSALS.refuse(code, words=words, **data)


def invalid_fields(errors: dict[str, str]) -> Refused:
    """invalid_request with the problem of each field; one problem is the message itself."""
    refused = REFUSALS.refuse("invalid_request", fields=dict(errors))
    if len(errors) == 1:
        refused.template = "{problem}"
        refused.words = {"problem": next(iter(errors.values()))}
    return refused


# --- dates ----------------------------------------------------------------------------------------


def add_months(day: date, months: int) -> date:
    """The first day of the month `months` away from `day`'s."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class StartDate:
    day: date
    retroactive: bool

    def json(self) -> dict:
        label = date_text(self.day) + (" (retroativa)" if self.retroactive else "")
        return {"date": self.day.isoformat(), "label": label, "retroactive": self.retroactive}


def start_dates(today: date, *, retroactive: bool = True) -> list[StartDate]:
    """The allowed starts, oldest first: the three retroactive first days, then the next first."""
    standard = add_months(today, 1)
    past = [StartDate(add_months(standard, -back), True) for back in range(RETROACTIVE_STARTS, 0, -1)]
    return [*(past if retroactive else []), StartDate(standard, False)]


def allowed_start(
    chosen: date | None, today: date, *, retroactive: bool = True, field: str = "start_date"
) -> StartDate:
    """The chosen start (the next first of the month when none); refuses start_date_not_allowed."""
    allowed = start_dates(today, retroactive=retroactive)
    if chosen is None:
        return allowed[-1]
    for start in allowed:
        if start.day == chosen:
            return start
    dates = [start.day.isoformat() for start in allowed]
    text = ", ".join(date_text(start.day) for start in allowed)
    raise refuse("start_date_not_allowed", field=field, allowed_dates=dates, words={"dates_text": text})


def exclusion_window(today: date) -> tuple[date, date]:
    """(first, last) allowed exclusion dates: today to the last day of next month."""
    return today, add_months(today, 2) - timedelta(days=1)


def allowed_exclusion_date(chosen: date | None, today: date, field: str = "date") -> date:
    first, last = exclusion_window(today)
    if chosen is None:
        return first
    if not first <= chosen <= last:
        raise refuse(
            "exclusion_date_not_allowed",
            field=field,
            first=first.isoformat(),
            last=last.isoformat(),
            words={"first_text": date_text(first), "last_text": date_text(last)},
        )
    return chosen


def age_on(birth: date, today: date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def check_age(birth: date, kinship: str, today: date, field: str = "birth_date") -> None:
    """Refuses age_below_minimum / age_above_maximum for the kinship (AGE_LIMITS)."""
    low, high = AGE_LIMITS[kinship]
    age = age_on(birth, today)
    label = {"words": {"kinship_label": kinship_label(kinship)}}
    if age < low:
        raise refuse("age_below_minimum", field=field, min_age=low, **label)
    if age > high:
        raise refuse("age_above_maximum", field=field, max_age=high, **label)


def kinship_label(kinship: str) -> str:
    return "titular" if kinship == HOLDER else f"dependente ({RELATIONSHIP_LABELS[kinship]})"


def reactivation_deadline(cancelled_at: date) -> date:
    """The last day a beneficiary excluded on `cancelled_at` may be reactivated."""
    index = cancelled_at.year * 12 + cancelled_at.month - 1 + REACTIVATION_MONTHS
    year, month = divmod(index, 12)
    return date(year, month + 1, min(cancelled_at.day, 28))


# --- fields as typed ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Who:
    """A beneficiary as the user names them: by CPF (11 digits) or card (12 digits)."""

    by: str  # cpf | card
    value: str


class Fields:
    """The fields of one movement as sent (a JSON body or a file's line): each reader returns the
    normalised value or None and records the field's problem; `check()` refuses them all at once."""

    def __init__(self, raw: Mapping[str, Any], today: date) -> None:
        self.raw = raw
        self.today = today
        self.errors: dict[str, str] = {}

    def value(self, name: str) -> str | None:
        value = self.raw.get(name)
        if value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            self.errors[name] = "Use um texto."
            return None
        value = " ".join(value.split())
        if len(value) > MAX_TEXT:
            self.errors[name] = f"O campo está longo demais (máximo de {MAX_TEXT} caracteres)."
            return None
        return value or None

    def has(self, name: str) -> bool:
        return self.value(name) is not None

    def required(self, name: str, label: str) -> str | None:
        value = self.value(name)
        if value is None and name not in self.errors:
            self.errors[name] = f"Informe {label}."
        return value

    def _parsed(self, name: str, label: str, parse, required: bool):
        value = self.required(name, label) if required else self.value(name)
        if value is None:
            return None
        try:
            return parse(value)
        except InvalidValue as exc:
            self.errors[name] = str(exc)
            return None

    def full_name(self, name: str, label: str, *, required: bool = True) -> str | None:
        return self._parsed(name, label, normalize_full_name, required)

    def cpf(self, name: str, label: str = "o CPF", *, required: bool = True) -> str | None:
        return self._parsed(name, label, normalize_cpf, required)

    def birth_date(self, name: str = "birth_date", *, required: bool = True) -> date | None:
        return self._parsed(name, "a data de nascimento", lambda v: normalize_birth_date(v, self.today), required)

    def day(self, name: str, label: str) -> date | None:
        """An optional date typed with numbers (dd/mm/aaaa or aaaa-mm-dd)."""
        return self._parsed(name, label, _numeric_date, required=False)

    def who(self, name: str, label: str) -> Who | None:
        return self._parsed(name, label, _who, required=True)

    def kinship(self, name: str = "kinship") -> str:
        """holder when absent."""
        return self._parsed(name, "o parentesco", _kinship, required=False) or HOLDER

    def reason(self, name: str = "reason") -> str | None:
        return self._parsed(name, "o motivo da exclusão", _reason, required=True)

    def check(self) -> None:
        if self.errors:
            raise invalid_fields(self.errors)


def _numeric_date(value: str) -> date:
    parsed = parse_date_pt(value, past=False) if has_numeric_date(value) else None
    if parsed is None:
        raise InvalidValue("Use a data como dia/mês/ano, por exemplo: 01/08/2025.")
    return parsed


def _who(value: str) -> Who:
    digits = only_digits(value)
    if not any(char.isalpha() for char in value):
        if len(digits) == CARD_DIGITS:
            return Who("card", digits)
        if len(digits) == CPF_DIGITS:
            return Who("cpf", normalize_cpf(digits))
    raise InvalidValue("Informe o CPF (11 números) ou a carteirinha (12 números) do beneficiário.")


def _kinship(value: str) -> str:
    kinship = _KINSHIP_BY_WORD.get(fold(value).removesuffix(" a"))
    if kinship is None:
        raise InvalidValue("Informe o parentesco: titular, cônjuge, filho ou filha.")
    return kinship


def _reason(value: str) -> str:
    reason = _REASON_BY_WORD.get(fold(value))
    if reason is None:
        options = ", ".join(EXCLUSION_REASONS.values())
        raise InvalidValue(f"Informe o motivo da exclusão: {options}.")
    return reason


# --- the company's plans and people ---------------------------------------------------------------


async def company_plans(session: AsyncSession, company: Company) -> list[Plan]:
    rows = (
        (
            await session.execute(
                select(CompanyPlan).where(CompanyPlan.company_id == company.id).order_by(CompanyPlan.id)
            )
        )
        .unique()
        .scalars()
        .all()
    )
    return [row.plan for row in rows]


async def contracted_plan(
    session: AsyncSession, company: Company, name: str, *, field: str = "plan", code: str = "plan_not_contracted"
) -> Plan:
    """The company's contracted plan called `name` (case and accents do not matter)."""
    plans = await company_plans(session, company)
    for plan in plans:
        if fold(plan.name) == fold(name):
            return plan
    raise refuse(code, field=field, plans=[p.name for p in plans], words={"plans_text": _names(plans)})


def _names(plans: list[Plan]) -> str:
    return ", ".join(plan.name for plan in plans) or "nenhum"


async def member(session: AsyncSession, caller: CompanyCaller, who: Who, *, field: str) -> Beneficiary:
    """The caller's company's beneficiary (active or not) with this CPF or card; another company's
    is not found, like one that does not exist."""
    column = Beneficiary.cpf if who.by == "cpf" else Beneficiary.card_number
    found = (
        (
            await session.execute(
                select(Beneficiary).where(column == who.value, Beneficiary.company_id == caller.company.id)
            )
        )
        .unique()
        .scalar_one_or_none()
    )
    if found is None:
        raise refuse("beneficiary_not_found", field=field)
    return found


async def active_holder(session: AsyncSession, caller: CompanyCaller, who: Who, *, field: str) -> Beneficiary:
    try:
        holder = await member(session, caller, who, field=field)
    except Refused:
        holder = None
    if holder is None or holder.status != ACTIVE or holder.holder_id is not None:
        raise refuse("holder_not_found", field=field)
    return holder


async def by_cpf(session: AsyncSession, cpf: str) -> Beneficiary | None:
    return (await session.execute(select(Beneficiary).where(Beneficiary.cpf == cpf))).unique().scalar_one_or_none()


async def dependents(session: AsyncSession, holder: Beneficiary, *, active_only: bool = True) -> list[Beneficiary]:
    query = select(Beneficiary).where(Beneficiary.holder_id == holder.id)
    if active_only:
        query = query.where(Beneficiary.status == ACTIVE)
    return list((await session.execute(query.order_by(Beneficiary.card_number))).unique().scalars().all())


def group_root(company: Company) -> int:
    return company.parent_id or company.id


async def group_company(session: AsyncSession, caller: CompanyCaller, code: str, field: str) -> Company:
    """Another active company of the caller's group with this code; refuses transfer_outside_group
    (the same answer for a code that does not exist)."""
    target = (await session.execute(select(Company).where(Company.code == code))).scalar_one_or_none()
    same_group = target is not None and group_root(target) == group_root(caller.company)
    if not same_group or target is None or target.id == caller.company.id or target.status != ACTIVE:
        raise refuse("transfer_outside_group", field=field)
    return target


async def group_companies(session: AsyncSession, caller: CompanyCaller) -> list[Company]:
    root = group_root(caller.company)
    rows = await session.execute(
        select(Company)
        .where(
            (Company.id == root) | (Company.parent_id == root),
            Company.id != caller.company.id,
            Company.status == ACTIVE,
        )
        .order_by(Company.code)
    )
    return list(rows.scalars().all())


def kinship_options() -> list[dict]:
    return [{"code": code, "label": kinship_label(code)} for code in AGE_LIMITS]


def reason_options() -> list[dict]:
    return [
        {"code": code, "label": label, "dependents_only": code == LOSS_OF_DEPENDENCY}
        for code, label in EXCLUSION_REASONS.items()
    ]

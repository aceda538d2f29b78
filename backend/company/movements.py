"""A company's beneficiary movements, one by one (seed 003, "Movimentação cadastral — Individual"
and "Retroativo"): inclusion of a holder or dependent (the card number at once), exclusion (a
holder's dependents go too), change of data, plan change (a holder's dependents follow),
reactivation and transfer to another company of the group (the family goes, with new cards).

Any active user of the company may move its beneficiaries (the manual reserves nothing to the
admin); a beneficiary of another company is "not found", like one that does not exist. Each
movement is applied when it is made, gets a protocol of its own kind (company_inclusion…, with
the company) and a company_movements row with what it applied. The file of movements
(backend.company.movement_batch) runs the very same functions, line by line, under the batch's
protocol. The rules (fields, dates, ages, plans, people) are backend.company.movement_rules's.

Every function checks everything before it writes anything (a refused line of a file leaves
nothing behind) and takes the protocol before it picks a card number: the protocol's daily
sequence row is locked until the commit, so two inclusions never pick the same card.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from backend.clock import utcnow
from backend.company.auth import CompanyCaller
from backend.company.movement_rules import (
    DEPENDENT_CPF_AGE,
    EXCLUSION_REASONS,
    HOLDER,
    LOSS_OF_DEPENDENCY,
    REACTIVATION_MONTHS,
    REFUSALS,
    RETROACTIVE_WARNING,
    Fields,
    StartDate,
    active_holder,
    age_on,
    allowed_exclusion_date,
    allowed_start,
    by_cpf,
    check_age,
    company_plans,
    contracted_plan,
    dependents,
    exclusion_window,
    group_companies,
    group_company,
    kinship_label,
    kinship_options,
    member,
    reactivation_deadline,
    reason_options,
    refuse,
    start_dates,
)
from backend.models import ACTIVE, Beneficiary, Company, CompanyMovement, Plan, Protocol
from backend.operator_profile import OperatorProfile
from backend.protocols import new_protocol
from common.labels import card_number_text, date_text
from common.text import fold
from common.validators import CARD_DIGITS

__all__ = ["REFUSALS", "MovementContext", "MovementResult", "make_movement", "movement_options"]

log = logging.getLogger(__name__)

INCLUSION, EXCLUSION, DATA_CHANGE = "inclusion", "exclusion", "data_change"
PLAN_CHANGE, REACTIVATION, TRANSFER = "plan_change", "reactivation", "transfer"
KIND_LABELS = {
    INCLUSION: "inclusão",
    EXCLUSION: "exclusão",
    DATA_CHANGE: "alteração de dados",
    PLAN_CHANGE: "alteração de plano",
    REACTIVATION: "reativação",
    TRANSFER: "transferência",
}
PROTOCOL_KINDS = {kind: f"company_{kind}" for kind in KIND_LABELS}
APPLIED, CANCELLED = "applied", "cancelled"
MEMBER_DIGITS = 2  # the last two digits of a card: 01 the holder, 02… the dependents
CHANGE_FIELDS = {"name": "nome", "mother_name": "nome da mãe", "birth_date": "data de nascimento"}

# What the user reads when a movement is done.
MESSAGES = {
    INCLUSION: "Inclusão feita: {name}, carteirinha {card}, no plano {plan}, com início em {start}. "
    "Protocolo {protocol}.",
    EXCLUSION: "Exclusão feita: {name} sai do plano em {end} ({reason}). Protocolo {protocol}.",
    DATA_CHANGE: "Dados de {name} alterados: {fields}. Protocolo {protocol}.",
    PLAN_CHANGE: "Plano de {name} alterado para {plan}, a partir de {start}. Protocolo {protocol}.",
    REACTIVATION: "Reativação feita: {name}, carteirinha {card}, no plano {plan}, com início em {start}. "
    "Protocolo {protocol}.",
    TRANSFER: "Transferência feita: {name} passa para {company} em {start}, com a carteirinha {card}. "
    "Protocolo {protocol}.",
}
DEPENDENTS_TOO = {
    EXCLUSION: "Os dependentes também foram excluídos: {names}.",
    PLAN_CHANGE: "Os dependentes acompanham o titular: {names}.",
    TRANSFER: "Os dependentes vão junto, com carteirinhas novas: {names}.",
}

T = TypeVar("T")


def _given(value: T | None) -> T:
    """A field's value after Fields.check() (None there would be a bug)."""
    if value is None:
        raise RuntimeError("a required movement field is missing after check()")
    return value


@dataclass(frozen=True)
class BatchTarget:
    """The file a movement comes from: its protocol and row (backend.company.movement_batch)."""

    protocol: Protocol
    batch_id: int


@dataclass(frozen=True)
class MovementContext:
    operator: OperatorProfile
    channel: str
    conversation_id: str | None
    today: date
    batch: BatchTarget | None = None


@dataclass(frozen=True)
class MovementResult:
    kind: str
    protocol: str
    message: str
    beneficiary: dict
    effective_date: date
    dependents: list[dict] = field(default_factory=list)
    retroactive: bool = False
    warning: str | None = None

    def json(self) -> dict:
        return {
            "kind": self.kind,
            "kind_label": KIND_LABELS[self.kind],
            "protocol": self.protocol,
            "message": self.message,
            "beneficiary": self.beneficiary,
            "dependents": self.dependents,
            "effective_date": self.effective_date.isoformat(),
            "effective_date_text": date_text(self.effective_date),
            "retroactive": self.retroactive,
            "warning": self.warning,
        }


def person_json(person: Beneficiary, plan: Plan | None = None, company: Company | None = None) -> dict:
    return {
        "name": person.name,
        "card_number": person.card_number,
        "card_number_text": card_number_text(person.card_number),
        "kinship": person.relationship,
        "kinship_label": kinship_label(person.relationship),
        "plan": (plan or person.plan).name,
        "status": person.status,
        **({"company_code": company.code} if company else {}),
    }


# --- what every movement shares ------------------------------------------------------------------


async def _protocol(
    session: AsyncSession, caller: CompanyCaller, ctx: MovementContext, kind: str, card: str
) -> Protocol:
    """The movement's own protocol, or the batch's."""
    if ctx.batch is not None:
        return ctx.batch.protocol
    protocol = await new_protocol(
        session,
        PROTOCOL_KINDS[kind],
        ans_registration=ctx.operator.ans_registration,
        channel=ctx.channel,
        conversation_id=ctx.conversation_id,
        status="completed",
        details={"company_code": caller.company.code, "requested_by": caller.user.user_code, "card": card},
        day=ctx.today,
    )
    protocol.company_id = caller.company.id
    return protocol


async def _done(
    session: AsyncSession,
    caller: CompanyCaller,
    ctx: MovementContext,
    kind: str,
    person: Beneficiary,
    data: dict,
    result: MovementResult,
    protocol: Protocol,
) -> MovementResult:
    session.add(
        CompanyMovement(
            company_id=caller.company.id,
            kind=kind,
            beneficiary_id=person.id,
            data={**data, "summary": result.message},
            status=APPLIED,
            protocol_id=protocol.id,
            batch_id=ctx.batch.batch_id if ctx.batch else None,
            created_by=caller.user.id,
            created_at=utcnow(),
        )
    )
    if ctx.batch is None:
        await session.commit()
        log.info(
            "company movement applied",
            extra={"kind": kind, "protocol": protocol.number, "company_id": caller.company.id},
        )
    else:
        await session.flush()
    return result


def _message(kind: str, protocol: Protocol, start: StartDate | None, family: list[Beneficiary], /, **words: str) -> str:
    text = MESSAGES[kind].format(protocol=protocol.number, **words)
    if family and kind in DEPENDENTS_TOO:
        text += " " + DEPENDENTS_TOO[kind].format(names=", ".join(person.name for person in family))
    if start is not None and start.retroactive:
        text += " " + RETROACTIVE_WARNING
    return text


def _started(
    kind: str, protocol: Protocol, person: Beneficiary, plan: Plan, start: StartDate, name: str
) -> MovementResult:
    """The result of a movement that starts a person's coverage (inclusion, reactivation)."""
    words = {
        "name": name,
        "card": card_number_text(person.card_number),
        "plan": plan.name,
        "start": date_text(start.day),
    }
    return MovementResult(
        kind,
        protocol.number,
        _message(kind, protocol, start, [], **words),
        person_json(person, plan),
        start.day,
        retroactive=start.retroactive,
        warning=RETROACTIVE_WARNING if start.retroactive else None,
    )


async def next_card(session: AsyncSession, company: Company, holder: Beneficiary | None = None) -> str:
    """A new card number: the company's code + the family's number + the member's (01 the holder),
    12 digits like the demo's 500100000101 (Paulo) and 500100000102 (his daughter)."""
    prefix = holder.card_number[:-MEMBER_DIGITS] if holder is not None else company.code
    top = (
        await session.execute(
            select(func.max(Beneficiary.card_number)).where(
                Beneficiary.card_number.like(f"{prefix}%"), func.length(Beneficiary.card_number) == CARD_DIGITS
            )
        )
    ).scalar_one_or_none()
    if holder is not None:
        number = int(top[-MEMBER_DIGITS:]) + 1 if top else 2
        if number >= 10**MEMBER_DIGITS:
            raise RuntimeError(f"no member number left in family {prefix}")
        return f"{prefix}{number:0{MEMBER_DIGITS}d}"
    width = CARD_DIGITS - len(prefix) - MEMBER_DIGITS
    family = int(top[len(prefix) : len(prefix) + width]) + 1 if top else 1
    if family >= 10**width:
        raise RuntimeError(f"no family number left for company {company.code}")
    return f"{prefix}{family:0{width}d}{1:0{MEMBER_DIGITS}d}"


def _active(person: Beneficiary, field_name: str = "beneficiary") -> None:
    if person.status != ACTIVE:
        raise refuse("beneficiary_inactive", field=field_name)


def _holder_only(person: Beneficiary) -> None:
    if person.holder_id is not None:
        raise refuse("dependent_follows_holder", field="beneficiary")


# --- inclusion ------------------------------------------------------------------------------------


async def _check_dependent_twice(session: AsyncSession, name: str, birth: date, holder: Beneficiary) -> None:
    """A dependent without CPF already under this holder (same name and birth date) is refused."""
    for dependent in await dependents(session, holder):
        if fold(dependent.name) == fold(name) and dependent.birth_date == birth:
            raise refuse("dependent_already_included", field="name")


async def _include(
    session: AsyncSession, caller: CompanyCaller, fields: Mapping[str, Any], ctx: MovementContext
) -> MovementResult:
    f = Fields(fields, ctx.today)
    name, kinship = f.full_name("name", "o nome completo"), f.kinship()
    cpf, birth = f.cpf("cpf", required=False), f.birth_date()
    mother = f.full_name("mother_name", "o nome da mãe")
    plan_name, start_day = f.value("plan"), f.day("start_date", "a data de início")
    holder_who = f.who("holder", "o CPF ou a carteirinha do titular") if kinship != HOLDER else None
    if kinship == HOLDER and plan_name is None:
        f.errors.setdefault("plan", "Informe o plano.")
    adult = birth is not None and age_on(birth, ctx.today) >= DEPENDENT_CPF_AGE
    if cpf is None and (kinship == HOLDER or adult):
        f.errors.setdefault("cpf", "Informe o CPF (a partir de 18 anos, o dependente também precisa de CPF).")
    f.check()
    name, birth, mother = _given(name), _given(birth), _given(mother)
    check_age(birth, kinship, ctx.today)
    start = allowed_start(start_day, ctx.today)
    holder = await active_holder(session, caller, _given(holder_who), field="holder") if holder_who else None
    plan = await contracted_plan(session, caller.company, plan_name) if plan_name else _given(holder).plan
    if holder is not None and plan.id != holder.plan_id:
        raise refuse("dependent_plan_differs", field="plan", words={"plan": holder.plan.name})
    if cpf is not None:
        await _check_cpf(session, caller, cpf)
    elif holder is not None:
        await _check_dependent_twice(session, name, birth, holder)
    # everything checked: from here on, writes
    protocol = await _protocol(session, caller, ctx, INCLUSION, "")
    person = Beneficiary(
        name=name,
        card_number=await next_card(session, caller.company, holder),
        cpf=cpf,
        birth_date=birth,
        mother_name=mother,
        holder_id=holder.id if holder else None,
        relationship=kinship,
        plan_id=plan.id,
        status=ACTIVE,
        company_id=caller.company.id,
    )
    session.add(person)
    await session.flush()
    if ctx.batch is None:
        protocol.details = {**protocol.details, "card": person.card_number}
    result = _started(INCLUSION, protocol, person, plan, start, name)
    data = {
        "name": name,
        "cpf": cpf,
        "birth_date": birth.isoformat(),
        "mother_name": mother,
        "kinship": kinship,
        "holder_card": holder.card_number if holder else None,
        "plan": plan.name,
        "card_number": person.card_number,
        "start_date": start.day.isoformat(),
        "retroactive": start.retroactive,
    }
    return await _done(session, caller, ctx, INCLUSION, person, data, result, protocol)


async def _check_cpf(session: AsyncSession, caller: CompanyCaller, cpf: str) -> None:
    """Refuses a CPF already on file: an active beneficiary of the company (cpf_already_active),
    an inactive one (cpf_inactive_here: reactivation), anyone else's (cpf_in_use)."""
    found = await by_cpf(session, cpf)
    if found is None:
        return
    if found.company_id == caller.company.id:
        raise refuse("cpf_already_active" if found.status == ACTIVE else "cpf_inactive_here", field="cpf")
    raise refuse("cpf_in_use", field="cpf")


# --- exclusion ------------------------------------------------------------------------------------


async def _exclude(
    session: AsyncSession, caller: CompanyCaller, fields: Mapping[str, Any], ctx: MovementContext
) -> MovementResult:
    f = Fields(fields, ctx.today)
    who, reason = f.who("beneficiary", "o CPF ou a carteirinha de quem sai"), f.reason()
    day = f.day("date", "a data da exclusão")
    f.check()
    person = await member(session, caller, _given(who), field="beneficiary")
    _active(person)
    if reason == LOSS_OF_DEPENDENCY and person.holder_id is None:
        raise refuse("reason_not_for_holder", field="reason")
    end = allowed_exclusion_date(day, ctx.today)
    family = await dependents(session, person) if person.holder_id is None else []
    protocol = await _protocol(session, caller, ctx, EXCLUSION, person.card_number)
    for leaving in [person, *family]:
        leaving.status, leaving.cancelled_at = CANCELLED, end
    words = {"name": person.name, "end": date_text(end), "reason": EXCLUSION_REASONS[_given(reason)]}
    result = MovementResult(
        EXCLUSION,
        protocol.number,
        _message(EXCLUSION, protocol, None, family, **words),
        person_json(person),
        end,
        dependents=[person_json(dependent) for dependent in family],
    )
    data = {"reason": reason, "date": end.isoformat(), "dependents": [d.card_number for d in family]}
    return await _done(session, caller, ctx, EXCLUSION, person, data, result, protocol)


# --- change of data -------------------------------------------------------------------------------


def _changes(f: Fields) -> dict[str, Any]:
    """The optional new name, mother's name and birth date (those given)."""
    values = {
        "name": f.full_name("name", "o nome completo", required=False),
        "mother_name": f.full_name("mother_name", "o nome da mãe", required=False),
        "birth_date": f.birth_date(required=False),
    }
    return {key: value for key, value in values.items() if value is not None}


def _apply_changes(person: Beneficiary, changes: dict[str, Any]) -> dict[str, dict]:
    """Sets what differs; {field: {"before", "after"}} of what changed."""
    changed = {}
    for key, value in changes.items():
        before = getattr(person, key)
        if value != before:
            changed[key] = {"before": _jsonable(before), "after": _jsonable(value)}
            setattr(person, key, value)
    return changed


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


async def _change_data(
    session: AsyncSession, caller: CompanyCaller, fields: Mapping[str, Any], ctx: MovementContext
) -> MovementResult:
    f = Fields(fields, ctx.today)
    who = f.who("beneficiary", "o CPF ou a carteirinha do beneficiário")
    changes = _changes(f)
    if not changes and not f.errors:
        f.errors["name"] = "Informe o que muda: o nome, o nome da mãe ou a data de nascimento."
    f.check()
    person = await member(session, caller, _given(who), field="beneficiary")
    _active(person)
    changes = {key: value for key, value in changes.items() if value != getattr(person, key)}
    if not changes:
        raise refuse("nothing_to_change")
    if "birth_date" in changes:
        check_age(changes["birth_date"], person.relationship, ctx.today)
    protocol = await _protocol(session, caller, ctx, DATA_CHANGE, person.card_number)
    changed = _apply_changes(person, changes)
    labels = ", ".join(CHANGE_FIELDS[key] for key in changed)
    result = MovementResult(
        DATA_CHANGE,
        protocol.number,
        _message(DATA_CHANGE, protocol, None, [], name=person.name, fields=labels),
        person_json(person),
        ctx.today,
    )
    return await _done(session, caller, ctx, DATA_CHANGE, person, {"changes": changed}, result, protocol)


# --- plan change ----------------------------------------------------------------------------------


async def _change_plan(
    session: AsyncSession, caller: CompanyCaller, fields: Mapping[str, Any], ctx: MovementContext
) -> MovementResult:
    f = Fields(fields, ctx.today)
    who, plan_name = f.who("beneficiary", "o CPF ou a carteirinha do titular"), f.required("plan", "o novo plano")
    start_day = f.day("start_date", "a data de início")
    f.check()
    person = await member(session, caller, _given(who), field="beneficiary")
    _active(person)
    _holder_only(person)
    plan = await contracted_plan(session, caller.company, _given(plan_name))
    if plan.id == person.plan_id:
        raise refuse("same_plan", field="plan")
    start = allowed_start(start_day, ctx.today)
    family = await dependents(session, person)
    protocol = await _protocol(session, caller, ctx, PLAN_CHANGE, person.card_number)
    before = person.plan.name
    for moving in [person, *family]:
        moving.plan_id, moving.plan = plan.id, plan
    words = {"name": person.name, "plan": plan.name, "start": date_text(start.day)}
    result = MovementResult(
        PLAN_CHANGE,
        protocol.number,
        _message(PLAN_CHANGE, protocol, start, family, **words),
        person_json(person, plan),
        start.day,
        dependents=[person_json(dependent, plan) for dependent in family],
        retroactive=start.retroactive,
        warning=RETROACTIVE_WARNING if start.retroactive else None,
    )
    data = {
        "plan_before": before,
        "plan": plan.name,
        "start_date": start.day.isoformat(),
        "retroactive": start.retroactive,
        "dependents": [d.card_number for d in family],
    }
    return await _done(session, caller, ctx, PLAN_CHANGE, person, data, result, protocol)


# --- reactivation ---------------------------------------------------------------------------------


async def _reactivation_plan(
    session: AsyncSession, caller: CompanyCaller, person: Beneficiary, holder: Beneficiary | None, plan_name: str | None
) -> Plan:
    """The plan a reactivated person comes back to: the one asked for (contracted), else the
    holder's (a dependent), else the one they had when it is still contracted."""
    if plan_name is not None:
        plan = await contracted_plan(session, caller.company, plan_name)
        if holder is not None and plan.id != holder.plan_id:
            raise refuse("dependent_plan_differs", field="plan", words={"plan": holder.plan.name})
        return plan
    if holder is not None:
        return holder.plan
    return await contracted_plan(session, caller.company, person.plan.name)


async def _reactivate(
    session: AsyncSession, caller: CompanyCaller, fields: Mapping[str, Any], ctx: MovementContext
) -> MovementResult:
    f = Fields(fields, ctx.today)
    who = f.who("beneficiary", "o CPF ou a carteirinha de quem volta")
    plan_name, start_day = f.value("plan"), f.day("start_date", "a data de início")
    changes = _changes(f)
    f.check()
    person = await member(session, caller, _given(who), field="beneficiary")
    if person.status == ACTIVE:
        raise refuse("beneficiary_active", field="beneficiary")
    exit_day = person.cancelled_at
    if exit_day is not None and ctx.today > reactivation_deadline(exit_day):
        raise refuse("reactivation_period_over", field="beneficiary", months=REACTIVATION_MONTHS)
    start = allowed_start(start_day, ctx.today)
    if exit_day is not None and start.day <= exit_day:
        raise refuse("reactivation_before_exit", field="start_date", words={"exit_text": date_text(exit_day)})
    holder = await session.get(Beneficiary, person.holder_id) if person.holder_id else None
    if holder is not None and holder.status != ACTIVE:
        raise refuse("holder_inactive", field="beneficiary")
    plan = await _reactivation_plan(session, caller, person, holder, plan_name)
    check_age(changes.get("birth_date", person.birth_date), person.relationship, ctx.today)
    protocol = await _protocol(session, caller, ctx, REACTIVATION, person.card_number)
    changed = _apply_changes(person, changes)
    person.status, person.cancelled_at, person.plan_id, person.plan = ACTIVE, None, plan.id, plan
    result = _started(REACTIVATION, protocol, person, plan, start, person.name)
    data = {
        "exit_date": exit_day.isoformat() if exit_day else None,
        "plan": plan.name,
        "start_date": start.day.isoformat(),
        "retroactive": start.retroactive,
        "changes": changed,
    }
    return await _done(session, caller, ctx, REACTIVATION, person, data, result, protocol)


# --- transfer -------------------------------------------------------------------------------------


async def _transfer(
    session: AsyncSession, caller: CompanyCaller, fields: Mapping[str, Any], ctx: MovementContext
) -> MovementResult:
    f = Fields(fields, ctx.today)
    who = f.who("beneficiary", "o CPF ou a carteirinha do titular")
    target_code, plan_name = f.required("target_company", "o código da empresa de destino"), f.value("plan")
    f.check()
    person = await member(session, caller, _given(who), field="beneficiary")
    _active(person)
    _holder_only(person)
    target = await group_company(session, caller, _given(target_code), field="target_company")
    refusal = {"code": "plan_not_contracted_by_target"}
    plan = await contracted_plan(session, target, plan_name or person.plan.name, **refusal)
    start = allowed_start(None, ctx.today, retroactive=False)
    family = await dependents(session, person, active_only=False)
    protocol = await _protocol(session, caller, ctx, TRANSFER, person.card_number)
    cards = {"before": [p.card_number for p in [person, *family]]}
    person.card_number = await next_card(session, target, None)
    person.company_id, person.plan_id, person.plan = target.id, plan.id, plan
    await session.flush()
    for dependent in family:
        dependent.card_number = await next_card(session, target, person)
        dependent.company_id, dependent.plan_id, dependent.plan = target.id, plan.id, plan
        await session.flush()
    cards["after"] = [p.card_number for p in [person, *family]]
    moved = [d for d in family if d.status == ACTIVE]
    words = {
        "name": person.name,
        "company": target.name,
        "start": date_text(start.day),
        "card": card_number_text(person.card_number),
    }
    result = MovementResult(
        TRANSFER,
        protocol.number,
        _message(TRANSFER, protocol, None, moved, **words),
        person_json(person, plan, target),
        start.day,
        dependents=[person_json(dependent, plan, target) for dependent in moved],
    )
    data = {"target_company": target.code, "plan": plan.name, "start_date": start.day.isoformat(), "cards": cards}
    return await _done(session, caller, ctx, TRANSFER, person, data, result, protocol)


# --- the entry points -----------------------------------------------------------------------------

Movement = Callable[[AsyncSession, CompanyCaller, Mapping[str, Any], MovementContext], Awaitable[MovementResult]]
MOVEMENTS: dict[str, Movement] = {
    INCLUSION: _include,
    EXCLUSION: _exclude,
    DATA_CHANGE: _change_data,
    PLAN_CHANGE: _change_plan,
    REACTIVATION: _reactivate,
    TRANSFER: _transfer,
}


async def make_movement(
    session: AsyncSession, caller: CompanyCaller, kind: str, fields: Mapping[str, Any], ctx: MovementContext
) -> MovementResult:
    """One movement of `kind` (INCLUSION, EXCLUSION…) with the fields as sent; committed with its
    protocol, or flushed under the batch's (ctx.batch). Refuses invalid_request (fields) and the
    rules' codes (backend.company.movement_rules.REFUSALS), each with `field` when about one;
    movement_conflict when a simultaneous movement took the same CPF or card."""
    try:
        return await MOVEMENTS[kind](session, caller, fields, ctx)
    except IntegrityError:
        if ctx.batch is not None:
            raise
        await session.rollback()
        log.warning("company movement conflict", extra={"kind": kind, "company_id": caller.company.id})
        raise REFUSALS.refuse("movement_conflict") from None


async def movement_options(session: AsyncSession, caller: CompanyCaller, today: date) -> dict:
    """What the forms offer: the contracted plans, the start dates (retroactive ones marked, with
    the warning), the exclusion reasons and dates, the kinships, the group's companies."""
    plans = await company_plans(session, caller.company)
    group = await group_companies(session, caller)
    await session.commit()
    first, last = exclusion_window(today)
    return {
        "plans": [plan.name for plan in plans],
        "start_dates": [start.json() for start in start_dates(today)],
        "retroactive_warning": RETROACTIVE_WARNING,
        "transfer_start_date": start_dates(today, retroactive=False)[0].json(),
        "exclusion_reasons": reason_options(),
        "exclusion_dates": {
            "first": first.isoformat(),
            "last": last.isoformat(),
            "first_text": date_text(first),
            "last_text": date_text(last),
        },
        "kinships": kinship_options(),
        "dependent_cpf_from_age": DEPENDENT_CPF_AGE,
        "reactivation_months": REACTIVATION_MONTHS,
        "group_companies": [{"code": c.code, "name": c.name} for c in group],
    }


async def movement_of_protocol(session: AsyncSession, protocol: Protocol) -> dict | None:
    """The movement of a one-by-one movement's protocol: {kind, kind_label, summary}."""
    if protocol.kind not in PROTOCOL_KINDS.values():
        return None
    row = (
        await session.execute(select(CompanyMovement).where(CompanyMovement.protocol_id == protocol.id))
    ).scalar_one_or_none()
    if row is None:
        return None
    return {"kind": row.kind, "kind_label": KIND_LABELS[row.kind], "summary": row.data.get("summary", "")}

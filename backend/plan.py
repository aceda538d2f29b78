"""The verified beneficiary's plan and waiting periods (carências), for them and, for a holder, for
their dependents (backend.family says who sees whom)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.family import NotInFamily, member, visible_members
from backend.models import ACTIVE, Beneficiary, Plan, WaitingPeriod
from backend.operator_profile import OperatorProfile
from backend.refusals import Refusals
from common.labels import ROLE_LABELS, date_text, relationship_label, role, segments, segments_text

# Coverage groups of the ANS waiting-period rules (Lei 9.656/98, art. 12, V), as the seed names them.
# Obstetrics (childbirth) only counts when the plan covers it.
COVERAGE_GROUPS = (
    "Urgência e emergência",
    "Consultas e exames simples",
    "Internações e cirurgias",
    "Doenças e lesões preexistentes",
)
CHILDBIRTH_GROUP = "Parto a termo"

REFUSALS = Refusals(
    {
        "not_in_family": "Só posso mostrar dados seus e, se você for titular, dos seus dependentes.",
    }
)


def role_of(beneficiary: Beneficiary) -> str:
    """'holder' or 'dependent'."""
    return role(beneficiary.holder_id is None)


async def holder_of(session: AsyncSession, beneficiary: Beneficiary) -> Beneficiary:
    if beneficiary.holder_id is None:
        return beneficiary
    return (
        (await session.execute(select(Beneficiary).where(Beneficiary.id == beneficiary.holder_id)))
        .unique()
        .scalar_one()
    )


def plan_status(beneficiary: Beneficiary, holder: Beneficiary) -> tuple[str, date | None]:
    """A dependent's plan ends with the holder's."""
    for person in (beneficiary, holder):
        if person.status != ACTIVE:
            return "cancelled", person.cancelled_at
    return "active", None


def _segments_text(plan: Plan) -> str:
    return segments_text(plan.outpatient, plan.hospital, plan.obstetrics)


def _plan_message(
    beneficiary: Beneficiary, verified: Beneficiary, plan: Plan, status: str, cancelled_on: date | None, phone: str
) -> str:
    whose = (
        f"{verified.name.split()[0]}, seu plano" if beneficiary.id == verified.id else f"O plano de {beneficiary.name}"
    )
    if status == "cancelled":
        when = f" em {date_text(cancelled_on)}" if cancelled_on else ""
        return (
            f"{whose} {plan.name} foi cancelado{when}. "
            "Por isso, novos atendimentos não têm cobertura do plano. "
            f"Para entender o cancelamento ou voltar a ter um plano, ligue {phone} (24 horas)."
        )
    coparticipation = "com coparticipação" if plan.coparticipation else "sem coparticipação"
    return (
        f"{whose} é o {plan.name} ({ROLE_LABELS[role_of(beneficiary)]}): cobertura "
        f"{_segments_text(plan)}, acomodação em {plan.accommodation}, {coparticipation}. "
        f"Registro do produto na ANS: {plan.ans_product_registration}."
    )


async def plan_view(
    session: AsyncSession, verified: Beneficiary, card_number: str | None, operator: OperatorProfile
) -> dict:
    """GET /api/plan's body: the plan of `card_number` (None: the verified beneficiary's);
    refuses not_in_family."""
    try:
        beneficiary = await member(session, verified, card_number)
    except NotInFamily:
        raise REFUSALS.refuse("not_in_family") from None
    plan = beneficiary.plan
    status, cancelled_on = plan_status(beneficiary, await holder_of(session, beneficiary))
    return {
        "beneficiary": {
            "name": beneficiary.name,
            "card_number": beneficiary.card_number,
            "role": role_of(beneficiary),
            "role_label": ROLE_LABELS[role_of(beneficiary)],
            "relationship": beneficiary.relationship,
            "relationship_label": relationship_label(beneficiary.relationship, beneficiary.holder_id is None),
        },
        "plan": {
            "name": plan.name,
            "ans_product_registration": plan.ans_product_registration,
            "segments": segments(plan.outpatient, plan.hospital, plan.obstetrics),
            "segments_text": _segments_text(plan),
            "accommodation": plan.accommodation,
            "coparticipation": plan.coparticipation,
        },
        "operator": {"name": operator.name, "ans_registration": operator.ans_registration},
        "status": status,
        "cancelled_on": cancelled_on.isoformat() if cancelled_on else None,
        "message": _plan_message(beneficiary, verified, plan, status, cancelled_on, operator.phones["central_24h"]),
    }


# --- waiting periods -------------------------------------------------------------------------------


def _group(name: str, ends_on: date | None, today: date) -> dict:
    """`until`: the day the coverage may be used from (the waiting period's end)."""
    if ends_on is None or ends_on <= today:
        return {
            "group": name,
            "fulfilled": True,
            "until": None,
            "days_left": 0,
            "fulfilled_on": ends_on.isoformat() if ends_on else None,
        }
    return {
        "group": name,
        "fulfilled": False,
        "until": ends_on.isoformat(),
        "days_left": (ends_on - today).days,
        "fulfilled_on": None,
    }


def _member_message(person: Beneficiary, groups: list[dict], has_rows: bool) -> str:
    who = person.name
    pending = [g for g in groups if not g["fulfilled"]]
    if not pending:
        if not has_rows:
            return f"{who} não tem carência a cumprir: pode usar todas as coberturas do plano."
        return f"{who} já cumpriu todas as carências: pode usar todas as coberturas do plano."
    items = "; ".join(
        f"{g['group']}: liberado a partir de {date_text(date.fromisoformat(g['until']))} "
        f"(falta{'m' if g['days_left'] != 1 else ''} {g['days_left']} dia{'s' if g['days_left'] != 1 else ''})"
        for g in pending
    )
    return f"{who} ainda tem carência em {items}. As demais coberturas já estão liberadas."


def _member_periods(person: Beneficiary, rows: list[WaitingPeriod], today: date) -> dict:
    """The ANS coverage groups of the member's plan (childbirth only with obstetrics) plus any
    other group stored for them; a group without a stored waiting period counts as fulfilled."""
    stored = {row.coverage_group: row.ends_on for row in rows if row.beneficiary_id == person.id}
    names = list(COVERAGE_GROUPS) + ([CHILDBIRTH_GROUP] if person.plan.obstetrics else [])
    names += [name for name in stored if name not in names]
    groups = [_group(name, stored.get(name), today) for name in names]
    return {
        "name": person.name,
        "card_number": person.card_number,
        "role": role_of(person),
        "all_fulfilled": all(g["fulfilled"] for g in groups),
        "groups": groups,
        "message": _member_message(person, groups, bool(stored)),
    }


async def waiting_periods_view(
    session: AsyncSession, verified: Beneficiary, today: date, operator: OperatorProfile
) -> dict:
    """GET /api/waiting-periods's body: each visible member (holder first, then dependents) with
    their coverage groups. The seed stores rows only for Maria (childbirth ends in ~120 days); her
    children have none (Ana Clara was included as a newborn, which the law exempts)."""
    members = await visible_members(session, verified)
    rows = list(
        (
            await session.execute(
                select(WaitingPeriod)
                .where(WaitingPeriod.beneficiary_id.in_([m.id for m in members]))
                .order_by(WaitingPeriod.id)
            )
        )
        .scalars()
        .all()
    )
    status, cancelled_on = plan_status(verified, await holder_of(session, verified))
    answer = [_member_periods(person, rows, today) for person in members]
    if status == "cancelled":
        when = f" em {date_text(cancelled_on)}" if cancelled_on else ""
        message = (
            f"Seu plano foi cancelado{when}, então não há carências em contagem nem cobertura para "
            f"novos atendimentos. Para mais informações, ligue {operator.phones['central_24h']}."
        )
    else:
        message = "\n".join(m["message"] for m in answer)
    return {
        "plan_status": status,
        "cancelled_on": cancelled_on.isoformat() if cancelled_on else None,
        "members": answer,
        "message": message,
    }

"""The verified beneficiary's plan and waiting periods (carências). Headers X-Verification and
X-Conversation-Id (see backend.api.identity.verified_from_headers).

GET /api/plan[?beneficiario=<card>]
GET /api/waiting-periods
"""

from __future__ import annotations

from datetime import date

from aiohttp import web
from sqlalchemy import select

from backend.api.context import OPERATOR, SESSIONS
from backend.api.errors import ApiError
from backend.api.identity import verified_from_headers
from backend.api.responses import json_response
from backend.card_image import coverage_segments
from backend.clock import local_today
from backend.family import NotInFamily, member, visible_members
from backend.models import ACTIVE, Beneficiary, Plan, WaitingPeriod
from common.validators import InvalidValue, normalize_card

routes = web.RouteTableDef()

# Coverage groups of the ANS waiting-period rules (Lei 9.656/98, art. 12, V), as the seed names them.
# Obstetrics (childbirth) only counts when the plan covers it.
COVERAGE_GROUPS = (
    "Urgência e emergência",
    "Consultas e exames simples",
    "Internações e cirurgias",
    "Doenças e lesões preexistentes",
)
CHILDBIRTH_GROUP = "Parto a termo"


def br_date(day: date) -> str:
    return f"{day:%d/%m/%Y}"


def not_in_family() -> ApiError:
    return ApiError(403, "not_in_family", "Só posso mostrar dados seus e, se você for titular, dos seus dependentes.")


def segments(plan: Plan) -> list[str]:
    found = []
    if plan.outpatient:
        found.append("ambulatorial")
    if plan.hospital:
        found.append("hospitalar")
    if plan.obstetrics:
        found.append("obstetrícia")
    return found


def segments_text(plan: Plan) -> str:
    """ANS segmentation as people read it: 'ambulatorial + hospitalar com obstetrícia'."""
    return " + ".join(segment.lower() for segment in coverage_segments(plan))


def role(beneficiary: Beneficiary) -> str:
    return "titular" if beneficiary.holder_id is None else "dependente"


async def _holder_of(session, beneficiary: Beneficiary) -> Beneficiary:
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


def _plan_message(
    beneficiary: Beneficiary, verified: Beneficiary, plan: Plan, status: str, cancelled_on: date | None, phone: str
) -> str:
    whose = (
        f"{verified.name.split()[0]}, seu plano" if beneficiary.id == verified.id else f"O plano de {beneficiary.name}"
    )
    if status == "cancelled":
        when = f" em {br_date(cancelled_on)}" if cancelled_on else ""
        return (
            f"{whose} {plan.name} foi cancelado{when}. "
            "Por isso, novos atendimentos não têm cobertura do plano. "
            f"Para entender o cancelamento ou voltar a ter um plano, ligue {phone} (24 horas)."
        )
    coparticipation = "com coparticipação" if plan.coparticipation else "sem coparticipação"
    return (
        f"{whose} é o {plan.name} ({role(beneficiary)}): cobertura "
        f"{segments_text(plan)}, acomodação em {plan.accommodation}, {coparticipation}. "
        f"Registro do produto na ANS: {plan.ans_product_registration}."
    )


@routes.get("/api/plan")
async def get_plan(request: web.Request) -> web.Response:
    """200 {beneficiary{name, card_number, role, relationship}, plan{name, ans_product_registration,
    segments, segments_text, accommodation, coparticipation}, operator{name, ans_registration},
    status: active|cancelled, cancelled_on, message}; 401 verification_invalid; 403 not_in_family."""
    operator = request.app[OPERATOR]
    asked = request.query.get("beneficiario", "").strip() or None
    async with request.app[SESSIONS]() as session:
        verified = await verified_from_headers(request, session)
        try:
            beneficiary = await member(session, verified, normalize_card(asked) if asked else None)
        except InvalidValue as exc:
            raise ApiError(400, "invalid_request", str(exc), fields={"beneficiario": str(exc)}) from None
        except NotInFamily:
            raise not_in_family() from None
        holder = await _holder_of(session, beneficiary)
        plan = beneficiary.plan
        status, cancelled_on = plan_status(beneficiary, holder)
        body = {
            "beneficiary": {
                "name": beneficiary.name,
                "card_number": beneficiary.card_number,
                "role": role(beneficiary),
                "relationship": beneficiary.relationship,
            },
            "plan": {
                "name": plan.name,
                "ans_product_registration": plan.ans_product_registration,
                "segments": segments(plan),
                "segments_text": segments_text(plan),
                "accommodation": plan.accommodation,
                "coparticipation": plan.coparticipation,
            },
            "operator": {"name": operator.name, "ans_registration": operator.ans_registration},
            "status": status,
            "cancelled_on": cancelled_on.isoformat() if cancelled_on else None,
            "message": _plan_message(beneficiary, verified, plan, status, cancelled_on, operator.phones["central_24h"]),
        }
    return json_response(body)


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
        f"{g['group']}: liberado a partir de {br_date(date.fromisoformat(g['until']))} "
        f"(falta{'m' if g['days_left'] != 1 else ''} {g['days_left']} dia{'s' if g['days_left'] != 1 else ''})"
        for g in pending
    )
    return f"{who} ainda tem carência em {items}. As demais coberturas já estão liberadas."


@routes.get("/api/waiting-periods")
async def get_waiting_periods(request: web.Request) -> web.Response:
    """200 {plan_status, cancelled_on, members: [{name, card_number, role, all_fulfilled, groups:
    [{group, fulfilled, until, days_left, fulfilled_on}], message}], message}.

    Each visible member (holder first, then dependents) gets the ANS coverage groups of their plan
    (childbirth only with obstetrics) plus any other group stored for them. A group without a stored
    waiting period counts as fulfilled: the seed stores rows only for Maria (childbirth ends in ~120
    days); her children have none (Ana Clara was included as a newborn, which the law exempts).
    """
    today = local_today()
    async with request.app[SESSIONS]() as session:
        verified = await verified_from_headers(request, session)
        members = await visible_members(session, verified)
        holder = await _holder_of(session, verified)
        rows = (
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
        status, cancelled_on = plan_status(verified, holder)
        answer = []
        for person in members:
            stored = {row.coverage_group: row.ends_on for row in rows if row.beneficiary_id == person.id}
            names = list(COVERAGE_GROUPS) + ([CHILDBIRTH_GROUP] if person.plan.obstetrics else [])
            names += [name for name in stored if name not in names]
            groups = [_group(name, stored.get(name), today) for name in names]
            answer.append(
                {
                    "name": person.name,
                    "card_number": person.card_number,
                    "role": role(person),
                    "all_fulfilled": all(g["fulfilled"] for g in groups),
                    "groups": groups,
                    "message": _member_message(person, groups, bool(stored)),
                }
            )
    if status == "cancelled":
        when = f" em {br_date(cancelled_on)}" if cancelled_on else ""
        message = (
            f"Seu plano foi cancelado{when}, então não há carências em contagem nem cobertura para "
            f"novos atendimentos. Para mais informações, ligue {request.app[OPERATOR].phones['central_24h']}."
        )
    else:
        message = "\n".join(m["message"] for m in answer)
    return json_response(
        {
            "plan_status": status,
            "cancelled_on": cancelled_on.isoformat() if cancelled_on else None,
            "members": answer,
            "message": message,
        }
    )

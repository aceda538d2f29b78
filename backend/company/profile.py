"""The company's own data (seed 003, "Informações cadastrais"): registration data and group,
contracted plans, and a change of contact data, which becomes a protocol for the registration team
(admin only). The portal's users are backend.company.users'."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.company.auth import CompanyCaller, require_admin
from backend.models import ACTIVE, Beneficiary, Company, CompanyPlan
from backend.operator_profile import OperatorProfile
from backend.protocols import new_protocol
from backend.refusals import Refusals
from common.company_documents import format_cnpj
from common.labels import date_text, segments_text

log = logging.getLogger(__name__)

CONTACT_CHANGE_KIND = "company_contact_change"
CONTACT_FIELDS = {"email": "e-mail", "phone": "telefone", "address": "endereço"}
REFUSALS = Refusals(
    {
        "nothing_to_change": "Esses já são os dados de contato da empresa, então não há o que alterar.",
    }
)


def company_json(company: Company) -> dict:
    return {
        "code": company.code,
        "name": company.name,
        "cnpj": format_cnpj(company.cnpj),
        "email": company.email,
        "phone": company.phone,
        "address": company.address,
    }


async def company_data(session: AsyncSession, caller: CompanyCaller) -> dict:
    """The caller's company and the companies of its group (code, name, CNPJ)."""
    company = caller.company
    root = company.parent_id or company.id
    group = (
        (
            await session.execute(
                select(Company)
                .where((Company.id == root) | (Company.parent_id == root), Company.id != company.id)
                .order_by(Company.code)
            )
        )
        .scalars()
        .all()
    )
    await session.commit()
    brief = [{"code": c.code, "name": c.name, "cnpj": format_cnpj(c.cnpj)} for c in group]
    return {**company_json(company), "group": brief}


async def contracted_plans(session: AsyncSession, caller: CompanyCaller) -> list[dict]:
    """The company's plans with how many of its beneficiaries are active in each."""
    rows = (
        (
            await session.execute(
                select(CompanyPlan).where(CompanyPlan.company_id == caller.company.id).order_by(CompanyPlan.id)
            )
        )
        .unique()
        .scalars()
        .all()
    )
    counts = dict(
        (
            await session.execute(
                select(Beneficiary.plan_id, func.count())
                .where(Beneficiary.company_id == caller.company.id, Beneficiary.status == ACTIVE)
                .group_by(Beneficiary.plan_id)
            )
        ).all()
    )
    await session.commit()
    return [
        {
            "name": row.plan.name,
            "ans_product_registration": row.plan.ans_product_registration,
            "coverage": segments_text(row.plan.outpatient, row.plan.hospital, row.plan.obstetrics) or "odontológico",
            "coparticipation": row.plan.coparticipation,
            "contracted_on": row.contracted_on.isoformat(),
            "contracted_on_text": date_text(row.contracted_on),
            "active_beneficiaries": counts.get(row.plan_id, 0),
        }
        for row in rows
    ]


@dataclass(frozen=True)
class ContactChange:
    protocol: str
    changes: dict[str, str]
    message: str


async def request_contact_change(
    session: AsyncSession,
    caller: CompanyCaller,
    changes: dict[str, str],
    *,
    operator: OperatorProfile,
    channel: str,
    conversation_id: str | None,
) -> ContactChange:
    """A protocol asking the registration team to change the company's contact data (admin only).
    Refuses company_admin_only or nothing_to_change (every value is already the one on file)."""
    require_admin(caller)
    company = caller.company
    changes = {field: value for field, value in changes.items() if value != getattr(company, field)}
    if not changes:
        raise REFUSALS.refuse("nothing_to_change")
    protocol = await new_protocol(
        session,
        CONTACT_CHANGE_KIND,
        ans_registration=operator.ans_registration,
        channel=channel,
        conversation_id=conversation_id,
        details={"company_code": company.code, "requested_by": caller.user.user_code, "changes": changes},
    )
    protocol.company_id = company.id
    await session.commit()
    log.info("company contact change requested", extra={"protocol": protocol.number, "company_id": company.id})
    fields = ", ".join(CONTACT_FIELDS[field] for field in changes)
    message = (
        f"Pedido de alteração de {fields} da empresa registrado com o protocolo {protocol.number}. "
        "O setor de cadastro confere e atualiza em até 2 dias úteis."
    )
    return ContactChange(protocol.number, changes, message)

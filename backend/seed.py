"""`python -m backend.seed`: the demo data (personas, their plans, fees, requests; the demo company of
the employer's side, seed_data/company.yaml; docs/deploy.md).
Idempotent: only adds what is missing.

Dates are relative to the day the seed runs, so the demo never goes stale.

Only when the demo data is asked for (Settings.seeds_demo_data): OPERATOR_PROFILE=demo, the
default of `make run`, or DEMO_DATA=1 with another profile (the CASSE integration tests use the
personas). An operator's own installation (OPERATOR_PROFILE=casse, ams…) gets no persona and no
demo agent — whose password is public — even though `make run` calls this on every start; its
agents are created with `python -m backend.agents add`.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote_plus

import yaml
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.clock import local_today
from backend.db import create_engine, session_factory
from backend.models import (
    Account,
    Agent,
    Beneficiary,
    CardRequest,
    Company,
    CompanyInvoice,
    CompanyPlan,
    CompanyUser,
    Fee,
    PasswordHistory,
    Plan,
    Provider,
    Reimbursement,
    ReimbursementStatusChange,
    ServiceUsage,
    WaitingPeriod,
)
from backend.operator_profile import load_profile
from backend.passwords import hash_password
from backend.protocols import new_protocol
from backend.settings import Settings

PROVIDERS_FILE = Path(__file__).resolve().parent / "seed_data" / "providers.yaml"
COMPANIES_FILE = Path(__file__).resolve().parent / "seed_data" / "company.yaml"  # contract section 8
DEMO_AGENT = ("atendente", "Atendente de Demonstração", "Atende@2024")

PLANS = {
    "completo": dict(
        name="Vida Sergipe Completo",
        ans_product_registration="482913191",
        outpatient=True,
        hospital=True,
        obstetrics=True,
        accommodation="apartamento",
        coparticipation=False,
    ),
    "essencial": dict(
        name="Vida Sergipe Essencial",
        ans_product_registration="482914192",
        outpatient=True,
        hospital=True,
        obstetrics=False,
        accommodation="enfermaria",
        coparticipation=True,
    ),
}

# card: (name, cpf, birth, mother, e-mail, phone, plan, holder card, relationship (common.labels), app password)
PERSONAS = {
    "100200300401": (
        "Maria Aparecida Santos",
        "94580730224",
        date(1985, 3, 12),
        "Josefa Aparecida Santos",
        "maria.santos@exemplo.com.br",
        "+55 79 99811-0001",
        "completo",
        None,
        "holder",
        "Saude@2024",
    ),
    "100200300402": (
        "João Pedro Santos",
        "15736819384",
        date(2012, 7, 30),
        "Maria Aparecida Santos",
        None,
        None,
        "completo",
        "100200300401",
        "son",
        None,
    ),
    "100200300403": (
        "Ana Clara Santos",
        None,
        date(2024, 1, 5),
        "Maria Aparecida Santos",
        None,
        None,
        "completo",
        "100200300401",
        "daughter",
        None,
    ),
    "200300400501": (
        "José Carlos Oliveira",
        "03642621252",
        date(1960, 8, 14),
        "Maria José Oliveira",
        "jose.oliveira@exemplo.com.br",
        "+55 79 99811-0002",
        "essencial",
        None,
        "holder",
        None,
    ),
    "300400500601": (
        "Ana Beatriz Lima",
        "99722003372",
        date(1992, 2, 2),
        "Lúcia Lima",
        None,
        "+55 79 99811-0003",
        "essencial",
        None,
        "holder",
        "Lima@2024!",
    ),
    "400500600701": (
        "Carlos Eduardo Souza",
        "22453832301",
        date(1978, 9, 19),
        "Teresa Souza",
        "carlos.souza@exemplo.com.br",
        "+55 79 99811-0004",
        "essencial",
        None,
        "holder",
        None,
    ),
}
CANCELLED_CARDS = {"400500600701": 75}  # card -> cancelled this many days ago
MONTHLY_AMOUNTS = {
    "100200300401": "1289.70",
    "200300400501": "842.15",
    "300400500601": "398.40",
    "400500600701": "455.90",
}
MARIA, JOAO = "100200300401", "100200300402"
# Services used (extrato de atendimentos), last 6 months: card -> (days ago, provider, procedure, amount)
SERVICE_USAGES = {
    "100200300401": [
        (15, "CardioSE Clínica do Coração", "Consulta em Cardiologia", "350.00"),
        (20, "Laboratório Análise Sergipana", "Hemograma completo e glicemia", "85.40"),
        (48, "Imagem Diagnósticos Aracaju", "Ultrassonografia transvaginal", "220.00"),
        (95, "Ortoclínica Sergipe", "Sessão de fisioterapia motora", "120.00"),
        (100, "Ortoclínica Sergipe", "Consulta em Ortopedia", "300.00"),
    ],
    "100200300402": [
        (35, "Consultório Dra. Helena Prado", "Consulta em Pediatria", "280.00"),
        (130, "Instituto de Olhos Treze de Julho", "Consulta em Oftalmologia", "260.00"),
    ],
    "100200300403": [
        (60, "Consultório Dra. Helena Prado", "Consulta em Pediatria", "280.00"),
        (160, "Otoclínica Jardins", "Consulta em Otorrinolaringologia", "250.00"),
    ],
    "200300400501": [
        (25, "CardioSE Clínica do Coração", "Consulta em Cardiologia", "350.00"),
        (25, "CardioSE Clínica do Coração", "Eletrocardiograma", "90.00"),
        (70, "Laboratório Análise Sergipana", "Perfil lipídico", "150.00"),
    ],
}
# Services used in the previous calendar year (income-tax statement, extrato of that year): card ->
# (month, day, provider, procedure, amount); José's plan has coparticipation, so his are co-payments.
LAST_YEAR_USAGES = {
    "100200300401": [
        (3, 14, "CardioSE Clínica do Coração", "Consulta em Cardiologia", "350.00"),
        (9, 22, "Laboratório Análise Sergipana", "Hemograma completo", "62.30"),
    ],
    "100200300402": [(6, 3, "Consultório Dra. Helena Prado", "Consulta em Pediatria", "280.00")],
    "200300400501": [
        (4, 8, "CardioSE Clínica do Coração", "Consulta em Cardiologia", "350.00"),
        (10, 17, "Laboratório Análise Sergipana", "Perfil lipídico", "150.00"),
    ],
}
COPARTICIPATION_RATE = Decimal("0.20")  # share of each service paid by the beneficiary when the plan has it

log = logging.getLogger("backend.seed")


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, 28))


def history_months(today: date) -> int:
    """How many months of fees the demo has: at least 24, and always the whole previous calendar year,
    so last year's income-tax statement and debt discharge have values on any day of the year."""
    return max(24, today.month + 12)


def map_url(address: str) -> str:
    return f"https://www.google.com/maps/search/?api=1&query={quote_plus(address)}"


async def seed(session: AsyncSession, settings: Settings, today: date | None = None) -> None:
    today = today or local_today()
    ans = load_profile(settings.operator_profile).ans_registration
    plans = {
        key: await _get_or_create(session, Plan, {"name": values["name"]}, values) for key, values in PLANS.items()
    }
    people: dict[str, Beneficiary] = {}
    for card, (name, cpf, birth, mother, email, phone, plan, holder, kin, password) in PERSONAS.items():
        cancelled_days = CANCELLED_CARDS.get(card)
        people[card] = await _get_or_create(
            session,
            Beneficiary,
            {"card_number": card},
            dict(
                name=name,
                cpf=cpf,
                birth_date=birth,
                mother_name=mother,
                email=email,
                phone=phone,
                plan_id=plans[plan].id,
                holder_id=people[holder].id if holder else None,
                relationship=kin,
                status="cancelled" if cancelled_days else "active",
                cancelled_at=today - timedelta(days=cancelled_days) if cancelled_days else None,
            ),
        )
        if password and not await _exists(session, Account, beneficiary_id=people[card].id):
            password_hash = await hash_password(password, settings.bcrypt_rounds)
            account = Account(beneficiary_id=people[card].id, password_hash=password_hash)
            session.add(account)
            await session.flush()
            session.add(PasswordHistory(account_id=account.id, password_hash=password_hash))
    for card, amount in MONTHLY_AMOUNTS.items():
        await _seed_fees(session, people[card], Decimal(amount), today, months=history_months(today))
    await _seed_waiting_periods(session, people[MARIA], today)
    await _seed_reimbursements(session, people[MARIA], ans, today)
    await _seed_card_request(session, people[JOAO], ans, today)
    await _seed_service_usages(session, people, plans, today)
    await _seed_providers(session)
    await _seed_companies(session, settings, today)
    username, agent_name, password = DEMO_AGENT
    if not await _exists(session, Agent, username=username):
        session.add(
            Agent(
                username=username, name=agent_name, password_hash=await hash_password(password, settings.bcrypt_rounds)
            )
        )
    await session.commit()


async def _exists(session: AsyncSession, model, **lookup) -> bool:
    count = (await session.execute(select(func.count()).select_from(model).filter_by(**lookup))).scalar_one()
    return count > 0


async def _get_or_create(session: AsyncSession, model, lookup: dict, values: dict):
    found = (await session.execute(select(model).filter_by(**lookup))).unique().scalar_one_or_none()
    if found is None:
        found = model(**{**values, **lookup})
        session.add(found)
        await session.flush()
    return found


async def _seed_fees(session: AsyncSession, holder: Beneficiary, amount: Decimal, today: date, months: int) -> None:
    """Current month open (due in 10 days), previous month overdue, older ones paid.

    A cancelled holder only has paid fees up to the cancellation.
    """
    current_due = today + timedelta(days=10)
    last = 0
    if holder.cancelled_at:
        last = (today.year - holder.cancelled_at.year) * 12 + today.month - holder.cancelled_at.month + 1
    for back in range(last, last + months):
        reference = add_months(today.replace(day=1), -back)
        due = add_months(current_due, -back)
        if holder.cancelled_at or back > 1:
            status, paid_at = "paid", due - timedelta(days=2)
        else:
            status, paid_at = ("open" if back == 0 else "overdue"), None
        if await _exists(session, Fee, beneficiary_id=holder.id, reference_month=reference, type="Mensalidade"):
            continue
        session.add(
            Fee(
                beneficiary_id=holder.id,
                document_number=f"{holder.card_number[-6:]}{reference:%Y%m}",
                reference_month=reference,
                due_date=due,
                type="Mensalidade",
                amount=amount,
                paid_at=paid_at,
                status=status,
            )
        )


async def _seed_waiting_periods(session: AsyncSession, holder: Beneficiary, today: date) -> None:
    """Childbirth ends in ~120 days (obstetrics added with a plan change); the rest is fulfilled."""
    ends_in_days = {
        "Urgência e emergência": -1095,
        "Consultas e exames simples": -1065,
        "Internações e cirurgias": -915,
        "Doenças e lesões preexistentes": -365,
        "Parto a termo": 120,
    }
    for group, days in ends_in_days.items():
        await _get_or_create(
            session,
            WaitingPeriod,
            {"beneficiary_id": holder.id, "coverage_group": group},
            {"ends_on": today + timedelta(days=days)},
        )


async def _seed_reimbursements(session: AsyncSession, holder: Beneficiary, ans: str, today: date) -> None:
    if await _exists(session, Reimbursement, beneficiary_id=holder.id):
        return
    last_year = (today - date(today.year - 1, 5, 12)).days  # a consultation of May last year, paid in June
    requests = [
        # service, provider, days ago (service, request), requested, paid, status history (status, days ago)
        (
            "Consulta com endocrinologista",
            "Endoclínica Aracaju",
            (last_year, last_year - 4),
            "400.00",
            "320.00",
            [("received", last_year - 4), ("under_analysis", last_year - 6), ("paid", last_year - 25)],
        ),
        (
            "Consulta com dermatologista",
            "Dermacare Aracaju",
            (62, 58),
            "300.00",
            "240.00",
            [("received", 58), ("under_analysis", 56), ("paid", 41)],
        ),
        (
            "Sessão de fisioterapia",
            "Fisio Movimento Aracaju",
            (12, 9),
            "180.00",
            None,
            [("received", 9), ("under_analysis", 7)],
        ),
    ]
    for service, provider, (served, requested), amount, paid, history in requests:
        status = history[-1][0]
        requested_at = _at(today - timedelta(days=requested))
        protocol = await new_protocol(
            session,
            "reimbursement",
            ans_registration=ans,
            channel="portal",
            beneficiary_id=holder.id,
            status="completed" if status == "paid" else "in_progress",
            day=requested_at.date(),
        )
        protocol.created_at = requested_at
        reimbursement = Reimbursement(
            beneficiary_id=holder.id,
            protocol_number=protocol.number,
            service_type=service,
            provider_name=provider,
            service_date=today - timedelta(days=served),
            amount_requested=Decimal(amount),
            amount_paid=Decimal(paid) if paid else None,
            status=status,
            requested_at=requested_at,
        )
        session.add(reimbursement)
        await session.flush()
        session.add_all(
            ReimbursementStatusChange(
                reimbursement_id=reimbursement.id,
                status=step,
                changed_at=_at(today - timedelta(days=ago)),
            )
            for step, ago in history
        )


async def _seed_card_request(session: AsyncSession, dependent: Beneficiary, ans: str, today: date) -> None:
    if await _exists(session, CardRequest, beneficiary_id=dependent.id):
        return
    requested_at = _at(today - timedelta(days=5))
    protocol = await new_protocol(
        session,
        "card_reissue",
        ans_registration=ans,
        channel="portal",
        beneficiary_id=dependent.holder_id,
        status="in_progress",
        day=requested_at.date(),
        details={"reason": "Extravio"},
    )
    protocol.created_at = requested_at
    session.add(
        CardRequest(
            beneficiary_id=dependent.id,
            reason="Extravio",
            status="in_production",
            requested_at=requested_at,
            protocol_number=protocol.number,
        )
    )


async def _seed_service_usages(
    session: AsyncSession, people: dict[str, Beneficiary], plans: dict[str, Plan], today: date
) -> None:
    """Coparticipation only where the plan has it (Essencial): 20% of the service."""
    for card, services in SERVICE_USAGES.items():
        beneficiary = people[card]
        if await _exists(session, ServiceUsage, beneficiary_id=beneficiary.id):
            continue
        plan = next(plan for plan in plans.values() if plan.id == beneficiary.plan_id)
        rate = COPARTICIPATION_RATE if plan.coparticipation else Decimal(0)
        dated = [(today - timedelta(days=days_ago), *rest) for days_ago, *rest in services]
        dated += [(date(today.year - 1, month, day), *rest) for month, day, *rest in LAST_YEAR_USAGES.get(card, [])]
        for served, provider, procedure, amount in dated:
            value = Decimal(str(amount))
            session.add(
                ServiceUsage(
                    beneficiary_id=beneficiary.id,
                    service_date=served,
                    provider_name=provider,
                    procedure=procedure,
                    amount=value,
                    coparticipation=(value * rate).quantize(Decimal("0.01")),
                )
            )


async def _seed_providers(session: AsyncSession) -> None:
    network = yaml.safe_load(PROVIDERS_FILE.read_text(encoding="utf-8"))
    for city, data in network.items():
        for name, kind, specialty, street, phone in data["providers"]:
            address = f"{street}, {city} - {data['state']}"
            await _get_or_create(
                session,
                Provider,
                {"name": name, "specialty": specialty, "city": city},
                dict(
                    type=kind,
                    state=data["state"],
                    address=address,
                    phone=phone,
                    map_url=map_url(address),
                ),
            )


async def _seed_companies(session: AsyncSession, settings: Settings, today: date) -> None:
    """The demo company and its group company (seed_data/company.yaml): users, contracted plans,
    beneficiaries (Renata inactive since 3 months ago) with the services they used, and 24 invoices
    (current month open, the previous one overdue, older ones paid), all relative to `today`."""
    data = yaml.safe_load(COMPANIES_FILE.read_text(encoding="utf-8"))
    plans = {
        values["name"]: await _get_or_create(session, Plan, {"name": values["name"]}, values)
        for values in data["plans"]
    }
    companies: dict[str, Company] = {}
    for item in data["companies"]:
        parent = companies[item["group_of"]].id if item.get("group_of") else None
        contact = {key: item[key] for key in ("email", "phone", "address")}
        company = await _get_or_create(
            session,
            Company,
            {"code": item["code"]},
            dict(cnpj=item["cnpj"], name=item["name"], parent_id=parent, **contact),
        )
        companies[item["code"]] = company
        for name in item["plans"]:
            lookup = {"company_id": company.id, "plan_id": plans[name].id}
            await _get_or_create(session, CompanyPlan, lookup, {"contracted_on": add_months(today, -30)})
        for user in item["users"]:
            if await _exists(session, CompanyUser, user_code=user["user_code"]):
                continue
            password = user["password"]
            session.add(
                CompanyUser(
                    company_id=company.id,
                    user_code=user["user_code"],
                    name=user["name"],
                    email=user["email"],
                    role=user["role"],
                    password_hash=await hash_password(password, settings.bcrypt_rounds) if password else None,
                )
            )
        members: dict[str, Beneficiary] = {}
        for person in item["beneficiaries"]:
            inactive_since = (
                add_months(today, -person["inactive_months_ago"]) if "inactive_months_ago" in person else None
            )
            members[person["card"]] = await _get_or_create(
                session,
                Beneficiary,
                {"card_number": person["card"]},
                dict(
                    name=person["name"],
                    cpf=person["cpf"],
                    birth_date=person["birth"],
                    mother_name=person["mother"],
                    plan_id=plans[person["plan"]].id,
                    holder_id=members[person["holder"]].id if person["holder"] else None,
                    relationship=person["relationship"],
                    status="cancelled" if inactive_since else "active",
                    cancelled_at=inactive_since,
                    company_id=company.id,
                ),
            )
        await _seed_company_usages(session, members, item["beneficiaries"], today)
        if item.get("monthly_invoice"):
            await _seed_invoices(session, company, Decimal(item["monthly_invoice"]), today)


async def _seed_company_usages(
    session: AsyncSession, members: dict[str, Beneficiary], people: list[dict], today: date
) -> None:
    """The services the company's beneficiaries used (the usage report): `usages` of each person,
    [months ago, day, provider, procedure, amount], on that day of a closed month. The company's
    dental plans have no coparticipation."""
    for person in people:
        beneficiary = members[person["card"]]
        if not person.get("usages") or await _exists(session, ServiceUsage, beneficiary_id=beneficiary.id):
            continue
        for months_ago, day, provider, procedure, amount in person["usages"]:
            session.add(
                ServiceUsage(
                    beneficiary_id=beneficiary.id,
                    service_date=add_months(today.replace(day=1), -months_ago).replace(day=day),
                    provider_name=provider,
                    procedure=procedure,
                    amount=Decimal(amount),
                    coparticipation=Decimal(0),
                )
            )


async def _seed_invoices(session: AsyncSession, company: Company, amount: Decimal, today: date) -> None:
    """One invoice a month for the last 24 months: this month's open (due in 10 days), the previous
    one overdue, older ones paid (2 days before their due date)."""
    current_due = today + timedelta(days=10)
    for back in range(24):
        reference = add_months(today.replace(day=1), -back)
        if await _exists(session, CompanyInvoice, company_id=company.id, reference_month=reference):
            continue
        due = add_months(current_due, -back)
        status = "paid" if back > 1 else ("open" if back == 0 else "overdue")
        session.add(
            CompanyInvoice(
                company_id=company.id,
                document_number=f"F{company.code}{reference:%Y%m}",
                reference_month=reference,
                due_date=due,
                amount=amount,
                paid_at=due - timedelta(days=2) if status == "paid" else None,
                status=status,
            )
        )


def _at(day: date) -> datetime:
    """A plausible office-hours instant (naive UTC) on `day`."""
    return datetime.combine(day, time(13, 30))


async def run(settings: Settings) -> bool:
    """Seeds the demo data if it is asked for; returns whether it did."""
    if not settings.seeds_demo_data:
        return False
    await seed_database(settings)
    return True


async def seed_database(settings: Settings) -> None:
    """seed() in a session of its own on the database of `settings`."""
    engine = create_engine(settings)
    try:
        async with session_factory(engine)() as session:
            await seed(session, settings)
    finally:
        await engine.dispose()


def main() -> None:
    from common.logs import configure_logging

    configure_logging()
    settings = Settings.from_env()
    if asyncio.run(run(settings)):
        log.info("demo data seeded")
    else:
        log.info(
            "no demo data: operator profile %r (set DEMO_DATA=1 to seed the demo personas and agent)",
            settings.operator_profile,
        )


if __name__ == "__main__":
    main()

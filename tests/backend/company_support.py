"""What the company tests share: the demo company of the contract (section 8) and its calls."""

from __future__ import annotations

import re

FERNANDA = {"user_code": "RH500101", "password": "Empresa@2024"}  # admin, portal access
DIEGO_CODE = "RH500102"  # plain user, no portal access yet
CNPJ = "33.445.566/0001-86"
GROUP_CNPJ = "33.445.566/0002-67"
CODE_RE = re.compile(r"^\s*(\d{6})\s*$", re.MULTILINE)


def codes(outbox) -> set[str]:
    """The one-time codes of every e-mail so far (the Maildir keeps no order)."""
    return {match.group(1) for _, body in outbox() if (match := CODE_RE.search(body))}


def last_code(outbox) -> str:
    """The one-time code of the only e-mail with a code so far."""
    (code,) = codes(outbox)
    return code


async def ask_code(client, user_code=FERNANDA["user_code"], cnpj=CNPJ, conversation="conversa-rh", channel="rest"):
    body = {"user_code": user_code, "cnpj": cnpj, "conversation_id": conversation, "channel": channel}
    return await client.post("/api/company/identity/codes", json=body)


async def verify(client, code, user_code=FERNANDA["user_code"], cnpj=CNPJ, conversation="conversa-rh", channel="rest"):
    body = {"user_code": user_code, "cnpj": cnpj, "code": code, "conversation_id": conversation, "channel": channel}
    return await client.post("/api/company/identity/verifications", json=body)


async def verified_headers(client, outbox, user_code=FERNANDA["user_code"], conversation="conversa-rh") -> dict:
    """Headers of a conversation verified as `user_code` (the chat's way)."""
    before = codes(outbox)
    assert (await ask_code(client, user_code=user_code, conversation=conversation)).status == 202
    (code,) = codes(outbox) - before
    response = await verify(client, code, user_code=user_code, conversation=conversation)
    assert response.status == 201, await response.text()
    token = (await response.json())["token"]
    return {"X-Company-Verification": token, "X-Conversation-Id": conversation, "X-Channel": "rest"}


async def login_headers(client, credentials=None) -> dict:
    """Headers of a portal login token."""
    response = await client.post("/api/company/auth/login", json=credentials or FERNANDA)
    assert response.status == 200, await response.text()
    return {"X-Company-Session": (await response.json())["token"]}


OTHER = {"user_code": "RH600101", "password": "Aurora@2024"}  # admin of another company (alphanumeric CNPJ)
OTHER_CNPJ = "12.ABC.345/01DE-35"


async def add_other_company(session) -> None:
    """Comercial Aurora Ltda: another company, with its admin, one invoice and one beneficiary."""
    from datetime import date
    from decimal import Decimal

    from sqlalchemy import select

    from backend.models import Beneficiary, Company, CompanyInvoice, CompanyPlan, CompanyUser, Plan
    from backend.passwords import hash_password

    company = Company(
        code="600100", cnpj="12ABC34501DE35", name="Comercial Aurora Ltda", email="contato@aurora.exemplo"
    )
    session.add(company)
    await session.flush()
    plan = (await session.execute(select(Plan).where(Plan.name == "Odonto Plus"))).scalar_one()
    session.add(CompanyPlan(company_id=company.id, plan_id=plan.id, contracted_on=date(2024, 1, 1)))
    session.add(
        CompanyUser(
            company_id=company.id,
            user_code=OTHER["user_code"],
            name="Otávio Prado",
            email="rh@aurora.exemplo",
            role="admin",
            password_hash=await hash_password(OTHER["password"], 12),
        )
    )
    session.add(
        CompanyInvoice(
            company_id=company.id,
            document_number="F600100202401",
            reference_month=date(2024, 1, 1),
            due_date=date(2024, 1, 10),
            amount=Decimal("99.90"),
            status="overdue",
        )
    )
    session.add(
        Beneficiary(
            name="Olga Aurora",
            card_number="600100000101",
            cpf=None,
            birth_date=date(1980, 1, 1),
            mother_name="Maria Aurora",
            relationship="holder",
            plan_id=plan.id,
            company_id=company.id,
        )
    )
    await session.commit()

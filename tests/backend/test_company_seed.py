"""The demo company of the contract (section 8), seeded with dates relative to today, and the
migration 0012 that holds it (the models and the migrations agree; it goes down and up again)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select

from backend.clock import local_today
from backend.migrate import downgrade, upgrade
from backend.models import Beneficiary, Company, CompanyInvoice, CompanyPlan, CompanyUser, metadata
from backend.seed import add_months
from backend.settings import Settings
from common.company_documents import normalize_cnpj
from common.validators import InvalidValue


@pytest.mark.asyncio
async def test_the_demo_company_is_the_contracts(session):
    companies = {c.code: c for c in (await session.execute(select(Company))).scalars()}
    horizonte, group = companies["500100"], companies["500200"]
    assert (horizonte.name, horizonte.cnpj) == ("Construtora Horizonte Ltda", "33445566000186")
    assert (group.name, group.cnpj, group.parent_id) == ("Horizonte Incorporações Ltda", "33445566000267", horizonte.id)
    users = {u.user_code: u for u in (await session.execute(select(CompanyUser))).unique().scalars()}
    fernanda, diego = users["RH500101"], users["RH500102"]
    assert (fernanda.name, fernanda.role, fernanda.email) == ("Fernanda Rocha", "admin", "rh@horizonte.exemplo.com.br")
    assert fernanda.password_hash.startswith("$2b$12$")
    assert (diego.name, diego.role, diego.email, diego.password_hash) == (
        "Diego Martins",
        "user",
        "dp@horizonte.exemplo.com.br",
        None,
    )
    plans = (await session.execute(select(CompanyPlan).where(CompanyPlan.company_id == horizonte.id))).scalars()
    assert sorted(p.plan.name for p in plans) == ["Odonto Essencial", "Odonto Plus"]


@pytest.mark.asyncio
async def test_the_company_beneficiaries(session):
    today = local_today()
    people = {
        b.card_number: b
        for b in (await session.execute(select(Beneficiary).where(Beneficiary.company_id.is_not(None))))
        .unique()
        .scalars()
    }
    assert set(people) == {"500100000101", "500100000102", "500100000201"}
    paulo, livia, renata = people["500100000101"], people["500100000102"], people["500100000201"]
    assert (paulo.name, paulo.cpf, paulo.birth_date.isoformat(), paulo.status) == (
        "Paulo Henrique Dias",
        "31864027517",
        "1988-11-04",
        "active",
    )
    assert paulo.plan.name == "Odonto Essencial"
    assert (livia.name, livia.holder_id, livia.relationship, livia.birth_date.isoformat()) == (
        "Lívia Dias",
        paulo.id,
        "daughter",
        "2016-06-22",
    )
    assert (renata.name, renata.cpf, renata.status) == ("Renata Costa", "47291580676", "cancelled")
    assert renata.cancelled_at == add_months(today, -3)
    bruno = (await session.execute(select(Beneficiary).where(Beneficiary.cpf == "65028319405"))).scalar()
    assert bruno is None  # the inclusion example is not a beneficiary yet


@pytest.mark.asyncio
async def test_24_invoices_current_open_previous_overdue_older_paid(session):
    today = local_today()
    invoices = (
        (await session.execute(select(CompanyInvoice).order_by(CompanyInvoice.reference_month.desc()))).scalars().all()
    )
    assert len(invoices) == 24
    assert invoices[0].reference_month == today.replace(day=1) and invoices[0].status == "open"
    assert invoices[0].due_date > today
    assert invoices[1].status == "overdue" and invoices[1].due_date < today and invoices[1].paid_at is None
    assert {i.status for i in invoices[2:]} == {"paid"} and all(i.paid_at for i in invoices[2:])
    assert invoices[-1].reference_month == add_months(today.replace(day=1), -23)


@pytest.mark.parametrize(
    "typed, stored",
    [
        ("33.445.566/0001-86", "33445566000186"),
        ("33445566000267", "33445566000267"),
        ("12.abc.345/01de-35", "12ABC34501DE35"),
    ],
)
def test_cnpj_numeric_and_alphanumeric(typed, stored):
    assert normalize_cnpj(typed) == stored


@pytest.mark.parametrize(
    "typed", ["33.445.566/0001-87", "12.ABC.345/01DE-36", "11111111111111", "3344556600018", "12ABC34501DEXX"]
)
def test_invalid_cnpjs_are_refused(typed):
    with pytest.raises(InvalidValue):
        normalize_cnpj(typed)


def test_models_and_migrations_agree_and_0012_goes_down_and_up(tmp_path):
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'm.db'}", var_dir=tmp_path)
    upgrade(settings)
    engine = sa.create_engine(settings.database_url)
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), metadata) == []
    downgrade(settings, "0011")
    with engine.connect() as connection:
        tables = set(sa.inspect(connection).get_table_names())
        columns = {c["name"] for c in sa.inspect(connection).get_columns("beneficiaries")}
    assert "companies" not in tables and "company_users" not in tables and "company_id" not in columns
    upgrade(settings)
    with engine.connect() as connection:
        assert "company_invoices" in sa.inspect(connection).get_table_names()
    engine.dispose()

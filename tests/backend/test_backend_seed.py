"""The demo data (backend.seed), and that seeding twice changes nothing."""

from datetime import timedelta
from urllib.parse import quote_plus

import pytest
from backend_api import stored_protocol
from sqlalchemy import func, select

from backend.clock import local_today
from backend.models import (
    Account,
    Agent,
    Beneficiary,
    CardRequest,
    Fee,
    Provider,
    Reimbursement,
    WaitingPeriod,
    metadata,
)
from backend.seed import seed
from common.validators import normalize_cpf

pytestmark = pytest.mark.asyncio


async def _by_card(session, card):
    return (await session.execute(select(Beneficiary).where(Beneficiary.card_number == card))).unique().scalar_one()


async def _snapshot(session):
    snapshot = {}
    for table in metadata.sorted_tables:
        rows = (await session.execute(select(table).order_by(*table.primary_key.columns))).all()
        snapshot[table.name] = [tuple(row) for row in rows]
    return snapshot


async def test_seed_is_idempotent(session, settings):
    before = await _snapshot(session)
    await seed(session, settings)
    await seed(session, settings)
    assert await _snapshot(session) == before


async def test_personas(session):
    maria = await _by_card(session, "100200300401")
    assert (maria.name, maria.cpf, maria.birth_date.isoformat()) == (
        "Maria Aparecida Santos",
        "94580730224",
        "1985-03-12",
    )
    assert maria.email == "maria.santos@exemplo.com.br" and maria.mother_name == "Josefa Aparecida Santos"
    assert maria.account is not None and not maria.account.must_change_password
    assert (maria.plan.outpatient, maria.plan.hospital, maria.plan.obstetrics, maria.plan.accommodation) == (
        True,
        True,
        True,
        "apartamento",
    )

    joao, ana_clara = await _by_card(session, "100200300402"), await _by_card(session, "100200300403")
    assert joao.holder_id == ana_clara.holder_id == maria.id
    assert joao.account is None and ana_clara.account is None
    assert joao.cpf == "15736819384" and ana_clara.cpf is None

    jose = await _by_card(session, "200300400501")
    assert jose.account is None and jose.email == "jose.oliveira@exemplo.com.br" and jose.status == "active"
    ana_beatriz = await _by_card(session, "300400500601")
    assert ana_beatriz.account is not None and ana_beatriz.email is None
    carlos = await _by_card(session, "400500600701")
    assert carlos.status == "cancelled" and carlos.cancelled_at is not None

    cpfs = [b.cpf for b in (await session.execute(select(Beneficiary))).unique().scalars() if b.cpf]
    assert all(normalize_cpf(cpf) == cpf for cpf in cpfs)


async def test_maria_fees_waiting_periods_and_requests(session):
    today = local_today()
    maria = await _by_card(session, "100200300401")
    fees = (
        (await session.execute(select(Fee).where(Fee.beneficiary_id == maria.id).order_by(Fee.reference_month.desc())))
        .scalars()
        .all()
    )
    assert len(fees) >= 24
    assert fees[0].status == "open" and fees[0].due_date > today and fees[0].reference_month.month == today.month
    assert fees[1].status == "overdue" and fees[1].due_date < today and fees[1].paid_at is None
    assert all(f.status == "paid" and f.paid_at for f in fees[2:])
    # the whole previous calendar year is there, so last year's income-tax statement has payments
    # (in January, its December is the overdue month)
    last_year = [f for f in fees if f.reference_month.year == today.year - 1]
    assert len(last_year) == 12
    assert sum(f.paid_at is not None and f.paid_at.year == today.year - 1 for f in last_year) >= 11

    periods = {
        w.coverage_group: w.ends_on
        for w in (
            await session.execute(select(WaitingPeriod).where(WaitingPeriod.beneficiary_id == maria.id))
        ).scalars()
    }
    assert abs((periods.pop("Parto a termo") - today) - timedelta(days=120)) <= timedelta(days=5)
    assert periods and all(ends_on < today for ends_on in periods.values())

    reimbursements = (
        (await session.execute(select(Reimbursement).where(Reimbursement.beneficiary_id == maria.id))).scalars().all()
    )
    assert sorted(r.status for r in reimbursements) == ["paid", "paid", "under_analysis"]
    assert any(r.status == "paid" and r.service_date.year == today.year - 1 for r in reimbursements)
    assert all(r.history for r in reimbursements)

    joao = await _by_card(session, "100200300402")
    card_request = (
        await session.execute(select(CardRequest).where(CardRequest.beneficiary_id == joao.id))
    ).scalar_one()
    assert card_request.reason == "Extravio" and card_request.status == "in_production"
    # asked five days ago by the holder
    await stored_protocol(
        session, card_request.protocol_number, "card_reissue", "100200300401", today - timedelta(days=5)
    )


async def test_accredited_network(session):
    providers = (await session.execute(select(Provider))).scalars().all()
    assert len(providers) >= 40
    assert {"Aracaju", "Brasília", "Rio de Janeiro", "São Paulo"} <= {p.city for p in providers}
    assert len({p.specialty for p in providers}) >= 10
    for provider in providers:
        assert provider.address and provider.phone
        assert provider.map_url == ("https://www.google.com/maps/search/?api=1&query=" + quote_plus(provider.address))


async def test_demo_agent_and_bcrypt_cost(session):
    agent = (await session.execute(select(Agent).where(Agent.username == "atendente"))).scalar_one()
    hashes = [agent.password_hash] + list((await session.execute(select(Account.password_hash))).scalars())
    assert all(int(h.split("$")[2]) >= 12 for h in hashes)
    assert (await session.execute(select(func.count()).select_from(Agent))).scalar_one() == 1

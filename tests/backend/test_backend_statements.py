"""POST /api/statements: income-tax statement, debt-discharge declaration, statement of services;
the rules of each (backend.statements.data) on hand-made rows, and the PDFs behind the signed links,
whose text is read back from the PDF's content streams."""

import re
import zlib
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from backend_api import CARLOS, JOAO, JOSE, MARIA, call_with_verification, stored_protocol
from sqlalchemy import extract, select, update

from backend.api.errors import STATUS_BY_CODE
from backend.clock import local_today
from backend.models import Beneficiary, Fee, Protocol, ServiceUsage
from backend.refusals import Refused
from backend.signed_links import sign
from backend.statements.data import (
    FeeRow,
    Person,
    ServiceRow,
    debt_discharge,
    income_tax,
    services_statement,
)
from common.money import format_brl

STREAM_RE = re.compile(rb"stream\r?\n(.*?)\r?\nendstream", re.S)
TJ_RE = re.compile(rb"\(((?:\\.|[^\\)])*)\)\s*Tj")


def pdf_text(content: bytes) -> str:
    """The strings drawn on the pages (fpdf2 core fonts: Latin-1 literals in Flate streams)."""
    assert content.startswith(b"%PDF")
    found = []
    for stream in STREAM_RE.findall(content):
        try:
            data = zlib.decompress(stream)
        except zlib.error:
            data = stream
        for literal in TJ_RE.findall(data):
            found.append(re.sub(rb"\\(.)", rb"\1", literal).decode("latin-1"))
    return "\n".join(found)


async def ask(client, persona, **body):
    return await call_with_verification(client, "/api/statements", persona, **body)


async def download(client, answer) -> tuple[int, str, bytes]:
    response = await client.get(urlsplit(answer["url"]).path)
    return response.status, response.content_type, await response.read()


async def scalars(session, statement, unique=False) -> list:
    """Reads and ends the transaction, so that SQLite does not keep the app from writing."""
    result = (await session.execute(statement)).scalars()
    rows = (result.unique() if unique else result).all()
    await session.commit()
    return rows


async def _holder(session, card="100200300401"):
    [found] = await scalars(session, select(Beneficiary).where(Beneficiary.card_number == card), unique=True)
    return found


async def _add_fee(session, holder, reference: date, status: str, amount="1289.70", paid_at: date | None = None):
    """A fee of `reference`'s month for the test, replacing a seeded one of the same month; a paid one
    is paid two days before its due date unless `paid_at` says when."""
    existing = (
        await session.execute(
            select(Fee).where(
                Fee.beneficiary_id == holder.id, Fee.reference_month == reference, Fee.type == "Mensalidade"
            )
        )
    ).scalar_one_or_none()
    due = reference.replace(day=10)
    values = dict(
        amount=Decimal(amount),
        status=status,
        due_date=due,
        paid_at=(paid_at or due - timedelta(days=2)) if status == "paid" else None,
    )
    if existing:
        for key, value in values.items():
            setattr(existing, key, value)
    else:
        session.add(
            Fee(
                beneficiary_id=holder.id,
                document_number=f"T{holder.id}{reference:%Y%m}",
                reference_month=reference,
                type="Mensalidade",
                **values,
            )
        )
    await session.commit()


# --- the rules, on hand-made rows ---------------------------------------------------------------

HOLDER = Person(1, "Maria Aparecida Santos", "100200300401", "holder", "94580730224", date(1985, 3, 12), True)
SON = Person(2, "João Pedro Santos", "100200300402", "son", "15736819384", date(2012, 7, 30), False)
BABY = Person(3, "Ana Clara Santos", "100200300403", "filha", None, date(2024, 6, 15), False)


def fee(reference: date, amount: str, status="paid", paid_at: date | None = None) -> FeeRow:
    return FeeRow(
        f"D{reference:%Y%m}",
        reference,
        reference.replace(day=10),
        "Mensalidade",
        Decimal(amount),
        status,
        paid_at if status == "paid" else None,
    )


def test_income_tax_splits_each_paid_fee_among_the_members_covered_that_month():
    fees = [
        fee(date(2024, 3, 1), "900.01", paid_at=date(2024, 3, 8)),  # before the baby: holder and son
        fee(date(2024, 7, 1), "900.00", paid_at=date(2024, 7, 5)),  # three members
        fee(date(2024, 11, 1), "900.00", status="overdue"),  # not paid: not declared
        fee(date(2024, 12, 1), "900.00", paid_at=date(2025, 1, 2)),  # paid in 2025: not in 2024
    ]
    services = [
        ServiceRow(2, date(2024, 5, 2), "Clínica", "Consulta", Decimal("150.00"), Decimal("30.00")),
        ServiceRow(2, date(2025, 1, 9), "Clínica", "Consulta", Decimal("150.00"), Decimal("30.00")),
    ]
    statement = income_tax(2024, date(2025, 3, 1), [HOLDER, SON, BABY], fees, services)
    by_name = {m.person.first_name: (m.fees, m.coparticipation) for m in statement.members}
    assert by_name == {
        "Maria": (Decimal("750.01"), Decimal("0")),
        "João": (Decimal("750.00"), Decimal("30.00")),
        "Ana": (Decimal("300.00"), Decimal("0")),
    }
    assert statement.total == Decimal("1830.01") and not statement.partial
    assert [f.reference_month.month for f in statement.payments] == [3, 7]

    later = income_tax(2025, date(2025, 3, 1), [HOLDER, SON, BABY], fees, services)
    assert later.partial and later.until == date(2025, 3, 1) and later.total == Decimal("930.00")


@pytest.mark.parametrize("year, code", [(2026, "year_in_future"), (2023, "before_plan_start")])
def test_income_tax_refuses_years_without_data(year, code):
    with pytest.raises(Refused) as refused:
        income_tax(year, date(2025, 3, 1), [HOLDER], [fee(date(2024, 3, 1), "100.00", paid_at=date(2024, 3, 8))], [])
    assert (STATUS_BY_CODE[refused.value.code], refused.value.code) == (422, code)


def test_debt_discharge_needs_a_closed_year_with_every_fee_paid():
    fees = [fee(date(2024, m, 1), "100.00", paid_at=date(2024, m, 8)) for m in range(1, 13)]
    assert debt_discharge(2024, date(2025, 2, 1), fees).total == Decimal("1200.00")
    fees[4] = fee(date(2024, 5, 1), "100.00", status="overdue")
    with pytest.raises(Refused) as refused:
        debt_discharge(2024, date(2025, 2, 1), fees)
    assert (STATUS_BY_CODE[refused.value.code], refused.value.code) == (409, "open_fees")
    assert [(f["reference_month"], f["due_date_text"], f["amount_text"]) for f in refused.value.data["open_fees"]] == [
        ("05/2024", "10/05/2024", "R$ 100,00")
    ]
    with pytest.raises(Refused) as refused:
        debt_discharge(2025, date(2025, 12, 30), fees)
    assert refused.value.code == "year_not_closed"


def test_services_of_a_month_only():
    services = [
        ServiceRow(1, date(2025, 2, 3), "Lab", "Exame", Decimal("80.00"), Decimal("0")),
        ServiceRow(2, date(2025, 3, 1), "Clínica", "Consulta", Decimal("150.00"), Decimal("30.00")),
    ]
    statement = services_statement(2025, 3, date(2025, 3, 20), [HOLDER, SON], services)
    assert [(p.first_name, s.procedure) for p, s in statement.rows] == [("João", "Consulta")]
    assert (statement.total, statement.coparticipation) == (Decimal("150.00"), Decimal("30.00"))
    with pytest.raises(Refused) as refused:
        services_statement(2025, 4, date(2025, 3, 20), [HOLDER], services)
    assert refused.value.code == "month_in_future"


# --- through the API ----------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_income_tax_for_last_year(client, session):
    maria = await _holder(session)
    last_year = local_today().year - 1
    await _add_fee(session, maria, date(last_year, 3, 1), "paid")
    await _add_fee(session, maria, date(last_year, 4, 1), "paid")
    paid = await scalars(
        session,
        select(Fee.amount).where(
            Fee.beneficiary_id == maria.id, Fee.status == "paid", extract("year", Fee.paid_at) == last_year
        ),
    )
    expected = sum(paid, Decimal(0))
    assert len(paid) >= 2

    status, body = await ask(client, MARIA, kind="demonstrativo_ir", year=str(last_year))
    assert status == 201, body
    await stored_protocol(session, body["protocol"], "statement", MARIA["login"])
    assert format_brl(expected) in body["summary"] and "Maria, João e Ana" in body["summary"]
    assert body["expires_in_minutes"] == 15 and body["filename"] == f"demonstrativo-ir-{last_year}.pdf"

    status, content_type, content = await download(client, body)
    assert (status, content_type) == (200, "application/pdf")
    text = pdf_text(content)
    for expected_text in (
        "Maria Aparecida Santos",
        "João Pedro Santos",
        "Ana Clara Santos",
        "***.807.302-**",
        "Registro ANS nº 419010",
        body["protocol"],
        format_brl(expected),
        f"03/{last_year}",
        f"ano-calendário {last_year}",
    ):
        assert expected_text in text, expected_text
    assert "945.807.302-24" not in text and "94580730224" not in text

    protocol = (await session.execute(select(Protocol).where(Protocol.number == body["protocol"]))).scalar_one()
    assert (protocol.status, protocol.details["statement"]) == ("completed", "demonstrativo_ir")


@pytest.mark.asyncio
async def test_income_tax_of_the_current_year_is_partial(client, session):
    maria = await _holder(session)
    today = local_today()
    # this month's fee paid today: a payment this year whatever the day of the year
    await _add_fee(session, maria, today.replace(day=1), "paid", paid_at=today)
    paid = await scalars(
        session,
        select(Fee.amount).where(
            Fee.beneficiary_id == maria.id, Fee.status == "paid", extract("year", Fee.paid_at) == today.year
        ),
    )
    status, body = await ask(client, MARIA, kind="demonstrativo_ir", year=today.year)
    assert status == 201, body
    assert "parcial" in body["summary"] and format_brl(sum(paid, Decimal(0))) in body["summary"]
    assert "PARCIAL" in pdf_text((await download(client, body))[2])


@pytest.mark.asyncio
async def test_income_tax_of_a_year_without_payments_yet(client, session):
    """Early January: nothing paid this year yet (made so on any day: this year's payments taken away)."""
    maria = await _holder(session)
    year = local_today().year
    await session.execute(
        update(Fee)
        .where(Fee.beneficiary_id == maria.id, extract("year", Fee.paid_at) == year)
        .values(status="open", paid_at=None)
        .execution_options(synchronize_session=False)
    )
    await session.commit()
    status, body = await ask(client, MARIA, kind="demonstrativo_ir", year=year)
    assert status == 422 and body["error"]["code"] == "no_payments"


@pytest.mark.asyncio
async def test_income_tax_refusals(client, session):
    year = local_today().year
    status, body = await ask(client, MARIA, kind="demonstrativo_ir", year=year + 1)
    assert status == 422 and body["error"]["code"] == "year_in_future"
    maria = await _holder(session)
    first = min(await scalars(session, select(Fee.reference_month).where(Fee.beneficiary_id == maria.id))).year
    status, body = await ask(client, MARIA, kind="demonstrativo_ir", year=first - 1)
    assert status == 422 and body["error"]["code"] == "before_plan_start" and str(first) in body["error"]["message"]
    status, body = await ask(client, JOAO, kind="demonstrativo_ir", year=year - 1)
    assert status == 403 and body["error"]["code"] == "holder_only"
    status, body = await ask(client, MARIA, kind="demonstrativo_ir", year="ano passado")
    assert status == 400 and "year" in body["error"]["fields"]
    status, body = await ask(client, MARIA, kind="boleto", year=year)
    assert status == 400 and "kind" in body["error"]["fields"]


@pytest.mark.asyncio
async def test_debt_discharge_for_a_year_fully_paid(client, session):
    maria = await _holder(session)
    last_year = local_today().year - 1
    await _add_fee(session, maria, date(last_year, 6, 1), "paid")
    # in January the seed's overdue fee is December of last year: pay it for this test
    await session.execute(
        update(Fee)
        .where(Fee.beneficiary_id == maria.id, Fee.status != "paid", extract("year", Fee.reference_month) == last_year)
        .values(status="paid", paid_at=local_today())
        .execution_options(synchronize_session=False)
    )
    await session.commit()
    months = sorted(
        await scalars(
            session,
            select(Fee.reference_month).where(
                Fee.beneficiary_id == maria.id, extract("year", Fee.reference_month) == last_year
            ),
        )
    )

    status, body = await ask(client, MARIA, kind="quitacao_debitos", year=last_year)
    assert status == 201, body
    assert body["filename"] == f"quitacao-debitos-{last_year}.pdf" and str(last_year) in body["summary"]
    text = pdf_text((await download(client, body))[2])
    assert "Lei nº 12.007" in text and "Maria Aparecida Santos" in text and body["protocol"] in text
    for month in months:
        assert f"{month:%m/%Y}" in text


@pytest.mark.asyncio
async def test_debt_discharge_with_an_open_fee_lists_it(client, session):
    maria = await _holder(session)
    last_year = local_today().year - 1
    await _add_fee(session, maria, date(last_year, 2, 1), "overdue", amount="1189.70")
    status, body = await ask(client, MARIA, kind="quitacao_debitos", year=last_year)
    assert status == 409 and body["error"]["code"] == "open_fees"
    assert [(f["reference_month"], f["due_date_text"], f["amount_text"]) for f in body["error"]["open_fees"]] == [
        (f"02/{last_year}", f"10/02/{last_year}", "R$ 1.189,70")
    ]
    assert f"02/{last_year}" in body["error"]["message"] and "R$ 1.189,70" in body["error"]["message"]

    status, body = await ask(client, MARIA, kind="quitacao_debitos", year=local_today().year)
    assert status == 422 and body["error"]["code"] == "year_not_closed"


@pytest.mark.asyncio
async def test_statement_of_services_of_a_month(client, session):
    maria = await _holder(session)
    family = [maria.id, *await scalars(session, select(Beneficiary.id).where(Beneficiary.holder_id == maria.id))]
    latest = max(
        await scalars(session, select(ServiceUsage.service_date).where(ServiceUsage.beneficiary_id == maria.id))
    )
    used = await scalars(
        session,
        select(ServiceUsage).where(
            ServiceUsage.beneficiary_id.in_(family),
            extract("year", ServiceUsage.service_date) == latest.year,
            extract("month", ServiceUsage.service_date) == latest.month,
        ),
    )

    status, body = await ask(client, MARIA, kind="extrato_atendimentos", year=latest.year, month=str(latest.month))
    assert status == 201, body
    assert body["empty"] is False and f"{len(used)} atendimento" in body["summary"]
    assert format_brl(sum((u.amount for u in used), Decimal(0))) in body["summary"]
    text = pdf_text((await download(client, body))[2])
    for usage in used:
        assert usage.procedure in text and usage.provider_name in text and f"{usage.service_date:%d/%m/%Y}" in text


@pytest.mark.asyncio
async def test_services_of_a_dependent_and_coparticipation(client, session):
    joao = await _holder(session, "100200300402")
    day = (
        await scalars(
            session,
            select(ServiceUsage.service_date)
            .where(ServiceUsage.beneficiary_id == joao.id)
            .order_by(ServiceUsage.service_date.desc()),
        )
    )[0]
    status, body = await ask(
        client, MARIA, kind="extrato_atendimentos", year=day.year, month=day.month, beneficiary="100200300402"
    )
    assert status == 201, body
    text = pdf_text((await download(client, body))[2])
    assert "João" in text and "Maria" not in text.split("Protocolo")[-1]

    status, body = await ask(
        client, JOAO, kind="extrato_atendimentos", year=day.year, month=day.month, beneficiary="100200300401"
    )
    assert status == 403 and body["error"]["code"] == "not_in_family"

    jose = await _holder(session, "200300400501")
    usage = (
        await scalars(
            session,
            select(ServiceUsage)
            .where(ServiceUsage.beneficiary_id == jose.id)
            .order_by(ServiceUsage.service_date.desc()),
        )
    )[0]
    assert usage.coparticipation > 0  # José's plan has coparticipation
    status, body = await ask(
        client, JOSE, kind="extrato_atendimentos", year=usage.service_date.year, month=usage.service_date.month
    )
    assert status == 201 and "coparticipação" in body["summary"]


@pytest.mark.asyncio
async def test_month_without_services_is_not_an_empty_pdf(client, session):
    today = local_today()
    month_index = today.year * 12 + today.month - 1 - 8
    year, month = divmod(month_index, 12)
    status, body = await ask(client, MARIA, kind="extrato_atendimentos", year=year, month=month + 1)
    assert status == 200, body
    assert body["empty"] is True and "url" not in body and "Não encontrei atendimentos" in body["message"]

    status, body = await ask(client, MARIA, kind="extrato_atendimentos", year=today.year + 1, month=1)
    assert status == 422 and body["error"]["code"] == "month_in_future"
    status, body = await ask(client, MARIA, kind="extrato_atendimentos", year=today.year, month="treze")
    assert status == 400 and "month" in body["error"]["fields"]


@pytest.mark.asyncio
async def test_cancelled_plan_still_gets_its_income_tax_statement(client, session):
    carlos = await _holder(session, "400500600701")
    assert carlos.cancelled_at is not None
    # the year of his last payment: this year, or last year when run in the first months of a year
    year = max(
        await scalars(session, select(Fee.paid_at).where(Fee.beneficiary_id == carlos.id, Fee.status == "paid"))
    ).year
    paid = await scalars(
        session,
        select(Fee.amount).where(
            Fee.beneficiary_id == carlos.id, Fee.status == "paid", extract("year", Fee.paid_at) == year
        ),
    )
    status, body = await ask(client, CARLOS, kind="demonstrativo_ir", year=year)
    assert status == 201, body
    assert format_brl(sum(paid, Decimal(0))) in body["summary"]
    assert "Carlos Eduardo Souza" in pdf_text((await download(client, body))[2])


@pytest.mark.asyncio
async def test_statement_links_expire_and_cannot_be_forged(client, session, settings):
    maria = await _holder(session)
    latest = max(
        await scalars(session, select(ServiceUsage.service_date).where(ServiceUsage.beneficiary_id == maria.id))
    )
    status, body = await ask(client, MARIA, kind="extrato_atendimentos", year=latest.year, month=latest.month)
    assert status == 201 and (await client.get(urlsplit(body["url"]).path)).status == 200  # the link works, then:
    number = body["protocol"]
    old = sign(
        settings.link_signing_secret,
        "statement",
        {"protocol": number},
        now=datetime.now(timezone.utc) - timedelta(minutes=15, seconds=1),
    )
    assert (await client.get(f"/documentos/{old}")).status == 410
    forged = sign(b"not the key", "statement", {"protocol": number})
    assert (await client.get(f"/documentos/{forged}")).status == 404
    unknown = sign(settings.link_signing_secret, "statement", {"protocol": "0" * 20})
    assert (await client.get(f"/documentos/{unknown}")).status == 404

"""GET /api/fees and POST /api/fees/{document_number}/slips: Maria's fees (current month open,
previous month overdue, older ones paid), the bank slip with overdue charges, the PDF link; João
(dependent) refused; Carlos (cancelled plan) answered."""

import re
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from backend_api import (
    CARLOS,
    JOAO,
    JOSE,
    MARIA,
    call_with_verification,
    get_with_verification,
    path_of,
    stored_protocol,
)
from sqlalchemy import update

from backend.billing import febraban, pix
from backend.clock import local_today
from backend.models import Fee
from backend.signed_links import sign

pytestmark = pytest.mark.asyncio


async def fees_of(client, persona):
    return await get_with_verification(client, "/api/fees", persona)


async def request_slip(client, persona, document_number):
    return await call_with_verification(client, f"/api/fees/{document_number}/slips", persona)


async def maria_fees(client):
    status, body = await fees_of(client, MARIA)
    assert status == 200, body
    return body["fees"]


async def test_maria_sees_her_last_12_fees_newest_first(client):
    status, body = await fees_of(client, MARIA)
    assert status == 200, body
    fees = body["fees"]
    assert len(fees) == 12
    months = [fee["reference_month"] for fee in fees]
    assert months == sorted(months, reverse=True)
    today = local_today()
    assert months[0] == f"{today:%Y-%m}"
    assert [fee["status"] for fee in fees] == ["open", "overdue"] + ["paid"] * 10
    current, previous = fees[0], fees[1]
    assert current["due_date"] > today.isoformat() and current["paid_at"] is None
    assert previous["due_date"] < today.isoformat() and previous["status_text"] == "vencida"
    assert all(fee["paid_at"] for fee in fees[2:])
    assert re.fullmatch(r"R\$ \d{1,3}(\.\d{3})*,\d{2}", current["amount_text"])
    assert body["plan_active"] is True and body["holder"]["first_name"] == "Maria"
    summary = body["summary"]
    assert "1 mensalidade vencida" in summary and previous["reference_month_text"] in summary
    assert previous["amount_text"] in summary and "Em aberto" in summary and "demais estão pagas" in summary


async def test_a_fee_stored_open_past_its_due_date_is_shown_overdue(client, session):
    today = local_today()
    await session.execute(
        update(Fee)
        .where(Fee.document_number == f"300401{today:%Y%m}")
        .values(due_date=today - timedelta(days=1), status="open")
    )
    await session.commit()
    fees = await maria_fees(client)
    assert fees[0]["status"] == "overdue" and fees[1]["status"] == "overdue"
    status, body = await fees_of(client, MARIA)
    assert "2 mensalidades vencidas" in body["summary"]


async def test_dependent_is_told_fees_are_the_holders(client):
    status, body = await fees_of(client, JOAO)
    assert status == 403 and body["error"]["code"] == "not_holder"
    assert "titular" in body["error"]["message"]
    today = local_today()
    status, body = await request_slip(client, JOAO, f"300401{today:%Y%m}")
    assert status == 403 and body["error"]["code"] == "not_holder"


async def test_cancelled_plan_gets_its_fees_not_an_error(client):
    status, body = await fees_of(client, CARLOS)
    assert status == 200, body
    assert body["plan_active"] is False
    assert body["fees"] and all(fee["status"] == "paid" for fee in body["fees"])
    assert "cancelado" in body["summary"] and "Todas as suas mensalidades estão pagas" in body["summary"]
    status, body = await request_slip(client, CARLOS, body["fees"][0]["document_number"])
    assert status == 409 and body["error"]["code"] == "already_paid"


async def test_fees_need_a_verification(client):
    response = await client.get("/api/fees")
    assert response.status == 401
    response = await client.get("/api/fees", headers={"X-Verification": "x" * 40, "X-Conversation-Id": "c"})
    assert response.status == 401 and (await response.json())["error"]["code"] == "verification_invalid"
    response = await client.post("/api/fees/300401202611/slips", json={"conversation_id": "c"})
    assert response.status == 400 and "verification" in (await response.json())["error"]["fields"]


async def test_overdue_fee_slip_is_recalculated_to_today(client, session):
    overdue = (await maria_fees(client))[1]
    status, body = await request_slip(client, MARIA, overdue["document_number"])
    assert status == 201, body
    today = local_today()
    original = Decimal(overdue["amount"])
    days = (today - datetime.strptime(overdue["due_date"], "%Y-%m-%d").date()).days
    assert days > 0 and body["days_late"] == days
    # 2% fine, 1% a month pro rata die (simple), each rounded half up to cents
    fine = (original * Decimal("0.02")).quantize(Decimal("0.01"))
    interest = (original * Decimal("0.01") * days / 30).quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")
    assert Decimal(body["fine"]) == fine > 0 and Decimal(body["interest"]) == interest > 0
    assert Decimal(body["amount"]) == original + fine + interest
    assert body["original_amount"] == overdue["amount"] and body["due_date"] == today.isoformat()
    assert body["original_due_date"] == overdue["due_date"]
    assert "multa de 2%" in body["message"] and "juros de 1% ao mês" in body["message"]
    assert body["fine_text"] in body["message"] and body["interest_text"] in body["message"]

    # barcode: bank 001, currency 9, today's factor, updated amount in cents; linha ↔ barcode
    code = body["barcode"]
    assert re.fullmatch(r"\d{44}", code) and code[:4] == "0019"
    assert int(code[9:19]) == int(Decimal(body["amount"]) * 100)
    assert code[5:9] == f"{febraban.due_date_factor(today):04d}"
    assert re.fullmatch(r"\d{5}\.\d{5} \d{5}\.\d{6} \d{5}\.\d{6} \d \d{14}", body["linha_digitavel"])
    assert body["linha_digitavel"].replace(".", "").replace(" ", "") == body["linha_digitavel_digits"]
    assert febraban.barcode_from_linha(body["linha_digitavel"]) == code

    fields = pix.parse(body["pix_copia_e_cola"])
    assert fields["54"] == body["amount"] and fields["58"] == "BR" and fields["53"] == "986"
    assert pix.parse_fields(fields["26"])["00"] == "br.gov.bcb.pix"

    protocol = await stored_protocol(session, body["protocol"], "bank_slip_copy", MARIA["login"])
    assert protocol.channel == MARIA["channel"]
    assert protocol.details["document_number"] == overdue["document_number"]
    assert body["expires_in_minutes"] == 15


async def test_open_fee_slip_keeps_amount_and_due_date(client):
    current = (await maria_fees(client))[0]
    status, body = await request_slip(client, MARIA, current["document_number"])
    assert status == 201, body
    assert body["amount"] == body["original_amount"] == current["amount"]
    assert body["fine"] == body["interest"] == "0.00" and body["days_late"] == 0
    assert body["due_date"] == current["due_date"]
    assert "multa" not in body["message"]
    assert int(body["barcode"][9:19]) == int(Decimal(current["amount"]) * 100)


async def test_paid_fee_is_refused_with_its_payment_date(client):
    paid = (await maria_fees(client))[3]
    status, body = await request_slip(client, MARIA, paid["document_number"])
    assert status == 409 and body["error"]["code"] == "already_paid"
    assert paid["paid_at_text"] in body["error"]["message"] and body["error"]["paid_at"] == paid["paid_at"]


async def test_unknown_or_someone_elses_fee_is_not_found(client):
    status, body = await request_slip(client, MARIA, "999999999999")
    assert status == 404 and body["error"]["code"] == "fee_not_found"
    status, jose = await fees_of(client, JOSE)
    assert status == 200 and jose["fees"]
    status, body = await request_slip(client, MARIA, jose["fees"][0]["document_number"])
    assert status == 404 and body["error"]["code"] == "fee_not_found"
    status, body = await request_slip(client, MARIA, "..%2F..%2Fetc")
    assert status in (404,) and body["error"]["code"] in ("fee_not_found", "not_found")


async def test_pdf_link_opens_the_slip(client):
    overdue = (await maria_fees(client))[1]
    status, body = await request_slip(client, MARIA, overdue["document_number"])
    assert status == 201
    response = await client.get(path_of(body["pdf_url"]))
    assert response.status == 200
    assert response.content_type == "application/pdf"
    pdf = await response.read()
    assert pdf.startswith(b"%PDF")
    for text in (
        body["linha_digitavel"],
        "Maria Aparecida Santos",
        body["protocol"],
        overdue["document_number"],
        body["amount_text"],
        body["fine_text"],
        body["interest_text"],
        "Banco do Brasil",
    ):
        assert text.encode("latin-1") in pdf, text
    assert b"/Subtype /Image" in pdf  # the PIX QR code


async def test_altered_or_expired_pdf_link_is_refused(client, settings):
    overdue = (await maria_fees(client))[1]
    status, body = await request_slip(client, MARIA, overdue["document_number"])
    path = path_of(body["pdf_url"])
    payload, mac = path.rsplit("/", 1)[1].split(".")
    altered = path[: -len(mac) - 1 - len(payload)] + payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB") + "." + mac
    response = await client.get(altered)
    assert response.status == 404 and b"%PDF" not in await response.read()

    old = sign(
        settings.link_signing_secret,
        "boleto",
        {"fee": overdue["document_number"], "holder": 1, "issued_on": "2026-01-01", "protocol": "x"},
        now=datetime.now(timezone.utc) - timedelta(minutes=16),
    )
    response = await client.get(f"/documentos/{old}")
    assert response.status == 410
    assert "expirou" in await response.text()

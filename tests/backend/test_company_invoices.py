"""The company's invoices by year, the copy of an invoice's bank slip (FEBRABAN linha digitável, PIX
copia e cola, PDF by a signed link) with an overdue invoice updated to today, and the company's
protocols: always only the caller's company's."""

from __future__ import annotations

import re
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest
from backend_api import path_of
from company_support import DIEGO_CODE, OTHER, add_other_company, login_headers, verified_headers
from sqlalchemy import select

from backend.billing import febraban, pix
from backend.clock import local_today
from backend.models import Company, Protocol
from backend.seed import add_months

pytestmark = pytest.mark.asyncio


async def _invoices(client, headers, year=None):
    path = "/api/company/invoices" + (f"?year={year}" if year else "")
    response = await client.get(path, headers=headers)
    return response.status, await response.json()


async def _slip(client, headers, document_number):
    response = await client.post(
        f"/api/company/invoices/{document_number}/slips",
        json={"channel": "rest", "conversation_id": "conversa-rh"},
        headers=headers,
    )
    return response.status, await response.json()


async def _all_invoices(client, headers) -> list[dict]:
    today = local_today()
    found = []
    for year in (today.year, today.year - 1, today.year - 2):
        status, body = await _invoices(client, headers, year)
        if status == 200:
            found += body["invoices"]
    return found


async def test_invoices_of_this_year_with_their_situation(client, outbox):
    headers = await verified_headers(client, outbox)
    today = local_today()
    status, body = await _invoices(client, headers)
    assert status == 200 and body["year"] == today.year
    assert body["years"][0] == today.year and len(body["years"]) in (2, 3)
    assert body["invoices"][0]["reference_month"] == f"{today:%Y-%m}"
    assert body["invoices"][0]["status"] == "open" and body["invoices"][0]["status_text"] == "em aberto"
    assert all(i["reference_month"].startswith(str(today.year)) for i in body["invoices"])
    everything = await _all_invoices(client, headers)
    assert len(everything) == 24
    assert [i["status"] for i in everything[:2]] == ["open", "overdue"]
    assert {i["status"] for i in everything[2:]} == {"paid"}
    previous = add_months(today.replace(day=1), -1)
    assert everything[1]["reference_month"] == f"{previous:%Y-%m}"
    assert "vencida" in (await _invoices(client, headers, previous.year))[1]["summary"]


async def test_a_year_without_invoices(client, outbox):
    headers = await login_headers(client)
    status, body = await _invoices(client, headers, 2001)
    assert status == 422 and body["error"]["code"] == "no_invoices_in_year" and "2001" in body["error"]["message"]
    status, body = await _invoices(client, headers, "20x1")
    assert status == 400 and "year" in body["error"]["fields"]


async def test_an_overdue_invoice_is_updated_to_today(client, session, outbox):
    headers = await verified_headers(client, outbox)
    overdue = (await _all_invoices(client, headers))[1]
    status, body = await _slip(client, headers, overdue["document_number"])
    assert status == 201, body
    today = local_today()
    original = Decimal(overdue["amount"])
    days = (today - date.fromisoformat(overdue["due_date"])).days
    assert days > 0 and body["days_late"] == days
    fine = (original * Decimal("0.02")).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    interest = (original * Decimal("0.01") * days / 30).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    assert Decimal(body["fine"]) == fine and Decimal(body["interest"]) == interest
    assert Decimal(body["amount"]) == original + fine + interest and body["due_date"] == today.isoformat()
    assert body["message"].startswith("Segunda via da fatura de") and "multa de 2%" in body["message"]
    code = body["barcode"]
    assert re.fullmatch(r"\d{44}", code) and int(code[9:19]) == int(Decimal(body["amount"]) * 100)
    assert febraban.barcode_from_linha(body["linha_digitavel"]) == code
    fields = pix.parse(body["pix_copia_e_cola"])
    assert fields["54"] == body["amount"]
    protocol = (await session.execute(select(Protocol).where(Protocol.number == body["protocol"]))).scalar_one()
    company = (await session.execute(select(Company).where(Company.code == "500100"))).scalar_one()
    await session.commit()
    assert (protocol.kind, protocol.company_id, protocol.beneficiary_id) == ("bank_slip_copy", company.id, None)

    response = await client.get(path_of(body["pdf_url"]))
    assert response.status == 200 and response.content_type == "application/pdf"
    pdf = await response.read()
    for text in (body["linha_digitavel"], "Construtora Horizonte Ltda", body["protocol"], overdue["document_number"]):
        assert text.encode("latin-1") in pdf, text


async def test_the_open_invoice_keeps_its_amount_and_a_paid_one_is_refused(client, outbox):
    headers = await verified_headers(client, outbox, user_code=DIEGO_CODE, conversation="conversa-dp")  # plain user
    invoices = await _all_invoices(client, headers)
    status, body = await _slip(client, headers, invoices[0]["document_number"])
    assert status == 201 and body["fine"] == "0.00" and body["amount"] == invoices[0]["amount"]
    status, body = await _slip(client, headers, invoices[5]["document_number"])
    assert status == 409 and body["error"]["code"] == "invoice_already_paid"
    assert invoices[5]["paid_at_text"] in body["error"]["message"]


async def test_the_nosso_numero_of_an_invoice_never_meets_a_fees(client, outbox):
    headers = await login_headers(client)
    status, body = await _slip(client, headers, (await _all_invoices(client, headers))[1]["document_number"])
    assert status == 201
    assert body["barcode"][-12:-2].startswith("9")  # INVOICE_SEQUENCE_BASE + id: 10 digits beginning with 9


async def test_another_companys_invoices_and_protocols_are_not_found(client, session, outbox):
    await add_other_company(session)
    mine, other = await login_headers(client), await login_headers(client, OTHER)
    status, body = await _slip(client, mine, "F600100202401")
    assert status == 404 and body["error"]["code"] == "invoice_not_found"
    status, body = await _invoices(client, other, 2024)
    assert [i["document_number"] for i in body["invoices"]] == ["F600100202401"]
    status, slip = await _slip(client, other, "F600100202401")
    assert status == 201
    response = await client.get(f"/api/company/protocols/{slip['protocol']}", headers=other)
    assert response.status == 200 and (await response.json())["kind_label"] == "segunda via de boleto"
    response = await client.get(f"/api/company/protocols/{slip['protocol']}", headers=mine)
    assert response.status == 404 and (await response.json())["error"]["code"] == "protocol_not_found"
    mine_list = (await (await client.get("/api/company/protocols", headers=mine)).json())["protocols"]
    assert slip["protocol"] not in [p["protocol"] for p in mine_list]


async def test_a_beneficiarys_protocol_is_not_the_companys(client, outbox):
    headers = await login_headers(client)
    reset = await client.get("/api/company/protocols/" + "4" * 20, headers=headers)
    assert reset.status == 404
    status, slip = await _slip(client, headers, (await _all_invoices(client, headers))[0]["document_number"])
    listed = (await (await client.get("/api/company/protocols", headers=headers)).json())["protocols"]
    assert [p["protocol"] for p in listed] == [slip["protocol"]]

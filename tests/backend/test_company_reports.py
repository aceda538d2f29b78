"""The company's reports (seed 003, "Relatórios"): active and inactive beneficiaries (CSV and PDF)
and the use of the plan in a month (PDF), behind a signed link of the caller's company — only its
own beneficiaries, CPF masked, no procedure or provider in the usage."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone

import pytest
from backend_api import path_of
from company_support import DIEGO_CODE, OTHER, add_other_company, login_headers, verified_headers
from test_backend_statements import pdf_text

from backend.clock import local_today
from backend.company.reports import previous_month, shift_month
from backend.signed_links import sign, verify

pytestmark = pytest.mark.asyncio
ACTIVE_NAMES = {"Paulo Henrique Dias", "Lívia Dias"}
INACTIVE_NAMES = {"Renata Costa"}


async def _report(client, headers, **body):
    body = {"channel": "rest", "conversation_id": "conversa-rh", **body}
    response = await client.post("/api/company/reports", json=body, headers=headers)
    return response.status, await response.json()


async def _download(client, url):
    response = await client.get(path_of(url))
    return response.status, response.content_type, await response.read()


def _csv_rows(content: bytes) -> list[dict]:
    assert content.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM: the accents right in a spreadsheet
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))


def _token(url: str) -> str:
    return path_of(url).rsplit("/", 1)[1]


async def test_the_active_beneficiaries_as_csv_are_exactly_the_companys(client, session, outbox):
    await add_other_company(session)  # Olga Aurora, of another company, must not appear
    headers = await verified_headers(client, outbox)
    status, body = await _report(client, headers, kind="active", format="csv")
    assert status == 201, body
    assert (body["kind"], body["format"], body["rows"], body["month"]) == ("active", "csv", 2, None)
    assert body["expires_in_minutes"] == 15 and "2 beneficiários ativos" in body["message"]
    assert body["filename"] == f"beneficiarios-ativos-500100-{local_today():%Y-%m-%d}.csv"
    status, content_type, content = await _download(client, body["url"])
    assert (status, content_type) == (200, "text/csv")
    rows = _csv_rows(content)
    assert {row["Nome"] for row in rows} == ACTIVE_NAMES
    paulo = next(row for row in rows if row["Nome"] == "Paulo Henrique Dias")
    assert paulo == {
        "Nome": "Paulo Henrique Dias",
        "CPF": "***.640.275-**",  # masked (LGPD): the company does not need the number
        "Carteirinha": "500100000101",
        "Vínculo": "titular",
        "Titular": "",
        "Plano": "Odonto Essencial",
        "Nascimento": "04/11/1988",
        "Situação": "ativo",
    }
    livia = next(row for row in rows if row["Nome"] == "Lívia Dias")
    assert (livia["CPF"], livia["Vínculo"], livia["Titular"]) == ("não informado", "filha", "Paulo Henrique Dias")
    assert b"31864027517" not in content and b"318.640.275-17" not in content


async def test_the_inactive_beneficiaries_as_csv_and_pdf(client, outbox):
    headers = await login_headers(client)
    status, body = await _report(client, headers, kind="inactive", format="csv")
    assert status == 201 and body["rows"] == 1
    rows = _csv_rows((await _download(client, body["url"]))[2])
    assert [row["Nome"] for row in rows] == ["Renata Costa"]
    assert rows[0]["Situação"] == "inativo" and rows[0]["CPF"] == "***.915.806-**"
    assert rows[0]["Inativo desde"].endswith(shift_month(local_today().replace(day=1), -3).strftime("/%m/%Y"))

    status, body = await _report(client, headers, kind="inactive", format="pdf")
    assert status == 201 and body["filename"].endswith(".pdf")
    status, content_type, content = await _download(client, body["url"])
    assert (status, content_type) == (200, "application/pdf")
    text = pdf_text(content)
    assert "Renata Costa" in text and "***.915.806-**" in text and "Construtora Horizonte Ltda" in text
    assert "Paulo Henrique Dias" not in text and "Fernanda Rocha (RH500101)" in text


async def test_the_active_beneficiaries_as_pdf(client, outbox):
    headers = await login_headers(client)
    status, body = await _report(client, headers, kind="active", format="pdf")
    assert status == 201
    status, content_type, content = await _download(client, body["url"])
    assert (status, content_type) == (200, "application/pdf")
    assert content.rstrip().endswith(b"%%EOF")
    text = pdf_text(content)
    for name in ACTIVE_NAMES:
        assert name in text
    assert "Renata Costa" not in text and "Beneficiários ativos" in text


async def test_the_usage_of_the_previous_month_by_beneficiary_without_health_details(client, outbox):
    headers = await verified_headers(client, outbox, user_code=DIEGO_CODE, conversation="conversa-dp")  # plain user
    status, body = await _report(client, headers, kind="usage", format="pdf", conversation_id="conversa-dp")
    assert status == 201, body
    assert body["month"] == f"{previous_month(local_today()):%Y-%m}" and body["rows"] == 2
    assert "3 atendimentos" in body["message"] and "R$ 360,00" in body["message"]
    status, content_type, content = await _download(client, body["url"])
    assert (status, content_type) == (200, "application/pdf")
    text = pdf_text(content)
    assert "Paulo Henrique Dias" in text and "Lívia Dias" in text and "R$ 360,00" in text
    assert "Renata Costa" not in text
    for health_detail in ("Restauração", "flúor", "Sorriso Sergipe"):  # procedure, provider: not the employer's
        assert health_detail not in text


async def test_the_usage_of_another_month_and_the_months_refused(client, outbox):
    headers = await login_headers(client)
    four_months_ago = shift_month(local_today().replace(day=1), -4)
    status, body = await _report(client, headers, kind="usage", format="csv", month=f"{four_months_ago:%Y-%m}")
    assert status == 201 and body["rows"] == 1
    rows = _csv_rows((await _download(client, body["url"]))[2])
    assert rows[0]["Beneficiário"] == "Renata Costa" and rows[0]["Situação"] == "inativo"  # used it before leaving
    assert rows[-1]["Beneficiário"] == "Total" and rows[-1]["Valor"] == "R$ 210,00"

    status, body = await _report(client, headers, kind="usage", format="pdf", month="2001-01")
    assert (
        status == 422 and body["error"]["code"] == "no_usage_in_month" and "janeiro de 2001" in body["error"]["message"]
    )
    future = shift_month(local_today().replace(day=1), 2)
    status, body = await _report(client, headers, kind="usage", format="pdf", month=f"{future:%Y-%m}")
    assert status == 422 and body["error"]["code"] == "month_in_future"
    status, body = await _report(client, headers, kind="usage", format="pdf", month="03/2025")
    assert status == 400 and "month" in body["error"]["fields"]
    status, body = await _report(client, headers, kind="everything", format="xls")
    assert status == 400 and set(body["error"]["fields"]) == {"kind", "format"}


async def test_a_company_without_beneficiaries_gets_no_empty_report(client, session, outbox):
    await add_other_company(session)  # one active beneficiary, none inactive
    headers = await login_headers(client, OTHER)
    status, body = await _report(client, headers, kind="inactive", format="csv")
    assert status == 422 and body["error"]["code"] == "no_inactive_beneficiaries"
    status, body = await _report(client, headers, kind="active", format="csv")
    assert status == 201
    rows = _csv_rows((await _download(client, body["url"]))[2])
    assert [row["Nome"] for row in rows] == ["Olga Aurora"]


async def test_the_link_is_signed_short_lived_and_dies_with_its_user(client, settings, outbox):
    fernanda = await login_headers(client)
    diego = await verified_headers(client, outbox, user_code=DIEGO_CODE, conversation="conversa-dp")
    status, body = await _report(client, diego, kind="active", format="csv", conversation_id="conversa-dp")
    assert status == 201
    token = _token(body["url"])
    document = verify(settings.link_signing_secret, token)
    assert document.kind == "relatorio-empresa" and document.params["report"] == "active"

    altered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert (await client.get(f"/documentos/{altered}")).status == 404
    other_company = dict(document.params, company=document.params["company"] + 1)  # forged: needs the key
    forged = sign(b"not-the-key" * 3, "relatorio-empresa", other_company)
    assert (await client.get(f"/documentos/{forged}")).status == 404
    past = datetime.now(timezone.utc) - timedelta(minutes=16)
    expired = sign(settings.link_signing_secret, "relatorio-empresa", document.params, now=past)
    assert (await client.get(f"/documentos/{expired}")).status == 410
    assert (await client.get(path_of(body["url"]))).status == 200

    response = await client.post(
        f"/api/company/users/{DIEGO_CODE}/deactivation", json={"channel": "rest"}, headers=fernanda
    )
    assert response.status == 200
    response = await client.get(path_of(body["url"]))  # the user who asked is gone: so is the report
    assert response.status == 404 and (await response.json())["error"]["code"] == "link_invalid"


async def test_reports_need_the_company_credential(client):
    status, body = await _report(client, {}, kind="active", format="csv")
    assert status == 401 and body["error"]["code"] == "company_unauthorized"

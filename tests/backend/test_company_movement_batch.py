"""Movements by file: the template opens (CSV in Excel's way, XLSX with its instructions); a file with
good and bad lines applies the good ones and lists the bad ones by line and column, under one
protocol of the company whose lookup shows the summary; a file that cannot be read is refused whole."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime
from urllib.parse import urlsplit

import pytest
from aiohttp import FormData
from company_support import OTHER, add_other_company, login_headers
from openpyxl import Workbook, load_workbook
from sqlalchemy import select
from test_company_movements import BRUNO, PAULO, PAULO_CPF, RENATA, cpf, person

from backend.clock import local_today
from backend.company.movement_batch import COLUMNS, MAX_LINES
from backend.company.movement_rules import add_months
from backend.models import CompanyMovement, CompanyMovementBatch, Protocol

pytestmark = pytest.mark.asyncio

HEADER = list(COLUMNS)
BAD_CPF = "650.283.194-06"


def row(**values: str) -> list[str]:
    return [values.get(column, "") for column in HEADER]


def csv_file(rows: list[list[str]], *, delimiter: str = ";", encoding: str = "utf-8-sig") -> bytes:
    lines = [delimiter.join(HEADER), *(delimiter.join(r) for r in rows)]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def xlsx_file(rows: list[list]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "Movimentações"
    sheet.append(HEADER)
    for values in rows:
        sheet.append(values)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


BRUNO_LINE = row(
    tipo="inclusao",
    cpf=BRUNO["cpf"],
    nome=BRUNO["name"],
    data_nascimento=BRUNO["birth_date"],
    nome_mae=BRUNO["mother_name"],
    plano="Odonto Essencial",
    parentesco="titular",
)


@pytest.fixture
async def fernanda(client):
    return await login_headers(client)


async def send(client, headers, content: bytes, filename: str = "movimentacao.csv"):
    response = await client.post(f"/api/company/movements/batches?filename={filename}", data=content, headers=headers)
    return response.status, await response.json()


# --- the template ---------------------------------------------------------------------------------


async def _download(client, headers, file_format):
    response = await client.get(f"/api/company/movements/template?format={file_format}", headers=headers)
    assert response.status == 200
    link = await response.json()
    file = await client.get(urlsplit(link["url"]).path)
    assert file.status == 200 and link["filename"].endswith(f".{file_format}")
    return file.headers["Content-Type"], await file.read()


async def test_the_csv_template_opens_in_excel_s_way(client, fernanda):
    content_type, content = await _download(client, fernanda, "csv")
    assert content_type.startswith("text/csv") and content.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM
    lines = content.decode("utf-8-sig").splitlines()
    assert lines[0].split(";") == HEADER
    example = dict(zip(HEADER, lines[1].split(";"), strict=True))
    assert (example["tipo"], example["cpf"], example["nome"]) == (
        "inclusao",
        "123.456.789-09",
        "Maria Exemplo da Silva",
    )
    assert any(line.startswith("# ") and "retroativa" in line for line in lines[2:])


async def test_the_xlsx_template_has_the_header_an_example_and_instructions(client, fernanda):
    content_type, content = await _download(client, fernanda, "xlsx")
    assert content_type == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    book = load_workbook(io.BytesIO(content))
    assert book.sheetnames == ["Movimentações", "Instruções"]
    rows = list(book["Movimentações"].iter_rows(values_only=True))
    assert list(rows[0]) == HEADER and rows[1][0] == "inclusao"
    assert any("transferencia" in (text or "") for (text,) in book["Instruções"].iter_rows(values_only=True))


async def test_the_template_sent_back_as_is_moves_nobody(client, fernanda):
    _, content = await _download(client, fernanda, "csv")
    status, body = await send(client, fernanda, content)
    assert status == 422 and body["error"]["code"] == "no_movement_lines"
    bad = await client.get("/api/company/movements/template?format=pdf", headers=fernanda)
    assert bad.status == 400


# --- a file with good and bad lines ---------------------------------------------------------------


async def test_a_csv_applies_the_good_lines_and_lists_the_bad_ones(client, session, fernanda):
    lines = [
        BRUNO_LINE,  # 2: good
        row(
            tipo="Inclusão",  # 3: good — a son of the holder of line 2
            nome="Davi Almeida",
            data_nascimento="03/03/2021",
            nome_mae="Cláudia Almeida",
            parentesco="filho",
            titular=BRUNO["cpf"],
        ),
        row(
            tipo="inclusao",
            cpf=BAD_CPF,
            nome="Érica Prado",
            data_nascimento="01/01/1990",
            nome_mae="Ana Prado",
            plano="Odonto Plus",
        ),  # 4: CPF check digits
        row(tipo="exclusao", carteirinha=RENATA, motivo_exclusao="desligamento"),  # 5: already inactive
        row(tipo="alteracao", carteirinha=PAULO, nome_mae="Sônia Maria Dias Lima"),  # 6: good
        BRUNO_LINE,  # 7: the same inclusion again
        row(tipo="alteração de plano", carteirinha=PAULO, plano="Odonto Plus"),  # 8: not by file
        row(tipo="reativacao", carteirinha=RENATA),  # 9: good
        row(tipo="inclusao", cpf=cpf(222333444), nome="Fábio Reis", data_nascimento="02/02/1992"),  # 10: two missing
        ["", "", "", "", "", "", "", "", "", "", "", "", ""],  # 11: blank, skipped
    ]
    status, body = await send(client, fernanda, csv_file(lines))
    assert status == 201, body
    assert body["counts"] == {"inclusion": 2, "data_change": 1, "reactivation": 1}
    assert (body["total_lines"], body["applied_lines"], body["refused_lines"]) == (9, 4, 5)
    assert body["summary"] == "Arquivo processado: 2 inclusões, 1 alteração, 1 reativação; 5 linhas recusadas."
    assert body["protocol"] in body["message"] and "só com elas" in body["message"]
    errors = [(e["line"], e["column"], e["code"]) for e in body["errors"]]
    assert errors == [
        (4, "cpf", "invalid_value"),
        (5, "carteirinha", "beneficiary_inactive"),
        (7, "cpf", "duplicate_line"),
        (8, "tipo", "unknown_movement_type"),
        (10, "nome_mae", "invalid_value"),
        (10, "plano", "invalid_value"),
    ]
    assert "linha 2" in body["errors"][2]["message"]
    assert all(e["message"] and "<" not in e["message"] for e in body["errors"])
    stored = json.dumps(body["errors"], ensure_ascii=False)
    assert "Érica" not in stored and "65028319406" not in stored and BAD_CPF not in stored  # no personal data
    # what the user notices afterwards
    assert (await person(session, "500100000301")).name == "Bruno Almeida"
    assert (await person(session, "500100000302")).name == "Davi Almeida"
    assert (await person(session, PAULO)).mother_name == "Sônia Maria Dias Lima"
    assert (await person(session, RENATA)).status == "active"
    protocol = (await session.execute(select(Protocol).where(Protocol.number == body["protocol"]))).scalar_one()
    movements = (await session.execute(select(CompanyMovement))).scalars().all()
    batch = (await session.execute(select(CompanyMovementBatch))).scalar_one()
    await session.commit()
    assert protocol.kind == "company_movement_batch" and protocol.company_id is not None
    assert {(m.protocol_id, m.batch_id) for m in movements} == {(protocol.id, batch.id)} and len(movements) == 4
    assert batch.status == "processed" and batch.errors == body["errors"]
    # the protocol, looked up later
    later = await (await client.get(f"/api/company/movements/batches/{body['protocol']}", headers=fernanda)).json()
    assert later["summary"] == body["summary"] and later["errors"] == body["errors"]
    lookup = await (await client.get(f"/api/company/protocols/{body['protocol']}", headers=fernanda)).json()
    assert lookup["kind_label"] == "movimentação cadastral em lote"
    assert lookup["batch"]["summary"] == body["summary"] and lookup["status_label"] == "concluído"


async def test_an_xlsx_with_numbers_and_dates_in_cells(client, session, fernanda):
    start = add_months(local_today(), 0)  # retroactive: this month's first day
    book_rows = [
        [
            "exclusao",
            int(PAULO_CPF.replace(".", "").replace("-", "")),
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            "a pedido",
            datetime.combine(local_today(), datetime.min.time()),
            None,
        ],
        [
            "inclusao",
            cpf(444555666),
            None,
            "Gabriela Souza",
            datetime(1993, 7, 14),
            "Irene Souza",
            "odonto plus",
            "titular",
            None,
            datetime.combine(start, datetime.min.time()),
            None,
            None,
            None,
        ],
        [
            "inclusao",
            cpf(777888999),
            None,
            "Hugo Souza",
            datetime(1991, 1, 1),
            "Irene Souza",
            "Plano Ouro",
            "titular",
            None,
            None,
            None,
            None,
            None,
        ],
    ]
    status, body = await send(client, fernanda, xlsx_file(book_rows), "lote.xlsx")
    assert status == 201, body
    assert body["file_format"] == "xlsx" and body["filename"] == "lote.xlsx"
    assert body["counts"] == {"exclusion": 1, "inclusion": 1}
    assert [(e["line"], e["column"], e["code"]) for e in body["errors"]] == [(4, "plano", "plan_not_contracted")]
    assert (await person(session, PAULO)).status == "cancelled"
    assert (await person(session, "500100000102")).status == "cancelled"  # Lívia went with Paulo
    assert (await person(session, "500100000301")).name == "Gabriela Souza"


async def test_a_multipart_upload_and_an_excel_csv_in_windows_1252(client, fernanda):
    content = csv_file([BRUNO_LINE], delimiter=",", encoding="cp1252")
    form = FormData()
    form.add_field("file", content, filename="planilha.csv", content_type="text/csv")
    response = await client.post("/api/company/movements/batches", data=form, headers=fernanda)
    body = await response.json()
    assert response.status == 201, body
    assert body["counts"] == {"inclusion": 1} and body["filename"] == "planilha.csv"


# --- files refused whole --------------------------------------------------------------------------


def _zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("leia.txt", "não é planilha")
    return out.getvalue()


@pytest.mark.parametrize(
    ("content", "status", "code"),
    [
        (b"", 400, "empty_file"),
        (b"%PDF-1.7 arquivo", 415, "unsupported_type"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, 415, "old_excel_format"),
        (_zip(), 400, "unreadable_file"),
        (b"nome;cpf\r\nBruno;65028319405\r\n", 400, "batch_columns_missing"),
        (csv_file([]), 422, "no_movement_lines"),
        (csv_file([BRUNO_LINE] * (MAX_LINES + 1)), 413, "too_many_lines"),
        (b"tipo;cpf\r\n" + b"x" * (2 * 1024 * 1024), 413, "file_too_large"),
    ],
    ids=["empty", "pdf", "xls", "zip", "header", "no-lines", "too-many-lines", "too-large"],
)
async def test_files_refused_whole(client, session, fernanda, content, status, code):
    answer_status, answer = await send(client, fernanda, content)
    assert (answer_status, answer["error"]["code"]) == (status, code), answer
    assert answer["error"]["message"]
    assert (await session.execute(select(CompanyMovementBatch))).all() == []
    await session.commit()


async def test_another_company_does_not_see_the_file(client, session, fernanda):
    await add_other_company(session)
    _, body = await send(client, fernanda, csv_file([BRUNO_LINE]))
    aurora = await login_headers(client, OTHER)
    for path in (f"/api/company/movements/batches/{body['protocol']}", f"/api/company/protocols/{body['protocol']}"):
        response = await client.get(path, headers=aurora)
        assert response.status == 404 and (await response.json())["error"]["code"] == "protocol_not_found"
    # and its file cannot move Horizonte's people
    _, theirs = await send(client, aurora, csv_file([row(tipo="exclusao", cpf=PAULO_CPF, motivo_exclusao="obito")]))
    assert [e["code"] for e in theirs["errors"]] == ["beneficiary_not_found"]
    assert (await person(session, PAULO)).status == "active"


async def test_a_line_that_loses_a_race_for_its_cpf_is_refused_and_the_others_apply(
    client, session, fernanda, monkeypatch
):
    """Between a line's checks and its insert, another movement took the same CPF (here: the check is made to
    miss Paulo, who holds it): that line is refused as a conflict, the file's other lines still apply."""
    from backend.company import movements

    real_by_cpf = movements.by_cpf

    async def misses_paulo(db, value):
        return None if value == "31864027517" else await real_by_cpf(db, value)

    monkeypatch.setattr(movements, "by_cpf", misses_paulo)
    racing = row(
        tipo="inclusao",
        cpf=PAULO_CPF,
        nome="Paulo Henrique Dias",
        data_nascimento="04/11/1988",
        nome_mae="Sônia Dias",
        plano="Odonto Essencial",
        parentesco="titular",
    )
    status, body = await send(client, fernanda, csv_file([racing, BRUNO_LINE]))
    assert status == 201, body
    assert body["counts"] == {"inclusion": 1} and body["refused_lines"] == 1
    assert [(e["line"], e["column"], e["code"]) for e in body["errors"]] == [(2, "cpf", "movement_conflict")]
    assert "tente de novo" in body["errors"][0]["message"]
    assert (await person(session, "500100000301")).name == "Bruno Almeida"
    assert (await person(session, PAULO)).name == "Paulo Henrique Dias"

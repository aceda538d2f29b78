"""Movements by file (seed 003, "Movimentação cadastral — Lote": inclusion, exclusion, change,
reactivation, transfer; a plan change is made one by one): the template, and a file sent back.

The template (`movement_template`): CSV (UTF-8 with BOM, `;`, as the Brazilian Excel opens and
saves it; the instructions as `#` lines at the end) or XLSX (a "Movimentações" sheet with the
header and an example row, and an "Instruções" sheet). The example row (CPF 123.456.789-09) is
ignored when a file brings it back.

A file (`process_batch`): CSV or XLSX, told apart by its content, never by its name (a CSV saved by
Excel in Windows-1252 is read too; `;`, `,` or tab); at most MAX_BYTES and MAX_LINES movement
lines; the header names the columns (case, accents and "de/da" do not matter) and `tipo` is the
only one always needed. A file that cannot be read as a whole is refused before anything happens.
It comes in the request's body (the portal, a client of the API) or, sent through a chat channel,
as the id of an inbound file of the same conversation (`process_inbound_batch`: the upload policy of
common/uploads.py took it as a spreadsheet, common.uploads.SPREADSHEET_TYPES; a photo or PDF is
refused and left for its own use).

POLICY — each line is one movement, checked by the very functions of the one-by-one movements
(backend.company.movements.make_movement: one place per rule), in the file's order (a dependent
may follow the line that includes the holder):
- a valid line is applied at once; an invalid one is refused and listed by line number (the
  spreadsheet's row: the header is line 1), column and reason, in pt-BR, so that the user sends a
  corrected file with only those lines;
- a line repeating the movement of an earlier line of the same file (same type, same CPF, card or,
  for a dependent without CPF, same name and birth date) is refused, as a repetition of that line;
- the file gets ONE protocol (company_movement_batch, of the company) shared by its movements
  (company_movements.batch_id), and a company_movement_batches row: counts by kind, the refused
  lines' number, column, code and reason — never the data of a refused line — and status
  `processed`; looking the protocol up shows "Arquivo processado: 18 inclusões; 2 linhas recusadas".
"""

from __future__ import annotations

import csv
import io
import logging
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook, load_workbook  # type: ignore[import-untyped]
from openpyxl.styles import Font  # type: ignore[import-untyped]
from openpyxl.utils.exceptions import InvalidFileException  # type: ignore[import-untyped]
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from backend.clock import iso_utc, utcnow
from backend.company.auth import CompanyCaller
from backend.company.movement_rules import EXCLUSION_REASONS, REACTIVATION_MONTHS
from backend.company.movement_rules import REFUSALS as MOVEMENT_REFUSALS
from backend.company.movements import (
    DATA_CHANGE,
    EXCLUSION,
    INCLUSION,
    REACTIVATION,
    TRANSFER,
    BatchTarget,
    MovementContext,
    make_movement,
)
from backend.inbound_files import claim, waiting_file
from backend.models import CompanyMovementBatch, Protocol
from backend.operator_profile import OperatorProfile
from backend.protocols import PROTOCOL_DIGITS, new_protocol
from backend.protocols import REFUSALS as PROTOCOL_REFUSALS
from backend.refusals import Refusals, Refused
from backend.uploads import read_stored, remove_stored
from common.labels import date_text
from common.pii import only_digits
from common.text import fold
from common.uploads import SPREADSHEET_TYPES

log = logging.getLogger(__name__)

REFUSALS = Refusals(
    {
        "empty_file": "O arquivo chegou vazio. Envie de novo, por favor.",
        "file_too_large": "O arquivo passa do limite de 2 MB. Divida as movimentações em mais de um arquivo.",
        "too_many_lines": "O arquivo tem mais de {max_lines} linhas de movimentação. "
        "Divida as movimentações em mais de um arquivo.",
        "unsupported_type": "Só consigo ler planilhas em CSV (separado por ponto e vírgula) ou XLSX. "
        "Baixe o modelo e envie nesse formato.",
        "old_excel_format": "Esse arquivo está no formato antigo do Excel (.xls). "
        "Salve como .xlsx ou CSV e envie de novo.",
        "unreadable_file": "Não consegui ler esse arquivo como planilha. Salve de novo como .xlsx ou CSV "
        "a partir do modelo e envie outra vez.",
        "batch_columns_missing": "Não encontrei a coluna tipo no cabeçalho (linha 1). "
        "Use o cabeçalho do modelo, sem mudar os nomes das colunas.",
        "no_movement_lines": "O arquivo não tem nenhuma linha de movimentação abaixo do cabeçalho "
        "(a linha de exemplo do modelo não conta).",
        # the reasons of a refused line that the movements themselves do not give
        "unknown_movement_type": "Tipo de movimentação desconhecido. Use inclusao, exclusao, alteracao, "
        "reativacao ou transferencia (a alteração de plano é feita uma a uma).",
        "duplicate_line": "Linha repetida: a linha {first_line} já traz essa movimentação.",
        # a file sent through the chat (backend.inbound_files), named by its id
        "inbound_file_not_found": "Não encontrei esse arquivo nesta conversa. Envie a planilha de novo.",
        "not_a_spreadsheet": "Esse arquivo não é uma planilha. Envie as movimentações em CSV ou XLSX, "
        "a partir do modelo.",
    }
)

BATCH_KIND = "company_movement_batch"
PROCESSED = "processed"
MAX_BYTES = 2 * 1024 * 1024
MAX_LINES = 1000
MAX_XLSX_UNCOMPRESSED = 40 * 1024 * 1024  # a zip bomb is refused before openpyxl opens it
CSV, XLSX = "csv", "xlsx"
SHEET, INSTRUCTIONS_SHEET = "Movimentações", "Instruções"
CONTENT_TYPES = {
    CSV: "text/csv",  # UTF-8, told by the BOM
    XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
TEMPLATE_FILENAME = "modelo-movimentacao-cadastral"

# column (as in the template) -> the movement field it fills
COLUMNS = {
    "tipo": "kind",
    "cpf": "cpf",
    "carteirinha": "card",
    "nome": "name",
    "data_nascimento": "birth_date",
    "nome_mae": "mother_name",
    "plano": "plan",
    "parentesco": "kinship",
    "titular": "holder",
    "inicio_vigencia": "start_date",
    "motivo_exclusao": "reason",
    "data_exclusao": "date",
    "empresa_destino": "target_company",
}
FIELD_COLUMNS = {fields: column for column, fields in COLUMNS.items()}
KINDS = {
    "inclusao": INCLUSION,
    "exclusao": EXCLUSION,
    "alteracao": DATA_CHANGE,
    "alteracao de dados": DATA_CHANGE,
    "reativacao": REACTIVATION,
    "transferencia": TRANSFER,
}
KIND_COUNT_WORDS = {
    INCLUSION: ("inclusão", "inclusões"),
    EXCLUSION: ("exclusão", "exclusões"),
    DATA_CHANGE: ("alteração", "alterações"),
    REACTIVATION: ("reativação", "reativações"),
    TRANSFER: ("transferência", "transferências"),
}
EXAMPLE = {
    "tipo": "inclusao",
    "cpf": "123.456.789-09",
    "nome": "Maria Exemplo da Silva",
    "data_nascimento": "15/05/1990",
    "nome_mae": "Joana Exemplo da Silva",
    "plano": "Odonto Essencial",
    "parentesco": "titular",
}
EXAMPLE_CPF = only_digits(EXAMPLE["cpf"])
INSTRUCTIONS = (
    "Uma movimentação por linha, a partir da linha 2. Não mude os nomes das colunas da linha 1.",
    "tipo: inclusao, exclusao, alteracao, reativacao ou transferencia. A alteração de plano é feita uma a uma.",
    (
        "Inclusão: nome, cpf (o dependente menor de 18 anos pode ficar sem), data_nascimento, nome_mae, plano e "
        "parentesco (titular, conjuge, filho ou filha). Para um dependente, o CPF ou a carteirinha do titular na "
        "coluna titular (o titular pode estar numa linha acima do mesmo arquivo)."
    ),
    (
        f"Exclusão: carteirinha ou cpf, motivo_exclusao ({', '.join(EXCLUSION_REASONS.values())}) e data_exclusao "
        "(de hoje até o fim do mês que vem, em branco é hoje). Excluir o titular exclui os dependentes."
    ),
    "Alteração: carteirinha ou cpf e o que muda: nome, nome_mae ou data_nascimento.",
    f"Reativação: carteirinha ou cpf, até {REACTIVATION_MONTHS} meses depois da exclusão.",
    (
        "Transferência: carteirinha ou cpf do titular e empresa_destino (o código de uma empresa do grupo). "
        "Os dependentes vão junto."
    ),
    (
        "inicio_vigencia: em branco, o próximo dia 1º. Ou uma das três datas retroativas: o dia 1º deste mês ou "
        "dos dois meses anteriores. A data retroativa implica a cobrança retroativa nas faturas."
    ),
    f"Datas como dd/mm/aaaa. Até {MAX_LINES} linhas e 2 MB, em CSV (separado por ponto e vírgula) ou XLSX.",
    (
        "As linhas certas são feitas na hora. As recusadas voltam com o número da linha e o motivo: corrija e "
        "envie um arquivo novo só com elas."
    ),
    f"A linha de exemplo (CPF {EXAMPLE['cpf']}) é ignorada.",
)


# --- the template ---------------------------------------------------------------------------------


def movement_template(file_format: str) -> tuple[bytes, str, str]:
    """(content, content type, file name) of the template in CSV or XLSX."""
    header = list(COLUMNS)
    example = [EXAMPLE.get(column, "") for column in header]
    if file_format == CSV:
        out = io.StringIO()
        writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
        writer.writerows([header, example, *([f"# {text}"] for text in INSTRUCTIONS)])
        return out.getvalue().encode("utf-8-sig"), CONTENT_TYPES[CSV], f"{TEMPLATE_FILENAME}.csv"
    book = Workbook()
    sheet = book.active
    sheet.title = SHEET
    sheet.append(header)
    sheet.append(example)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for index, column in enumerate(header, start=1):
        sheet.cell(row=1, column=index).number_format = "@"
        sheet.column_dimensions[sheet.cell(row=1, column=index).column_letter].width = max(14, len(column) + 4)
    notes = book.create_sheet(INSTRUCTIONS_SHEET)
    notes.column_dimensions["A"].width = 120
    for text in INSTRUCTIONS:
        notes.append([text])
    out_bytes = io.BytesIO()
    book.save(out_bytes)
    return out_bytes.getvalue(), CONTENT_TYPES[XLSX], f"{TEMPLATE_FILENAME}.xlsx"


# --- reading a file -------------------------------------------------------------------------------


@dataclass
class Sheet:
    file_format: str
    lines: list[tuple[int, dict[str, str]]]  # (line number, {column: text}) of each movement line
    example_skipped: bool = False


def too_large() -> Refused:
    return REFUSALS.refuse("file_too_large", max_bytes=MAX_BYTES)


def _column_key(header: Any) -> str:
    words = [word for word in fold(str(header or "")).split() if word not in {"de", "da", "do", "a", "o"}]
    return "_".join(words)


def _cell(column: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (datetime, date)):
        return date_text(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        text = str(value)  # a CPF or card typed as a number lost its leading zeros
        width = {"cpf": 11, "carteirinha": 12, "titular": 11 if len(text) <= 11 else 12}.get(column)
        return text.zfill(width) if width else text
    return " ".join(str(value).split())


def _csv_rows(content: bytes) -> list[list[str]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = content.decode("cp1252", errors="replace")  # what the Brazilian Excel saves
    first = text.split("\n", 1)[0]
    delimiter = max((";", ",", "\t"), key=first.count)
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def _xlsx_rows(content: bytes) -> list[list[Any]]:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            if sum(info.file_size for info in archive.infolist()) > MAX_XLSX_UNCOMPRESSED:
                raise REFUSALS.refuse("unreadable_file")
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Refused:
        raise
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, TypeError, OSError, SyntaxError):
        # not a workbook (another zip, a damaged file); XML parse errors are SyntaxErrors
        log.info("company movement file not readable as XLSX")
        raise REFUSALS.refuse("unreadable_file") from None
    try:
        sheet = book[SHEET] if SHEET in book.sheetnames else book.worksheets[0]
        rows: list[list[Any]] = []
        for row in sheet.iter_rows(values_only=True):
            rows.append(list(row))
            if len(rows) > MAX_LINES + 50:  # enough to know it is too long; blank rows are not counted
                break
        return rows
    finally:
        book.close()


def _format(content: bytes) -> str:
    if not content:
        raise REFUSALS.refuse("empty_file")
    if len(content) > MAX_BYTES:
        raise too_large()
    if content.startswith(b"PK\x03\x04"):
        return XLSX
    if content.startswith(b"\xd0\xcf\x11\xe0"):
        raise REFUSALS.refuse("old_excel_format")
    if b"\x00" in content[:4096] or content.startswith((b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"GIF8")):
        raise REFUSALS.refuse("unsupported_type")
    return CSV


def read_sheet(content: bytes) -> Sheet:
    """The movement lines of a CSV or XLSX file; refuses the file as a whole (empty_file,
    file_too_large, old_excel_format, unsupported_type, unreadable_file, batch_columns_missing,
    no_movement_lines, too_many_lines)."""
    file_format = _format(content)
    rows = _xlsx_rows(content) if file_format == XLSX else _csv_rows(content)
    if not rows:
        raise REFUSALS.refuse("no_movement_lines")
    header = [_column_key(cell) for cell in rows[0]]
    if "tipo" not in header:
        raise REFUSALS.refuse("batch_columns_missing")
    sheet = Sheet(file_format, [])
    for number, row in enumerate(rows[1:], start=2):
        values = {
            column: _cell(column, value)
            for column, value in zip(header, row, strict=False)
            if column in COLUMNS and value is not None
        }
        first = _cell("", row[0]) if row else ""
        if not any(values.values()) or first.startswith("#"):
            continue
        if _is_example(values):
            sheet.example_skipped = True
            continue
        sheet.lines.append((number, values))
        if len(sheet.lines) > MAX_LINES:
            raise REFUSALS.refuse("too_many_lines", max_lines=MAX_LINES)
    if not sheet.lines:
        raise REFUSALS.refuse("no_movement_lines")
    return sheet


def _is_example(values: Mapping[str, str]) -> bool:
    return fold(values.get("tipo")) == "inclusao" and only_digits(values.get("cpf", "")) == EXAMPLE_CPF


# --- one line -------------------------------------------------------------------------------------


@dataclass
class LineError:
    line: int
    column: str | None
    code: str
    message: str

    def json(self) -> dict:
        return {"line": self.line, "column": self.column, "code": self.code, "message": self.message}


def _fields(kind: str, values: Mapping[str, str]) -> dict[str, str]:
    """The movement's fields from a line: who the line is about is the card, else the CPF (the
    CPF is the new person's own in an inclusion)."""
    fields = {COLUMNS[column]: value for column, value in values.items() if value and column != "tipo"}
    if kind != INCLUSION:
        who = fields.pop("card", None) or fields.pop("cpf", None)
        if who:
            fields["beneficiary"] = who
    return fields


def _identity(kind: str, values: Mapping[str, str]) -> tuple[str, ...]:
    """What makes two lines the same movement."""
    card, cpf = only_digits(values.get("carteirinha", "")), only_digits(values.get("cpf", ""))
    if kind == INCLUSION:
        return (kind, cpf) if cpf else (kind, fold(values.get("nome")), only_digits(values.get("data_nascimento", "")))
    return (kind, card or cpf)


def _identity_field(kind: str, values: Mapping[str, str]) -> str:
    if kind != INCLUSION:
        return "beneficiary"
    return "cpf" if values.get("cpf") else "name"


def _column(fields_name: str | None, values: Mapping[str, str]) -> str | None:
    if fields_name == "beneficiary":
        return "carteirinha" if values.get("carteirinha") else "cpf"
    return FIELD_COLUMNS.get(fields_name or "")


def _line_errors(
    number: int, values: Mapping[str, str], refused: Refused, phones: Mapping[str, str]
) -> list[LineError]:
    """The refusal of a line as errors by column: a message that says what is wrong, never the
    line's data."""
    problems = refused.data.get("fields")
    if refused.code == "invalid_request" and isinstance(problems, dict):
        return [
            LineError(number, _column(name, values), "invalid_value", problem) for name, problem in problems.items()
        ]
    return [LineError(number, _column(refused.data.get("field"), values), refused.code, refused.message(phones))]


# --- the batch ------------------------------------------------------------------------------------


@dataclass
class BatchOutcome:
    counts: dict[str, int] = field(default_factory=dict)
    errors: list[LineError] = field(default_factory=list)
    refused_lines: int = 0


async def _run_lines(
    session: AsyncSession, caller: CompanyCaller, sheet: Sheet, ctx: MovementContext, phones: Mapping[str, str]
) -> BatchOutcome:
    outcome = BatchOutcome()
    seen: dict[tuple[str, ...], int] = {}
    for number, values in sheet.lines:
        kind = KINDS.get(fold(values.get("tipo")))
        if kind is None:
            refused = REFUSALS.refuse("unknown_movement_type")
            refused.data["field"] = "kind"
        elif (identity := _identity(kind, values)) in seen:
            refused = REFUSALS.refuse("duplicate_line", first_line=seen[identity])
            refused.data["field"] = _identity_field(kind, values)
        else:
            seen[identity] = number
            try:
                # a savepoint per line: a line that fails at the database (a simultaneous movement took
                # the same CPF or card after this one's checks) undoes only itself
                async with session.begin_nested():
                    await make_movement(session, caller, kind, _fields(kind, values), ctx)
                outcome.counts[kind] = outcome.counts.get(kind, 0) + 1
                continue
            except Refused as exc:
                refused = exc
            except IntegrityError:
                log.warning("company movement file: a line conflicted", extra={"line": number, "kind": kind})
                refused = MOVEMENT_REFUSALS.refuse("movement_conflict")
                refused.data["field"] = _identity_field(kind, values)
        outcome.refused_lines += 1
        outcome.errors.extend(_line_errors(number, values, refused, phones))
    return outcome


def summary_text(counts: Mapping[str, int], refused_lines: int) -> str:
    """'Arquivo processado: 18 inclusões, 1 exclusão; 2 linhas recusadas.'"""
    done = [
        f"{counts[kind]} {KIND_COUNT_WORDS[kind][counts[kind] != 1]}" for kind in KIND_COUNT_WORDS if counts.get(kind)
    ]
    text = "Arquivo processado: " + (", ".join(done) if done else "nenhuma movimentação feita")
    if refused_lines:
        text += (
            f"; {refused_lines} linha{'s' if refused_lines != 1 else ''} recusada{'s' if refused_lines != 1 else ''}"
        )
    return text + "."


def batch_json(batch: CompanyMovementBatch, protocol: Protocol) -> dict:
    summary = summary_text(batch.counts, batch.refused_lines)
    return {
        "protocol": protocol.number,
        "status": batch.status,
        "file_format": batch.file_format,
        "filename": batch.filename,
        "total_lines": batch.total_lines,
        "applied_lines": batch.applied_lines,
        "refused_lines": batch.refused_lines,
        "counts": batch.counts,
        "errors": batch.errors,
        "summary": summary,
        "created_at": iso_utc(batch.created_at),
    }


async def process_batch(
    session: AsyncSession,
    caller: CompanyCaller,
    content: bytes,
    *,
    filename: str | None,
    operator: OperatorProfile,
    channel: str,
    conversation_id: str | None,
    today: date,
) -> dict:
    """Reads the file (refused as a whole when it cannot be read: read_sheet), applies its valid
    lines and lists the refused ones (the module's POLICY), under one protocol; commits. The answer
    is batch_json's plus `message` and `example_skipped`."""
    sheet = read_sheet(content)
    protocol = await new_protocol(
        session,
        BATCH_KIND,
        ans_registration=operator.ans_registration,
        channel=channel,
        conversation_id=conversation_id,
        status="completed",
        details={"company_code": caller.company.code, "requested_by": caller.user.user_code},
        day=today,
    )
    protocol.company_id = caller.company.id
    batch = CompanyMovementBatch(
        company_id=caller.company.id,
        protocol_id=protocol.id,
        filename=(filename or "")[:200] or None,
        file_format=sheet.file_format,
        total_lines=len(sheet.lines),
        applied_lines=0,
        refused_lines=0,
        counts={},
        errors=[],
        status="processing",
        created_by=caller.user.id,
        created_at=utcnow(),
    )
    session.add(batch)
    await session.flush()
    ctx = MovementContext(operator, channel, conversation_id, today, BatchTarget(protocol, batch.id))
    outcome = await _run_lines(session, caller, sheet, ctx, operator.phones)
    batch.counts, batch.errors = outcome.counts, [error.json() for error in outcome.errors]
    batch.applied_lines, batch.refused_lines = sum(outcome.counts.values()), outcome.refused_lines
    batch.status = PROCESSED
    await session.commit()
    log.info(
        "company movement file processed",
        extra={"protocol": protocol.number, "applied": batch.applied_lines, "refused": batch.refused_lines},
    )
    body = batch_json(batch, protocol)
    message = f"{body['summary']} Protocolo {protocol.number}."
    if batch.refused_lines:
        message += " Corrija as linhas recusadas e envie um arquivo novo só com elas."
    return {**body, "message": message, "example_skipped": sheet.example_skipped}


async def process_inbound_batch(
    session: AsyncSession,
    caller: CompanyCaller,
    file_id: str,
    *,
    operator: OperatorProfile,
    channel: str,
    conversation_id: str | None,
    today: date,
) -> dict:
    """The file `file_id` sent through the chat in this conversation (backend.inbound_files: the
    same channel and conversation id, unexpired, not used before), processed as process_batch does;
    the file and its bytes go with the batch's commit (the batch keeps only its counts and refused
    lines). Refuses inbound_file_not_found (also without a conversation), not_a_spreadsheet (a
    photo or PDF: left for its own use) and process_batch's refusals (nothing is committed: the
    file stays until it expires)."""
    conversation = conversation_id or ""  # no conversation: no file of it (an inbound file always has one)
    found = await waiting_file(session, file_id, channel, conversation)
    if found is None:
        raise REFUSALS.refuse("inbound_file_not_found")
    if found.content_type not in SPREADSHEET_TYPES:
        raise REFUSALS.refuse("not_a_spreadsheet")
    inbound = await claim(session, file_id, channel, conversation)
    content = await read_stored(session, inbound.storage_path) if inbound is not None else None
    if inbound is None or content is None:
        raise REFUSALS.refuse("inbound_file_not_found")
    await remove_stored(session, inbound.storage_path)
    return await process_batch(
        session,
        caller,
        content,
        filename=inbound.filename,
        operator=operator,
        channel=channel,
        conversation_id=conversation_id,
        today=today,
    )


async def _company_batch(session: AsyncSession, caller: CompanyCaller, number: str) -> tuple[Protocol, Any] | None:
    if not (number.isdigit() and len(number) == PROTOCOL_DIGITS):
        return None
    row = (
        await session.execute(
            select(Protocol, CompanyMovementBatch)
            .join(CompanyMovementBatch, CompanyMovementBatch.protocol_id == Protocol.id)
            .where(Protocol.number == number, Protocol.company_id == caller.company.id)
        )
    ).first()
    return (row[0], row[1]) if row else None


async def batch_status(session: AsyncSession, caller: CompanyCaller, number: str) -> dict:
    """The caller's company's file of protocol `number`; refuses protocol_not_found otherwise
    (another company's too)."""
    found = await _company_batch(session, caller, number)
    await session.commit()
    if found is None:
        raise PROTOCOL_REFUSALS.refuse("protocol_not_found")
    return batch_json(found[1], found[0])


async def batch_of_protocol(session: AsyncSession, protocol: Protocol) -> dict | None:
    """The summary of a file's protocol (backend.company.protocols): {summary, applied_lines,
    refused_lines, errors}."""
    if protocol.kind != BATCH_KIND:
        return None
    batch = (
        await session.execute(select(CompanyMovementBatch).where(CompanyMovementBatch.protocol_id == protocol.id))
    ).scalar_one_or_none()
    if batch is None:
        return None
    body = batch_json(batch, protocol)
    return {key: body[key] for key in ("summary", "applied_lines", "refused_lines", "counts", "errors")}

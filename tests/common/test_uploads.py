"""The upload policy (common/uploads.py): one table of types (documents and spreadsheets), one size
limit, one way to name files and one set of pt-BR refusals — for the channels, the backend and the
widget alike."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

from common import uploads
from common.uploads import (
    ACCEPTED_TYPES,
    DECLARED_TYPES,
    DOCUMENT_TYPES,
    EMPTY_FILE,
    FILE_TOO_LARGE,
    MAX_UPLOAD_BYTES,
    REFUSAL_STATUS,
    REFUSAL_TEXTS,
    SPREADSHEET_TYPES,
    UNDECLARED_TYPES,
    UNSUPPORTED_TYPE,
    UploadRefused,
    base_content_type,
    check_content,
    check_declared,
    detect_type,
    safe_filename,
    sniff_type,
)

ROOT = Path(__file__).resolve().parents[2]
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01" + b"\x00" * 32
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 32
HEIC = b"\x00\x00\x00\x18ftypheic" + b"\x00" * 32
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200
XLS = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512  # the old Excel format (OLE)
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TEXT = "tipo;cpf;nome\r\ninclusao;650.283.194-05;João da Conceição\r\n"


def xlsx() -> bytes:
    """A real workbook, as Excel or the template would send it."""
    book = Workbook()
    book.active.append(["tipo", "cpf", "nome"])
    book.active.append(["inclusao", "650.283.194-05", "João da Conceição"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def a_zip(*names: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name in names:
            archive.writestr(name, "<x/>")
    return out.getvalue()


def refused(call, *args) -> str:
    with pytest.raises(UploadRefused) as caught:
        call(*args)
    return caught.value.code


def test_the_policy_is_documents_and_spreadsheets_up_to_10_mb():
    assert {ct: (t.extension, t.magic) for ct, t in DOCUMENT_TYPES.items()} == {
        "image/jpeg": ("jpg", b"\xff\xd8\xff"),
        "image/png": ("png", b"\x89PNG\r\n\x1a\n"),
        "application/pdf": ("pdf", b"%PDF-"),
    }
    assert {ct: t.extension for ct, t in SPREADSHEET_TYPES.items()} == {"text/csv": "csv", XLSX_TYPE: "xlsx"}
    assert ACCEPTED_TYPES == {**DOCUMENT_TYPES, **SPREADSHEET_TYPES}
    assert {t.family for t in DOCUMENT_TYPES.values()} == {"document"}
    assert {t.family for t in SPREADSHEET_TYPES.values()} == {"spreadsheet"}
    assert MAX_UPLOAD_BYTES == 10 * 1024 * 1024
    assert REFUSAL_STATUS == {FILE_TOO_LARGE: 413, UNSUPPORTED_TYPE: 415, EMPTY_FILE: 400}
    assert "10 MB" in REFUSAL_TEXTS[FILE_TOO_LARGE]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (PDF, "application/pdf"),
        (JPEG, "image/jpeg"),
        (PNG, "image/png"),
        (xlsx(), XLSX_TYPE),
        (a_zip("word/document.xml"), XLSX_TYPE),  # a zip: only the whole says whether it is a workbook
        (CSV_TEXT.encode("utf-8"), "text/csv"),  # could be text
        ("ação;".encode()[:3], "text/csv"),  # a character cut at the end of the first bytes
        (WEBP, None),
        (HEIC, None),
        (EXE, None),
        (XLS, None),
        (b"texto\x00com NUL", None),
    ],
)
def test_the_first_bytes_tell_what_a_file_may_be(content, expected):
    found = sniff_type(content[: uploads.SNIFF_BYTES])
    assert (found.content_type if found else None) == expected


def test_a_whole_file_is_checked_by_content_never_by_its_claimed_type():
    assert check_content(PDF).content_type == "application/pdf"
    assert check_content(JPEG).extension == "jpg"
    assert refused(check_content, EXE) == UNSUPPORTED_TYPE  # an executable called recibo.pdf
    assert refused(check_content, WEBP) == UNSUPPORTED_TYPE
    assert refused(check_content, HEIC) == UNSUPPORTED_TYPE
    assert refused(check_content, b"") == EMPTY_FILE
    assert check_content(PDF + b"0" * (MAX_UPLOAD_BYTES - len(PDF))).content_type == "application/pdf"  # exactly 10 MB
    assert refused(check_content, PDF + b"0" * (MAX_UPLOAD_BYTES - len(PDF) + 1)) == FILE_TOO_LARGE


@pytest.mark.parametrize(
    "content",
    [
        CSV_TEXT.encode("utf-8"),
        CSV_TEXT.encode("utf-8-sig"),  # with BOM, as the template and Excel's "CSV UTF-8"
        CSV_TEXT.encode("cp1252"),  # what the Brazilian Excel saves by default
        CSV_TEXT.replace(";", ",").encode("utf-8"),
        CSV_TEXT.replace(";", "\t").encode("cp1252"),
        b"tipo;cpf",  # one line, shorter than the first bytes looked at
    ],
    ids=["utf-8", "utf-8-bom", "cp1252", "comma", "tab", "short"],
)
def test_a_csv_is_text_in_utf_8_or_windows_1252(content):
    found = check_content(content)
    assert (found.content_type, found.extension, found.family) == ("text/csv", "csv", "spreadsheet")
    assert found.content_type in SPREADSHEET_TYPES and found.content_type not in DOCUMENT_TYPES


def test_an_xlsx_is_a_zip_that_names_a_workbook():
    found = check_content(xlsx())
    assert (found.content_type, found.extension, found.family) == (XLSX_TYPE, "xlsx", "spreadsheet")
    assert detect_type(a_zip("[Content_Types].xml", "xl/workbook.xml", "xl/worksheets/sheet1.xml")) is found


@pytest.mark.parametrize(
    "content",
    [
        a_zip("[Content_Types].xml", "word/document.xml"),  # a .docx
        a_zip("META-INF/MANIFEST.MF", "App.class"),  # a .jar
        a_zip("xl/workbook.xml"),  # no [Content_Types].xml: not an Office file
        b"PK\x03\x04" + b"\x14\x00" * 20,  # a zip's first bytes and nothing of a zip after them
        xlsx()[:-200],  # a workbook cut short: its table of contents is at the end
        XLS,  # the old Excel format: refused, also when called .xls or .csv
        EXE,
        b"\x89\x01\x02garbage;\n" * 10,  # binary junk called planilha.csv
        b"tipo;cpf\r\n\x00\x00\x00\x00",  # NUL bytes after text-like first bytes
        "tipo;cpf\r\n".encode("utf-16"),  # UTF-16 (NUL in every other byte)
        b"tipo;cpf\r\n\x81\x8d\x8f\x90\x9d",  # neither UTF-8 nor Windows-1252
        b"so uma palavra",  # text, but no line break and no separator
    ],
    ids=[
        "docx",
        "jar",
        "no-content-types",
        "zip-header-only",
        "cut-xlsx",
        "xls",
        "exe",
        "junk",
        "nul",
        "utf-16",
        "not-decodable",
        "one-word",
    ],
)
def test_what_only_looks_like_a_spreadsheet_is_refused(content):
    assert detect_type(content) is None
    assert refused(check_content, content) == UNSUPPORTED_TYPE


def test_what_a_channel_knows_before_the_download_refuses_early_what_the_backend_would():
    for declared in ("application/pdf", "image/jpeg", "IMAGE/PNG; name=x.png", "image/jpg", None, ""):
        check_declared(declared, 1000)  # accepted, or unknown: the bytes decide later
    check_declared("application/octet-stream", None)
    for declared in (
        "text/csv",
        "text/csv; charset=utf-8",
        "text/plain",
        "application/csv",
        "text/comma-separated-values",
        "application/vnd.ms-excel",  # what Windows calls a CSV (a real .xls is refused by its bytes)
        XLSX_TYPE,
    ):
        check_declared(declared, 1000)
    for declared in ("image/webp", "image/heic", "audio/ogg", "video/mp4", "application/msword", "application/zip"):
        assert refused(check_declared, declared, 10) == UNSUPPORTED_TYPE, declared
    assert refused(check_declared, "application/pdf", MAX_UPLOAD_BYTES + 1) == FILE_TOO_LARGE
    check_declared("application/pdf", MAX_UPLOAD_BYTES)
    assert base_content_type(" Image/JPG ; charset=x") == "image/jpeg"
    assert base_content_type("application/CSV") == "text/csv"


def test_the_refusal_names_what_is_accepted():
    text = REFUSAL_TEXTS[UNSUPPORTED_TYPE]
    for name in ("JPG", "PNG", "PDF", "CSV", "XLSX"):
        assert name in text, name
    error = UploadRefused(UNSUPPORTED_TYPE)
    assert (error.code, error.status, error.message) == (UNSUPPORTED_TYPE, 415, text)


@pytest.mark.parametrize(
    ("name", "extension", "expected"),
    [
        ("../../recibo consulta.pdf", "pdf", "recibo consulta.pdf"),
        ("C:\\Users\\maria\\nota.png", "jpg", "nota.jpg"),  # the real type's extension
        ("recibo%20mar%C3%A7o.pdf", "pdf", "recibo março.pdf"),  # percent-encoding undone
        ("laudo\x00\x1b[31m.pdf", "pdf", "laudo[31m.pdf"),  # no control characters
        ("", "pdf", "documento.pdf"),
        (None, "png", "documento.png"),
        ("...", "pdf", "documento.pdf"),
        ("ME1", "pdf", "ME1.pdf"),
    ],
)
def test_safe_filename(name, extension, expected):
    assert safe_filename(name, extension) == expected


def test_a_long_name_is_cut_keeping_the_extension():
    name = safe_filename("a" * 500 + ".pdf", "pdf")
    assert len(name) == uploads.FILENAME_MAX and name.endswith(".pdf")


def test_no_copy_of_the_policy_is_left_in_the_channels_or_the_backend():
    import backend.uploads
    import channels.common

    for name in ("MAX_ATTACHMENT_BYTES", "ALLOWED_CONTENT_TYPES", "safe_filename", "check_attachment"):
        assert not hasattr(channels.common, name), name
    for name in ("ACCEPTED_TYPES", "safe_filename"):
        assert not hasattr(backend.uploads, name), name
    assert backend.uploads.sniff_type is uploads.sniff_type


def test_the_widget_checks_the_same_policy_with_the_same_texts():
    """widget.js cannot import Python: it carries a copy, checked here word for word."""
    script = (ROOT / "channels" / "web" / "widget.js").read_text(encoding="utf-8")
    joined = re.sub(r'"\s*\+\s*"', "", script)  # the texts are split over lines with +
    types = re.search(r"var UPLOAD_TYPES = \[([^\]]*)\]", script)
    assert types is not None
    assert set(re.findall(r'"([^"]+)"', types.group(1))) == DECLARED_TYPES - UNDECLARED_TYPES
    accept = re.search(r"var UPLOAD_ACCEPT = \[([^\]]*)\]", script)
    assert accept is not None
    extensions = {f".{t.extension}" for t in ACCEPTED_TYPES.values()} | {".jpeg"}
    assert set(re.findall(r'"([^"]+)"', accept.group(1))) == set(ACCEPTED_TYPES) | extensions
    assert re.search(r"var MAX_UPLOAD_MB = (\d+);", script).group(1) == str(uploads.MAX_UPLOAD_MB)
    for text in REFUSAL_TEXTS.values():
        assert f'"{text}"' in joined, text

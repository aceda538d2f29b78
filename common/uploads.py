"""The upload policy: which files a user may send — documents (photos and PDFs of receipts,
invoices and medical reports) and spreadsheets (a company's beneficiary movements) — in one place
for the channels and the backend. Pure: no I/O.

The policy: **JPEG, PNG or PDF (DOCUMENT_TYPES), or CSV or XLSX (SPREADSHEET_TYPES), at most 10 MB,
not empty**; the type is read from the file's content, never from its name or the type a client
claims, so an executable renamed "recibo.pdf" or "planilha.csv" is refused:
- JPEG, PNG and PDF by their first bytes (magic bytes);
- XLSX: a zip (first bytes `PK\x03\x04`) whose table of contents names a workbook's parts
  (`[Content_Types].xml` and `xl/workbook.xml`); only the names are read, nothing is extracted. Any
  other zip (a .docx, a .jar) is refused, and so is the old Excel format (.xls, an OLE file): the
  spreadsheets are read by backend.company.movement_batch, which reads CSV and XLSX only;
- CSV: text — no NUL and no other control character but tab, line breaks, form feed and the DOS
  end-of-file mark; decodes as UTF-8 (with or without BOM) or Windows-1252 (what the Brazilian Excel
  saves); has a line break or a separator (`;`, `,`, tab).
The first SNIFF_BYTES (`sniff_type`) only tell what a file *may* be (for a CSV, "could be text"), so
a stream is cut early when they cannot be any accepted type; the decision is on the whole content
(`detect_type`, `check_content`; backend.uploads ends its streaming check with it).

Which family a use needs is the caller's: a reimbursement takes a document only
(backend.reimbursements), a company's movement file a spreadsheet only
(backend.company.movement_batch); both refuse the other family with their own words and leave the
file where it was.

Why this one policy, and who applies it:
- the backend is the authority: it stores only what the operator's staff and its own services can
  open and process (documents for the reimbursement analysis, spreadsheets for the movements), sniffs
  every file and refuses the rest (backend/uploads.py, POST /api/inbound-files);
- a channel refuses *early*, with the same pt-BR text, what the backend would refuse anyway: a
  declared type outside the table, a declared or downloaded size over the limit, an empty file,
  bytes that are not one of the accepted types. Accepting more in a channel (the channels used to
  take 16 MB and WebP/HEIC) only made the user wait for a download the backend then refused;
- declared types say little about spreadsheets (Windows calls a CSV application/vnd.ms-excel, some
  clients text/plain): those names pass the early check (LOOSE_TYPES) and the bytes decide;
- WebP and HEIC (the iPhone's photos) are refused with a message naming what is accepted: keeping
  them would need a conversion to JPEG before the operator could use them, which is not done here.
  Phones send photos through WhatsApp and Telegram as JPEG anyway.
"""

from __future__ import annotations

import codecs
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from urllib.parse import unquote

MAX_UPLOAD_MB = 10
MAX_UPLOAD_BYTES = MAX_UPLOAD_MB * 1024 * 1024
SNIFF_BYTES = 16  # how many first bytes tell what a file may be
FILENAME_MAX = 120

DOCUMENT = "document"
SPREADSHEET = "spreadsheet"


@dataclass(frozen=True)
class FileType:
    content_type: str
    extension: str  # without the dot
    magic: bytes  # what the file's first bytes are (b"" for CSV: text has none)
    family: str  # DOCUMENT | SPREADSHEET


JPEG = FileType("image/jpeg", "jpg", b"\xff\xd8\xff", DOCUMENT)
PNG = FileType("image/png", "png", b"\x89PNG\r\n\x1a\n", DOCUMENT)
PDF = FileType("application/pdf", "pdf", b"%PDF-", DOCUMENT)
CSV = FileType("text/csv", "csv", b"", SPREADSHEET)
XLSX = FileType("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx", b"PK\x03\x04", SPREADSHEET)

# the two families: content type -> the type (a use requires one: `content_type in DOCUMENT_TYPES`)
DOCUMENT_TYPES: dict[str, FileType] = {file_type.content_type: file_type for file_type in (JPEG, PNG, PDF)}
SPREADSHEET_TYPES: dict[str, FileType] = {file_type.content_type: file_type for file_type in (CSV, XLSX)}
# every accepted type
ACCEPTED_TYPES: dict[str, FileType] = {**DOCUMENT_TYPES, **SPREADSHEET_TYPES}
# names clients give the accepted types (legacy or wrong); the sniffed type is stored, never these
CONTENT_TYPE_ALIASES = {
    "image/jpg": "image/jpeg",
    "image/pjpeg": "image/jpeg",
    "application/x-pdf": "application/pdf",
    "application/csv": "text/csv",
    "text/comma-separated-values": "text/csv",
    "text/x-csv": "text/csv",
    "text/x-comma-separated-values": "text/csv",
}
# declared types that may be an accepted file though they name none: a CSV as Windows (Excel) and
# some phones call it. The bytes decide (a real .xls is refused by them).
LOOSE_TYPES = frozenset({"text/plain", "application/vnd.ms-excel"})
# declared types that say nothing about the file: the bytes decide
UNDECLARED_TYPES = frozenset({"", "application/octet-stream", "binary/octet-stream"})
# every declared type check_declared lets through to the bytes check
DECLARED_TYPES = frozenset(ACCEPTED_TYPES) | frozenset(CONTENT_TYPE_ALIASES) | LOOSE_TYPES | UNDECLARED_TYPES

OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the old Office formats (.xls, .doc): refused
XLSX_PARTS = frozenset({"[Content_Types].xml", "xl/workbook.xml"})  # what makes a zip a workbook
CSV_SEPARATORS = re.compile(rb"[\r\n;,\t]")
# control characters text never has (NUL among them); tab, line breaks, form feed and ^Z are allowed
BINARY_BYTES = re.compile(rb"[\x00-\x08\x0e-\x19\x1b-\x1f]")

# refusal codes (the backend's error codes, with these HTTP statuses)
FILE_TOO_LARGE = "file_too_large"
UNSUPPORTED_TYPE = "unsupported_type"
EMPTY_FILE = "empty_file"

REFUSAL_TEXTS = {
    FILE_TOO_LARGE: (
        f"O arquivo passa do limite de {MAX_UPLOAD_MB} MB. Envie um arquivo menor "
        "(se precisar, mande uma foto de cada página ou divida a planilha)."
    ),
    UNSUPPORTED_TYPE: (
        "Só consigo receber fotos (JPG ou PNG), PDF ou planilhas (CSV ou XLSX). Envie o arquivo em um desses formatos."
    ),
    EMPTY_FILE: "O arquivo chegou vazio. Envie de novo, por favor.",
}
REFUSAL_STATUS = {FILE_TOO_LARGE: 413, UNSUPPORTED_TYPE: 415, EMPTY_FILE: 400}


class UploadRefused(Exception):
    """A file the policy does not take: `code` (FILE_TOO_LARGE | UNSUPPORTED_TYPE | EMPTY_FILE),
    `message` (the pt-BR text for the user) and `status` (the HTTP status the backend answers)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code

    @property
    def message(self) -> str:
        return REFUSAL_TEXTS[self.code]

    @property
    def status(self) -> int:
        return REFUSAL_STATUS[self.code]


def refusal_text(code: str) -> str:
    return REFUSAL_TEXTS[code]


def base_content_type(content_type: str | None) -> str:
    """'Application/PDF; name=x' -> 'application/pdf'; aliases (image/jpg) -> the accepted name."""
    base = (content_type or "").split(";")[0].strip().lower()
    return CONTENT_TYPE_ALIASES.get(base, base)


def check_declared(content_type: str | None, size: int | None = None) -> None:
    """What a channel knows before it has the bytes (the type and size a provider announces):
    raises UploadRefused for what the backend would refuse. An absent or generic type
    (application/octet-stream), a loose one (text/plain, application/vnd.ms-excel) and an unknown
    size pass: the bytes decide later."""
    if base_content_type(content_type) not in DECLARED_TYPES:
        raise UploadRefused(UNSUPPORTED_TYPE)
    check_size(size)


def check_size(size: int | None) -> None:
    if size is not None and size > MAX_UPLOAD_BYTES:
        raise UploadRefused(FILE_TOO_LARGE)


def _could_be_text(head: bytes) -> bool:
    """Whether these first bytes may start a text (a character cut at their end is fine)."""
    if BINARY_BYTES.search(head):
        return False
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return True
    except UnicodeDecodeError:
        pass
    try:
        head.decode("cp1252")
        return True
    except UnicodeDecodeError:
        return False


def sniff_type(head: bytes) -> FileType | None:
    """The accepted type these first bytes may start, None when none: a document by its magic
    bytes, XLSX for a zip, CSV for what could be text. Only a first answer: the whole content
    decides (detect_type)."""
    for file_type in (JPEG, PNG, PDF, XLSX):
        if head.startswith(file_type.magic):
            return file_type
    if head.startswith(OLE_MAGIC) or not _could_be_text(head):
        return None
    return CSV


def _is_workbook(content: bytes) -> bool:
    """A zip whose table of contents names a workbook's parts (nothing is extracted)."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            return XLSX_PARTS <= set(archive.namelist())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, NotImplementedError):
        return False


def _is_csv(content: bytes) -> bool:
    """Text (no control bytes; UTF-8, with or without BOM, or Windows-1252) with a line break or a
    separator."""
    if BINARY_BYTES.search(content) or not CSV_SEPARATORS.search(content):
        return False
    for encoding in ("utf-8", "cp1252"):
        try:
            content.decode(encoding)
            return True
        except UnicodeDecodeError:
            continue
    return False


def detect_type(content: bytes) -> FileType | None:
    """The accepted type of a whole file, None when none (the module's docstring: documents by
    their first bytes, XLSX by the zip's names, CSV as text)."""
    file_type = sniff_type(content[:SNIFF_BYTES])
    if file_type is XLSX:
        return XLSX if _is_workbook(content) else None
    if file_type is CSV:
        return CSV if _is_csv(content) else None
    return file_type


def check_content(content: bytes) -> FileType:
    """A whole file against the policy: its type (by content), or UploadRefused."""
    if not content:
        raise UploadRefused(EMPTY_FILE)
    check_size(len(content))
    file_type = detect_type(content)
    if file_type is None:
        raise UploadRefused(UNSUPPORTED_TYPE)
    return file_type


def safe_filename(name: str | None, extension: str, default_stem: str = "documento") -> str:
    """The user's file name reduced to something safe to show and store: no path, percent-encoding
    undone, no control characters, at most FILENAME_MAX characters, ending in the extension of the
    real type (a JPEG called "nota.png" becomes "nota.jpg")."""
    base = re.split(r"[\\/]", unquote(name or ""))[-1]
    base = "".join(ch for ch in unicodedata.normalize("NFC", base) if ch.isprintable()).strip(" .")
    stem = base.rsplit(".", 1)[0].strip(" .") if "." in base else base
    stem = stem[: FILENAME_MAX - len(extension) - 1] or default_stem
    return f"{stem}.{extension}"

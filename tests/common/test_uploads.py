"""The upload policy (common/uploads.py): one table of types, one size limit, one way to name files and
one set of pt-BR refusals — for the channels, the backend and the widget alike."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from common import uploads
from common.uploads import (
    ACCEPTED_TYPES,
    EMPTY_FILE,
    FILE_TOO_LARGE,
    MAX_UPLOAD_BYTES,
    REFUSAL_STATUS,
    REFUSAL_TEXTS,
    UNSUPPORTED_TYPE,
    UploadRefused,
    base_content_type,
    check_content,
    check_declared,
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


def refused(call, *args) -> str:
    with pytest.raises(UploadRefused) as caught:
        call(*args)
    return caught.value.code


def test_the_policy_is_jpeg_png_and_pdf_up_to_10_mb():
    assert {ct: (t.extension, t.magic) for ct, t in ACCEPTED_TYPES.items()} == {
        "image/jpeg": ("jpg", b"\xff\xd8\xff"),
        "image/png": ("png", b"\x89PNG\r\n\x1a\n"),
        "application/pdf": ("pdf", b"%PDF-"),
    }
    assert MAX_UPLOAD_BYTES == 10 * 1024 * 1024
    assert REFUSAL_STATUS == {FILE_TOO_LARGE: 413, UNSUPPORTED_TYPE: 415, EMPTY_FILE: 400}
    assert "10 MB" in REFUSAL_TEXTS[FILE_TOO_LARGE]


@pytest.mark.parametrize(
    ("content", "expected"),
    [(PDF, "application/pdf"), (JPEG, "image/jpeg"), (PNG, "image/png"), (WEBP, None), (HEIC, None), (EXE, None)],
)
def test_the_type_is_read_from_the_first_bytes(content, expected):
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


def test_what_a_channel_knows_before_the_download_refuses_early_what_the_backend_would():
    for declared in ("application/pdf", "image/jpeg", "IMAGE/PNG; name=x.png", "image/jpg", None, ""):
        check_declared(declared, 1000)  # accepted, or unknown: the bytes decide later
    check_declared("application/octet-stream", None)
    for declared in ("image/webp", "image/heic", "audio/ogg", "video/mp4", "application/msword"):
        assert refused(check_declared, declared, 10) == UNSUPPORTED_TYPE, declared
    assert refused(check_declared, "application/pdf", MAX_UPLOAD_BYTES + 1) == FILE_TOO_LARGE
    check_declared("application/pdf", MAX_UPLOAD_BYTES)
    assert base_content_type(" Image/JPG ; charset=x") == "image/jpeg"


def test_webp_and_heic_are_refused_with_a_text_asking_for_jpg_png_or_pdf():
    text = REFUSAL_TEXTS[UNSUPPORTED_TYPE]
    assert "JPG" in text and "PNG" in text and "PDF" in text and "HEIC" in text and "WebP" in text
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
    assert set(re.findall(r'"([^"]+)"', types.group(1))) == set(ACCEPTED_TYPES)
    assert re.search(r"var MAX_UPLOAD_MB = (\d+);", script).group(1) == str(uploads.MAX_UPLOAD_MB)
    for text in REFUSAL_TEXTS.values():
        assert f'"{text}"' in joined, text

"""The fixed-form identifiers users type, as regular expressions (one place for all)."""
from __future__ import annotations

import re

CPF_RE = re.compile(r"(?<![\d.])(\d{3})\.?(\d{3})\.?(\d{3})-?(\d{2})(?![\d.])")
CARD_RE = re.compile(r"(?<!\d)(\d{4})[ .]?(\d{4})[ .]?(\d{4})(?!\d)")
EMAIL_RE = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})")
NUMERIC_DATE_RE = re.compile(r"(?<!\d)(\d{1,2})\s*([/.\-])\s*(\d{1,2})\s*\2\s*(\d{4}|\d{2})(?!\d)")
COMPACT_DATE_RE = re.compile(r"(?<!\d)(\d{2})(\d{2})(\d{4})(?!\d)")
ISO_DATE_RE = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")


def _typed_value(pattern: re.Pattern, text: str) -> str | None:
    """The first match that is not the start of a longer word: "20030040050I" (a card typed with
    a letter) holds no CPF. Masking (common.pii) uses the patterns themselves, wider on purpose."""
    for m in pattern.finditer(text or ""):
        if not text[m.end():m.end() + 1].isalpha():
            return m.group(0)
    return None


def find_cpf(text: str) -> str | None:
    return _typed_value(CPF_RE, text)


def find_card(text: str) -> str | None:
    return _typed_value(CARD_RE, text)


def find_email(text: str) -> str | None:
    m = EMAIL_RE.search(text or "")
    return m.group(0) if m else None


def find_numeric_date(text: str) -> str | None:
    text = text or ""
    for pattern in (ISO_DATE_RE, NUMERIC_DATE_RE):
        m = pattern.search(text)
        if m:
            return m.group(0)
    return None

"""The fixed-form values users type (CPF, card, e-mail, protocol, dates), as regular expressions
(one place for all: the NLU pipeline's FixedFormEntityExtractor and the actions use them)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator

from common.labels import MONTH_NAMES
from common.text import fold

CPF_RE = re.compile(r"(?<![\d.])(\d{3})\.?(\d{3})\.?(\d{3})-?(\d{2})(?![\d.])")
CARD_RE = re.compile(r"(?<!\d)(\d{4})[ .]?(\d{4})[ .]?(\d{4})(?!\d)")
EMAIL_RE = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})")
NUMERIC_DATE_RE = re.compile(r"(?<!\d)(\d{1,2})\s*([/.\-])\s*(\d{1,2})\s*\2\s*(\d{4}|\d{2})(?!\d)")
COMPACT_DATE_RE = re.compile(r"(?<!\d)(\d{2})(\d{2})(\d{4})(?!\d)")
ISO_DATE_RE = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")
DAY_MONTH_RE = re.compile(r"(?<![\d/])(?:0[1-9]|[12]\d|3[01])/(?:0[1-9]|1[0-2])(?![\d/])")  # "10/02", no year
# month names as typed (with and without the cedilla, abbreviated) -> month number
MONTHS = {
    variant: number
    for number, name in enumerate(MONTH_NAMES, start=1)
    for variant in dict.fromkeys((name, fold(name), name[:3]))  # "março", "marco", "mar"
}
_MONTH = "(?:" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"  # longest first: "março" before "mar"
WRITTEN_DATE_RE = re.compile(  # "12 de março de 1985", "1º de janeiro", "2 jul 1996"
    r"(?<![\d/])(?:[12]\d|3[01]|0?[1-9])(?:º|°|o)?\s*(?:de\s+)?"
    + _MONTH
    + r"(?![a-zçã])(?:\s*(?:de\s+|/\s*)?(?:\d{4}|\d{2})(?!\d))?",
    re.IGNORECASE,
)
RELATIVE_DATE_RE = re.compile(  # "anteontem", "semana passada", "segunda-feira passada"
    r"\b(?:anteontem|antes\s+de\s+ontem"
    r"|semana\s+(?:passada|retrasada)|m[eê]s\s+(?:passado|retrasado)|ano\s+(?:passado|retrasado)"
    r"|(?:segunda|ter[cç]a|quarta|quinta|sexta)(?:[\s-]feira)?\s+passada|(?:s[aá]bado|domingo)\s+passado)\b",
    re.IGNORECASE,
)
# "hoje" and "ontem" date an event ("paguei ontem") or mean "now" ("a senha que uso hoje", "por
# hoje é só"); the form alone cannot tell, so they are not in fixed_form_spans.
DAY_WORD_RE = re.compile(r"(?:hoje|ontem)", re.IGNORECASE)
PROTOCOL_DIGITS = 20
PROTOCOL_CHUNK_RE = re.compile(r"\d[\d .\-/]{18,40}\d")  # "4190102026 1123 000012" typed with spaces


def _typed_value(pattern: re.Pattern, text: str) -> str | None:
    """The first match that is not the start of a longer word: "20030040050I" (a card typed with
    a letter) holds no CPF. Masking (common.pii) uses the patterns themselves, wider on purpose."""
    for start, end in _typed_spans(pattern, text or ""):
        return text[start:end]
    return None


def _typed_spans(pattern: re.Pattern, text: str) -> Iterator[tuple[int, int]]:
    for m in pattern.finditer(text):
        if not text[m.end() : m.end() + 1].isalpha():
            yield m.span()


def _protocol_spans(text: str) -> Iterator[tuple[int, int]]:
    for m in PROTOCOL_CHUNK_RE.finditer(text):
        chunk = m.group(0).rstrip(" .-/")
        if sum(c.isdigit() for c in chunk) == PROTOCOL_DIGITS:
            yield m.start(), m.start() + len(chunk)


def _date_spans(text: str) -> Iterator[tuple[int, int]]:
    for pattern in (ISO_DATE_RE, NUMERIC_DATE_RE, DAY_MONTH_RE, WRITTEN_DATE_RE, RELATIVE_DATE_RE):
        for m in pattern.finditer(text):
            yield m.span()


# In priority order: a span already taken by an earlier kind is not looked at again, so the
# digits of an e-mail or of a protocol are never read as a CPF, a card or a date.
_SPAN_FINDERS: tuple[tuple[str, Callable[[str], Iterable[tuple[int, int]]]], ...] = (
    ("email", lambda text: (m.span() for m in EMAIL_RE.finditer(text))),
    ("protocolo", _protocol_spans),
    ("cpf", lambda text: _typed_spans(CPF_RE, text)),
    ("carteirinha", lambda text: _typed_spans(CARD_RE, text)),
    ("data", _date_spans),
)
FIXED_FORM_ENTITIES = tuple(name for name, _ in _SPAN_FINDERS)


def overlaps(start: int, end: int, spans: Iterable[tuple[str, int, int]]) -> bool:
    """True when [start, end) shares a character with any of the (entity, start, end) spans."""
    return any(start < e and s < end for _, s, e in spans)


def fixed_form_spans(text: str) -> list[tuple[str, int, int]]:
    """Every fixed-form value in `text` as (entity, start, end), in reading order and without
    overlaps; the names are the contract's entities."""
    found: list[tuple[str, int, int]] = []
    for name, finder in _SPAN_FINDERS:
        for start, end in finder(text or ""):
            if not overlaps(start, end, found):
                found.append((name, start, end))
    return sorted(found, key=lambda span: span[1])


def find_protocol(text: str) -> str | None:
    """'4190102026 1123 000012' or '41901020261123000012' -> the 20 digits."""
    for start, end in _protocol_spans(text or ""):
        return "".join(c for c in text[start:end] if c.isdigit())
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

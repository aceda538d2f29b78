"""Dates typed in Portuguese, parsed in one place.

Numeric forms (12/03/1985, 12-03-85, 12.03.1985, 12031985) are parsed strictly here so an
impossible date (31/02) is rejected instead of guessed; written forms ("12 de março de 1985",
"ontem", "semana passada") go to dateparser, a well-kept library with Portuguese support.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import TYPE_CHECKING

from common.clock import local_today
from common.patterns import COMPACT_DATE_RE as _COMPACT_RE
from common.patterns import ISO_DATE_RE as _ISO_RE
from common.patterns import NUMERIC_DATE_RE as _NUMERIC_RE

if TYPE_CHECKING:
    from dateparser import _Settings  # the stubs' TypedDict of dateparser's settings


def _dateparser_settings(today: date) -> _Settings:
    return {
        "DATE_ORDER": "DMY",
        "PREFER_DAY_OF_MONTH": "first",
        "RETURN_AS_TIMEZONE_AWARE": False,
        "STRICT_PARSING": False,
        "RELATIVE_BASE": datetime.combine(today, time(12)),
    }


def _full_year(two_digits: int, today: date, past: bool) -> int:
    century = today.year - today.year % 100
    year = century + two_digits
    if past and year > today.year:
        year -= 100
    return year


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def has_numeric_date(text: str) -> bool:
    """True when `text` holds a date written with digits (valid or not, e.g. 31/02/1990)."""
    return bool(_ISO_RE.search(text or "") or _NUMERIC_RE.search(text or "") or _COMPACT_RE.search(text or ""))


def parse_date_pt(text: str, today: date | None = None, past: bool = False) -> date | None:
    """Returns the date in `text`, or None when there is none.

    `past=True` reads two-digit years as the most recent past year ('85' -> 1985).
    """
    if not text:
        return None
    today = today or local_today()
    m = _ISO_RE.search(text)
    if m:
        return _safe_date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    m = _NUMERIC_RE.search(text) or _COMPACT_RE.search(text)
    if m:
        groups = m.groups()
        day, month, year_text = int(groups[0]), int(groups[-2]), groups[-1]
        year = int(year_text) if len(year_text) == 4 else _full_year(int(year_text), today, past)
        return _safe_date(year, month, day)
    return _parse_written(text, today)


def _parse_written(text: str, today: date) -> date | None:
    import dateparser  # imported lazily: it loads its language data on first use
    from dateparser.search import search_dates

    settings = _dateparser_settings(today)
    parsed = dateparser.parse(text, languages=["pt"], settings=settings)
    if parsed is None:
        found = search_dates(text, languages=["pt"], settings=settings)
        if not found:
            return None
        parsed = found[0][1]
    return parsed.date()

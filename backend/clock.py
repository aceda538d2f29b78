"""Time in one place: naive UTC for stored instants, Brazilian local date for business days."""

from __future__ import annotations

from datetime import date, datetime, timezone

from common.clock import OPERATOR_TZ, local_today

__all__ = ["OPERATOR_TZ", "iso_utc", "local_date", "local_today", "utcnow"]


def utcnow() -> datetime:
    """Naive UTC (SQLite keeps no time zone, so every stored instant is naive UTC)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def iso_utc(value: datetime) -> str:
    return value.replace(tzinfo=timezone.utc).isoformat(timespec="seconds")


def local_date(instant: datetime) -> date:
    """The Brazilian date of a stored instant (naive UTC): after 21:00 in Brasília the UTC date is tomorrow's."""
    return instant.replace(tzinfo=timezone.utc).astimezone(OPERATOR_TZ).date()

"""Time in one place: naive UTC for stored instants, Brazilian local date for business days."""

from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

OPERATOR_TZ = ZoneInfo("America/Sao_Paulo")


def utcnow() -> datetime:
    """Naive UTC (SQLite keeps no time zone, so every stored instant is naive UTC)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def local_today() -> date:
    return datetime.now(OPERATOR_TZ).date()


def iso_utc(value: datetime) -> str:
    return value.replace(tzinfo=timezone.utc).isoformat(timespec="seconds")

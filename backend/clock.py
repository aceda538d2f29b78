"""Time in one place: naive UTC for stored instants, Brazilian local date for business days."""

from __future__ import annotations

from datetime import datetime, timezone

from common.clock import OPERATOR_TZ, local_today

__all__ = ["OPERATOR_TZ", "iso_utc", "local_today", "utcnow"]


def utcnow() -> datetime:
    """Naive UTC (SQLite keeps no time zone, so every stored instant is naive UTC)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def iso_utc(value: datetime) -> str:
    return value.replace(tzinfo=timezone.utc).isoformat(timespec="seconds")

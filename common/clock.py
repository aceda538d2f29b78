"""The operator's calendar: a business day is a Brazilian day, whatever the machine's time zone.

Between 21:00 and midnight in Brasília the machine's UTC date is already tomorrow, so `date.today()`
must not decide what "today", "ontem" or "a date in the future" mean for a user.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

OPERATOR_TZ = ZoneInfo("America/Sao_Paulo")


def local_today() -> date:
    return datetime.now(OPERATOR_TZ).date()

"""The verified beneficiary's plan and waiting periods (carências).

GET /api/plan[?beneficiary=<card>]
GET /api/waiting-periods
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.backend.client import backend
from bot.backend.common import Caller, Refusal, answer, from_json, text_or_none


@dataclass(frozen=True)
class PlanSummary:
    message: str  # the backend's pt-BR description of the plan (or of its cancellation)
    status: str  # active | cancelled
    plan_name: str | None
    beneficiary_name: str | None
    role: str | None  # holder | dependent


@dataclass(frozen=True)
class WaitingPeriods:
    message: str  # every member's waiting periods, worded by the backend
    plan_status: str  # active | cancelled


async def plan(caller: Caller, beneficiary: str | None = None) -> PlanSummary | Refusal:
    """`beneficiary`: a dependent's card number (None: the verified beneficiary).
    Refusals: 400 invalid_request, 401, 403 not_in_family."""
    params = {"beneficiary": beneficiary} if beneficiary else None
    return await answer(backend.get("/api/plan", params=params, headers=caller.headers()), _summary)


def _summary(data: Mapping[str, Any]) -> PlanSummary:
    person = data.get("beneficiary") or {}
    return from_json(
        PlanSummary,
        data,
        status=str(data.get("status") or "active"),
        plan_name=text_or_none(data.get("plan") or {}, "name"),
        beneficiary_name=text_or_none(person, "name"),
        role=text_or_none(person, "role"),
    )


async def waiting_periods(caller: Caller) -> WaitingPeriods | Refusal:
    return await answer(
        backend.get("/api/waiting-periods", headers=caller.headers()),
        lambda data: from_json(WaitingPeriods, data, plan_status=str(data.get("plan_status") or "active")),
    )

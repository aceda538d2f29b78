"""The company's beneficiary movements, one by one, and the template of the movements' file, for a
verified company user (backend/api/company_movements.py).

GET  /api/company/movements/options   {plans, start_dates: [{date, label, retroactive}], retroactive_warning,
                                       transfer_start_date: {date, label}, exclusion_reasons: [{code, label,
                                       dependents_only}], exclusion_dates, kinships: [{code, label}],
                                       reactivation_months, group_companies: [{code, name}], ...}
POST /api/company/movements/inclusions {name, cpf?, birth_date, mother_name, plan, kinship, holder?, start_date}
POST /api/company/movements/exclusions {beneficiary, reason, date}
POST /api/company/movements/changes {beneficiary, name? | mother_name? | birth_date?}
POST /api/company/movements/plan-changes {beneficiary, plan, start_date?}
POST /api/company/movements/reactivations {beneficiary, start_date?, plan?}
POST /api/company/movements/transfers {beneficiary, target_company, plan?}
     -> 201 {kind, kind_label, protocol, message, beneficiary, effective_date, retroactive, warning?}; 400
     (fields); 404 beneficiary_not_found; 409/422 the movement's rules (the backend's message says which)
GET  /api/company/movements/template?format=csv|xlsx  {format, filename, url, expires_in_minutes}
POST /api/company/movements/batches {file_id} -> 201 {protocol, total_lines, applied_lines, refused_lines, errors:
     [{line, column, code, message}], message}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.backend.client import backend
from bot.backend.common import Refusal, answer, from_json
from bot.backend.company import CompanyCaller


@dataclass(frozen=True)
class Option:
    code: str
    label: str
    retroactive: bool = False


@dataclass(frozen=True)
class MovementOptions:
    plans: tuple[str, ...]
    start_dates: tuple[Option, ...]  # code: the ISO date
    retroactive_warning: str
    exclusion_reasons: tuple[Option, ...]
    kinships: tuple[Option, ...]
    next_start: Option | None = None  # the next first of the month (a start with no date given)
    group_companies: tuple[Option, ...] = ()  # code: the company code (the transfer's destinations)

    def json(self) -> dict[str, Any]:
        """What a form keeps between turns (slot empresa_opcoes)."""
        return {
            "plans": list(self.plans),
            "start_dates": [o.__dict__ for o in self.start_dates],
            "retroactive_warning": self.retroactive_warning,
            "exclusion_reasons": [o.__dict__ for o in self.exclusion_reasons],
            "kinships": [o.__dict__ for o in self.kinships],
            "next_start": self.next_start.__dict__ if self.next_start else None,
            "group_companies": [o.__dict__ for o in self.group_companies],
        }

    @classmethod
    def from_kept(cls, data: Mapping[str, Any]) -> MovementOptions:
        return cls(
            plans=tuple(data.get("plans") or ()),
            start_dates=tuple(Option(**o) for o in data.get("start_dates") or ()),
            retroactive_warning=str(data.get("retroactive_warning") or ""),
            exclusion_reasons=tuple(Option(**o) for o in data.get("exclusion_reasons") or ()),
            kinships=tuple(Option(**o) for o in data.get("kinships") or ()),
            next_start=Option(**data["next_start"]) if data.get("next_start") else None,
            group_companies=tuple(Option(**o) for o in data.get("group_companies") or ()),
        )


@dataclass(frozen=True)
class MovementDone:
    protocol: str
    message: str
    warning: str | None = None


@dataclass(frozen=True)
class Template:
    format: str
    filename: str
    url: str
    expires_in_minutes: int


def _options(data: Mapping[str, Any]) -> MovementOptions:
    return MovementOptions(
        plans=tuple(str(p) for p in data.get("plans") or ()),
        start_dates=tuple(
            Option(str(d["date"]), str(d["label"]), bool(d.get("retroactive"))) for d in data.get("start_dates") or ()
        ),
        retroactive_warning=str(data.get("retroactive_warning") or ""),
        exclusion_reasons=tuple(Option(str(r["code"]), str(r["label"])) for r in data.get("exclusion_reasons") or ()),
        kinships=tuple(Option(str(k["code"]), str(k["label"])) for k in data.get("kinships") or ()),
        next_start=Option(str(nxt["date"]), str(nxt["label"])) if (nxt := data.get("transfer_start_date")) else None,
        group_companies=tuple(Option(str(c["code"]), str(c["name"])) for c in data.get("group_companies") or ()),
    )


async def movement_options(caller: CompanyCaller) -> MovementOptions | Refusal:
    return await answer(backend.get("/api/company/movements/options", headers=caller.headers()), _options)


async def make_movement(caller: CompanyCaller, kind: str, fields: dict[str, Any]) -> MovementDone | Refusal:
    """`kind`: inclusions | exclusions | changes | plan-changes | reactivations | transfers; refusals carry
    the backend's message (and `field`)."""
    request = backend.post(f"/api/company/movements/{kind}", {**fields, **caller.body()}, headers=caller.headers())
    return await answer(request, lambda data: from_json(MovementDone, data))


async def template(caller: CompanyCaller, fmt: str) -> Template | Refusal:
    """`fmt`: csv | xlsx."""
    return await answer(
        backend.get("/api/company/movements/template", params={"format": fmt}, headers=caller.headers()),
        lambda data: from_json(Template, data),
    )


@dataclass(frozen=True)
class LineError:
    line: int
    column: str | None
    message: str


@dataclass(frozen=True)
class BatchDone:
    protocol: str
    message: str
    total_lines: int
    applied_lines: int
    refused_lines: int
    errors: tuple[LineError, ...]


def _batch(data: Mapping[str, Any]) -> BatchDone:
    errors = tuple(
        LineError(
            int(e.get("line") or 0), None if e.get("column") is None else str(e["column"]), str(e.get("message") or "")
        )
        for e in data.get("errors") or ()
    )
    return from_json(BatchDone, data, errors=errors)


async def send_batch(caller: CompanyCaller, file_id: str) -> BatchDone | Refusal:
    """The spreadsheet the channel handed to the backend (POST /api/inbound-files), by its id.
    Refusals: 400 empty_file | unreadable_file | batch_columns_missing, 404 inbound_file_not_found,
    413 file_too_large | too_many_lines, 415 unsupported_type | old_excel_format | not_a_spreadsheet,
    422 no_movement_lines (the backend's message says what to do)."""
    request = backend.post(
        "/api/company/movements/batches", {"file_id": file_id, **caller.body()}, headers=caller.headers()
    )
    return await answer(request, _batch)

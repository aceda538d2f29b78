"""Reimbursements: the files a request carries, the request, and the requests already made.

POST /api/reimbursement-documents   attaches a file the channel received (JSON: `file_id`, `kind`)
POST /api/reimbursements            the request, with the ids of the files sent before
GET  /api/reimbursements            the visible requests, newest first
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from bot.backend.client import backend
from bot.backend.common import Caller, Refusal, text_or_none

DocumentKind = Literal["receipt", "invoice", "report", "other"]
RECEIPT: DocumentKind = "receipt"
OTHER: DocumentKind = "other"


@dataclass(frozen=True)
class UploadedDocument:
    id: int
    kind: str  # receipt | invoice | report | other
    filename: str


@dataclass(frozen=True)
class ReimbursementClaim:
    provider_name: str | None
    provider_document: str | None  # CPF or CNPJ, bare
    service_date: str | None  # ISO date
    description: str | None
    amount: str | None  # "150.00"
    document_ids: tuple[int, ...]
    beneficiary: str | None = None  # a dependent's card number (None: the verified beneficiary)


@dataclass(frozen=True)
class ReimbursementCreated:
    protocol: str
    summary: str  # the backend's pt-BR confirmation (protocol, deadline for the answer)
    duplicate: bool  # the same request was already made: no new one


@dataclass(frozen=True)
class HistoryStep:
    label: str
    date_text: str  # dd/mm/yyyy


@dataclass(frozen=True)
class Reimbursement:
    protocol: str
    procedure: str
    provider_name: str
    service_date_text: str
    amount_requested_text: str
    status: str  # received | in_review | pending | approved | paid | denied ...
    status_label: str
    status_note: str | None  # what is missing (pending) or the reason (denied)
    amount_paid_text: str | None
    paid_on: str | None  # ISO date
    history: tuple[HistoryStep, ...]

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Reimbursement:
        return cls(
            protocol=str(data["protocol"]),
            procedure=str(data["procedure"]),
            provider_name=str(data["provider_name"]),
            service_date_text=str(data["service_date_text"]),
            amount_requested_text=str(data["amount_requested_text"]),
            status=str(data["status"]),
            status_label=str(data["status_label"]),
            status_note=text_or_none(data, "status_note"),
            amount_paid_text=text_or_none(data, "amount_paid_text"),
            paid_on=text_or_none(data, "paid_on"),
            history=tuple(
                HistoryStep(label=str(step["label"]), date_text=str(step["date_text"]))
                for step in data.get("history") or []
            ),
        )


async def attach_document(caller: Caller, file_id: str, kind: DocumentKind) -> UploadedDocument | Refusal:
    """Attaches a file the channel already handed to the backend (POST /api/inbound-files) to the
    reimbursement being made. Refusals: 400 (bad body, bad kind), 401, 404 inbound_file_not_found
    (unknown, of another conversation, expired or already attached), 409 plan_cancelled |
    too_many_documents."""
    response = await backend.post(
        "/api/reimbursement-documents", {"file_id": file_id, "kind": kind}, headers=caller.headers()
    )
    if not response.ok:
        return Refusal.of(response)
    data = response.data
    return UploadedDocument(id=int(data["id"]), kind=str(data["kind"]), filename=str(data["filename"]))


async def request_reimbursement(caller: Caller, claim: ReimbursementClaim) -> ReimbursementCreated | Refusal:
    """Refusals: 400 (fields), 401, 403 not_in_family, 409 plan_cancelled, 422 documents_required |
    documents_invalid."""
    body: dict[str, Any] = {
        **caller.body(),
        "provider_name": claim.provider_name,
        "provider_document": claim.provider_document,
        "service_date": claim.service_date,
        "description": claim.description,
        "amount": claim.amount,
        "document_ids": list(claim.document_ids),
    }
    if claim.beneficiary:
        body["beneficiary"] = claim.beneficiary
    response = await backend.post("/api/reimbursements", body)
    if not response.ok:
        return Refusal.of(response)
    data = response.data
    return ReimbursementCreated(
        protocol=str(data["protocol"]), summary=str(data.get("summary") or ""), duplicate=bool(data.get("duplicate"))
    )


async def reimbursements(caller: Caller) -> tuple[Reimbursement, ...] | Refusal:
    """The verified beneficiary's requests and, for a holder, the dependents'; newest first."""
    response = await backend.get("/api/reimbursements", headers=caller.headers())
    if not response.ok:
        return Refusal.of(response)
    return tuple(Reimbursement.from_api(item) for item in response.data.get("reimbursements", []))

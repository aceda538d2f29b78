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
from bot.backend.common import Caller, Refusal, answer, from_json

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
        history = tuple(from_json(HistoryStep, step) for step in data.get("history") or [])
        return from_json(cls, data, history=history)


async def attach_document(caller: Caller, file_id: str, kind: DocumentKind) -> UploadedDocument | Refusal:
    """Attaches a file the channel already handed to the backend (POST /api/inbound-files) to the
    reimbursement being made. Refusals: 400 (bad body, bad kind), 401, 404 inbound_file_not_found
    (unknown, of another conversation, expired or already attached), 409 plan_cancelled |
    too_many_documents."""
    request = backend.post("/api/reimbursement-documents", {"file_id": file_id, "kind": kind}, headers=caller.headers())
    return await answer(request, lambda data: from_json(UploadedDocument, data))


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
    return await answer(
        backend.post("/api/reimbursements", body),
        lambda data: from_json(ReimbursementCreated, data, summary=str(data.get("summary") or "")),
    )


async def reimbursements(caller: Caller) -> tuple[Reimbursement, ...] | Refusal:
    """The verified beneficiary's requests and, for a holder, the dependents'; newest first."""
    return await answer(
        backend.get("/api/reimbursements", headers=caller.headers()),
        lambda data: tuple(Reimbursement.from_api(item) for item in data.get("reimbursements", [])),
    )

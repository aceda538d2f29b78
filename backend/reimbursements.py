"""Reimbursement requests (as in the operators' manuals, PAS/Serpro "Reembolso online"): the rules and the view of a
request shown to the beneficiary.

A request needs the provider's name and CPF/CNPJ, the date of service, the description of the
procedure, the amount paid and the documents (at least a receipt or an invoice), uploaded first in
the same conversation. It gets a protocol and an answer deadline. Submitting the same request again
(same beneficiary, provider document, date and amount) returns the first one instead of a copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.clock import iso_utc, local_date, local_today
from backend.family import NotInFamily, member, visible_members
from backend.inbound_files import claim as claim_inbound_file
from backend.inbound_files import waiting_file
from backend.models import ACTIVE, Beneficiary, Reimbursement, ReimbursementDocument, ReimbursementStatusChange
from backend.protocols import new_protocol
from backend.refusals import Refusals, Refused
from backend.uploads import remove_stored
from common.labels import date_text
from common.money import format_brl
from common.pii import mask_cpf
from common.uploads import DOCUMENT_TYPES

# The operators' manuals give no deadline for the answer; 30 days is our default (the ANS rule
# for reimbursements of RN 566/2022 is also 30 days).
ANSWER_DAYS = 30
MAX_PENDING_DOCUMENTS = 10
SERVICE_TYPE_MAX = 60

STATUS_LABELS = {
    "received": "recebido",
    "under_analysis": "em análise",
    "pending": "pendente de documentação",
    "approved": "aprovado",
    "paid": "pago",
    "denied": "negado",
}
# ReimbursementDocument.kind (stored and sent) -> what the user reads
DOCUMENT_KINDS = {
    "receipt": "recibo",
    "invoice": "nota fiscal",
    "report": "relatório médico",
    "other": "outro documento",
}
PROOF_OF_PAYMENT_KINDS = frozenset({"receipt", "invoice"})


REFUSALS = Refusals(
    {
        "not_in_family": "Só é possível pedir ou ver reembolsos seus e, se você for titular, dos seus dependentes.",
        "plan_cancelled": "O plano está cancelado, então não é possível pedir reembolso por aqui. "
        "Se o atendimento foi antes do cancelamento, ligue {central_24h} (24 horas).",
        "documents_required": "Falta o recibo ou a nota fiscal do atendimento. Envie uma foto ou um PDF do recibo "
        "ou da nota fiscal para concluir o pedido.",
        "documents_invalid": "Não encontrei alguns dos documentos enviados nesta conversa. "
        "Envie esses documentos de novo.",
        "too_many_documents": "Você já enviou {limit} documentos nesta conversa, que é o máximo por pedido. "
        "Conclua o pedido de reembolso ou remova algum documento.",
        "inbound_file_not_found": "Não encontrei esse arquivo entre os que você enviou nesta conversa (ele pode "
        "já ter sido anexado ou ter passado do prazo). Envie o arquivo de novo, por favor.",
        "document_not_found": "Não encontrei esse documento entre os enviados nesta conversa.",
        # a file the upload policy takes, but not a document (a spreadsheet): it stays for its own use
        "not_a_document": "Para o reembolso, envie uma foto (JPG ou PNG) ou um PDF do documento.",
    }
)


@dataclass(frozen=True)
class ReimbursementClaim:
    provider_name: str
    provider_document: str  # normalised CPF (11) or CNPJ (14)
    service_date: date
    description: str
    amount: Decimal
    document_ids: tuple[int, ...]


def answer_due_on(requested_on: date) -> date:
    return requested_on + timedelta(days=ANSWER_DAYS)


async def pending_documents(
    session: AsyncSession, conversation_id: str, uploader_id: int
) -> list[ReimbursementDocument]:
    """Documents uploaded in this conversation by this beneficiary and not yet attached to a request."""
    return list(
        (
            await session.execute(
                select(ReimbursementDocument)
                .where(
                    ReimbursementDocument.conversation_id == conversation_id,
                    ReimbursementDocument.beneficiary_id == uploader_id,
                    ReimbursementDocument.reimbursement_id.is_(None),
                )
                .order_by(ReimbursementDocument.id)
            )
        )
        .scalars()
        .all()
    )


async def count_pending_documents(session: AsyncSession, conversation_id: str) -> int:
    return (
        await session.execute(
            select(func.count())
            .select_from(ReimbursementDocument)
            .where(
                ReimbursementDocument.conversation_id == conversation_id,
                ReimbursementDocument.reimbursement_id.is_(None),
            )
        )
    ).scalar_one()


async def find_duplicate(session: AsyncSession, beneficiary_id: int, claim: ReimbursementClaim) -> Reimbursement | None:
    return (
        await session.execute(
            select(Reimbursement)
            .where(
                Reimbursement.beneficiary_id == beneficiary_id,
                Reimbursement.provider_document == claim.provider_document,
                Reimbursement.service_date == claim.service_date,
                Reimbursement.amount_requested == claim.amount,
            )
            .order_by(Reimbursement.id)
            .limit(1)
        )
    ).scalar_one_or_none()


async def _lock_beneficiary(session: AsyncSession, beneficiary_id: int) -> None:
    """Serialises the requests for one beneficiary until the transaction ends, so that the duplicate
    check and the insert below are one step: PostgreSQL locks the row (SELECT ... FOR UPDATE);
    SQLite transactions already start with BEGIN IMMEDIATE (backend.db), one writer at a time."""
    await session.execute(select(Beneficiary.id).where(Beneficiary.id == beneficiary_id).with_for_update())


async def submit(
    session: AsyncSession,
    *,
    verified: Beneficiary,
    beneficiary: Beneficiary,
    claim: ReimbursementClaim,
    conversation_id: str,
    channel: str,
    ans_registration: str,
) -> tuple[Reimbursement, bool]:
    """Creates the request (protocol, status 'received', documents attached) and commits; returns it
    and whether it is a repeat of an earlier one (then nothing is created). Refuses plan_cancelled,
    documents_invalid (with unknown_ids) or documents_required."""
    if beneficiary.status != ACTIVE or verified.status != ACTIVE:
        raise REFUSALS.refuse("plan_cancelled")
    await _lock_beneficiary(session, beneficiary.id)
    existing = await find_duplicate(session, beneficiary.id, claim)
    if existing is not None:
        await session.commit()  # nothing written; ends the lock (instances stay loaded)
        return existing, True

    pending = {document.id: document for document in await pending_documents(session, conversation_id, verified.id)}
    unknown = [document_id for document_id in claim.document_ids if document_id not in pending]
    if unknown:
        raise REFUSALS.refuse("documents_invalid", unknown_ids=unknown)
    attached = [pending[document_id] for document_id in claim.document_ids]
    if not any(document.kind in PROOF_OF_PAYMENT_KINDS for document in attached):
        raise REFUSALS.refuse("documents_required")

    today = local_today()
    protocol = await new_protocol(
        session,
        "reimbursement",
        ans_registration=ans_registration,
        channel=channel,
        beneficiary_id=beneficiary.id,
        conversation_id=conversation_id,
        day=today,
        details={"requested_by": verified.card_number} if verified.id != beneficiary.id else {},
    )
    reimbursement = Reimbursement(
        beneficiary_id=beneficiary.id,
        protocol_number=protocol.number,
        service_type=_service_type(claim.description),
        provider_name=claim.provider_name,
        provider_document=claim.provider_document,
        service_date=claim.service_date,
        amount_requested=claim.amount,
        status="received",
        requested_by_id=verified.id,
        description=claim.description,
        answer_due_on=answer_due_on(today),
    )
    session.add(reimbursement)
    await session.flush()
    session.add(
        ReimbursementStatusChange(
            reimbursement_id=reimbursement.id, status="received", changed_at=reimbursement.requested_at
        )
    )
    for document in attached:
        document.reimbursement_id = reimbursement.id
    await session.commit()
    return await _reload(session, reimbursement.id), False


async def _reload(session: AsyncSession, reimbursement_id: int) -> Reimbursement:
    """The request with its history loaded (an async session cannot load it lazily)."""
    return (
        await session.execute(
            select(Reimbursement).where(Reimbursement.id == reimbursement_id).execution_options(populate_existing=True)
        )
    ).scalar_one()


def _service_type(description: str) -> str:
    text = " ".join(description.split())
    return text if len(text) <= SERVICE_TYPE_MAX else text[: SERVICE_TYPE_MAX - 1].rstrip() + "…"


async def visible_requests(session: AsyncSession, members: list[Beneficiary]) -> list[Reimbursement]:
    """The requests of these beneficiaries, newest first."""
    statement = select(Reimbursement).where(Reimbursement.beneficiary_id.in_([person.id for person in members]))
    return list(
        (await session.execute(statement.order_by(Reimbursement.requested_at.desc(), Reimbursement.id.desc())))
        .scalars()
        .all()
    )


async def documents_of(session: AsyncSession, reimbursement_ids: list[int]) -> dict[int, list[ReimbursementDocument]]:
    if not reimbursement_ids:
        return {}
    rows = (
        (
            await session.execute(
                select(ReimbursementDocument)
                .where(ReimbursementDocument.reimbursement_id.in_(reimbursement_ids))
                .order_by(ReimbursementDocument.id)
            )
        )
        .scalars()
        .all()
    )
    found: dict[int, list[ReimbursementDocument]] = {}
    for row in rows:
        found.setdefault(row.reimbursement_id, []).append(row)
    return found


def show_provider_document(document: str | None) -> str | None:
    """A provider's CPF is a person's: masked. A CNPJ is public: formatted."""
    if not document:
        return None
    if len(document) == 11:
        return mask_cpf(document)
    return f"{document[:2]}.{document[2:5]}.{document[5:8]}/{document[8:12]}-{document[12:]}"


def document_view(document: ReimbursementDocument) -> dict:
    return {
        "id": document.id,
        "kind": document.kind,
        "kind_label": DOCUMENT_KINDS.get(document.kind, document.kind),
        "filename": document.filename,
        "size": document.size,
        "content_type": document.content_type,
    }


def view(reimbursement: Reimbursement, beneficiary: Beneficiary, documents: list[ReimbursementDocument]) -> dict:
    """What the assistant shows about one request."""
    history = [
        {
            "status": change.status,
            "label": STATUS_LABELS.get(change.status, change.status),
            "date": local_date(change.changed_at).isoformat(),
            "date_text": date_text(local_date(change.changed_at)),
            "note": change.note,
        }
        for change in reimbursement.history
    ]
    last_note = next((item["note"] for item in reversed(history) if item["status"] == reimbursement.status), None)
    paid_on = next((item["date"] for item in reversed(history) if item["status"] == "paid"), None)
    amount_paid = reimbursement.amount_paid
    return {
        "protocol": reimbursement.protocol_number,
        "beneficiary": {"name": beneficiary.name, "card_number": beneficiary.card_number},
        "provider_name": reimbursement.provider_name,
        "provider_document": show_provider_document(reimbursement.provider_document),
        "procedure": reimbursement.description or reimbursement.service_type,
        "service_date": reimbursement.service_date.isoformat(),
        "service_date_text": date_text(reimbursement.service_date),
        "amount_requested": str(reimbursement.amount_requested),
        "amount_requested_text": format_brl(reimbursement.amount_requested),
        "amount_paid": str(amount_paid) if amount_paid is not None else None,
        "amount_paid_text": format_brl(amount_paid) if amount_paid is not None else None,
        "status": reimbursement.status,
        "status_label": STATUS_LABELS.get(reimbursement.status, reimbursement.status),
        "status_note": last_note,  # what is missing (pending) or the reason (denied)
        "paid_on": paid_on,
        "requested_at": iso_utc(reimbursement.requested_at),
        "requested_on_text": date_text(local_date(reimbursement.requested_at)),
        "answer_due_on": reimbursement.answer_due_on.isoformat() if reimbursement.answer_due_on else None,
        "history": history,
        "documents": [document_view(document) for document in documents],
    }


def summary_text(item: dict) -> str:
    """Short WhatsApp-friendly confirmation of a submitted request."""
    due = item["answer_due_on"]
    lines = [
        f"Protocolo: {item['protocol']}",
        f"Paciente: {item['beneficiary']['name']}",
        f"Prestador: {item['provider_name']} ({item['provider_document']})",
        f"Atendimento: {item['procedure']}, em {item['service_date_text']}",
        f"Valor pago: {item['amount_requested_text']}",
        f"Documentos: {len(item['documents'])}",
    ]
    if due:
        lines.append(f"Resposta até: {date_text(date.fromisoformat(due))}")
    return "\n".join(lines)


async def _member(session: AsyncSession, verified: Beneficiary, card_number: str | None) -> Beneficiary:
    try:
        return await member(session, verified, card_number)
    except NotInFamily:
        raise REFUSALS.refuse("not_in_family") from None


async def request_reimbursement(
    session: AsyncSession,
    verified: Beneficiary,
    card_number: str | None,
    claim: ReimbursementClaim,
    *,
    conversation_id: str,
    channel: str,
    ans_registration: str,
) -> tuple[dict, bool]:
    """The request for `card_number` (None: the verified beneficiary), as the assistant shows it
    (view), and whether it repeats an earlier one; refuses not_in_family and like submit."""
    beneficiary = await _member(session, verified, card_number)
    reimbursement, duplicate = await submit(
        session,
        verified=verified,
        beneficiary=beneficiary,
        claim=claim,
        conversation_id=conversation_id,
        channel=channel,
        ans_registration=ans_registration,
    )
    documents = (await documents_of(session, [reimbursement.id])).get(reimbursement.id, [])
    return view(reimbursement, beneficiary, documents), duplicate


async def reimbursements_of(session: AsyncSession, verified: Beneficiary, card_number: str | None) -> list[dict]:
    """The requests the verified beneficiary sees (theirs and, for a holder, the dependents'), or
    only those of `card_number`; newest first (view). Refuses not_in_family."""
    if card_number is None:
        members = await visible_members(session, verified)
    else:
        members = [await _member(session, verified, card_number)]
    by_id = {person.id: person for person in members}
    requests = await visible_requests(session, members)
    documents = await documents_of(session, [item.id for item in requests])
    return [view(item, by_id[item.beneficiary_id], documents.get(item.id, [])) for item in requests]


# --- documents: the files a request will carry ----------------------------------------------------


def _too_many_documents() -> Refused:
    return REFUSALS.refuse("too_many_documents", limit=MAX_PENDING_DOCUMENTS)


async def check_may_attach(session: AsyncSession, uploader: Beneficiary, conversation_id: str) -> None:
    """What refuses an attachment whatever the file (asked before reading it): plan_cancelled,
    too_many_documents (MAX_PENDING_DOCUMENTS pending in this conversation)."""
    if uploader.status != ACTIVE:
        raise REFUSALS.refuse("plan_cancelled")
    if await count_pending_documents(session, conversation_id) >= MAX_PENDING_DOCUMENTS:
        raise _too_many_documents()


async def attach_inbound_file(
    session: AsyncSession, uploader: Beneficiary, *, channel: str, conversation_id: str, file_id: str, kind: str
) -> dict:
    """Makes the inbound file `file_id` (backend.inbound_files.claim: of this conversation,
    unexpired, not attached before) a pending document of `kind` and commits; its view
    (document_view) with `pending_count`. Refuses too_many_documents, inbound_file_not_found, and
    not_a_document for a file that is no photo or PDF (common.uploads.DOCUMENT_TYPES: a spreadsheet),
    which is then left unclaimed."""
    # Lock like a request submission does, so two parallel attachments cannot pass the limit.
    await _lock_beneficiary(session, uploader.id)
    pending = await count_pending_documents(session, conversation_id)
    if pending >= MAX_PENDING_DOCUMENTS:
        raise _too_many_documents()
    waiting = await waiting_file(session, file_id, channel, conversation_id)
    if waiting is not None and waiting.content_type not in DOCUMENT_TYPES:
        raise REFUSALS.refuse("not_a_document")
    inbound = await claim_inbound_file(session, file_id, channel, conversation_id)
    if inbound is None:
        raise REFUSALS.refuse("inbound_file_not_found")
    document = ReimbursementDocument(
        beneficiary_id=uploader.id,
        conversation_id=conversation_id,
        kind=kind,
        filename=inbound.filename,
        content_type=inbound.content_type,
        size=inbound.size,
        sha256=inbound.sha256,
        storage_path=inbound.storage_path,  # the inbound file's bytes are the document's now
    )
    session.add(document)
    await session.commit()
    return {**document_view(document), "pending_count": pending + 1}


async def pending_document_views(session: AsyncSession, uploader: Beneficiary, conversation_id: str) -> list[dict]:
    """The documents this beneficiary sent in this conversation and no request took yet (document_view)."""
    return [document_view(document) for document in await pending_documents(session, conversation_id, uploader.id)]


async def remove_pending_document(
    session: AsyncSession, uploader: Beneficiary, conversation_id: str, document_id: str
) -> None:
    """Drops one of pending_documents with its bytes (backend.uploads) and commits; refuses
    document_not_found (unknown, of another conversation or beneficiary, or already part of a request)."""
    documents = await pending_documents(session, conversation_id, uploader.id)
    document = next((item for item in documents if str(item.id) == document_id), None)
    if document is None:
        raise REFUSALS.refuse("document_not_found")
    await session.delete(document)
    await remove_stored(session, document.storage_path)
    await session.commit()

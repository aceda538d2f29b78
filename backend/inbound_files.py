"""Inbound files: what users send through the channels, kept by the backend until an action uses it.

A channel (WhatsApp, Telegram, the site's widget) hands every file it receives to
POST /api/inbound-files (`receive`) and passes the assistant only the opaque id it gets back; the channel and
the action server never share a disk. The file is bound to the conversation it came from —
(channel, sender id), as an identity verification is (backend.identity.redeem_verification): the
same sender id on another channel is somebody else.

An action uses it by id — a document attached to a reimbursement (POST /api/reimbursement-documents
{"file_id"}), a spreadsheet of a company's movements (POST /api/company/movements/batches
{"file_id"}): the use first looks at the file (`waiting_file`: is it of the family it takes,
common.uploads.DOCUMENT_TYPES or SPREADSHEET_TYPES? if not, it refuses and the file stays), then
`claim` deletes the row in the caller's transaction and hands over its bytes, so a file serves
once. The bytes are in the database (backend.uploads), so the backend that attaches, lists or
deletes a file need not be the one that received it. A file never used expires after
INBOUND_FILE_TTL: refused at once, deleted with its bytes by backend.retention.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import sessionmaker

from backend.clock import utcnow
from backend.models import InboundFile
from backend.refusals import Refusals
from backend.uploads import StoredFile, check_declared_length, store_stream
from common.uploads import safe_filename

INBOUND_FILE_TTL = timedelta(hours=24)
MAX_WAITING_FILES = 20  # per conversation: files received and not attached yet (unexpired)
MAX_CONVERSATION_ID_LENGTH = 128

# The upload policy's own refusals (file_too_large, unsupported_type, empty_file) are backend.uploads's.
REFUSALS = Refusals(
    {
        "too_many_files": "Você enviou muitos arquivos nesta conversa. "
        "Use os que já mandou ou espere um pouco para enviar outros.",
    }
)


def new_id() -> str:
    return secrets.token_urlsafe(18)  # 144 random bits, 24 characters


def expired_before(now: datetime | None = None) -> datetime:
    """Files created before this instant have expired."""
    return (now or utcnow()) - INBOUND_FILE_TTL


async def waiting_count(session: AsyncSession, channel: str, conversation_id: str) -> int:
    return (
        await session.execute(
            select(func.count())
            .select_from(InboundFile)
            .where(
                InboundFile.channel == channel,
                InboundFile.conversation_id == conversation_id,
                InboundFile.created_at >= expired_before(),
            )
        )
    ).scalar_one()


def record(stored: StoredFile, channel: str, conversation_id: str, filename: str | None) -> InboundFile:
    """The row of a file just stored (add it to a session)."""
    return InboundFile(
        id=new_id(),
        channel=channel,
        conversation_id=conversation_id,
        filename=safe_filename(filename, stored.extension),
        content_type=stored.content_type,
        size=stored.size,
        sha256=stored.sha256,
        storage_path=stored.key,
        created_at=utcnow(),
    )


async def receive(
    sessions: sessionmaker,
    chunks: AsyncIterator[bytes],
    *,
    channel: str,
    conversation_id: str,
    filename: str | None,
    declared_length: int | None,
) -> dict:
    """Keeps a file a user sent in this conversation (channel + sender id): stored under the upload
    policy (backend.uploads.store_stream) and recorded; its view, with the id the channel passes on.
    Refuses what the declared length already tells (file_too_large, empty_file), too_many_files
    (MAX_WAITING_FILES unexpired and not attached), then the policy's refusals while streaming.
    The database is not held while the bytes arrive; the file and its row are written together."""
    check_declared_length(declared_length)
    async with sessions() as session:
        if await waiting_count(session, channel, conversation_id) >= MAX_WAITING_FILES:
            raise REFUSALS.refuse("too_many_files", limit=MAX_WAITING_FILES)
    async with sessions() as session:
        stored = await store_stream(session, chunks)  # reads every byte before the first statement
        row = record(stored, channel, conversation_id, filename)
        session.add(row)
        await session.commit()
    return view(row)


async def waiting_file(session: AsyncSession, file_id: str, channel: str, conversation_id: str) -> InboundFile | None:
    """The conversation's unexpired file `file_id`, left where it is (to see its type before
    claiming it); None when the id is unknown, of another conversation or channel, or expired — one
    answer for all, so that an id of someone else's says nothing."""
    row = await session.get(InboundFile, file_id)
    if row is None or (row.channel, row.conversation_id) != (channel, conversation_id):
        return None
    if row.created_at < expired_before():
        return None
    return row


async def claim(session: AsyncSession, file_id: str, channel: str, conversation_id: str) -> InboundFile | None:
    """The conversation's unexpired file `file_id` (waiting_file), taken out of the table in the
    caller's transaction (its bytes now belong to whatever the caller creates); None when there is
    none, or it was already claimed."""
    row = await waiting_file(session, file_id, channel, conversation_id)
    if row is None:
        return None
    # the DELETE decides between two simultaneous claims: only one removes the row
    taken = await session.execute(delete(InboundFile).where(InboundFile.id == file_id))
    return row if taken.rowcount == 1 else None


def view(row: InboundFile) -> dict:
    return {"id": row.id, "filename": row.filename, "content_type": row.content_type, "size": row.size}

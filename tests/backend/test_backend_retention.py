"""`python -m backend.retention --days N`: for each kind it deletes (tracker conversations, received
files, closed handoffs, identity attempts, verifications, account links) an old and a new item are
made; after the command every old one is gone and every new one is still there. SQLite always,
PostgreSQL when TEST_DATABASE_URL is set (the `settings` fixture)."""

from __future__ import annotations

import hashlib
import os
import secrets
import sqlite3
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from backend.clock import utcnow
from backend.models import (
    AccountLink,
    Beneficiary,
    CompanySession,
    CompanyUser,
    FileBlob,
    HandoffMessage,
    HandoffTicket,
    IdentityAttempt,
    IdentityVerification,
    Protocol,
    Reimbursement,
    ReimbursementDocument,
)

pytestmark = pytest.mark.asyncio

ROOT = Path(__file__).resolve().parents[2]
DAYS = 180
OLD = timedelta(days=DAYS + 20)
NEW = timedelta(days=DAYS - 20)
PDF = b"%PDF-1.4\n% test\n"


def _env(settings) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in ("RASA_TRACKER_URL", "RETENTION_DAYS")}
    env.update(VAR_DIR=str(settings.var_dir), DATABASE_URL=settings.database_url, PYTHONWARNINGS="ignore")
    return env


def _retention(settings, *args: str) -> dict[str, int]:
    done = subprocess.run(
        [sys.executable, "-m", "backend.retention", *args],
        cwd=ROOT,
        env=_env(settings),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return {
        key: int(value)
        for key, value in (
            line.split("=", 1) for line in done.stdout.splitlines() if "=" in line and not line.startswith("#")
        )
    }


async def _conversations(settings, now: float) -> object:
    """Three conversations in Rasa's tracker store: old, new, and old but used recently."""
    from rasa.core.tracker_store import TrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.utils.endpoints import EndpointConfig

    from scripts.stack import tracker_store_config

    store = TrackerStore.create(
        EndpointConfig.from_dict(tracker_store_config(settings.var_dir, _env(settings))), Domain.empty()
    )
    days = 24 * 3600
    for sender, stamps in {
        "velha": [now - 220 * days, now - 200 * days],
        "nova": [now - 10 * days, now - 9 * days],
        "retomada": [now - 300 * days, now - 1 * days],
    }.items():
        events = [ActionExecuted("action_listen", timestamp=stamps[0]), UserUttered("oi", timestamp=stamps[-1])]
        await store.save(DialogueStateTracker.from_events(sender, events))
    return store


def _tracker_senders(settings, store) -> set[str]:
    with store.engine.connect() as connection:
        return {row[0] for row in connection.exec_driver_sql("SELECT DISTINCT sender_id FROM events")}


def _upload(session, age: timedelta) -> str:
    """Bytes stored `age` ago (backend.uploads); their key."""
    key = secrets.token_hex(16)
    session.add(
        FileBlob(
            id=key,
            sha256=hashlib.sha256(PDF).hexdigest(),
            size=len(PDF),
            content_type="application/pdf",
            created_at=utcnow() - age,
            content=PDF,
        )
    )
    return key


async def _protocol(session, kind: str) -> str:
    number = f"{secrets.randbelow(10**20):020d}"
    session.add(Protocol(number=number, kind=kind, status="completed", channel="rest"))
    await session.flush()
    return number


async def test_old_rows_and_files_go_and_new_ones_stay(settings, session):
    now = utcnow()
    store = await _conversations(settings, time.time())
    maria = (await session.execute(select(Beneficiary).where(Beneficiary.card_number == "100200300401"))).scalar_one()
    reimbursements = {
        r.status: r
        for r in (
            await session.execute(select(Reimbursement).where(Reimbursement.beneficiary_id == maria.id))
        ).scalars()
    }
    assert {"paid", "under_analysis"} <= set(reimbursements)  # the seed's two

    def document(age: timedelta, reimbursement: Reimbursement | None = None) -> ReimbursementDocument:
        return ReimbursementDocument(
            beneficiary_id=maria.id,
            conversation_id="conversa",
            kind="receipt",
            reimbursement_id=reimbursement.id if reimbursement else None,
            filename="recibo.pdf",
            content_type="application/pdf",
            size=len(PDF),
            sha256=hashlib.sha256(PDF).hexdigest(),
            storage_path=_upload(session, age),
            uploaded_at=now - age,
        )

    docs = {
        "old_loose": document(OLD),
        "old_paid": document(OLD, reimbursements["paid"]),
        "new": document(NEW),
        "old_undecided": document(OLD, reimbursements["under_analysis"]),
    }
    session.add_all(docs.values())
    orphan_old, orphan_new = _upload(session, OLD), _upload(session, NEW)  # bytes no row points to

    tickets = {}
    for name, status, closed_at in (
        ("closed_old", "closed", now - OLD),
        ("closed_new", "closed", now - NEW),
        ("open_old", "in_progress", None),
    ):
        ticket = HandoffTicket(
            protocol_number=await _protocol(session, "handoff"),
            channel="rest",
            conversation_id=f"conversa-{name}",
            reason="quero um atendente",
            status=status,
            created_at=now - OLD - timedelta(days=1),
            closed_at=closed_at,
        )
        session.add(ticket)
        await session.flush()
        session.add_all(
            [
                HandoffMessage(ticket_id=ticket.id, sender="user", text="oi", created_at=now - OLD),
                HandoffMessage(ticket_id=ticket.id, sender="agent", text="olá", created_at=now - OLD),
            ]
        )
        tickets[name] = ticket.id

    for age, name in ((OLD, "old"), (NEW, "new")):
        session.add(
            IdentityAttempt(
                key=hashlib.sha256(name.encode()).hexdigest(),
                succeeded=False,
                created_at=now - age,
                conversation_id=f"conversa-{name}",
            )
        )
        session.add(
            IdentityVerification(
                token_hash=hashlib.sha256(f"v-{name}".encode()).hexdigest(),
                beneficiary_id=maria.id,
                conversation_id=f"conversa-{name}",
                created_at=now - age,
                expires_at=now - age + timedelta(minutes=15),
            )
        )
        session.add(
            AccountLink(
                token_hash=hashlib.sha256(f"l-{name}".encode()).hexdigest(),
                purpose="activation",
                beneficiary_id=maria.id,
                created_at=now - age,
                expires_at=now - age + timedelta(hours=24),
            )
        )
    session.add(
        AccountLink(
            token_hash=hashlib.sha256(b"used-old").hexdigest(),
            purpose="password_change",
            beneficiary_id=maria.id,
            created_at=now - OLD,
            used_at=now - OLD,
            expires_at=now + timedelta(days=1),
        )
    )  # used long ago: dead even if not expired
    fernanda = (await session.execute(select(CompanyUser).where(CompanyUser.user_code == "RH500101"))).scalar_one()
    for age, token in ((OLD, b"company-old"), (timedelta(0), b"company-new")):
        session.add(
            CompanySession(
                token_hash=hashlib.sha256(token).hexdigest(),
                company_user_id=fernanda.id,
                created_at=now - age - timedelta(hours=12),
                expires_at=now - age + timedelta(hours=1),
            )
        )  # a company login that expired long ago goes; the live one stays
    await session.commit()

    dry = _retention(settings, "--days", str(DAYS), "--dry-run")
    assert dry["tracker_conversations"] == 1 and dry["uploaded_files"] == 2
    assert _tracker_senders(settings, store) == {"velha", "nova", "retomada"}  # a dry run deletes nothing

    deleted = _retention(settings, "--days", str(DAYS))
    assert deleted == {
        "tracker_conversations": 1,
        "tracker_events": 2,
        "uploaded_files": 2,
        "orphan_files": 1,
        "handoff_tickets": 1,
        "handoff_messages": 2,
        "identity_attempts": 1,
        "identity_verifications": 1,
        "account_links": 2,
        "analytics_events": 0,  # tests/backend/test_analytics.py
        "analytics_turns": 0,
        "company_credentials": 1,
    }

    assert _tracker_senders(settings, store) == {"nova", "retomada"}  # by the conversation's last event
    kept_docs = set((await session.execute(select(ReimbursementDocument.id))).scalars())
    assert kept_docs >= {docs["new"].id, docs["old_undecided"].id}
    assert not kept_docs & {docs["old_loose"].id, docs["old_paid"].id}
    kept_blobs = set((await session.execute(select(FileBlob.id))).scalars())
    for name, doc in docs.items():
        assert (doc.storage_path in kept_blobs) == (name in ("new", "old_undecided")), name
    assert orphan_old not in kept_blobs and orphan_new in kept_blobs
    kept_tickets = set((await session.execute(select(HandoffTicket.id))).scalars())
    assert tickets["closed_old"] not in kept_tickets
    assert {tickets["closed_new"], tickets["open_old"]} <= kept_tickets
    assert (
        await session.execute(
            select(func.count()).select_from(HandoffMessage).where(HandoffMessage.ticket_id == tickets["closed_old"])
        )
    ).scalar_one() == 0
    assert set((await session.execute(select(IdentityAttempt.conversation_id))).scalars()) >= {"conversa-new"}
    assert "conversa-old" not in set((await session.execute(select(IdentityAttempt.conversation_id))).scalars())
    assert set((await session.execute(select(IdentityVerification.conversation_id))).scalars()) == {"conversa-new"}
    links = set((await session.execute(select(AccountLink.token_hash))).scalars())
    assert hashlib.sha256(b"l-new").hexdigest() in links
    assert not links & {hashlib.sha256(b"l-old").hexdigest(), hashlib.sha256(b"used-old").hexdigest()}
    # nothing else: the plan's records stay
    assert (await session.get(Reimbursement, reimbursements["paid"].id)) is not None
    assert (await session.get(Beneficiary, maria.id)) is not None

    await session.rollback()  # (SQLite: the test's reads hold the write lock, backend.db's BEGIN IMMEDIATE)
    again = _retention(settings, "--days", str(DAYS))  # idempotent
    assert set(again.values()) == {0}
    store.engine.dispose()


async def test_days_default_to_retention_days_and_must_be_positive(settings):
    env = _env(settings)
    done = subprocess.run(
        [sys.executable, "-m", "backend.retention", "--days", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0 and "--days" in done.stderr
    done = subprocess.run(
        [sys.executable, "-m", "backend.retention", "--dry-run"],
        cwd=ROOT,
        env={**env, "RETENTION_DAYS": "30"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "older than 30 days" in done.stdout
    if settings.is_sqlite:  # no conversation yet: the tracker database is not created by looking
        assert not (settings.var_dir / "rasa_tracker.db").exists()
        assert sqlite3.connect(settings.var_dir / "backend.db").execute("SELECT 1").fetchone() == (1,)

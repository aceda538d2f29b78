"""`python -m backend.retention [--days N] [--dry-run]`: deletes the personal data kept longer than
needed (LGPD: health data is sensitive; keep it only while it serves its purpose).

What goes, older than N days (default RETENTION_DAYS, else 180):
- conversations of the Rasa tracker store (every event of a conversation whose last event is
  older), in the database scripts/stack.py's tracker_store_config() points Rasa at: RASA_TRACKER_URL,
  a PostgreSQL DATABASE_URL, or <VAR_DIR>/rasa_tracker.db;
- received files (reimbursement receipts: the row and its bytes, backend.uploads), except those
  of a reimbursement still undecided (received, under analysis, pending); stored bytes that no row
  points to any more (counted as orphan_files);
- and, whatever N: files the channels handed over (backend.inbound_files) and no action
  attached within INBOUND_FILE_TTL (24 h), the row and its bytes (counted as uploaded_files);
- handoff tickets closed before then, with their messages;
- identity attempts made before then, identity verifications and account links (activation,
  password change, e-mail confirmation) expired or used before then;
- conversation analytics (backend.analytics): events and turns that happened before then.
Nothing else: beneficiaries, accounts, protocols, reimbursements, fees and card requests are
records of the plan, kept by their own rules.

Idempotent (a second run deletes nothing), safe while the services run (short transactions; a
file's bytes go in the same transaction as its row), and
prints what it deleted as `name=count` lines. For cron or a systemd timer: see docs/deploy.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy import delete, func, inspect, or_, select
from sqlalchemy.engine import URL

from backend.clock import utcnow
from backend.db import create_engine, session_factory
from backend.inbound_files import INBOUND_FILE_TTL
from backend.models import (
    AccountLink,
    AnalyticsEvent,
    AnalyticsTurn,
    CompanyLink,
    CompanyLoginCode,
    CompanySession,
    CompanyVerification,
    HandoffMessage,
    HandoffTicket,
    IdentityAttempt,
    IdentityVerification,
    InboundFile,
    Reimbursement,
    ReimbursementDocument,
)
from backend.settings import Settings
from backend.uploads import remove_unowned

DEFAULT_DAYS = 180
UNDECIDED_REIMBURSEMENT = ("received", "under_analysis", "pending")
CLOSED_TICKET = "closed"
_CHUNK = 500  # ids per IN (...) list: SQLite's parameter limit
_T = TypeVar("_T")

_events = sa.Table(  # the columns of Rasa's SQLTrackerStore `events` table this module uses
    "events",
    sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sender_id", sa.String(255)),
    sa.Column("timestamp", sa.Float),
)


@dataclass
class Deleted:
    tracker_conversations: int = 0
    tracker_events: int = 0
    uploaded_files: int = 0
    orphan_files: int = 0
    handoff_tickets: int = 0
    handoff_messages: int = 0
    identity_attempts: int = 0
    identity_verifications: int = 0
    account_links: int = 0
    analytics_events: int = 0
    analytics_turns: int = 0
    company_credentials: int = 0  # login sessions, one-time codes, chat verifications, links
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        return [f"{name}={value}" for name, value in vars(self).items() if name != "notes"] + self.notes


def tracker_database_url(var_dir: Path, env: Mapping[str, str]) -> str:
    """The URL of Rasa's tracker database, from the same settings Rasa's endpoints are made from."""
    from scripts.stack import tracker_store_config

    config = tracker_store_config(var_dir, dict(env))
    if config["dialect"] == "sqlite":
        return f"sqlite:///{config['db']}"
    return URL.create(
        config["dialect"],
        username=config.get("username"),
        password=config.get("password"),
        host=config.get("url"),
        port=config.get("port"),
        database=config.get("db"),
    ).render_as_string(hide_password=False)


def _chunks(items: Sequence[_T]) -> Iterable[Sequence[_T]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


async def _purge_backend(
    settings: Settings, cutoff: datetime, inbound_cutoff: datetime, deleted: Deleted, dry_run: bool
) -> None:
    """Deletes the rows, and the stored bytes of the files among them, in one transaction."""
    engine = create_engine(settings)
    try:
        async with session_factory(engine)() as session:
            documents = (
                await session.execute(
                    select(ReimbursementDocument.id, ReimbursementDocument.storage_path)
                    .outerjoin(Reimbursement, Reimbursement.id == ReimbursementDocument.reimbursement_id)
                    .where(
                        ReimbursementDocument.uploaded_at < cutoff,
                        or_(
                            ReimbursementDocument.reimbursement_id.is_(None),
                            Reimbursement.status.not_in(UNDECIDED_REIMBURSEMENT),
                        ),
                    )
                )
            ).all()
            for ids in _chunks([row.id for row in documents]):
                await session.execute(delete(ReimbursementDocument).where(ReimbursementDocument.id.in_(ids)))
            # inbound files no action attached in time (an attached one has no row any more)
            inbound = (
                await session.execute(
                    select(InboundFile.id, InboundFile.storage_path).where(InboundFile.created_at < inbound_cutoff)
                )
            ).all()
            inbound_ids = [row.id for row in inbound]
            for start in range(0, len(inbound_ids), _CHUNK):
                chunk = inbound_ids[start : start + _CHUNK]
                await session.execute(delete(InboundFile).where(InboundFile.id.in_(chunk)))
            deleted.uploaded_files = len(documents) + len(inbound)
            for keys in _chunks([row.storage_path for row in [*documents, *inbound]]):
                await remove_unowned(session, keys=keys)
            deleted.orphan_files = await remove_unowned(session, created_before=cutoff)

            tickets = (
                (
                    await session.execute(
                        select(HandoffTicket.id).where(
                            HandoffTicket.status == CLOSED_TICKET, HandoffTicket.closed_at < cutoff
                        )
                    )
                )
                .scalars()
                .all()
            )
            for ids in _chunks(tickets):
                result = await session.execute(delete(HandoffMessage).where(HandoffMessage.ticket_id.in_(ids)))
                deleted.handoff_messages += result.rowcount
                await session.execute(delete(HandoffTicket).where(HandoffTicket.id.in_(ids)))
            deleted.handoff_tickets = len(tickets)

            deleted.identity_attempts = (
                await session.execute(delete(IdentityAttempt).where(IdentityAttempt.created_at < cutoff))
            ).rowcount
            deleted.identity_verifications = (
                await session.execute(delete(IdentityVerification).where(IdentityVerification.expires_at < cutoff))
            ).rowcount
            deleted.account_links = (
                await session.execute(
                    delete(AccountLink).where(or_(AccountLink.expires_at < cutoff, AccountLink.used_at < cutoff))
                )
            ).rowcount
            deleted.analytics_events = (
                await session.execute(delete(AnalyticsEvent).where(AnalyticsEvent.at < cutoff))
            ).rowcount
            deleted.analytics_turns = (
                await session.execute(delete(AnalyticsTurn).where(AnalyticsTurn.at < cutoff))
            ).rowcount
            for model in (CompanySession, CompanyLoginCode, CompanyVerification, CompanyLink):
                deleted.company_credentials += (
                    await session.execute(delete(model).where(model.expires_at < cutoff))
                ).rowcount
            await (session.rollback() if dry_run else session.commit())
    finally:
        await engine.dispose()


async def _purge_tracker(url: str, var_dir: Path, cutoff: datetime, deleted: Deleted, dry_run: bool) -> None:
    settings = Settings(database_url=url, var_dir=var_dir)
    # a maintenance command run on its own (cron), not on the server's event loop: one stat() is fine
    if settings.is_sqlite and not Path(sa.engine.make_url(url).database or "").exists():  # noqa: ASYNC240
        deleted.notes.append("# no tracker database yet")
        return
    engine = create_engine(settings)
    cutoff_epoch = cutoff.replace(tzinfo=timezone.utc).timestamp()  # cutoff is naive UTC
    try:
        async with engine.connect() as connection:
            if not await connection.run_sync(lambda sync: inspect(sync).has_table("events")):
                deleted.notes.append("# no tracker events table yet")
                return
        async with engine.connect() as connection:
            old = (
                select(_events.c.sender_id)
                .group_by(_events.c.sender_id)
                .having(func.max(_events.c.timestamp) < cutoff_epoch)
            )
            deleted.tracker_conversations = (
                await connection.execute(select(func.count()).select_from(old.subquery()))
            ).scalar_one()
            deleted.tracker_events = (
                await connection.execute(delete(_events).where(_events.c.sender_id.in_(old.scalar_subquery())))
            ).rowcount
            await (connection.rollback() if dry_run else connection.commit())
    finally:
        await engine.dispose()


async def purge(
    settings: Settings,
    days: int,
    *,
    env: Mapping[str, str] | None = None,
    now: datetime | None = None,
    dry_run: bool = False,
) -> Deleted:
    """Deletes what is older than `days` (see the module's docstring); returns the counts."""
    if days < 1:
        raise ValueError("days must be at least 1")
    env = os.environ if env is None else env
    cutoff = (now or utcnow()) - timedelta(days=days)
    inbound_cutoff = (now or utcnow()) - INBOUND_FILE_TTL
    deleted = Deleted()
    await _purge_tracker(tracker_database_url(settings.var_dir, env), settings.var_dir, cutoff, deleted, dry_run)
    await _purge_backend(settings, cutoff, inbound_cutoff, deleted, dry_run)
    return deleted


def main(argv: list[str] | None = None) -> int:
    env_days = os.environ.get("RETENTION_DAYS")
    parser = argparse.ArgumentParser(
        prog="python -m backend.retention",
        description="Deletes conversations, received files, closed handoffs, identity checks and conversation "
        "analytics older than N days.",
    )
    parser.add_argument(
        "--days",
        type=int,
        default=int(env_days) if env_days else DEFAULT_DAYS,
        help=f"age in days (default RETENTION_DAYS, else {DEFAULT_DAYS})",
    )
    parser.add_argument("--dry-run", action="store_true", help="count what would go, delete nothing")
    args = parser.parse_args(argv)
    if args.days < 1:
        parser.error("--days must be at least 1")
    deleted = asyncio.run(purge(Settings.from_env(), args.days, dry_run=args.dry_run))
    dry_run_note = " (dry run: nothing deleted)" if args.dry_run else ""
    print(f"# retention: older than {args.days} days{dry_run_note}")  # noqa: T201 (the command's report)
    for line in deleted.lines():
        print(line)  # noqa: T201
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())

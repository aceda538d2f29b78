"""Async engine and session factory."""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.orm import sessionmaker

from backend.settings import Settings

SQLITE_BUSY_TIMEOUT_S = 30


def create_engine(settings: Settings) -> AsyncEngine:
    if not settings.is_sqlite:
        return create_async_engine(
            settings.async_database_url,
            future=True,
            pool_pre_ping=True,
            pool_size=settings.sql_pool_size,
            max_overflow=settings.sql_max_overflow,
            pool_timeout=settings.sql_pool_timeout_s,
            pool_recycle=settings.sql_pool_recycle_s,
        )
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(
        settings.async_database_url, future=True, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S}
    )
    _serialize_sqlite_writers(engine)
    return engine


def _serialize_sqlite_writers(engine: AsyncEngine) -> None:
    """SQLite: take the write lock when a transaction starts (BEGIN IMMEDIATE).

    Otherwise two transactions that read then write can deadlock and one fails at once with
    'database is locked' instead of waiting for the busy timeout.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # let SQLAlchemy emit BEGIN itself
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def session_factory(engine: AsyncEngine) -> sessionmaker:
    return sessionmaker(engine, class_=AsyncSession, expire_on_commit=False, future=True)

"""The backend's PostgreSQL connection pool is sized from the environment (docs/deploy.md)."""

from __future__ import annotations

import pytest

from backend.db import create_engine
from backend.settings import Settings, SettingsError

PG = "postgresql://rasa@db.interna:5432/plano"


async def test_the_pool_takes_its_sizes_from_the_environment(tmp_path):
    settings = Settings.from_env(
        {
            "DATABASE_URL": PG,
            "VAR_DIR": str(tmp_path),
            "SQL_POOL_SIZE": "25",
            "SQL_MAX_OVERFLOW": "5",
            "SQL_POOL_TIMEOUT_S": "2.5",
        }
    )
    engine = create_engine(settings)  # no connection is opened here
    try:
        pool = engine.sync_engine.pool
        assert pool.size() == 25 and pool._max_overflow == 5 and pool._timeout == 2.5
    finally:
        await engine.dispose()


def test_defaults_and_nonsense():
    settings = Settings.from_env({"DATABASE_URL": PG})
    assert (settings.sql_pool_size, settings.sql_max_overflow, settings.sql_pool_timeout_s) == (10, 10, 4.0)
    with pytest.raises(SettingsError):
        Settings.from_env({"DATABASE_URL": PG, "SQL_POOL_SIZE": "0"})

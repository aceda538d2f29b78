"""`python -m backend.migrate`: brings the database schema up to date (alembic upgrade head)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from backend.settings import REPO_DIR, Settings


def _config(settings: Settings) -> Config:
    config = Config(str(REPO_DIR / "alembic.ini"))
    config.attributes["settings"] = settings
    config.attributes["configure_logger"] = False
    return config


def upgrade(settings: Settings, revision: str = "head") -> None:
    command.upgrade(_config(settings), revision)


def downgrade(settings: Settings, revision: str) -> None:
    """Back to `revision` (the tests of a migration's way back)."""
    command.downgrade(_config(settings), revision)


def main() -> None:
    from common.logs import configure_logging

    configure_logging()
    upgrade(Settings.from_env())


if __name__ == "__main__":
    main()

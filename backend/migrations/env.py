"""Alembic environment: URL from backend.settings (sync driver), metadata from backend.models."""

from logging.config import fileConfig

from alembic import context
from sqlalchemy import create_engine, pool

from backend.models import metadata
from backend.settings import Settings

config = context.config
if config.config_file_name and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

settings = config.attributes.get("settings") or Settings.from_env()


def run_migrations_offline() -> None:
    context.configure(
        url=settings.sync_database_url,
        target_metadata=metadata,
        literal_binds=True,
        render_as_batch=settings.is_sqlite,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    if settings.is_sqlite:
        settings.var_dir.mkdir(parents=True, exist_ok=True)
    engine = create_engine(settings.sync_database_url, poolclass=pool.NullPool, future=True)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=metadata, render_as_batch=settings.is_sqlite)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()

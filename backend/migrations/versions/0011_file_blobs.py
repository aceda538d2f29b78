"""file blobs: the bytes of the files users send, in the database instead of the backend's disk

- file_blobs: the bytes of a received file (bytea on PostgreSQL, BLOB on SQLite) with their SHA-256,
  size and type (backend.uploads), so that several backend processes, on several machines, read
  what any of them received. inbound_files.storage_path and reimbursement_documents.storage_path
  now hold the id of their blob instead of a path under <VAR_DIR>/uploads/.
- The files already there are moved, best effort: each row's file under <VAR_DIR>/uploads/ becomes
  a blob the row points to, and is deleted from the disk once the migration is committed. A row
  whose file is not there keeps its old path (its bytes were lost before); files no row points to
  are left alone. Only the VAR_DIR of the machine that runs the migration is looked at, and
  nothing is moved when the SQL is only printed (alembic --sql).
- downgrade writes the bytes back under <VAR_DIR>/uploads/inbound/ (best effort as well), points
  the rows at them and drops the table.

Revision ID: 0011
Revises: 0010
"""

import hashlib
import logging
import secrets
from pathlib import Path

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy import event

from backend.settings import Settings

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")

# owner table -> its column of the file's time (the blob's created_at)
OWNERS = {"inbound_files": "created_at", "reimbursement_documents": "uploaded_at"}
EXTENSIONS = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}  # common.uploads', as of 0011

blobs = sa.table(
    "file_blobs",
    sa.column("id", sa.String),
    sa.column("sha256", sa.String),
    sa.column("size", sa.Integer),
    sa.column("content_type", sa.String),
    sa.column("created_at", sa.DateTime),
    sa.column("content", sa.LargeBinary),
)


def _owner(table: str) -> sa.sql.TableClause:
    return sa.table(
        table,
        sa.column("id"),
        sa.column("storage_path", sa.String),
        sa.column("content_type", sa.String),
        sa.column(OWNERS[table], sa.DateTime),
    )


def _var_dir() -> Path:
    settings = context.config.attributes.get("settings") or Settings.from_env()  # as env.py
    return Path(settings.var_dir)


def _uploaded_file(var_dir: Path, storage_path: str) -> Path | None:
    """The file a pre-0011 row points to, if it is there (and inside <VAR_DIR>/uploads/)."""
    uploads = (var_dir / "uploads").resolve()
    path = (var_dir / storage_path).resolve()
    if uploads not in path.parents or not path.is_file():
        return None
    return path


def _delete_after_commit(paths: list[Path], var_dir: Path) -> None:
    """Deletes the moved files once the transaction that moved them is committed (a migration that
    fails keeps them on the disk)."""

    def delete(_connection) -> None:
        for path in paths:
            path.unlink(missing_ok=True)
        log.info("0011: %d file(s) moved from %s into file_blobs", len(paths), var_dir / "uploads")

    event.listen(op.get_bind(), "commit", delete, once=True)


def _move_files_into_blobs() -> None:
    bind = op.get_bind()
    var_dir = _var_dir()
    moved: dict[Path, str] = {}  # file -> its blob id
    for table, created in OWNERS.items():
        owner = _owner(table)
        rows = bind.execute(sa.select(owner.c.id, owner.c.storage_path, owner.c.content_type, owner.c[created])).all()
        for row in rows:
            path = _uploaded_file(var_dir, row.storage_path)
            if path is None:
                continue
            if path not in moved:
                content = path.read_bytes()
                moved[path] = secrets.token_hex(16)
                bind.execute(
                    blobs.insert().values(
                        id=moved[path],
                        sha256=hashlib.sha256(content).hexdigest(),
                        size=len(content),
                        content_type=row.content_type,
                        created_at=row._mapping[created],
                        content=content,
                    )
                )
            bind.execute(owner.update().where(owner.c.id == row.id).values(storage_path=moved[path]))
    if moved:
        _delete_after_commit(list(moved), var_dir)


def _write_blobs_back() -> None:
    bind = op.get_bind()
    var_dir = _var_dir()
    folder = var_dir / "uploads" / "inbound"
    for table in OWNERS:
        owner = _owner(table)
        rows = bind.execute(
            sa.select(owner.c.id, blobs.c.id.label("blob_id"), blobs.c.content_type, blobs.c.content).join(
                blobs, blobs.c.id == owner.c.storage_path
            )
        ).all()
        for row in rows:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"{row.blob_id}.{EXTENSIONS.get(row.content_type, 'bin')}"
            path.write_bytes(row.content)
            relative = str(path.relative_to(var_dir))
            bind.execute(owner.update().where(owner.c.id == row.id).values(storage_path=relative))


def upgrade() -> None:
    op.create_table(
        "file_blobs",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content_type", sa.String(length=60), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_file_blobs")),
    )
    op.create_index(op.f("ix_file_blobs_created_at"), "file_blobs", ["created_at"], unique=False)
    if not context.is_offline_mode():
        _move_files_into_blobs()


def downgrade() -> None:
    if not context.is_offline_mode():
        _write_blobs_back()
    op.drop_index(op.f("ix_file_blobs_created_at"), table_name="file_blobs")
    op.drop_table("file_blobs")

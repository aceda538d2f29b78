"""inbound files: what users send through the channels, kept by the backend until attached

- inbound_files: a file a channel handed to the backend (POST /api/inbound-files), bound to its
  conversation (channel + sender id); the bytes are under <VAR_DIR>/uploads/inbound/. Attaching it
  (POST /api/reimbursement-documents {"file_id"}) moves it to a reimbursement document; one never
  attached expires (backend.retention).

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbound_files",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("conversation_id", sa.String(length=128), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=60), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("storage_path", sa.String(length=400), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_files")),
    )
    with op.batch_alter_table("inbound_files", schema=None) as batch_op:
        batch_op.create_index("ix_inbound_files_channel_conversation", ["channel", "conversation_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_inbound_files_created_at"), ["created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("inbound_files", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inbound_files_created_at"))
        batch_op.drop_index("ix_inbound_files_channel_conversation")
    op.drop_table("inbound_files")

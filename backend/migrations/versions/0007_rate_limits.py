"""rate limits, pending e-mail changes, agents that can be disabled; identity attempts re-keyed

- rate_limits: the counters of backend.rate_limits, one row per (rule, HMAC of its subject);
- email_changes: a change of the e-mail on file waits for the new address's confirmation and,
  when there was an address on file, for a period that address can cancel (backend.email_change);
- agents.disabled_at: `python -m backend.agents disable <username>`;
- identity_attempts: their keys were unsalted SHA-256 of the login (a 12-digit card is easy to
  invert); the new keys are HMAC-SHA256 under DATA_HMAC_SECRET. The old rows only mattered for
  the last 45 minutes of lockouts and cannot be re-keyed (the login is not recoverable from them
  without brute force), so they are dropped.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_limits",
        sa.Column("bucket", sa.String(length=64), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.Column("window_start", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("bucket", name=op.f("pk_rate_limits")),
    )
    with op.batch_alter_table("rate_limits", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rate_limits_expires_at"), ["expires_at"], unique=False)

    op.create_table(
        "email_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("beneficiary_id", sa.Integer(), nullable=False),
        sa.Column("new_email", sa.String(length=254), nullable=False),
        sa.Column("protocol_number", sa.String(length=20), nullable=False),
        sa.Column("cancel_token_hash", sa.String(length=64), nullable=True),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.Column("effective_at", sa.DateTime(), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(), nullable=True),
        sa.Column("applied_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["beneficiary_id"], ["beneficiaries.id"], name=op.f("fk_email_changes_beneficiary_id_beneficiaries")
        ),
        sa.ForeignKeyConstraint(
            ["protocol_number"], ["protocols.number"], name=op.f("fk_email_changes_protocol_number_protocols")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_changes")),
        sa.UniqueConstraint("cancel_token_hash", name=op.f("uq_email_changes_cancel_token_hash")),
        sa.UniqueConstraint("protocol_number", name=op.f("uq_email_changes_protocol_number")),
    )
    with op.batch_alter_table("email_changes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_email_changes_beneficiary_id"), ["beneficiary_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_email_changes_effective_at"), ["effective_at"], unique=False)

    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("disabled_at", sa.DateTime(), nullable=True))

    op.execute(sa.text("DELETE FROM identity_attempts"))


def downgrade() -> None:
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.drop_column("disabled_at")
    with op.batch_alter_table("email_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_email_changes_effective_at"))
        batch_op.drop_index(batch_op.f("ix_email_changes_beneficiary_id"))
    op.drop_table("email_changes")
    with op.batch_alter_table("rate_limits", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rate_limits_expires_at"))
    op.drop_table("rate_limits")

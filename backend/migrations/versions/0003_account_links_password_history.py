"""account links (activation, password change, e-mail change), password history, pending accounts

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "account_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("beneficiary_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("protocol_number", sa.String(length=20), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["beneficiary_id"], ["beneficiaries.id"], name=op.f("fk_account_links_beneficiary_id_beneficiaries")
        ),
        sa.ForeignKeyConstraint(
            ["protocol_number"], ["protocols.number"], name=op.f("fk_account_links_protocol_number_protocols")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_account_links_token_hash")),
    )
    with op.batch_alter_table("account_links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_account_links_beneficiary_id"), ["beneficiary_id"], unique=False)

    op.create_table(
        "password_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("password_hash", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_password_history_account_id_accounts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_password_history")),
    )
    with op.batch_alter_table("password_history", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_password_history_account_id"), ["account_id"], unique=False)

    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.alter_column("password_hash", existing_type=sa.String(length=100), nullable=True)

    # The password each existing account chose counts as its first history entry.
    op.execute(
        "INSERT INTO password_history (account_id, password_hash, created_at) "
        "SELECT id, password_hash, created_at FROM accounts "
        "WHERE status = 'active' AND must_change_password = false AND password_hash IS NOT NULL"
    )


def downgrade() -> None:
    op.execute("DELETE FROM accounts WHERE password_hash IS NULL")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.alter_column("password_hash", existing_type=sa.String(length=100), nullable=False)
    with op.batch_alter_table("password_history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_password_history_account_id"))
    op.drop_table("password_history")
    with op.batch_alter_table("account_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_account_links_beneficiary_id"))
    op.drop_table("account_links")

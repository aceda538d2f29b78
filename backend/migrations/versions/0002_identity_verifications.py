"""identity verifications: the token a conversation gets after a successful identity check

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "identity_verifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("beneficiary_id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["beneficiary_id"],
            ["beneficiaries.id"],
            name=op.f("fk_identity_verifications_beneficiary_id_beneficiaries"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_verifications")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_identity_verifications_token_hash")),
    )


def downgrade() -> None:
    op.drop_table("identity_verifications")

"""the company's beneficiary movements, one by one and by file (backend.company.movements)

- company_movements: one movement (kind, beneficiary, what it applied as JSON, status, protocol,
  batch, the company user who made it);
- company_movement_batches: a file of movements (protocol, lines applied by kind and refused, each
  refused line's number, field and reason, status, the company user who sent it).

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "company_movement_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("protocol_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=True),
        sa.Column("file_format", sa.String(length=10), nullable=False),
        sa.Column("total_lines", sa.Integer(), nullable=False),
        sa.Column("applied_lines", sa.Integer(), nullable=False),
        sa.Column("refused_lines", sa.Integer(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("errors", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_company_movement_batches_company_id_companies")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["company_users.id"], name=op.f("fk_company_movement_batches_created_by_company_users")
        ),
        sa.ForeignKeyConstraint(
            ["protocol_id"], ["protocols.id"], name=op.f("fk_company_movement_batches_protocol_id_protocols")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_company_movement_batches")),
        sa.UniqueConstraint("protocol_id", name=op.f("uq_company_movement_batches_protocol_id")),
    )
    with op.batch_alter_table("company_movement_batches", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_company_movement_batches_company_id"), ["company_id"], unique=False)

    op.create_table(
        "company_movements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("beneficiary_id", sa.Integer(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("protocol_id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["company_movement_batches.id"],
            name=op.f("fk_company_movements_batch_id_company_movement_batches"),
        ),
        sa.ForeignKeyConstraint(
            ["beneficiary_id"], ["beneficiaries.id"], name=op.f("fk_company_movements_beneficiary_id_beneficiaries")
        ),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_company_movements_company_id_companies")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["company_users.id"], name=op.f("fk_company_movements_created_by_company_users")
        ),
        sa.ForeignKeyConstraint(
            ["protocol_id"], ["protocols.id"], name=op.f("fk_company_movements_protocol_id_protocols")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_company_movements")),
    )
    with op.batch_alter_table("company_movements", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_company_movements_batch_id"), ["batch_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_company_movements_beneficiary_id"), ["beneficiary_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_company_movements_company_id"), ["company_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_company_movements_protocol_id"), ["protocol_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("company_movements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_company_movements_protocol_id"))
        batch_op.drop_index(batch_op.f("ix_company_movements_company_id"))
        batch_op.drop_index(batch_op.f("ix_company_movements_beneficiary_id"))
        batch_op.drop_index(batch_op.f("ix_company_movements_batch_id"))

    op.drop_table("company_movements")
    with op.batch_alter_table("company_movement_batches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_company_movement_batches_company_id"))

    op.drop_table("company_movement_batches")

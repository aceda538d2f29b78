"""handoff: ticket beneficiary, transcript, claim time and call-back flag; ticket messages; agent state

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("handoff_tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("beneficiary_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("transcript", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("claimed_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("callback", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.create_foreign_key(
            batch_op.f("fk_handoff_tickets_beneficiary_id_beneficiaries"), "beneficiaries", ["beneficiary_id"], ["id"]
        )
        batch_op.create_index(batch_op.f("ix_handoff_tickets_beneficiary_id"), ["beneficiary_id"], unique=False)
        batch_op.create_index("ix_handoff_tickets_conversation_id_status", ["conversation_id", "status"], unique=False)
        batch_op.create_index(
            "uq_handoff_tickets_active_conversation",
            ["conversation_id"],
            unique=True,
            sqlite_where=sa.text("status != 'closed'"),
            postgresql_where=sa.text("status != 'closed'"),
        )

    op.create_table(
        "handoff_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("sender", sa.String(length=10), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("external_id", sa.String(length=64), nullable=True),
        sa.Column("delivered", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"], name=op.f("fk_handoff_messages_agent_id_agents")),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["handoff_tickets.id"], name=op.f("fk_handoff_messages_ticket_id_handoff_tickets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handoff_messages")),
        sa.UniqueConstraint("ticket_id", "external_id", name=op.f("uq_handoff_messages_ticket_id")),
    )
    with op.batch_alter_table("handoff_messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_handoff_messages_ticket_id"), ["ticket_id"], unique=False)

    op.create_table(
        "agent_states",
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=True),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"], name=op.f("fk_agent_states_agent_id_agents")),
        sa.PrimaryKeyConstraint("agent_id", name=op.f("pk_agent_states")),
    )


def downgrade() -> None:
    op.drop_table("agent_states")
    with op.batch_alter_table("handoff_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_handoff_messages_ticket_id"))
    op.drop_table("handoff_messages")
    with op.batch_alter_table("handoff_tickets", schema=None) as batch_op:
        batch_op.drop_index("uq_handoff_tickets_active_conversation")
        batch_op.drop_index("ix_handoff_tickets_conversation_id_status")
        batch_op.drop_index(batch_op.f("ix_handoff_tickets_beneficiary_id"))
        batch_op.drop_constraint(batch_op.f("fk_handoff_tickets_beneficiary_id_beneficiaries"), type_="foreignkey")
        batch_op.drop_column("callback")
        batch_op.drop_column("claimed_at")
        batch_op.drop_column("transcript")
        batch_op.drop_column("beneficiary_id")

"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-23 09:02:22.792428
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=60), nullable=False),
        sa.Column("name", sa.String(length=160), nullable=False),
        sa.Column("password_hash", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agents")),
        sa.UniqueConstraint("username", name=op.f("uq_agents_username")),
    )
    op.create_table(
        "identity_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("conversation_id", sa.String(length=128), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_attempts")),
    )
    with op.batch_alter_table("identity_attempts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_identity_attempts_conversation_id"), ["conversation_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_identity_attempts_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_identity_attempts_key"), ["key"], unique=False)

    op.create_table(
        "plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("ans_product_registration", sa.String(length=20), nullable=False),
        sa.Column("outpatient", sa.Boolean(), nullable=False),
        sa.Column("hospital", sa.Boolean(), nullable=False),
        sa.Column("obstetrics", sa.Boolean(), nullable=False),
        sa.Column("accommodation", sa.String(length=20), nullable=False),
        sa.Column("coparticipation", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plans")),
        sa.UniqueConstraint("name", name=op.f("uq_plans_name")),
    )
    op.create_table(
        "protocol_sequences",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("last_value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_protocol_sequences")),
    )
    op.create_table(
        "providers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=160), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("specialty", sa.String(length=80), nullable=False),
        sa.Column("city", sa.String(length=80), nullable=False),
        sa.Column("state", sa.String(length=2), nullable=False),
        sa.Column("address", sa.String(length=240), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("map_url", sa.String(length=400), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_providers")),
        sa.UniqueConstraint("name", "specialty", "city", name=op.f("uq_providers_name")),
    )
    with op.batch_alter_table("providers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_providers_city"), ["city"], unique=False)
        batch_op.create_index(batch_op.f("ix_providers_specialty"), ["specialty"], unique=False)

    op.create_table(
        "beneficiaries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=160), nullable=False),
        sa.Column("card_number", sa.String(length=12), nullable=False),
        sa.Column("cpf", sa.String(length=11), nullable=True),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("mother_name", sa.String(length=160), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("holder_id", sa.Integer(), nullable=True),
        sa.Column("relationship", sa.String(length=20), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("cancelled_at", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["holder_id"], ["beneficiaries.id"], name=op.f("fk_beneficiaries_holder_id_beneficiaries")
        ),
        sa.ForeignKeyConstraint(["plan_id"], ["plans.id"], name=op.f("fk_beneficiaries_plan_id_plans")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_beneficiaries")),
        sa.UniqueConstraint("card_number", name=op.f("uq_beneficiaries_card_number")),
        sa.UniqueConstraint("cpf", name=op.f("uq_beneficiaries_cpf")),
    )
    with op.batch_alter_table("beneficiaries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_beneficiaries_email"), ["email"], unique=False)

    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("beneficiary_id", sa.Integer(), nullable=False),
        sa.Column("password_hash", sa.String(length=100), nullable=False),
        sa.Column("must_change_password", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["beneficiary_id"], ["beneficiaries.id"], name=op.f("fk_accounts_beneficiary_id_beneficiaries")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("beneficiary_id", name=op.f("uq_accounts_beneficiary_id")),
    )
    op.create_table(
        "fees",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("beneficiary_id", sa.Integer(), nullable=False),
        sa.Column("document_number", sa.String(length=20), nullable=False),
        sa.Column("reference_month", sa.Date(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("type", sa.String(length=60), nullable=False),
        sa.Column("amount", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("paid_at", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["beneficiary_id"], ["beneficiaries.id"], name=op.f("fk_fees_beneficiary_id_beneficiaries")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fees")),
        sa.UniqueConstraint("beneficiary_id", "reference_month", "type", name=op.f("uq_fees_beneficiary_id")),
        sa.UniqueConstraint("document_number", name=op.f("uq_fees_document_number")),
    )
    with op.batch_alter_table("fees", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_fees_beneficiary_id"), ["beneficiary_id"], unique=False)

    op.create_table(
        "protocols",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("beneficiary_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("conversation_id", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["beneficiary_id"], ["beneficiaries.id"], name=op.f("fk_protocols_beneficiary_id_beneficiaries")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_protocols")),
        sa.UniqueConstraint("number", name=op.f("uq_protocols_number")),
    )
    with op.batch_alter_table("protocols", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_protocols_beneficiary_id"), ["beneficiary_id"], unique=False)

    op.create_table(
        "waiting_periods",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("beneficiary_id", sa.Integer(), nullable=False),
        sa.Column("coverage_group", sa.String(length=80), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["beneficiary_id"], ["beneficiaries.id"], name=op.f("fk_waiting_periods_beneficiary_id_beneficiaries")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_waiting_periods")),
        sa.UniqueConstraint("beneficiary_id", "coverage_group", name=op.f("uq_waiting_periods_beneficiary_id")),
    )
    op.create_table(
        "api_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_api_sessions_account_id_accounts")),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"], name=op.f("fk_api_sessions_agent_id_agents")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_sessions_token_hash")),
    )
    op.create_table(
        "card_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("beneficiary_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("police_report", sa.String(length=40), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.Column("protocol_number", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["beneficiary_id"], ["beneficiaries.id"], name=op.f("fk_card_requests_beneficiary_id_beneficiaries")
        ),
        sa.ForeignKeyConstraint(
            ["protocol_number"], ["protocols.number"], name=op.f("fk_card_requests_protocol_number_protocols")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_card_requests")),
        sa.UniqueConstraint("protocol_number", name=op.f("uq_card_requests_protocol_number")),
    )
    with op.batch_alter_table("card_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_card_requests_beneficiary_id"), ["beneficiary_id"], unique=False)

    op.create_table(
        "handoff_tickets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("protocol_number", sa.String(length=20), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("conversation_id", sa.String(length=128), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"], name=op.f("fk_handoff_tickets_agent_id_agents")),
        sa.ForeignKeyConstraint(
            ["protocol_number"], ["protocols.number"], name=op.f("fk_handoff_tickets_protocol_number_protocols")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handoff_tickets")),
        sa.UniqueConstraint("protocol_number", name=op.f("uq_handoff_tickets_protocol_number")),
    )
    op.create_table(
        "reimbursements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("beneficiary_id", sa.Integer(), nullable=False),
        sa.Column("protocol_number", sa.String(length=20), nullable=False),
        sa.Column("service_type", sa.String(length=60), nullable=False),
        sa.Column("provider_name", sa.String(length=160), nullable=False),
        sa.Column("service_date", sa.Date(), nullable=False),
        sa.Column("amount_requested", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("amount_paid", sa.Numeric(precision=10, scale=2), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["beneficiary_id"], ["beneficiaries.id"], name=op.f("fk_reimbursements_beneficiary_id_beneficiaries")
        ),
        sa.ForeignKeyConstraint(
            ["protocol_number"], ["protocols.number"], name=op.f("fk_reimbursements_protocol_number_protocols")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reimbursements")),
        sa.UniqueConstraint("protocol_number", name=op.f("uq_reimbursements_protocol_number")),
    )
    with op.batch_alter_table("reimbursements", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reimbursements_beneficiary_id"), ["beneficiary_id"], unique=False)

    op.create_table(
        "reimbursement_status_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reimbursement_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("changed_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["reimbursement_id"],
            ["reimbursements.id"],
            name=op.f("fk_reimbursement_status_history_reimbursement_id_reimbursements"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reimbursement_status_history")),
    )
    with op.batch_alter_table("reimbursement_status_history", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_reimbursement_status_history_reimbursement_id"), ["reimbursement_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("reimbursement_status_history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reimbursement_status_history_reimbursement_id"))

    op.drop_table("reimbursement_status_history")
    with op.batch_alter_table("reimbursements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reimbursements_beneficiary_id"))

    op.drop_table("reimbursements")
    op.drop_table("handoff_tickets")
    with op.batch_alter_table("card_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_card_requests_beneficiary_id"))

    op.drop_table("card_requests")
    op.drop_table("api_sessions")
    op.drop_table("waiting_periods")
    with op.batch_alter_table("protocols", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_protocols_beneficiary_id"))

    op.drop_table("protocols")
    with op.batch_alter_table("fees", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fees_beneficiary_id"))

    op.drop_table("fees")
    op.drop_table("accounts")
    with op.batch_alter_table("beneficiaries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_beneficiaries_email"))

    op.drop_table("beneficiaries")
    with op.batch_alter_table("providers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_providers_specialty"))
        batch_op.drop_index(batch_op.f("ix_providers_city"))

    op.drop_table("providers")
    op.drop_table("protocol_sequences")
    op.drop_table("plans")
    with op.batch_alter_table("identity_attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identity_attempts_key"))
        batch_op.drop_index(batch_op.f("ix_identity_attempts_created_at"))
        batch_op.drop_index(batch_op.f("ix_identity_attempts_conversation_id"))

    op.drop_table("identity_attempts")
    op.drop_table("agents")

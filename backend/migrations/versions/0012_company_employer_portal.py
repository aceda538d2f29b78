"""the employer's side: contracting companies, their HR users, plans and invoices (backend.company)

- companies (code, CNPJ — alphanumeric allowed —, name, group through parent_id, contact data);
- company_users (user code, name, e-mail, role admin | user, password hash — NULL until the first
  access —, lockout), company_sessions (login tokens, SHA-256), company_login_codes (one-time codes
  of the chat, HMAC), company_verifications (a conversation verified as a company user),
  company_links (first access and password links, SHA-256);
- company_plans (plans contracted), company_invoices (faturas);
- beneficiaries.company_id and protocols.company_id (nullable): a company plan's members and the
  company's requests.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "companies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=10), nullable=False),
        sa.Column("cnpj", sa.String(length=14), nullable=False),
        sa.Column("name", sa.String(length=160), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("address", sa.String(length=240), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(["parent_id"], ["companies.id"], name=op.f("fk_companies_parent_id_companies")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_companies")),
        sa.UniqueConstraint("cnpj", name=op.f("uq_companies_cnpj")),
        sa.UniqueConstraint("code", name=op.f("uq_companies_code")),
    )
    op.create_table(
        "company_invoices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("document_number", sa.String(length=20), nullable=False),
        sa.Column("reference_month", sa.Date(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("paid_at", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_company_invoices_company_id_companies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_company_invoices")),
        sa.UniqueConstraint("company_id", "reference_month", name=op.f("uq_company_invoices_company_id")),
        sa.UniqueConstraint("document_number", name=op.f("uq_company_invoices_document_number")),
    )
    with op.batch_alter_table("company_invoices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_company_invoices_company_id"), ["company_id"], unique=False)

    op.create_table(
        "company_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("contracted_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(["company_id"], ["companies.id"], name=op.f("fk_company_plans_company_id_companies")),
        sa.ForeignKeyConstraint(["plan_id"], ["plans.id"], name=op.f("fk_company_plans_plan_id_plans")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_company_plans")),
        sa.UniqueConstraint("company_id", "plan_id", name=op.f("uq_company_plans_company_id")),
    )
    op.create_table(
        "company_users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("user_code", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=160), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("password_hash", sa.String(length=100), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["company_id"], ["companies.id"], name=op.f("fk_company_users_company_id_companies")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_company_users")),
        sa.UniqueConstraint("user_code", name=op.f("uq_company_users_user_code")),
    )
    with op.batch_alter_table("company_users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_company_users_company_id"), ["company_id"], unique=False)

    op.create_table(
        "company_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("company_user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["company_user_id"], ["company_users.id"], name=op.f("fk_company_links_company_user_id_company_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_company_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_company_links_token_hash")),
    )
    with op.batch_alter_table("company_links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_company_links_company_user_id"), ["company_user_id"], unique=False)

    op.create_table(
        "company_login_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_user_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("conversation_id", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["company_user_id"], ["company_users.id"], name=op.f("fk_company_login_codes_company_user_id_company_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_company_login_codes")),
    )
    with op.batch_alter_table("company_login_codes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_company_login_codes_channel_conversation", ["channel", "conversation_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_company_login_codes_company_user_id"), ["company_user_id"], unique=False)

    op.create_table(
        "company_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("company_user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_user_id"], ["company_users.id"], name=op.f("fk_company_sessions_company_user_id_company_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_company_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_company_sessions_token_hash")),
    )
    with op.batch_alter_table("company_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_company_sessions_company_user_id"), ["company_user_id"], unique=False)

    op.create_table(
        "company_verifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("company_user_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("conversation_id", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_user_id"],
            ["company_users.id"],
            name=op.f("fk_company_verifications_company_user_id_company_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_company_verifications")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_company_verifications_token_hash")),
    )
    with op.batch_alter_table("company_verifications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_company_verifications_company_user_id"), ["company_user_id"], unique=False)

    with op.batch_alter_table("beneficiaries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("company_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_beneficiaries_company_id"), ["company_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_beneficiaries_company_id_companies"), "companies", ["company_id"], ["id"]
        )

    with op.batch_alter_table("protocols", schema=None) as batch_op:
        batch_op.add_column(sa.Column("company_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_protocols_company_id"), ["company_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_protocols_company_id_companies"), "companies", ["company_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("protocols", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_protocols_company_id_companies"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_protocols_company_id"))
        batch_op.drop_column("company_id")

    with op.batch_alter_table("beneficiaries", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_beneficiaries_company_id_companies"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_beneficiaries_company_id"))
        batch_op.drop_column("company_id")

    with op.batch_alter_table("company_verifications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_company_verifications_company_user_id"))

    op.drop_table("company_verifications")
    with op.batch_alter_table("company_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_company_sessions_company_user_id"))

    op.drop_table("company_sessions")
    with op.batch_alter_table("company_login_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_company_login_codes_company_user_id"))
        batch_op.drop_index("ix_company_login_codes_channel_conversation")

    op.drop_table("company_login_codes")
    with op.batch_alter_table("company_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_company_links_company_user_id"))

    op.drop_table("company_links")
    with op.batch_alter_table("company_users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_company_users_company_id"))

    op.drop_table("company_users")
    op.drop_table("company_plans")
    with op.batch_alter_table("company_invoices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_company_invoices_company_id"))

    op.drop_table("company_invoices")
    op.drop_table("companies")

"""file types up to 100 characters: the spreadsheets users send (common.uploads)

The upload policy now takes spreadsheets too, and the XLSX content type
("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", 65 characters) does not fit
the 60 of file_blobs.content_type, inbound_files.content_type and
reimbursement_documents.content_type (PostgreSQL refuses the row). They become 100.

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

TABLES = ("file_blobs", "inbound_files", "reimbursement_documents")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(
                "content_type", existing_type=sa.String(length=60), type_=sa.String(length=100), existing_nullable=False
            )


def downgrade() -> None:
    # a type longer than 60 (an XLSX) would not fit back: those files go (an inbound file is
    # short-lived; a reimbursement document is never a spreadsheet)
    op.execute(sa.text("DELETE FROM inbound_files WHERE length(content_type) > 60"))
    op.execute(sa.text("DELETE FROM file_blobs WHERE length(content_type) > 60"))
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(
                "content_type", existing_type=sa.String(length=100), type_=sa.String(length=60), existing_nullable=False
            )

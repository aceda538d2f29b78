"""stored values in English: relationships and reimbursement document kinds

- beneficiaries.relationship: titular -> holder, filho -> son, filha -> daughter, cônjuge -> spouse
  (dependente -> dependent); what users read is common.labels' (titular, filho…);
- reimbursement_documents.kind: recibo -> receipt, nota_fiscal -> invoice, relatorio -> report,
  outro -> other; backend.reimbursements.DOCUMENT_KINDS words them (recibo, nota fiscal…).

The rows are rewritten both ways; a value outside these lists is left as it is.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# (table, column) -> {old value: new value}
RENAMES = {
    ("beneficiaries", "relationship"): {
        "titular": "holder",
        "dependente": "dependent",
        "filho": "son",
        "filha": "daughter",
        "cônjuge": "spouse",
    },
    ("reimbursement_documents", "kind"): {
        "recibo": "receipt",
        "nota_fiscal": "invoice",
        "relatorio": "report",
        "outro": "other",
    },
}


def _rewrite(table: str, column: str, mapping: dict[str, str]) -> None:
    rows = sa.table(table, sa.column(column, sa.String))
    for old, new in mapping.items():
        op.execute(rows.update().where(rows.c[column] == old).values({column: new}))


def upgrade() -> None:
    for (table, column), mapping in RENAMES.items():
        _rewrite(table, column, mapping)


def downgrade() -> None:
    for (table, column), mapping in RENAMES.items():
        _rewrite(table, column, {new: old for old, new in mapping.items()})

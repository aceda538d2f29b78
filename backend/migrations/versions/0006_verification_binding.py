"""identity verifications bound to the channel, and their scope

A verification is redeemable only by the conversation (channel + sender) that passed the check;
one issued without a CPF ("não possuo CPF": login + birth date) serves registration only.

Verifications live minutes; the ones issued before this revision carry neither the channel nor
their scope, so they are dropped (the user is simply asked to verify again) rather than guessed.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(sa.text("DELETE FROM identity_verifications"))
    with op.batch_alter_table("identity_verifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("channel", sa.String(length=32), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("scope", sa.String(length=16), nullable=False, server_default="full"))


def downgrade() -> None:
    with op.batch_alter_table("identity_verifications", schema=None) as batch_op:
        batch_op.drop_column("scope")
        batch_op.drop_column("channel")

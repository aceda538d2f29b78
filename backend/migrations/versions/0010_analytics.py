"""analytics: the conversation events Rasa publishes to RabbitMQ, stored once, and the turns made of them

- analytics_events: one row per event (backend.analytics_consumer), unique by the SHA-256 of the
  event as published (a redelivery inserts nothing); no text or value, only names, the channel,
  the confidences and the time;
- analytics_turns: one row per user message, with its intent, confidence, channel and whether it
  fell back or handed the conversation to a person (backend.analytics).
Both are deleted by backend.retention.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "analytics_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_key", sa.String(length=64), nullable=False),
        sa.Column("sender_id", sa.String(length=255), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("channel", sa.String(length=64), nullable=True),
        sa.Column("timestamp", sa.Float(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_events")),
        sa.UniqueConstraint("event_key", name=op.f("uq_analytics_events_event_key")),
    )
    with op.batch_alter_table("analytics_events", schema=None) as batch_op:
        batch_op.create_index("ix_analytics_events_sender_timestamp", ["sender_id", "timestamp"], unique=False)
        batch_op.create_index(batch_op.f("ix_analytics_events_at"), ["at"], unique=False)

    op.create_table(
        "analytics_turns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_key", sa.String(length=64), nullable=False),
        sa.Column("sender_id", sa.String(length=255), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=True),
        sa.Column("intent", sa.String(length=255), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("fallback", sa.Boolean(), nullable=False),
        sa.Column("handoff", sa.Boolean(), nullable=False),
        sa.Column("timestamp", sa.Float(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_turns")),
        sa.UniqueConstraint("event_key", name=op.f("uq_analytics_turns_event_key")),
    )
    with op.batch_alter_table("analytics_turns", schema=None) as batch_op:
        batch_op.create_index("ix_analytics_turns_sender_timestamp", ["sender_id", "timestamp"], unique=False)
        batch_op.create_index(batch_op.f("ix_analytics_turns_at"), ["at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("analytics_turns", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_analytics_turns_at"))
        batch_op.drop_index("ix_analytics_turns_sender_timestamp")
    op.drop_table("analytics_turns")
    with op.batch_alter_table("analytics_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_analytics_events_at"))
        batch_op.drop_index("ix_analytics_events_sender_timestamp")
    op.drop_table("analytics_events")

"""Slots and their versions; a partial unique index keeps one active version per slot.

Revision ID: 0004
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0002"
branch_labels = ("versions",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "slots",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("capability", sa.String(40), nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "slot_versions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "slot_id", sa.Integer, sa.ForeignKey("slots.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "model_id", sa.Integer, sa.ForeignKey("models.id", ondelete="RESTRICT"), nullable=False
        ),
        sa.Column("version", sa.String(100), nullable=False),
        sa.Column("config", sa.JSON, nullable=False),
        sa.Column("checkpoint_digest", sa.String(200), nullable=False, server_default=""),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("mlflow_version", sa.String(40), nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("slot_id", "version", name="uq_slot_versions_slot_version"),
    )
    op.create_index(
        "uq_slot_versions_one_active",
        "slot_versions",
        ["slot_id"],
        unique=True,
        sqlite_where=sa.text("active = 1"),
    )
    op.create_index("ix_slot_versions_model_id", "slot_versions", ["model_id"])


def downgrade() -> None:
    op.drop_index("ix_slot_versions_model_id", table_name="slot_versions")
    op.drop_index("uq_slot_versions_one_active", table_name="slot_versions")
    op.drop_table("slot_versions")
    op.drop_table("slots")

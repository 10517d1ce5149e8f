"""The registry: models, their capabilities, serving status, performance and history.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "models",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(400), nullable=False),
        sa.Column("version", sa.String(100), nullable=False),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("provider", sa.String(200), nullable=False),
        sa.Column("serving", sa.String(20), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("category", sa.String(40), nullable=False),
        sa.Column("categories", sa.JSON, nullable=False),
        sa.Column("category_source", sa.String(20), nullable=False),
        sa.Column("capabilities", sa.JSON, nullable=False),
        sa.Column("parameters", sa.JSON, nullable=False),
        sa.Column("endpoint", sa.String(500), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("digest", sa.String(200), nullable=False),
        sa.Column("size_bytes", sa.BigInteger, nullable=True),
        sa.Column("family", sa.String(100), nullable=False),
        sa.Column("details", sa.JSON, nullable=False),
        sa.Column(
            "parent_id",
            sa.Integer,
            sa.ForeignKey("models.id", ondelete="RESTRICT", name="fk_models_parent_id"),
            nullable=True,
        ),
        sa.Column("ollama_name", sa.String(400), nullable=True),
        sa.Column("github_models_id", sa.String(400), nullable=True),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("tags", sa.JSON, nullable=False),
        sa.Column("template", sa.Text, nullable=False),
        sa.Column("system", sa.Text, nullable=False),
        sa.Column("license", sa.Text, nullable=False),
        sa.Column("modified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("name", "version", "source", name="uq_models_name_version_source"),
    )
    for column in ("category", "kind", "source", "status", "ollama_name", "parent_id"):
        op.create_index(f"ix_models_{column}", "models", [column])

    op.create_table(
        "model_capabilities",
        sa.Column(
            "model_id",
            sa.Integer,
            sa.ForeignKey("models.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("capability", sa.String(40), primary_key=True),
    )
    op.create_index("ix_model_capabilities_capability", "model_capabilities", ["capability"])

    op.create_table(
        "model_serving_status",
        sa.Column(
            "model_id",
            sa.Integer,
            sa.ForeignKey("models.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("loaded", sa.Boolean, nullable=False),
        sa.Column("size_in_memory", sa.BigInteger, nullable=True),
        sa.Column("size_vram", sa.BigInteger, nullable=True),
        sa.Column("context_length", sa.Integer, nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("concurrent_requests", sa.Integer, nullable=False),
        sa.Column("total_requests", sa.Integer, nullable=False),
        sa.Column("failed_requests", sa.Integer, nullable=False),
        sa.Column("healthy", sa.Boolean, nullable=True),
        sa.Column("last_health_check", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
    )

    op.create_table(
        "model_performance",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "model_id", sa.Integer, sa.ForeignKey("models.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("version", sa.String(100), nullable=False),
        sa.Column("run_id", sa.String(200), nullable=False),
        sa.Column("metric", sa.String(200), nullable=False),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("notes", sa.Text, nullable=False),
    )
    op.create_index(
        "ix_model_performance_model_metric", "model_performance", ["model_id", "metric"]
    )

    op.create_table(
        "change_history",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "model_id",
            sa.Integer,
            sa.ForeignKey("models.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("slot", sa.String(200), nullable=True),
        sa.Column("action", sa.String(60), nullable=False),
        sa.Column("detail", sa.JSON, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_change_history_model_id", "change_history", ["model_id"])
    op.create_index("ix_change_history_slot", "change_history", ["slot"])


def downgrade() -> None:
    op.drop_table("change_history")
    op.drop_table("model_performance")
    op.drop_table("model_serving_status")
    op.drop_table("model_capabilities")
    op.drop_table("models")

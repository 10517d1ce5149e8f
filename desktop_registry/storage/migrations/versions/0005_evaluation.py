"""Evaluation suites, runs and per-row results (kept as each row finishes).

Revision ID: 0005
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0002"
branch_labels = ("evaluation",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "eval_suites",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(300), nullable=False, unique=True),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("source_text", sa.Text, nullable=False),
        sa.Column("origin", sa.String(500), nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "eval_runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(40), nullable=False, server_default="eval"),
        sa.Column("suite_name", sa.String(300), nullable=False),
        sa.Column("models", sa.JSON, nullable=False),
        sa.Column("params", sa.JSON, nullable=False),
        sa.Column("state", sa.String(40), nullable=False, server_default="running"),
        sa.Column("total_rows", sa.Integer, nullable=False, server_default="0"),
        sa.Column("summary", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("finished_at", sa.DateTime, nullable=True),
    )
    op.create_table(
        "eval_results",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "run_id", sa.Integer, sa.ForeignKey("eval_runs.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "model_id", sa.Integer, sa.ForeignKey("models.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("model_name", sa.String(300), nullable=False),
        sa.Column("model_version", sa.String(100), nullable=False, server_default=""),
        sa.Column("row_index", sa.Integer, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("score", sa.Float, nullable=True),
        sa.Column("response", sa.Text, nullable=False, server_default=""),
        sa.Column("evaluations", sa.JSON, nullable=False),
        sa.Column("error", sa.Text, nullable=False, server_default=""),
        sa.Column("latency_s", sa.Float, nullable=True),
        sa.Column("ttft_s", sa.Float, nullable=True),
        sa.Column("tokens_per_s", sa.Float, nullable=True),
        sa.Column("prompt_tokens", sa.Integer, nullable=True),
        sa.Column("completion_tokens", sa.Integer, nullable=True),
        sa.Column("finished_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("run_id", "model_id", "row_index", name="uq_eval_results_row"),
    )
    op.create_index("ix_eval_results_model", "eval_results", ["model_id"])


def downgrade() -> None:
    op.drop_index("ix_eval_results_model", table_name="eval_results")
    op.drop_table("eval_results")
    op.drop_table("eval_runs")
    op.drop_table("eval_suites")

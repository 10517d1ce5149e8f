"""A narrow covering index for paging filtered model lists, with the searchable text.

Revision ID: 0007
Revises: 0002

A text filter yields ids from the search index; sorting and filtering them, and checking
terms too short for trigrams, then reads only this index instead of the wide model rows.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0002"
branch_labels = ("model_list",)
depends_on = None

COLUMNS = [
    "id",
    "name",
    "version",
    "source",
    "category",
    "kind",
    "status",
    "parent_id",
    "search_text",
]


def upgrade() -> None:
    with op.batch_alter_table("models") as batch:
        batch.add_column(sa.Column("search_text", sa.Text, nullable=False, server_default=""))
    op.execute(
        "UPDATE models SET search_text = lower(name || ' ' || family || ' ' || description "
        "|| ' ' || tags)"
    )
    op.create_index("ix_models_list", "models", COLUMNS)


def downgrade() -> None:
    op.drop_index("ix_models_list", table_name="models")
    with op.batch_alter_table("models") as batch:
        batch.drop_column("search_text")

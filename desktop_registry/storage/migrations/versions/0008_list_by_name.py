"""Page filtered model lists in name order: the list index leads with the name.

Revision ID: 0008
Revises: 0007

`category_keys` holds every category a model is listed under (its primary category and
those its capabilities imply), space-delimited, so a category filter is checked inside
the index. With the index in name order, the first page of a broad filter stops after
the rows it needs instead of sorting every match.
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# Frozen copy of the capability → category rules at this revision.
CAPABILITY_CATEGORIES = {
    "embedding": "embedding",
    "vision": "multimodal",
    "thinking": "reasoning",
    "tools": "function_calling",
}
COLUMNS = [
    "name",
    "version",
    "source",
    "category_keys",
    "kind",
    "status",
    "parent_id",
    "search_text",
]


def upgrade() -> None:
    with op.batch_alter_table("models") as batch:
        batch.add_column(sa.Column("category_keys", sa.Text, nullable=False, server_default=""))
    bind = op.get_bind()
    caps: dict[int, set[str]] = {}
    for model_id, capability in bind.exec_driver_sql(
        "SELECT model_id, capability FROM model_capabilities"
    ):
        category = CAPABILITY_CATEGORIES.get(capability)
        if category:
            caps.setdefault(model_id, set()).add(category)
    rows = [
        {"b_id": model_id, "keys": " " + " ".join(sorted({category} | caps.get(model_id, set()))) + " "}
        for model_id, category in bind.exec_driver_sql("SELECT id, category FROM models")
    ]
    if rows:
        bind.execute(sa.text("UPDATE models SET category_keys = :keys WHERE id = :b_id"), rows)
    op.drop_index("ix_models_list", table_name="models")
    op.create_index("ix_models_list", "models", COLUMNS)


def downgrade() -> None:
    op.drop_index("ix_models_list", table_name="models")
    op.create_index(
        "ix_models_list",
        "models",
        ["id", "name", "version", "source", "category", "kind", "status", "parent_id", "search_text"],
    )
    with op.batch_alter_table("models") as batch:
        batch.drop_column("category_keys")

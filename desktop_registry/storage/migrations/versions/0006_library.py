"""Model library index: library_entries + library_fts (FTS5, trigram, ranked with bm25).

Revision ID: 0006
Revises: 0002

The library mirrors the shipped catalog and the registry so one ranked query covers both.
Trigram tokens match substrings ("coder" finds "qwen2.5-coder:7b"); bm25 weights the name most.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0002"
branch_labels = ("library",)
depends_on = None

_COLUMNS = "name, family, description, tags"
_NEW = "new.name, new.family, new.description, new.tags"
_OLD = "old.name, old.family, old.description, old.tags"


def upgrade() -> None:
    op.create_table(
        "library_entries",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(500), nullable=False, unique=True),
        sa.Column("name", sa.String(400), nullable=False),
        sa.Column("family", sa.String(100), nullable=False, server_default=""),
        sa.Column("description", sa.Text(), nullable=False, server_default=""),
        sa.Column("tags", sa.Text(), nullable=False, server_default=""),
        sa.Column("categories", sa.Text(), nullable=False, server_default=""),
        sa.Column("capabilities", sa.Text(), nullable=False, server_default=""),
        sa.Column("parameter_count", sa.BigInteger(), nullable=True),
        sa.Column("size_class", sa.String(20), nullable=True),
        sa.Column("installed", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("remote", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("origin", sa.String(40), nullable=False),
        sa.Column("performance_score", sa.Float(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
    )
    op.create_index("ix_library_entries_origin", "library_entries", ["origin"])
    op.create_index("ix_library_entries_size_class", "library_entries", ["size_class"])
    op.create_table(
        "library_meta",
        sa.Column("key", sa.String(100), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False, server_default=""),
    )
    op.execute(
        f"CREATE VIRTUAL TABLE library_fts USING fts5({_COLUMNS}, "
        "content='library_entries', content_rowid='id', tokenize='trigram')"
    )
    op.execute(
        f"CREATE TRIGGER library_fts_ai AFTER INSERT ON library_entries BEGIN "
        f"INSERT INTO library_fts(rowid, {_COLUMNS}) VALUES (new.id, {_NEW}); END"
    )
    op.execute(
        f"CREATE TRIGGER library_fts_ad AFTER DELETE ON library_entries BEGIN "
        f"INSERT INTO library_fts(library_fts, rowid, {_COLUMNS}) "
        f"VALUES ('delete', old.id, {_OLD}); END"
    )
    op.execute(
        f"CREATE TRIGGER library_fts_au AFTER UPDATE OF {_COLUMNS} ON library_entries BEGIN "
        f"INSERT INTO library_fts(library_fts, rowid, {_COLUMNS}) "
        f"VALUES ('delete', old.id, {_OLD}); "
        f"INSERT INTO library_fts(rowid, {_COLUMNS}) VALUES (new.id, {_NEW}); END"
    )


def downgrade() -> None:
    for trigger in ("library_fts_ai", "library_fts_ad", "library_fts_au"):
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    op.execute("DROP TABLE IF EXISTS library_fts")
    op.drop_table("library_meta")
    op.drop_index("ix_library_entries_size_class", "library_entries")
    op.drop_index("ix_library_entries_origin", "library_entries")
    op.drop_table("library_entries")

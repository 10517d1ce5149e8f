"""Full-text search over model name, family, description and tags (FTS5, trigram).

Revision ID: 0002
Revises: 0001

Trigram tokens give substring matching, which is what a user typing in a filter
box expects ("lama" finds "llama3.1:8b"). Existing rows are indexed on upgrade.
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_COLUMNS = "name, family, description, tags"
_NEW = "new.name, new.family, new.description, new.tags"
_OLD = "old.name, old.family, old.description, old.tags"


def upgrade() -> None:
    op.execute(
        f"CREATE VIRTUAL TABLE models_fts USING fts5({_COLUMNS}, "
        "content='models', content_rowid='id', tokenize='trigram')"
    )
    op.execute(
        f"CREATE TRIGGER models_fts_ai AFTER INSERT ON models BEGIN "
        f"INSERT INTO models_fts(rowid, {_COLUMNS}) VALUES (new.id, {_NEW}); END"
    )
    op.execute(
        f"CREATE TRIGGER models_fts_ad AFTER DELETE ON models BEGIN "
        f"INSERT INTO models_fts(models_fts, rowid, {_COLUMNS}) "
        f"VALUES ('delete', old.id, {_OLD}); END"
    )
    op.execute(
        f"CREATE TRIGGER models_fts_au AFTER UPDATE OF {_COLUMNS} ON models BEGIN "
        f"INSERT INTO models_fts(models_fts, rowid, {_COLUMNS}) "
        f"VALUES ('delete', old.id, {_OLD}); "
        f"INSERT INTO models_fts(rowid, {_COLUMNS}) VALUES (new.id, {_NEW}); END"
    )
    op.execute("INSERT INTO models_fts(models_fts) VALUES ('rebuild')")


def downgrade() -> None:
    for trigger in ("models_fts_ai", "models_fts_ad", "models_fts_au"):
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    op.execute("DROP TABLE IF EXISTS models_fts")

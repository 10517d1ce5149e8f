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


def upgrade() -> None:
    # The index keeps its own narrow copy of the searchable text, so that short terms (which
    # trigrams cannot index) are checked there instead of in the wide model rows.
    op.execute(f"CREATE VIRTUAL TABLE models_fts USING fts5({_COLUMNS}, tokenize='trigram')")
    op.execute(
        f"CREATE TRIGGER models_fts_ai AFTER INSERT ON models BEGIN "
        f"INSERT INTO models_fts(rowid, {_COLUMNS}) VALUES (new.id, {_NEW}); END"
    )
    op.execute(
        "CREATE TRIGGER models_fts_ad AFTER DELETE ON models BEGIN "
        "DELETE FROM models_fts WHERE rowid = old.id; END"
    )
    op.execute(
        f"CREATE TRIGGER models_fts_au AFTER UPDATE OF {_COLUMNS} ON models BEGIN "
        "DELETE FROM models_fts WHERE rowid = old.id; "
        f"INSERT INTO models_fts(rowid, {_COLUMNS}) VALUES (new.id, {_NEW}); END"
    )
    op.execute(f"INSERT INTO models_fts(rowid, {_COLUMNS}) SELECT id, {_COLUMNS} FROM models")


def downgrade() -> None:
    for trigger in ("models_fts_ai", "models_fts_ad", "models_fts_au"):
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    op.execute("DROP TABLE IF EXISTS models_fts")

"""The registry's own reading of its migration heads agrees with Alembic's, for every file."""

from __future__ import annotations

from alembic.config import Config
from alembic.script import ScriptDirectory

from desktop_registry.storage.database import MIGRATIONS_DIR, head_revisions


def test_head_revisions_read_as_text_are_alembics_heads() -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    assert head_revisions() == set(ScriptDirectory.from_config(config).get_heads())

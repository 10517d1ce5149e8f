"""A light read of every registry model for the window's category tree (no wide columns).

Read-only; never writes and never returns more than the tree needs to draw and filter.
"""

from __future__ import annotations

import json

from desktop_registry.domain.entries import Entries, ModelEntry
from desktop_registry.storage.database import Database
from desktop_registry.storage.repository import MODELS


def _json_list(value: object, seen: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    """Decode a JSON list column; the same text (most category lists repeat) is decoded once."""
    if not isinstance(value, str) or not value:
        return ()
    found = seen.get(value)
    if found is None:
        decoded = json.loads(value)
        found = tuple(str(v) for v in decoded) if isinstance(decoded, list) else ()
        seen[value] = found
    return found


class ModelIndex:
    def __init__(self, db: Database) -> None:
        self.db = db

    def entries(self) -> Entries:
        """Every model, ordered by name; categories as stored (primary first)."""
        # Plain SQL on the driver: Core's per-column result processing (JSON decoding) costs
        # ten times more, and the tree must open a 10,000-model registry quickly.
        sql = (
            "SELECT id, name, version, source, provider, serving, kind, status, category, "
            "categories, size_bytes, search_text "
            f"FROM {MODELS.name} ORDER BY name, version, source"
        )
        seen: dict[str, tuple[str, ...]] = {}
        with self.db.reading() as conn:
            rows = conn.exec_driver_sql(sql).fetchall()
        # id … status as selected; then categories (primary alone when none are stored), size
        # and search_text: lower(name, family, description, tags), kept by every write.
        return [
            ModelEntry._make((*row[:8], _json_list(row[9], seen) or (row[8],), row[10], row[11]))
            for row in rows
        ]

    def parent_links(self) -> dict[int, int]:
        """Variant id → base id, for every model that has a parent (the tree's lineage)."""
        sql = f"SELECT id, parent_id FROM {MODELS.name} WHERE parent_id IS NOT NULL"
        with self.db.reading() as conn:
            return {int(row[0]): int(row[1]) for row in conn.exec_driver_sql(sql)}

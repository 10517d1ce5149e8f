"""What the serving layer last saw of each model: loaded or not, memory, request counters.

Never decides anything about serving; it keeps one status row per model, written as told.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import insert, select, update

from desktop_registry.domain.models import utcnow
from desktop_registry.storage.change_hook import ChangeHookStore
from desktop_registry.storage.tables import SERVING

# A model's first status row starts from these; the fields given override them.
_NEW_STATUS: dict[str, Any] = {
    "loaded": False,
    "concurrent_requests": 0,
    "total_requests": 0,
    "failed_requests": 0,
    "last_error": "",
}


class ModelServingStatus(ChangeHookStore):
    """`set_serving_status` / `serving_status` / `clear_loaded` over `model_serving_status`."""

    def set_serving_status(self, model_id: int, **fields: Any) -> None:
        fields["updated_at"] = utcnow()
        with self._writing() as conn:
            exists = conn.execute(
                select(SERVING.c.model_id).where(SERVING.c.model_id == model_id)
            ).first()
            if exists:
                conn.execute(update(SERVING).where(SERVING.c.model_id == model_id).values(**fields))
            else:
                conn.execute(insert(SERVING).values(model_id=model_id, **{**_NEW_STATUS, **fields}))

    def serving_status(self, model_id: int) -> dict[str, Any] | None:
        with self.db.reading() as conn:
            row = (
                conn.execute(select(SERVING).where(SERVING.c.model_id == model_id))
                .mappings()
                .first()
            )
        return dict(row) if row else None

    def clear_loaded(self, except_ids: Iterable[int] = ()) -> None:
        """Mark every model unloaded except `except_ids` (memory sizes cleared with it)."""
        keep = list(except_ids)
        with self._writing() as conn:
            query = update(SERVING).values(loaded=False, size_in_memory=None, size_vram=None)
            if keep:
                query = query.where(SERVING.c.model_id.not_in(keep))
            conn.execute(query)

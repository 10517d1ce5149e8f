"""Browse the registry: the tree's entries and lineage, one model, its variants and metrics.

The window's only way to the registry's rows; writes here are removals a user asked for.
"""

from __future__ import annotations

from typing import Any

from desktop_registry.domain import ModelRecord, PerformanceMetric
from desktop_registry.domain.entries import Entries
from desktop_registry.storage.model_index import ModelIndex
from desktop_registry.storage.repository import ModelRepository

Records = list[ModelRecord]  # `list` is a method name below
Metrics = list[PerformanceMetric]


class RegistryBrowser:
    def __init__(self, models: ModelRepository, index: ModelIndex) -> None:
        self.models = models
        self.index = index

    def entries(self) -> Entries:
        """Every model as the tree lists it, ordered by name."""
        return self.index.entries()

    def parent_links(self) -> dict[int, int]:
        """Variant id → base id, for the tree's lineage."""
        return self.index.parent_links()

    def get(self, model_id: int) -> ModelRecord:
        return self.models.get(model_id)

    def resolve(self, name: str) -> ModelRecord:
        """A model by the name a user typed (raises NotFoundError with the near matches)."""
        return self.models.resolve(name)

    def list(self, **filters: Any) -> Records:
        return self.models.list(**filters)

    def variants(self, model_id: int) -> Records:
        return self.models.list(parent_id=model_id)

    def performance(self, model_id: int) -> Metrics:
        return self.models.performance(model_id)

    def delete(self, model_id: int, *, force: bool = False) -> None:
        self.models.delete(model_id, force=force)

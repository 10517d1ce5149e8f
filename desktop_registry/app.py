"""Composition root: settings → stores → sources → services (→ window for the GUI).

The single place that wires collaborators together; nothing else builds services.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from desktop_registry.config import Settings
from desktop_registry.domain import Source
from desktop_registry.services.serving import ServingService
from desktop_registry.services.sync import OllamaSync
from desktop_registry.sources.ollama import OllamaSource
from desktop_registry.storage import Database, ModelRepository


@dataclass
class AppContext:
    """Everything a front end (CLI or window) needs, built once from Settings."""

    settings: Settings
    db: Database
    models: ModelRepository
    _sources: list[OllamaSource] = field(default_factory=list)

    def ollama(self) -> OllamaSource:
        source = OllamaSource(
            self.settings.ollama_url,
            timeout_s=self.settings.request_timeout_s,
            connect_timeout_s=self.settings.connect_timeout_s,
            max_connections=max(16, self.settings.sync_concurrency),
        )
        self._sources.append(source)
        return source

    def ollama_sync(self, source: OllamaSource | None = None) -> OllamaSync:
        return OllamaSync(
            source or self.ollama(), self.models, concurrency=self.settings.sync_concurrency
        )

    def serving(self) -> ServingService:
        """The one serving interface; remote sources register their backends here too."""
        return ServingService(self.models, {Source.OLLAMA: self.ollama()})

    async def aclose(self) -> None:
        for source in self._sources:
            await source.aclose()
        self._sources.clear()

    def close(self) -> None:
        self.db.dispose()


def build_context(settings: Settings | None = None, *, db_path: Path | None = None) -> AppContext:
    settings = settings or Settings()
    path = db_path or settings.db_path
    if db_path is None:
        settings.ensure_home()
    db = Database.open(path)
    return AppContext(settings=settings, db=db, models=ModelRepository(db))

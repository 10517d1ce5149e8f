"""The local server's models as Ollama's own commands see them: pull, rm, ps, stop.

One path for the window and the command line; a removal changes the registry only after the
server has let the model go, so the two never disagree about what is on disk.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

from desktop_registry.domain import ModelRecord, Source
from desktop_registry.domain.local import LoadedModel, PullProgress
from desktop_registry.errors import UserInputError
from desktop_registry.services.registry.browse import RegistryBrowser


class LocalServer(Protocol):
    async def loaded_models(self) -> list[LoadedModel]: ...

    async def unload(self, model: str) -> None: ...

    async def delete(self, name: str) -> None: ...

    def pull(self, name: str) -> AsyncIterator[PullProgress]: ...


def server_name(record: ModelRecord) -> str:
    return record.ollama_name or record.name


class LocalModels:
    def __init__(self, server: LocalServer, registry: RegistryBrowser) -> None:
        self.server = server
        self.registry = registry

    async def loaded(self) -> list[LoadedModel]:
        """What `ollama ps` lists: the models in memory now."""
        return await self.server.loaded_models()

    async def stop(self, model: str | int) -> ModelRecord:
        """Free a model's memory now, as `ollama stop` does (by name or registry id)."""
        record = self._local(model)
        await self.server.unload(server_name(record))
        return record

    async def remove(self, model: str | int, *, force: bool = False) -> ModelRecord:
        """Delete a local model from Ollama's disk, then from the registry. A base that variants
        derive from stays unless `force` (they are kept, without their parent)."""
        record = self._record(model)
        assert record.id is not None
        variants = self.registry.variants(record.id)
        if variants and not force:
            names = ", ".join(v.name for v in variants[:5])
            raise UserInputError(
                f"{len(variants)} model(s) derive from {record.name} ({names}). Remove it anyway "
                "with --force; they are kept without their parent."
            )
        if record.is_local and record.source is Source.OLLAMA:
            await self.server.delete(server_name(record))
        self.registry.delete(record.id, force=force)
        return record

    def _record(self, model: str | int) -> ModelRecord:
        return self.registry.get(model) if isinstance(model, int) else self.registry.resolve(model)

    def _local(self, model: str | int) -> ModelRecord:
        record = self._record(model)
        if not (record.is_local and record.source is Source.OLLAMA):
            raise UserInputError(
                f"{record.name} is a {record.source.value} model: only Ollama's own models are "
                "loaded into this machine's memory."
            )
        return record

"""Sync a model source into the registry: incremental by digest, one transaction per source.

Never deletes a model: what a source stops reporting is marked missing, so variants,
history and metrics that point at it survive.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Protocol

from desktop_registry.domain import Kind, ModelRecord, ModelStatus, SourceSyncError, SyncReport
from desktop_registry.domain.local import LocalModelSummary
from desktop_registry.errors import RegistryError, SourceUnreachableError
from desktop_registry.sources.ollama_records import ModelListing
from desktop_registry.storage.repository import KnownModel, ModelRepository


class LocalModelSource(Protocol):
    """What sync needs from a local server (sources/ollama.py provides it)."""

    name: str

    async def listing(self) -> ModelListing: ...

    async def describe(self, summary: LocalModelSummary) -> ModelRecord: ...


class OllamaSync:
    """Brings the registry in line with one Ollama server."""

    def __init__(
        self, source: LocalModelSource, repository: ModelRepository, *, concurrency: int = 8
    ) -> None:
        self.source = source
        self.repository = repository
        self.concurrency = max(1, concurrency)

    async def run(self) -> SyncReport:
        started = time.perf_counter()
        report = SyncReport(source=self.source.name)
        # Unreachable, or a reply that is not a model list → raises; nothing is touched.
        listing = await self.source.listing()
        known = self.repository.known_models(self.source.name)
        self._report_problems(listing, report)

        to_describe: list[LocalModelSummary] = []
        restored_ids: list[tuple[KnownModel, LocalModelSummary]] = []
        # A listed entry that could not be read still names a model the server has: that row
        # is left as it was, neither updated nor marked missing.
        seen: set[str] = {p.name for p in listing.problems if p.name}
        for summary in listing.models:
            if summary.name in seen:
                continue
            seen.add(summary.name)
            stored = known.get(summary.name)
            if stored is not None and stored.digest == summary.digest:
                if stored.status == ModelStatus.MISSING.value:
                    restored_ids.append((stored, summary))
                else:
                    report.unchanged += 1
                continue
            to_describe.append(summary)

        described = await self._describe_all(to_describe, report)
        upserts: list[ModelRecord] = []
        history: list[tuple[int | None, str, dict[str, object]]] = []
        for summary, record in described:
            stored = known.get(summary.name)
            if stored is None:
                report.added.append(record.name)
            else:
                record = record.model_copy(update={"id": stored.id, **self._kept(stored)})
                if stored.status == ModelStatus.MISSING.value:
                    report.restored.append(record.name)
                report.updated.append(record.name)
                history.append(
                    (stored.id, "digest_changed", {"from": stored.digest, "to": record.digest})
                )
            upserts.append(record)

        restore = [stored for stored, _ in restored_ids]
        # An entry without a name could be any model: then nobody can say what is missing.
        missing = [
            stored
            for name, stored in known.items()
            if listing.complete and name not in seen and stored.status != ModelStatus.MISSING.value
        ]
        report.missing = [m.name for m in missing]
        report.restored.extend(m.name for m in restore)
        history.extend((m.id, "missing", {"source": self.source.name}) for m in missing)
        history.extend((m.id, "restored", {"source": self.source.name}) for m in restore)

        self.repository.apply_sync(
            upserts=upserts,
            mark_missing=[m.id for m in missing],
            mark_available=[m.id for m in restore],
            history=history,
        )
        report.per_category = self.repository.primary_category_counts(
            source=self.source.name, status=ModelStatus.AVAILABLE.value
        )
        report.duration_s = time.perf_counter() - started
        return report

    def _report_problems(self, listing: ModelListing, report: SyncReport) -> None:
        for problem in listing.problems:
            if problem.name:
                message = f"{problem.problem} {problem.name} was left as it was."
            else:
                message = f"{problem.problem} It was skipped"
                message += (
                    "; no model is marked missing until every entry can be read."
                    if listing.models
                    else "."
                )
            report.errors.append(
                SourceSyncError(source=self.source.name, model=problem.name, message=message)
            )

    def _kept(self, stored: KnownModel) -> dict[str, object]:
        """What the registry knows that the server does not: a variant's kind, lineage, recipe."""
        if stored.kind == Kind.BASE.value:
            return {}
        current = self.repository.get(stored.id)
        return {
            "kind": current.kind,
            "parent_id": current.parent_id,
            "parameters": current.parameters,
            "description": current.description,
        }

    async def _describe_all(
        self, summaries: Sequence[LocalModelSummary], report: SyncReport
    ) -> list[tuple[LocalModelSummary, ModelRecord]]:
        if not summaries:
            return []
        gate = asyncio.Semaphore(self.concurrency)
        results: list[tuple[LocalModelSummary, ModelRecord]] = []

        async def describe(summary: LocalModelSummary) -> None:
            async with gate:
                report.show_calls += 1
                try:
                    record = await self.source.describe(summary)
                except SourceUnreachableError:
                    raise  # the server went away: abort, write nothing
                except RegistryError as exc:
                    report.errors.append(
                        SourceSyncError(
                            source=self.source.name, model=summary.name, message=str(exc)
                        )
                    )
                    return
            results.append((summary, record))

        try:
            async with asyncio.TaskGroup() as group:
                for summary in summaries:
                    group.create_task(describe(summary))
        except* SourceUnreachableError as failed:
            raise failed.exceptions[0] from None
        return results

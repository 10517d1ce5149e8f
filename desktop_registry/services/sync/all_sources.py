"""Sync every configured source at once: Ollama, GitHub Models and each OpenAI-compatible endpoint.

Never lets one failing source stop the others, and never reports a failed source as synced:
it is named in the merged SyncReport's `failed`, its reason in `errors`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Protocol

from desktop_registry.domain import SourceSyncError, SyncReport
from desktop_registry.domain.sync import SkippedSource
from desktop_registry.errors import RegistryError


class SourceSync(Protocol):
    async def run(self) -> SyncReport: ...


class SyncAll:
    """Runs each (label, sync) concurrently and merges their reports in the order given."""

    def __init__(
        self, syncs: Sequence[tuple[str, SourceSync]], skipped: Sequence[SkippedSource] = ()
    ) -> None:
        self.syncs = list(syncs)
        self.skipped = list(skipped)  # sources left out on purpose; the report says so

    async def run(self) -> SyncReport:
        started = time.perf_counter()
        results = await asyncio.gather(
            *(sync.run() for _, sync in self.syncs), return_exceptions=True
        )
        merged = SyncReport(skipped=self.skipped)
        unexpected: BaseException | None = None
        for (label, _), result in zip(self.syncs, results, strict=True):
            if isinstance(result, SyncReport):
                merged = merged.merge(result)
            elif isinstance(result, RegistryError):
                # The source failed as a whole: it is not named among those that synced.
                merged = merged.merge(
                    SyncReport(
                        failed=[label],
                        errors=[SourceSyncError(source=label, message=str(result))],
                    )
                )
            else:
                unexpected = unexpected or result
        if unexpected is not None:
            # A bug, not a source failure: the other sources have finished and written.
            raise unexpected
        merged.duration_s = time.perf_counter() - started
        return merged

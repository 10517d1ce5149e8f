"""The "sync" job: every configured source at once, its report in the job's log and result.

Never decides what to sync (all_sources.SyncAll does); never ends `succeeded` if a source failed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from desktop_registry.domain.sync import SyncReport
from desktop_registry.services.jobs.service import JobFailed, JobHandle, JobKind
from desktop_registry.services.sync.all_sources import SyncAll


def sync_job_kind(build_sync: Callable[[], SyncAll]) -> JobKind:
    async def run(handle: JobHandle) -> dict[str, Any]:
        handle.progress(None, "Syncing every configured source…")
        report: SyncReport = await build_sync().run()
        summary = report.counts()
        if report.source:
            handle.log(f"Synced {report.source}: {summary}")
        for error in report.errors:
            handle.log(f"error: {error.model or error.source}: {error.message}")
        for skipped in report.skipped:
            handle.log(f"note: {skipped.message()}")
        if report.errors:
            first = report.errors[0]
            summary += f" — {len(report.errors)} error(s): {first.message}"
        if report.skipped:  # the window's status bar shows the summary
            summary += " — " + " ".join(s.message() for s in report.skipped)
        if report.failed:
            # No "partly done" state: a sync that left a source out failed, and says what did
            # sync (kept in the result) so the window never shows it as a clean success.
            reasons = "; ".join(f"{e.source}: {e.message}" for e in report.errors if not e.model)
            raise JobFailed(
                f"{report.outcome()} — {reasons}", result=report.model_dump(mode="json")
            )
        handle.progress(1.0, summary)
        return report.model_dump(mode="json")

    return JobKind("sync", run, resumable=True)

"""The "evaluation" job kind: a prepared run executed (or resumed) under the Jobs panel.

Never re-asks a stored row: resuming the job finishes only what the killed attempt left.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from desktop_registry.errors import UserInputError
from desktop_registry.services.evaluation.runner import EvaluationRunner, RunProgress
from desktop_registry.services.jobs.service import JobHandle, JobKind


def evaluation_job_kind(build_runner: Callable[[], EvaluationRunner]) -> JobKind:
    async def run(handle: JobHandle) -> dict[str, Any]:
        run_id = handle.params.get("run_id")
        if not isinstance(run_id, int):
            raise UserInputError("An evaluation job needs the run id it was prepared with.")
        runner = build_runner()

        def progress(p: RunProgress) -> None:
            handle.progress(p.done / p.total if p.total else None, f"{p.done}/{p.total} rows")

        summaries = await runner.run(run_id, on_progress=progress)
        for s in summaries:
            handle.log(
                f"{s.model}: {s.passed}/{s.rows} passed, {s.errors} errors, "
                f"p50 {s.latency_p50_ms or 0:.0f} ms"
            )
        return {"run_id": run_id, "models": [s.as_json() for s in summaries]}

    return JobKind("evaluation", run, resumable=True)

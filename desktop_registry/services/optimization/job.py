"""The "optimization" job kind: a study run (or resumed) under the Jobs panel.

Never loses a finished trial: resuming the job carries on in the same Optuna study.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from desktop_registry.domain.optimization import StudyRequest, TrialProgress
from desktop_registry.errors import UserInputError
from desktop_registry.services.jobs.service import JobHandle, JobKind
from desktop_registry.services.optimization.service import OptimizationService


def progress_line(p: TrialProgress) -> str:
    best = (
        f"best {p.best_value:.4g}"
        if p.best_value is not None
        else (f"front {p.best_values}" if p.best_values else "no best yet")
    )
    eta = f", ETA {p.eta_s:.0f} s" if p.eta_s is not None else ""
    return f"trial {p.finished} of {p.total}: {best}{eta}"


def optimization_job_kind(build: Callable[[], OptimizationService]) -> JobKind:
    """params: {"request": StudyRequest as JSON} to start, {"study", "storage"} once prepared."""

    async def run(handle: JobHandle) -> dict[str, Any]:
        service = build()
        study = handle.params.get("study") or handle.previous_result.get("study")
        storage = handle.params.get("storage")
        if not study:
            raw = handle.params.get("request")
            if not isinstance(raw, dict):
                raise UserInputError("An optimization job needs a study request.")
            request = StudyRequest.model_validate(raw)
            if not request.study_name:  # a fixed name, so a resumed attempt joins the same study
                safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.model).strip("-")
                request.study_name = f"{safe}-{request.strategy.value}-job{handle.id}"
            study, storage = service.prepare(request), request.storage
            handle.log(f"Study {study} in {service.summary(study, storage).storage}.")
        elif handle.attempt > 1:
            handle.log(f"Resuming study {study}: dead trials are failed and asked again.")

        def on_trial(p: TrialProgress) -> None:
            handle.progress(
                p.finished / p.total if p.total else None,
                progress_line(p),
                trial=p.trial.model_dump(mode="json"),
                best_params=p.best_params,
            )
            handle.log(f"trial {p.trial.number} {p.trial.state.value}: {p.trial.values}")

        summary = await service.run(str(study), storage=storage, on_trial=on_trial)
        warning = await service.log_to_mlflow(summary)
        if warning.startswith("study summary not logged"):
            handle.log(warning)
        elif warning:
            handle.log(f"Summary logged to MLflow (run {warning}).")
        return {**summary.as_json(), "study": summary.study}

    return JobKind("optimization", run, resumable=True)

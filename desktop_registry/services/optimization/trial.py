"""One trial: an evaluation-suite run of the model with the trial's options, row by row.

Runs through services/evaluation (its per-source concurrency limits and per-row storage);
never writes the trial's figures as the model's own performance (they belong to the study).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from desktop_registry.domain import ModelRecord
from desktop_registry.services.evaluation.runner import EvaluationRunner, RunProgress
from desktop_registry.services.evaluation.suite import EvalSuite
from desktop_registry.services.evaluation.summary import ModelSummary
from desktop_registry.storage.evaluation_repository import EvalRun

# Reports the running value after each finished row; answers True when the trial should stop.
RowReport = Callable[[float, int], bool]
MemoryProbe = Callable[[ModelRecord, Mapping[str, Any]], Awaitable[float | None]]


@dataclass
class TrialSuite(EvalSuite):
    """The suite as written, with the trial's options over its own modelParameters."""

    trial_options: dict[str, Any] = field(default_factory=dict)

    def options(self) -> dict[str, Any]:
        return {**super().options(), **self.trial_options}


class TrialEvaluation(EvaluationRunner):
    """The app's evaluation runner, serving the suite with the trial's options; the study's
    figures stay in the study (no model_performance rows, no MLflow metrics per trial)."""

    def __init__(
        self, base: EvaluationRunner, suite: EvalSuite, options: Mapping[str, Any]
    ) -> None:
        super().__init__(base.models, base.serving, base.store, limits=base.limits, tracker=None)
        fields = {f.name: getattr(suite, f.name) for f in dataclasses.fields(EvalSuite)}
        self._suite = TrialSuite(**fields, trial_options=dict(options))

    def suite(self, name: str) -> EvalSuite:
        return self._suite

    async def _record(self, run: EvalRun, summaries: Any) -> list[str]:
        return []


@dataclass
class TrialOutcome:
    run_id: int
    metrics: dict[str, float | None]
    rows_done: int
    rows_total: int
    stopped: bool  # the pruner (or a cancel) stopped it before every row was asked
    errors: int


def _running_metric(metric: str, scores: list[float], latencies: list[float]) -> float | None:
    if metric == "quality":
        return sum(scores) / len(scores) if scores else None
    if metric == "latency_p50_ms" and latencies:
        ordered = sorted(latencies)
        return ordered[len(ordered) // 2]
    return None


async def run_trial(
    runner: EvaluationRunner,
    suite: EvalSuite,
    record: ModelRecord,
    options: Mapping[str, Any],
    *,
    report_metric: str = "quality",
    on_row: RowReport | None = None,
    cancel: asyncio.Event | None = None,
    memory: MemoryProbe | None = None,
) -> TrialOutcome:
    """Ask every row (pruning may stop it early) and measure what the objectives need."""
    evaluation = TrialEvaluation(runner, suite, options)
    rows = len(suite.rows())
    run = evaluation.store.create_run(
        "optimization-trial",
        suite.name,
        [record.name],
        {"model_ids": [record.id], "options": dict(options), "judge": ""},
        rows,
    )
    stop = asyncio.Event()
    scores: list[float] = []
    latencies: list[float] = []

    def progress(p: RunProgress) -> None:
        if p.last is not None:
            scores.append(p.last.score if p.last.score is not None else 0.0)
            if p.last.latency_s is not None:
                latencies.append(p.last.latency_s * 1000.0)
        value = _running_metric(report_metric, scores, latencies)
        asked = on_row is not None and value is not None and p.done < p.total
        if asked and not stop.is_set() and on_row(value, len(scores)):  # type: ignore[misc,arg-type]
            stop.set()

    async def watch_cancel() -> None:
        if cancel is not None:
            await cancel.wait()
            stop.set()

    watcher = asyncio.ensure_future(watch_cancel())
    try:
        summaries = await evaluation.run(run.id, on_progress=progress, cancel=stop)
    finally:
        watcher.cancel()
    summary: ModelSummary = summaries[0]
    metrics: dict[str, float | None] = {
        "quality": summary.mean_score,
        "latency_p50_ms": summary.latency_p50_ms,
        "tokens_per_s": summary.tokens_per_s,
        "pass_rate": summary.pass_rate,
        "memory_bytes": None,
    }
    if memory is not None and not stop.is_set():
        metrics["memory_bytes"] = await memory(record, options)
    return TrialOutcome(
        run_id=run.id,
        metrics=metrics,
        rows_done=summary.rows,
        rows_total=rows,
        stopped=stop.is_set(),
        errors=summary.errors,
    )


def ollama_memory_probe(ollama: Callable[[], Any]) -> MemoryProbe:
    """Memory of an Ollama model as `/api/ps` reports it right after the trial (at its num_ctx);
    None for other servers, which do not say."""

    async def probe(record: ModelRecord, options: Mapping[str, Any]) -> float | None:
        if record.source.value != "ollama":
            return None
        wanted = record.ollama_name or record.name
        for loaded in await ollama().loaded_models():
            if loaded.name in (wanted, f"{wanted}:latest"):
                return float(loaded.size_bytes)
        return None

    return probe

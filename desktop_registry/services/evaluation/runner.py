"""Runs one suite across many models (local and remote) with bounded concurrency per source.

Every finished row is stored at once (the per-row table is the truth for resume); never runs a
stored row twice, never lets one model's failure stop the others.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from desktop_registry.domain import ModelRecord, PerformanceMetric
from desktop_registry.domain.chat import ChatChunk, ChatMessage, ToolCall
from desktop_registry.errors import NotFoundError, RegistryError, UserInputError
from desktop_registry.services.evaluation.scorers import Reply, Score, score
from desktop_registry.services.evaluation.suite import EvalSuite, parse_prompt_yml
from desktop_registry.services.evaluation.summary import ModelSummary, summarize
from desktop_registry.storage.evaluation_repository import (
    EvalRun,
    EvaluationRepository,
    RowResult,
)
from desktop_registry.storage.repository import ModelRepository

# Requests in flight per source when the caller names no limit (the app passes
# Settings.eval_concurrency instead). GitHub Models also has its own per-tier gate in the adapter.
DEFAULT_LIMITS: dict[str, int] = {
    "ollama": 4,
    "github_models": 2,
    "openai_compatible": 4,
    "mlflow": 2,
}


class Serving(Protocol):
    def chat(
        self,
        model: ModelRecord | str,
        messages: Sequence[ChatMessage],
        *,
        options: Mapping[str, Any] | None = None,
        think: bool | None = None,
        tools: Sequence[Mapping[str, Any]] | None = None,
        response_format: Mapping[str, Any] | None = None,
    ) -> AsyncIterator[ChatChunk]: ...

    async def embed(
        self, model: ModelRecord | str, inputs: str | Sequence[str]
    ) -> list[list[float]]: ...


class MetricsTracker(Protocol):
    def log_metrics(self, run_id: str, metrics: Mapping[str, float], step: int = 0) -> None: ...


@dataclass(frozen=True)
class RunProgress:
    run_id: int
    done: int
    total: int
    last: RowResult | None = None


ProgressCallback = Callable[[RunProgress], None]


def per_source_limits(limits: Mapping[str, int] | int | None) -> dict[str, int]:
    """One number (Settings.eval_concurrency, `--concurrency`) bounds every source alike; a
    mapping overrides the defaults source by source."""
    if isinstance(limits, int):
        return {key: limits for key in DEFAULT_LIMITS}
    return {**DEFAULT_LIMITS, **dict(limits or {})}


def source_key(record: ModelRecord) -> str:
    """Concurrency is bounded per source; each OpenAI-compatible endpoint is its own source."""
    if record.provider:
        return f"{record.source.value}:{record.provider}"
    return record.source.value


class ServingHelper:
    """Judge and embedder calls for model-graded scorers, through the same serving interface."""

    def __init__(self, serving: Serving) -> None:
        self.serving = serving

    async def complete(self, model: str, system: str, prompt: str) -> str:
        messages = [ChatMessage(role="system", content=system)] if system else []
        messages.append(ChatMessage(role="user", content=prompt))
        parts = [c.content async for c in self.serving.chat(model, messages)]
        return "".join(parts)

    async def embed(self, model: str, texts: Sequence[str]) -> list[list[float]]:
        return await self.serving.embed(model, list(texts))


async def answer(
    serving: Serving,
    record: ModelRecord,
    messages: Sequence[ChatMessage],
    *,
    options: Mapping[str, Any] | None = None,
    tools: Sequence[Mapping[str, Any]] | None = None,
    response_format: Mapping[str, Any] | None = None,
) -> tuple[Reply, RowResult]:
    """Ask one model; the RowResult carries timing (and the error, if the call failed)."""
    text: list[str] = []
    calls: list[ToolCall] = []
    started = time.perf_counter()
    result = RowResult(
        model_id=record.id or 0,
        model_name=record.name,
        model_version=record.version,
        row_index=-1,
        status="passed",
    )
    try:
        stream = serving.chat(
            record,
            messages,
            options=options or None,
            tools=tools,
            response_format=response_format,
        )
        async for chunk in stream:
            text.append(chunk.content)
            calls.extend(chunk.tool_calls)
            if chunk.done and chunk.usage is not None:
                u = chunk.usage
                result.latency_s = u.wall_s
                result.ttft_s = u.ttft_s
                result.tokens_per_s = u.tokens_per_s
                result.prompt_tokens = u.prompt_tokens
                result.completion_tokens = u.completion_tokens
    except RegistryError as exc:
        result.status, result.error = "error", str(exc)
    if result.latency_s is None:
        result.latency_s = time.perf_counter() - started
    reply = Reply("".join(text).strip(), calls)
    result.response = reply.text or (
        "; ".join(f"{c.name}({c.arguments})" for c in calls) if calls else ""
    )
    return reply, result


class EvaluationRunner:
    def __init__(
        self,
        models: ModelRepository,
        serving: Serving,
        store: EvaluationRepository,
        *,
        limits: Mapping[str, int] | int | None = None,
        tracker: MetricsTracker | None = None,
    ) -> None:
        self.models = models
        self.serving = serving
        self.store = store
        self.limits = per_source_limits(limits)
        self.tracker = tracker
        self.helper = ServingHelper(serving)

    def limit_for(self, key: str) -> int:
        return max(1, self.limits.get(key, self.limits.get(key.split(":")[0], 4)))

    # ----- suites -------------------------------------------------------------------------
    def suite(self, name: str) -> EvalSuite:
        stored = self.store.suite(name)
        if stored is None:
            known = ", ".join(s.name for s in self.store.suites()) or "none yet"
            raise NotFoundError(f"No suite named {name!r} (known: {known}). Import it first.")
        return parse_prompt_yml(stored.source_text, origin=name)

    # ----- runs ---------------------------------------------------------------------------
    def prepare(
        self, suite_name: str, model_names: Sequence[str], *, judge: str | None = None
    ) -> EvalRun:
        """Check the suite and every model now, so a typo fails before any request is sent."""
        suite = self.suite(suite_name)
        if not model_names:
            raise UserInputError("models: name at least one model to evaluate.")
        records = [self.models.resolve(name) for name in model_names]
        if judge:
            self.models.resolve(judge)
        return self.store.create_run(
            "eval",
            suite.name,
            [r.name for r in records],
            {"judge": judge or "", "model_ids": [r.id for r in records]},
            len(suite.rows()) * len(records),
        )

    async def run(
        self,
        run_id: int,
        *,
        on_progress: ProgressCallback | None = None,
        cancel: asyncio.Event | None = None,
    ) -> list[ModelSummary]:
        """Run (or resume) a run: only rows not stored yet are asked; summaries at the end."""
        run = self.store.run(run_id)
        suite = self.suite(run.suite_name)
        records = [self.models.get(int(i)) for i in run.params.get("model_ids", [])]
        judge = str(run.params.get("judge") or "") or None
        rows = suite.rows()
        done = self.store.done_rows(run_id)
        pending: dict[str, list[tuple[ModelRecord, int]]] = {}
        for index in range(len(rows)):  # row-major: a partial run has rows of every model
            for record in records:
                if (record.id or 0, index) not in done:
                    pending.setdefault(source_key(record), []).append((record, index))
        counter = {"done": len(done)}
        total = len(rows) * len(records)
        self.store.set_state(run_id, "running")
        stop = cancel or asyncio.Event()

        async def worker(queue: list[tuple[ModelRecord, int]]) -> None:
            while queue and not stop.is_set():
                record, index = queue.pop(0)
                result = await self._one(suite, record, rows[index], index, judge)
                if self.store.add_result(run_id, result):
                    counter["done"] += 1
                if on_progress is not None:
                    on_progress(RunProgress(run_id, counter["done"], total, result))

        workers = [
            worker(queue)
            for key, queue in pending.items()
            for _ in range(min(self.limit_for(key), len(queue)))
        ]
        try:
            await asyncio.gather(*workers)
        except asyncio.CancelledError:
            self.store.set_state(run_id, "cancelled")
            raise
        if stop.is_set() and counter["done"] < total:
            self.store.set_state(run_id, "cancelled")
            return self.summaries(run_id)
        summaries = self.summaries(run_id)
        warnings = await self._record(run, summaries)
        self.store.set_state(
            run_id,
            "finished",
            summary={"models": [s.as_json() for s in summaries], "warnings": warnings},
        )
        return summaries

    async def _one(
        self,
        suite: EvalSuite,
        record: ModelRecord,
        row: Mapping[str, Any],
        index: int,
        judge: str | None,
    ) -> RowResult:
        messages = [ChatMessage(role=m.role, content=m.content) for m in suite.chat_messages(row)]
        reply, result = await answer(
            self.serving,
            record,
            messages,
            options=suite.options(),
            tools=suite.tools or None,
            response_format=suite.request_format(),
        )
        result.row_index = index
        if result.status == "error":
            return result
        scores: list[Score] = [
            await score(
                spec, row, reply, self.helper, suite_schema=suite.json_schema, judge_model=judge
            )
            for spec in suite.evaluators
        ]
        result.evaluations = [s.as_json() for s in scores]
        valid = [s.score for s in scores if not s.error]
        result.score = sum(valid) / len(valid) if valid else (None if scores else 1.0)
        errors = [f"{s.evaluator}: {s.error}" for s in scores if s.error]
        if errors:
            result.status, result.error = "error", "; ".join(errors)
        else:
            result.status = "passed" if all(s.passed for s in scores) else "failed"
        return result

    def summaries(self, run_id: int) -> list[ModelSummary]:
        run = self.store.run(run_id)
        results = self.store.results(run_id)
        per_model = run.total_rows // max(1, len(run.models))
        out = []
        for model_id in run.params.get("model_ids", []):
            mine = [r for r in results if r.model_id == model_id]
            name = mine[0].model_name if mine else self.models.get(int(model_id)).name
            out.append(summarize(name, mine, expected_rows=per_model))
        return out

    async def _record(self, run: EvalRun, summaries: Sequence[ModelSummary]) -> list[str]:
        """model_performance rows for the charts; MLflow metrics for tracked variants."""
        warnings: list[str] = []
        for model_id, summary in zip(run.params.get("model_ids", []), summaries, strict=False):
            record = self.models.get(int(model_id))
            metrics = {f"eval/{run.suite_name}/{k}": v for k, v in summary.metrics().items()}
            self.models.record_performance(
                int(model_id),
                [
                    PerformanceMetric(
                        metric=k,
                        value=v,
                        version=record.version,
                        run_id=f"eval-{run.id}",
                        notes=f"suite {run.suite_name}",
                    )
                    for k, v in metrics.items()
                ],
            )
            warning = await log_to_mlflow(self.tracker, record, metrics)
            if warning:
                warnings.append(warning)
        return warnings


async def log_to_mlflow(
    tracker: MetricsTracker | None, record: ModelRecord, metrics: Mapping[str, float]
) -> str:
    """A variant's own MLflow run gets the metrics too; a failure is a warning, not a loss."""
    tracking = record.parameters.get("mlflow")
    run_id = tracking.get("run_id") if isinstance(tracking, dict) else None
    if tracker is None or not run_id:
        return ""
    clean = {k.replace("@", "_at_"): v for k, v in metrics.items()}
    try:
        await asyncio.to_thread(tracker.log_metrics, str(run_id), clean)
    except RegistryError as exc:
        return f"{record.name}: metrics not logged to MLflow ({exc})"
    return ""

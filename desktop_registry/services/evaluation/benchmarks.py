"""Standard benchmarks per category: text speed, embedding throughput + retrieval quality,
multimodal captioning. Figures go to model_performance (and a variant's MLflow run).

Requests run one at a time per model so latencies are not distorted by our own load; a failed
request is counted in the error rate, never hidden.
"""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from desktop_registry.domain import ModelRecord, PerformanceMetric
from desktop_registry.domain.chat import ChatMessage
from desktop_registry.errors import RegistryError, UserInputError
from desktop_registry.services.evaluation.catalog import retrieval_set, shipped_dir
from desktop_registry.services.evaluation.runner import (
    MetricsTracker,
    Serving,
    answer,
    log_to_mlflow,
)
from desktop_registry.services.evaluation.scorers import cosine
from desktop_registry.services.evaluation.summary import percentile
from desktop_registry.storage.evaluation_repository import EvaluationRepository, RowResult
from desktop_registry.storage.repository import ModelRepository

# Documented task prefixes of embedding models that expect them (query, document).
EMBEDDING_PREFIXES: dict[str, tuple[str, str]] = {
    "nomic-embed-text": ("search_query: ", "search_document: "),
}
KS = (1, 5, 10)
WORD = re.compile(r"[a-z0-9]+")


@dataclass
class BenchmarkReport:
    model: str
    version: str
    kinds: list[str] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    run_id: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "version": self.version,
            "kinds": self.kinds,
            "metrics": self.metrics,
            "errors": self.errors,
            "run_id": self.run_id,
        }


def embedding_prefixes(record: ModelRecord) -> tuple[str, str]:
    params = record.parameters
    if "query_prefix" in params or "document_prefix" in params:
        return str(params.get("query_prefix", "")), str(params.get("document_prefix", ""))
    base = (record.ollama_name or record.name).split(":")[0].split("/")[-1]
    return EMBEDDING_PREFIXES.get(base, ("", ""))


def retrieval_quality(
    query_vectors: Sequence[Sequence[float]],
    doc_vectors: Sequence[Sequence[float]],
    relevant: Sequence[set[int]],
    ks: Sequence[int] = KS,
) -> dict[str, float]:
    """recall@k (share of each query's relevant documents in its top k, averaged) and MRR.

    Ties keep document order, so equal scores give the same ranking every time.
    """
    recalls = {k: 0.0 for k in ks}
    reciprocal = 0.0
    for qv, wanted in zip(query_vectors, relevant, strict=True):
        scores = [cosine(qv, dv) for dv in doc_vectors]
        ranking = sorted(range(len(doc_vectors)), key=lambda i: (-scores[i], i))
        for k in ks:
            recalls[k] += len(wanted & set(ranking[:k])) / max(1, len(wanted))
        first = next((pos for pos, i in enumerate(ranking, 1) if i in wanted), None)
        reciprocal += 1.0 / first if first else 0.0
    n = max(1, len(relevant))
    return {**{f"recall@{k}": recalls[k] / n for k in ks}, "mrr": reciprocal / n}


def token_f1(candidate: str, reference: str) -> float:
    a, b = WORD.findall(candidate.lower()), WORD.findall(reference.lower())
    if not a or not b:
        return 0.0
    common = sum(min(a.count(w), b.count(w)) for w in set(a))
    if not common:
        return 0.0
    precision, recall = common / len(a), common / len(b)
    return 2 * precision * recall / (precision + recall)


def load_prompts() -> list[str]:
    path = shipped_dir() / "benchmark_prompts.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    return [str(p) for p in data["prompts"]]


def load_captions() -> list[tuple[Path, list[str]]]:
    folder = shipped_dir() / "images"
    data = json.loads((folder / "captions.json").read_text(encoding="utf-8"))
    return [(folder / item["file"], [str(r) for r in item["references"]]) for item in data]


class BenchmarkService:
    def __init__(
        self,
        models: ModelRepository,
        serving: Serving,
        store: EvaluationRepository,
        *,
        tracker: MetricsTracker | None = None,
        repeats: int = 2,
    ) -> None:
        self.models = models
        self.serving = serving
        self.store = store
        self.tracker = tracker
        self.repeats = repeats

    async def run(
        self,
        model_names: Sequence[str],
        *,
        versions: Mapping[str, str] | None = None,
        notes: str = "",
        on_progress: Callable[[str], None] | None = None,
    ) -> list[BenchmarkReport]:
        """Benchmark each model with the sets its capabilities call for; `versions` labels a
        model's rows (a slot version) instead of the model's own version."""
        if not model_names:
            raise UserInputError("models: name at least one model to benchmark.")
        records = [self.models.resolve(n) for n in model_names]
        run = self.store.create_run(
            "benchmark",
            "benchmark",
            [r.name for r in records],
            {"model_ids": [r.id for r in records]},
            0,
        )
        reports = []
        for record in records:
            version = (versions or {}).get(record.name, record.version)
            report = BenchmarkReport(record.name, version, run_id=run.id)
            if on_progress:
                on_progress(f"Benchmarking {record.name}…")
            caps = set(record.capabilities)
            if "embedding" in caps and "completion" not in caps:
                await self._embedding(record, report)
            else:
                await self._text(record, report, run.id)
                if "vision" in caps:
                    await self._captions(record, report)
            await self._record(record, report, notes)
            reports.append(report)
        self.store.set_state(
            run.id, "finished", summary={"reports": [r.as_json() for r in reports]}
        )
        return reports

    async def _text(self, record: ModelRecord, report: BenchmarkReport, run_id: int) -> None:
        report.kinds.append("text")
        rows: list[RowResult] = []
        prompts = load_prompts() * self.repeats
        for index, prompt in enumerate(prompts):
            _, result = await answer(
                self.serving,
                record,
                [ChatMessage(role="user", content=prompt)],
                options={"num_predict": 128},
            )
            result.row_index = index
            result.score = None if result.status == "error" else 1.0
            self.store.add_result(run_id, result)
            rows.append(result)
            if result.error and len(report.errors) < 3:
                report.errors.append(result.error)
        ok = [r for r in rows if r.status != "error"]
        lat = [r.latency_s * 1000 for r in ok if r.latency_s is not None]
        wall_speed = [
            r.completion_tokens / (r.latency_s - (r.ttft_s or 0.0))
            for r in ok
            if r.completion_tokens and r.latency_s and r.latency_s > (r.ttft_s or 0.0)
        ]
        figures: dict[str, float | None] = {
            "latency_ms": percentile(lat, 50),
            "latency_p95_ms": percentile(lat, 95),
            "ttft_ms": percentile([r.ttft_s * 1000 for r in ok if r.ttft_s is not None], 50),
            "tokens_per_s": _mean([r.tokens_per_s for r in ok if r.tokens_per_s]),
            "tokens_per_s_wall": _mean(wall_speed),
            "error_rate": (len(rows) - len(ok)) / len(rows) if rows else 0.0,
        }
        report.metrics.update({k: float(v) for k, v in figures.items() if v is not None})

    async def _embedding(self, record: ModelRecord, report: BenchmarkReport) -> None:
        report.kinds.append("embedding")
        data = retrieval_set()
        docs = [str(d["text"]) for d in data["documents"]]  # type: ignore[attr-defined]
        ids = [str(d["id"]) for d in data["documents"]]  # type: ignore[attr-defined]
        queries = list(data["queries"])  # type: ignore[call-overload]
        query_prefix, doc_prefix = embedding_prefixes(record)
        try:
            started = time.perf_counter()
            doc_vectors = await self.serving.embed(record, [doc_prefix + d for d in docs])
            elapsed = time.perf_counter() - started
            query_vectors = await self.serving.embed(
                record, [query_prefix + str(q["text"]) for q in queries]
            )
        except RegistryError as exc:
            report.errors.append(str(exc))
            report.metrics["error_rate"] = 1.0
            return
        relevant = [{ids.index(r) for r in q["relevant"] if r in ids} for q in queries]
        report.metrics["embed_texts_per_s"] = len(docs) / elapsed if elapsed > 0 else 0.0
        report.metrics.update(retrieval_quality(query_vectors, doc_vectors, relevant))
        report.metrics["error_rate"] = 0.0

    async def _captions(self, record: ModelRecord, report: BenchmarkReport) -> None:
        report.kinds.append("multimodal")
        scores: list[float] = []
        for path, references in load_captions():
            image = base64.b64encode(path.read_bytes()).decode("ascii")
            message = ChatMessage(
                role="user", content="Describe this image in one short sentence.", images=[image]
            )
            reply, result = await answer(self.serving, record, [message])
            if result.status == "error":
                report.errors.append(f"{path.name}: {result.error}")
                continue
            scores.append(max(token_f1(reply.text, ref) for ref in references))
        if scores:
            report.metrics["caption_score"] = sum(scores) / len(scores)
            report.metrics["caption_pass_rate"] = sum(s >= 0.5 for s in scores) / len(scores)

    async def _record(self, record: ModelRecord, report: BenchmarkReport, notes: str) -> None:
        assert record.id is not None
        self.models.record_performance(
            record.id,
            [
                PerformanceMetric(
                    metric=k,
                    value=v,
                    version=report.version,
                    run_id=f"bench-{report.run_id}",
                    notes=notes or "benchmark",
                )
                for k, v in report.metrics.items()
            ],
        )
        warning = await log_to_mlflow(self.tracker, record, report.metrics)
        if warning:
            report.errors.append(warning)


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None

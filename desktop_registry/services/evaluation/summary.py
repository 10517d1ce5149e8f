"""Summaries of stored result rows: pass rate, mean score, latency p50/p95, TTFT, tokens/s, errors.

Pure arithmetic over rows; never reads or writes anything.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from desktop_registry.storage.evaluation_repository import RowResult


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolated percentile (q in 0..100), None for no values."""
    data = sorted(values)
    if not data:
        return None
    pos = (len(data) - 1) * q / 100
    low, high = math.floor(pos), math.ceil(pos)
    return data[low] + (data[high] - data[low]) * (pos - low)


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


@dataclass(frozen=True)
class ModelSummary:
    model: str
    rows: int
    expected_rows: int
    passed: int
    failed: int
    errors: int
    pass_rate: float
    mean_score: float | None
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    ttft_ms: float | None
    tokens_per_s: float | None
    error_rate: float

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    def metrics(self) -> dict[str, float]:
        """The figures worth charting, without the missing ones."""
        values = {
            "pass_rate": self.pass_rate,
            "mean_score": self.mean_score,
            "latency_ms": self.latency_p50_ms,
            "latency_p95_ms": self.latency_p95_ms,
            "ttft_ms": self.ttft_ms,
            "tokens_per_s": self.tokens_per_s,
            "error_rate": self.error_rate,
        }
        return {k: float(v) for k, v in values.items() if v is not None}


def summarize(model: str, rows: Sequence[RowResult], *, expected_rows: int = 0) -> ModelSummary:
    answered = [r for r in rows if r.status != "error" or r.response]
    latencies = [r.latency_s * 1000 for r in answered if r.latency_s is not None]
    ttfts = [r.ttft_s * 1000 for r in answered if r.ttft_s is not None]
    speeds = [r.tokens_per_s for r in answered if r.tokens_per_s]
    scores = [r.score for r in rows if r.score is not None]
    passed = sum(r.status == "passed" for r in rows)
    failed = sum(r.status == "failed" for r in rows)
    errors = sum(r.status == "error" for r in rows)
    n = len(rows)
    return ModelSummary(
        model=model,
        rows=n,
        expected_rows=expected_rows or n,
        passed=passed,
        failed=failed,
        errors=errors,
        pass_rate=passed / n if n else 0.0,
        mean_score=_mean(scores),
        latency_p50_ms=percentile(latencies, 50),
        latency_p95_ms=percentile(latencies, 95),
        ttft_ms=percentile(ttfts, 50),
        tokens_per_s=_mean(speeds),
        error_rate=errors / n if n else 0.0,
    )

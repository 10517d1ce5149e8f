"""What the Compare panel offers: which models can run a suite (and why not), which metrics are
worth listing, and which one to chart first (the suite's score, else the one that differs most).

Pure decisions over records and stored figures; never runs anything or draws.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence

from desktop_registry.domain import ModelRecord
from desktop_registry.services.evaluation.suite import EvalSuite
from desktop_registry.ui.metric_format import is_score, metric_parts

# What to chart when a model set has no suite score: speed first, then latency.
PREFERRED = ("tokens_per_s", "latency_ms", "ttft_ms", "recall@1", "embed_texts_per_s")
Latest = Mapping[str, Mapping[str, float]]  # model name → metric → newest value


def why_not(record: ModelRecord, suite: EvalSuite | None) -> str:
    """Why `record` cannot run `suite` (or, without one, be benchmarked); "" when it can."""
    if record.status.value == "missing":
        return "missing at its source"
    if record.status.value == "unavailable":
        return "its source refuses to serve it"
    if suite is None:
        return ""
    caps = set(record.capabilities)
    if caps and "completion" not in caps:
        return "an embedding model: it cannot answer a chat suite"
    if suite.tools and record.is_local and caps and "tools" not in caps:
        return "no tool calling, which this suite needs"
    return ""


def listed_metrics(names: Sequence[str], latest: Latest) -> list[str]:
    """Metrics some chosen model has a figure for, leaving out ones that say nothing: a rate or
    count that is zero for everyone (no errors anywhere) — a score of zero is kept."""
    present: dict[str, list[float]] = {}
    for name in names:
        for metric, value in latest.get(name, {}).items():
            present.setdefault(metric, []).append(value)
    kept = [m for m, values in present.items() if is_score(m) or any(v != 0 for v in values)]
    return sorted(kept, key=lambda m: (not m.startswith("eval/"), m))


def default_metric(metrics: Sequence[str], latest: Latest, suite: str = "") -> str:
    """The chart to open on: the chosen suite's score, another suite's score, then the metric
    whose figures differ most across the models (an all-equal one says nothing)."""
    if not metrics:
        return ""
    for bare in ("pass_rate", "mean_score"):
        wanted = f"eval/{suite}/{bare}"
        if suite and wanted in metrics:
            return wanted
    scores = [m for m in metrics if is_score(m)]
    if scores:
        return max(scores, key=lambda m: (_spread(m, latest), m.endswith("pass_rate")))
    for bare in PREFERRED:
        if bare in metrics and _spread(bare, latest) > 0:
            return bare
    return max(metrics, key=lambda m: _spread(m, latest))


def _spread(metric: str, latest: Latest) -> float:
    """How much the models differ on `metric`, relative to its size (0 when all equal)."""
    values = [v[metric] for v in latest.values() if metric in v]
    if len(values) < 2:
        return 0.0
    mean = statistics.fmean(abs(v) for v in values) or 1.0
    return statistics.pstdev(values) / mean


def same_group(metric: str, other: str) -> bool:
    return metric_parts(metric)[0] == metric_parts(other)[0]

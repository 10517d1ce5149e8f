"""How a stored metric reads to a person: its group (suite), name in words and unit ("412 ms",
"80 %", "38.1 tok/s"), shared by the inspector, the Compare panel and its charts.

Pure text; never reads the registry or draws anything.
"""

from __future__ import annotations

BENCHMARK_GROUP = "Benchmark"
LABELS = {
    "latency_ms": "Latency (median)",
    "latency_p95_ms": "Latency (p95)",
    "ttft_ms": "Time to first token",
    "ttft_s": "Time to first token",
    "tokens_per_s": "Generation speed",
    "tokens_per_s_wall": "Speed incl. prompt",
    "embed_texts_per_s": "Embedding speed",
    "pass_rate": "Passed",
    "caption_pass_rate": "Captions passed",
    "error_rate": "Errors",
    "mean_score": "Mean score",
    "caption_score": "Caption score",
    "performance_score": "Performance score",
    "mrr": "MRR",
    "wall_s": "Wall time",
}


def metric_parts(name: str) -> tuple[str, str]:
    """(group, metric) of a stored metric name: "eval/General QA/latency_ms" → ("General QA",
    "latency_ms"); a bare benchmark metric is in the Benchmark group."""
    if name.startswith("eval/") and name.count("/") >= 2:
        suite, metric = name[len("eval/") :].rsplit("/", 1)
        return suite, metric
    return BENCHMARK_GROUP, name


def metric_unit(metric: str) -> str:
    """The unit a metric is shown in: "ms", "s", "%", "tok/s", "texts/s" or "" (a 0–1 score)."""
    metric = metric_parts(metric)[1]
    if metric.endswith("_ms"):
        return "ms"
    if metric.startswith("tokens_per_s"):
        return "tok/s"
    if metric.endswith("texts_per_s"):
        return "texts/s"
    if metric.endswith("_s"):
        return "s"
    if metric.endswith("_rate"):
        return "%"
    return ""


def metric_label(metric: str, *, with_group: bool = True) -> str:
    """A metric's name in words: "Latency (median)", "General QA · Passed"."""
    group, bare = metric_parts(metric)
    label = LABELS.get(bare) or (bare.replace("recall@", "Recall@") if "@" in bare else bare)
    return label if group == BENCHMARK_GROUP or not with_group else f"{group} · {label}"


def metric_title(metric: str, *, with_group: bool = True) -> str:
    """A metric's name in words, with its unit: "Latency (median), ms", "Passed, %"."""
    label = metric_label(metric, with_group=with_group)
    unit = metric_unit(metric)
    return f"{label}, {unit}" if unit else label


def scaled(metric: str, value: float) -> float:
    """The value in its shown unit (a rate 0.92 is 92 %)."""
    return value * 100 if metric_unit(metric) == "%" else value


def format_metric(metric: str, value: float) -> str:
    unit = metric_unit(metric)
    shown = scaled(metric, value)
    if unit in ("ms", "%"):
        text = f"{shown:,.0f}" if abs(shown) >= 10 else f"{shown:.1f}"
    elif unit:
        text = f"{shown:,.1f}" if abs(shown) >= 10 else f"{shown:.2f}"
    else:
        text = f"{shown:.3f}"
    return f"{text} {unit}" if unit else text


def is_score(metric: str) -> bool:
    """Higher is better and it says how good the answers are (not how fast they came)."""
    bare = metric_parts(metric)[1]
    return bare.endswith(("pass_rate", "mean_score", "caption_score", "performance_score")) or (
        bare.startswith(("recall@", "mrr"))
    )

"""What the compare view draws: latest metrics per model, latency samples, Pareto fronts and
metric history across versions (of a slot, or of one model's own version labels).

Reads model_performance and stored result rows only; never runs a model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from desktop_registry.domain import ModelRecord
from desktop_registry.storage.evaluation_repository import EvaluationRepository
from desktop_registry.storage.repository import ModelRepository

LOWER_IS_BETTER = ("latency", "ttft", "error")


def lower_is_better(metric: str) -> bool:
    return any(word in metric for word in LOWER_IS_BETTER)


@dataclass(frozen=True)
class HistoryPoint:
    label: str  # the version as the user knows it ("1.0.0", "latest")
    value: float
    model: str


def pareto_front(points: Sequence[tuple[float, float]]) -> list[int]:
    """Indices of points no other point beats on both axes (lower x = faster, higher y = better),
    ordered by x."""
    front = []
    for i, (x, y) in enumerate(points):
        dominated = any(
            (ox <= x and oy >= y) and (ox < x or oy > y)
            for j, (ox, oy) in enumerate(points)
            if j != i
        )
        if not dominated:
            front.append(i)
    return sorted(front, key=lambda i: points[i][0])


class ComparisonData:
    def __init__(self, models: ModelRepository, store: EvaluationRepository) -> None:
        self.models = models
        self.store = store

    def latest(self, records: Sequence[ModelRecord]) -> dict[str, dict[str, float]]:
        """model name → metric → its newest value."""
        out: dict[str, dict[str, float]] = {}
        for record in records:
            values: dict[str, float] = {}
            for row in self.models.performance(record.id or 0):
                values[row.metric] = row.value  # rows come oldest first: the last one wins
            out[record.name] = values
        return out

    def metric_names(self, records: Sequence[ModelRecord]) -> list[str]:
        names = {m for values in self.latest(records).values() for m in values}
        return sorted(names, key=lambda m: (m.startswith("eval/"), m))

    def latency_samples(self, record: ModelRecord) -> list[float]:
        """Milliseconds of every answered request in the model's newest run."""
        rows = self.store.latest_results(record.id or 0)
        return [r.latency_s * 1000 for r in rows if r.latency_s is not None and r.status != "error"]

    def history(self, record: ModelRecord, metric: str) -> list[HistoryPoint]:
        """The newest value per version label of one model, oldest version first."""
        seen: dict[str, HistoryPoint] = {}
        for row in self.models.performance(record.id or 0, metric):
            label = row.version or record.version
            seen.pop(label, None)
            seen[label] = HistoryPoint(label, row.value, record.name)
        return list(seen.values())

    def slot_history(self, versions: Sequence[tuple[int, str]], metric: str) -> list[HistoryPoint]:
        """One point per slot version (model id, version label), in the order given: the value
        recorded under that label, else the model's newest value for the metric."""
        points = []
        for model_id, label in versions:
            record = self.models.get(model_id)
            rows = self.models.performance(model_id, metric)
            labelled = [r for r in rows if r.version == label]
            chosen = (labelled or rows)[-1:] if rows else []
            if chosen:
                points.append(HistoryPoint(label, chosen[0].value, record.name))
        return points

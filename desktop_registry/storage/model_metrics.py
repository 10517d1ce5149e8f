"""Performance metric rows of registry models (benchmarks, evaluations): appended, then read back.

Never updates or deletes a metric row: the comparison charts read the whole series.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import Connection, func, insert, select

from desktop_registry.domain import PerformanceMetric
from desktop_registry.storage.change_hook import ChangeHookStore
from desktop_registry.storage.tables import PERF

Metrics = list[PerformanceMetric]


def latest_performance(conn: Connection, ids: Sequence[int]) -> dict[int, dict[str, float]]:
    """model id → metric → its most recent value, for the given models."""
    if not ids:
        return {}
    latest = select(func.max(PERF.c.id)).group_by(PERF.c.model_id, PERF.c.metric)
    query = select(PERF.c.model_id, PERF.c.metric, PERF.c.value).where(PERF.c.id.in_(latest))
    if len(ids) <= 500:
        query = query.where(PERF.c.model_id.in_(list(ids)))
    wanted = set(ids)
    out: dict[int, dict[str, float]] = {}
    for row in conn.execute(query):
        if row.model_id in wanted:
            out.setdefault(row.model_id, {})[row.metric] = row.value
    return out


class ModelMetrics(ChangeHookStore):
    """`record_performance` / `performance` over `model_performance`."""

    def record_performance(self, model_id: int, metrics: Iterable[PerformanceMetric]) -> int:
        rows = [
            {
                "model_id": model_id,
                **m.model_dump(
                    include={"version", "run_id", "metric", "value", "recorded_at", "notes"}
                ),
            }
            for m in metrics
        ]
        if not rows:
            return 0
        with self._writing() as conn:
            conn.execute(insert(PERF), rows)
        return len(rows)

    def performance(self, model_id: int, metric: str | None = None) -> Metrics:
        query = select(PERF).where(PERF.c.model_id == model_id)
        if metric:
            query = query.where(PERF.c.metric == metric)
        with self.db.reading() as conn:
            rows = conn.execute(query.order_by(PERF.c.recorded_at, PERF.c.id)).mappings().all()
        return [
            PerformanceMetric(
                metric=r["metric"],
                value=r["value"],
                version=r["version"],
                run_id=r["run_id"],
                recorded_at=r["recorded_at"],
                notes=r["notes"],
            )
            for r in rows
        ]

"""Reads and writes of evaluation suites, runs and per-row results, in plain data types.

Each finished row is its own short transaction and a row is written at most once per run,
so a killed run keeps what finished and a resumed run never counts a row twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, cast

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Table, delete, func, insert, select, update
from sqlalchemy.engine import RowMapping

from desktop_registry.domain.models import utcnow
from desktop_registry.errors import NotFoundError
from desktop_registry.storage.database import Database
from desktop_registry.storage.evaluation_tables import EvalResultRow, EvalRunRow, EvalSuiteRow

SUITES = cast(Table, EvalSuiteRow.__table__)
RUNS = cast(Table, EvalRunRow.__table__)
RESULTS = cast(Table, EvalResultRow.__table__)


class StoredSuite(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    description: str = ""
    source_text: str
    origin: str = ""
    updated_at: datetime | None = None


class EvalRun(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    kind: str
    suite_name: str
    models: list[str]
    params: dict[str, Any] = Field(default_factory=dict)
    state: str
    total_rows: int
    summary: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime
    finished_at: datetime | None = None


class RowResult(BaseModel):
    """One test row answered (or not) by one model."""

    model_id: int
    model_name: str
    model_version: str = ""
    row_index: int
    status: str  # passed | failed | error
    score: float | None = None
    response: str = ""
    evaluations: list[dict[str, Any]] = Field(default_factory=list)
    error: str = ""
    latency_s: float | None = None
    ttft_s: float | None = None
    tokens_per_s: float | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


RunList = list[EvalRun]
ResultList = list[RowResult]


def _run(row: RowMapping) -> EvalRun:
    return EvalRun.model_validate(dict(row))


class EvaluationRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ----- suites -------------------------------------------------------------------------
    def save_suite(self, name: str, description: str, source_text: str, origin: str = "") -> None:
        now = utcnow()
        values = {
            "description": description,
            "source_text": source_text,
            "origin": origin,
            "updated_at": now,
        }
        with self.db.transaction() as conn:
            found = conn.execute(select(SUITES.c.id).where(SUITES.c.name == name)).first()
            if found:
                conn.execute(update(SUITES).where(SUITES.c.id == found.id).values(**values))
            else:
                conn.execute(insert(SUITES).values(name=name, created_at=now, **values))

    def suite(self, name: str) -> StoredSuite | None:
        with self.db.reading() as conn:
            row = conn.execute(select(SUITES).where(SUITES.c.name == name)).mappings().first()
        return StoredSuite.model_validate(dict(row)) if row else None

    def suites(self) -> list[StoredSuite]:
        with self.db.reading() as conn:
            rows = conn.execute(select(SUITES).order_by(SUITES.c.name)).mappings().all()
        return [StoredSuite.model_validate(dict(r)) for r in rows]

    def delete_suite(self, name: str) -> None:
        with self.db.transaction() as conn:
            conn.execute(delete(SUITES).where(SUITES.c.name == name))

    # ----- runs ---------------------------------------------------------------------------
    def create_run(
        self,
        kind: str,
        suite_name: str,
        models: Sequence[str],
        params: dict[str, Any],
        total_rows: int,
    ) -> EvalRun:
        with self.db.transaction() as conn:
            run_id = conn.execute(
                insert(RUNS).values(
                    kind=kind,
                    suite_name=suite_name,
                    models=list(models),
                    params=params,
                    state="running",
                    total_rows=total_rows,
                    summary={},
                    created_at=utcnow(),
                )
            ).inserted_primary_key
        assert run_id is not None
        return self.run(int(run_id[0]))

    def run(self, run_id: int) -> EvalRun:
        with self.db.reading() as conn:
            row = conn.execute(select(RUNS).where(RUNS.c.id == run_id)).mappings().first()
        if row is None:
            raise NotFoundError(f"No evaluation run {run_id}. `eval runs` lists them.")
        return _run(row)

    def runs(self, *, kind: str | None = None, suite_name: str | None = None) -> RunList:
        query = select(RUNS).order_by(RUNS.c.id.desc())
        if kind:
            query = query.where(RUNS.c.kind == kind)
        if suite_name:
            query = query.where(RUNS.c.suite_name == suite_name)
        with self.db.reading() as conn:
            return [_run(r) for r in conn.execute(query).mappings()]

    def set_state(self, run_id: int, state: str, *, summary: dict[str, Any] | None = None) -> None:
        values: dict[str, Any] = {"state": state}
        if state != "running":
            values["finished_at"] = utcnow()
        if summary is not None:
            values["summary"] = summary
        with self.db.transaction() as conn:
            conn.execute(update(RUNS).where(RUNS.c.id == run_id).values(**values))

    # ----- results ------------------------------------------------------------------------
    def add_result(self, run_id: int, result: RowResult) -> bool:
        """Write one finished row; False when that row was already there (a resumed run)."""
        with self.db.transaction() as conn:
            done = conn.execute(
                insert(RESULTS)
                .prefix_with("OR IGNORE")
                .values(run_id=run_id, finished_at=utcnow(), **result.model_dump())
            )
        return bool(done.rowcount)

    def done_rows(self, run_id: int) -> set[tuple[int, int]]:
        query = select(RESULTS.c.model_id, RESULTS.c.row_index).where(RESULTS.c.run_id == run_id)
        with self.db.reading() as conn:
            return {(r.model_id, r.row_index) for r in conn.execute(query)}

    def count(self, run_id: int) -> int:
        query = select(func.count()).select_from(RESULTS).where(RESULTS.c.run_id == run_id)
        with self.db.reading() as conn:
            return int(conn.execute(query).scalar_one())

    def results(self, run_id: int, model_ids: Iterable[int] | None = None) -> ResultList:
        query = select(RESULTS).where(RESULTS.c.run_id == run_id)
        if model_ids is not None:
            query = query.where(RESULTS.c.model_id.in_(list(model_ids)))
        fields = set(RowResult.model_fields)
        with self.db.reading() as conn:
            rows = conn.execute(query.order_by(RESULTS.c.model_id, RESULTS.c.row_index))
            return [
                RowResult.model_validate({k: v for k, v in r.items() if k in fields})
                for r in rows.mappings()
            ]

    def latest_results(self, model_id: int, *, kind: str | None = None) -> ResultList:
        """The rows of the newest run (of `kind`) that has any row for this model."""
        query = (
            select(RESULTS.c.run_id)
            .join(RUNS, RUNS.c.id == RESULTS.c.run_id)
            .where(RESULTS.c.model_id == model_id)
            .order_by(RESULTS.c.run_id.desc())
            .limit(1)
        )
        if kind:
            query = query.where(RUNS.c.kind == kind)
        with self.db.reading() as conn:
            run_id = conn.execute(query).scalar()
        return [] if run_id is None else self.results(int(run_id), [model_id])

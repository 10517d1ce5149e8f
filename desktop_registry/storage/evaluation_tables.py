"""ORM tables for evaluation suites, runs and their per-row results (migration 0005_evaluation).

A result row is written the moment it finishes, so a killed run keeps every finished row.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from desktop_registry.storage.tables import Base, UTCDateTime


class EvalSuiteRow(Base):
    __tablename__ = "eval_suites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(300), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    source_text: Mapped[str] = mapped_column(Text)  # the .prompt.yml exactly as imported
    origin: Mapped[str] = mapped_column(String(500), default="")  # file it came from
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class EvalRunRow(Base):
    __tablename__ = "eval_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(40), default="eval")  # eval | benchmark
    suite_name: Mapped[str] = mapped_column(String(300))
    models: Mapped[list[str]] = mapped_column(JSON, default=list)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(40), default="running")
    total_rows: Mapped[int] = mapped_column(Integer, default=0)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class EvalResultRow(Base):
    __tablename__ = "eval_results"
    __table_args__ = (
        UniqueConstraint("run_id", "model_id", "row_index", name="uq_eval_results_row"),
        Index("ix_eval_results_model", "model_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("eval_runs.id", ondelete="CASCADE"))
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id", ondelete="CASCADE"))
    model_name: Mapped[str] = mapped_column(String(300))
    model_version: Mapped[str] = mapped_column(String(100), default="")
    row_index: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))  # passed | failed | error
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    response: Mapped[str] = mapped_column(Text, default="")
    evaluations: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    error: Mapped[str] = mapped_column(Text, default="")
    latency_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    ttft_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    tokens_per_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    prompt_tokens: Mapped[int | None] = mapped_column(Integer, nullable=True)
    completion_tokens: Mapped[int | None] = mapped_column(Integer, nullable=True)
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime())

"""Long-running work as the user sees it: a job's kind, state, progress, log and result.

Pure data; services/jobs/ runs jobs and storage keeps them.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"  # its process died while it ran (app killed, crash, power cut)

    @property
    def finished(self) -> bool:
        return self not in (JobState.QUEUED, JobState.RUNNING)


class JobRecord(BaseModel):
    """One job row. `params` say what to do; `result` is what it produced (JSON)."""

    id: int
    kind: str
    title: str = ""
    state: JobState = JobState.QUEUED
    params: dict[str, Any] = Field(default_factory=dict)
    progress: float | None = None  # 0..1, None while unknown
    message: str = ""  # the latest one-line status ("pulling 3f2a… 41%  12 MB/s  ETA 8s")
    log: list[str] = Field(default_factory=list)
    result: dict[str, Any] = Field(default_factory=dict)
    error: str = ""
    attempts: int = 0
    owner_pid: int | None = None
    owner_started: float | None = None  # the owner's process start time (guards PID reuse)
    created_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    updated_at: datetime | None = None

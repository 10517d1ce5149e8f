"""Long work as persisted jobs: queue, run on the asyncio loop, report progress, cancel, resume.

Never loses a job: one killed with its process shows as `interrupted` on the next start.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import psutil

from desktop_registry.domain.jobs import JobRecord, JobState
from desktop_registry.domain.models import utcnow
from desktop_registry.errors import RegistryError, UserInputError
from desktop_registry.services.events import EventHub, Topic
from desktop_registry.storage.job_repository import JobRepository

PROGRESS_WRITE_INTERVAL_S = 0.25  # progress is persisted at most this often (short writes)


@dataclass
class JobUpdate:
    """What listeners (the Jobs panel, a pull dialog) hear whenever a job changes."""

    job_id: int
    kind: str
    state: JobState
    progress: float | None = None
    message: str = ""
    line: str = ""  # a new log line, if this update added one
    detail: dict[str, Any] = field(default_factory=dict)  # kind-specific, e.g. per-layer bytes


class JobFailed(RegistryError):
    """Raised by a runner to end its job `failed` yet keep what it did in the job's result
    (a sync where some sources failed: what did sync is not thrown away)."""

    def __init__(self, message: str, *, result: dict[str, Any]) -> None:
        super().__init__(message)
        self.result = result


Listener = Callable[[JobUpdate], None]
JobIds = list[int]
JobRecords = list[JobRecord]  # `JobService.list` shadows the builtin in the class body


class JobHandle:
    """What a running job sees: its parameters, how to report progress and log lines."""

    def __init__(self, service: JobService, record: JobRecord) -> None:
        self._service = service
        self.id = record.id
        self.kind = record.kind
        self.params = dict(record.params)
        self.attempt = record.attempts
        self.previous_result = dict(record.result)  # what an earlier attempt left, for resume
        self.progress_value: float | None = None
        self.message = ""
        self.detail: dict[str, Any] = {}
        self._last_write = 0.0

    def progress(self, fraction: float | None, message: str = "", **detail: Any) -> None:
        """Report progress; listeners hear every call, the database at most 4 times a second."""
        self.progress_value = None if fraction is None else max(0.0, min(1.0, fraction))
        if message:
            self.message = message
        if detail:
            self.detail.update(detail)
        now = time.monotonic()
        if now - self._last_write >= PROGRESS_WRITE_INTERVAL_S or fraction == 1.0:
            self._last_write = now
            self._service.repository.update(
                self.id, progress=self.progress_value, message=self.message
            )
        self._service._emit(self, JobState.RUNNING)

    def log(self, line: str) -> None:
        self._service.repository.append_log(self.id, [line])
        self._service._emit(self, JobState.RUNNING, line=line)


JobRunner = Callable[[JobHandle], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class JobKind:
    """A kind of job: how to run it, and whether running it again carries on where it stopped."""

    name: str
    run: JobRunner
    resumable: bool = False


def _process_started(pid: int) -> float | None:
    try:
        return float(psutil.Process(pid).create_time())
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None


def owner_alive(pid: int | None, started: float | None) -> bool:
    """Is the process that claimed a job still that same process (not dead, not a reused PID)?"""
    if pid is None:
        return False
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return False
        created = float(process.create_time())
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False
    return started is None or abs(created - started) < 1.0


class JobService:
    """Runs jobs in this process and keeps the table honest about jobs of dead processes."""

    def __init__(self, repository: JobRepository, *, events: EventHub | None = None) -> None:
        self.repository = repository
        self.events = events or EventHub()  # job progress is published as Topic.JOB_PROGRESS
        self.pid = os.getpid()
        self.started = _process_started(self.pid)
        self._kinds: dict[str, JobKind] = {}
        self._kind_factories: dict[str, Callable[[], JobKind]] = {}
        self._tasks: dict[int, asyncio.Task[JobRecord]] = {}
        self._handles: dict[int, JobHandle] = {}
        self._shutting_down = False
        # job id -> the exit code its failure means (0/1/2, as the CLI's); this process only
        self.exit_codes: dict[int, int] = {}

    # ----- kinds ---------------------------------------------------------------------------
    def register_kind(self, kind: JobKind) -> None:
        self._kinds[kind.name] = kind

    def register(self, name: str, factory: Callable[[], JobKind]) -> None:
        """A kind built the first time a job of it runs (its feature's imports wait till then)."""
        self._kind_factories[name] = factory

    def kind(self, name: str) -> JobKind:
        if name not in self._kinds:
            factory = self._kind_factories.get(name)
            if factory is None:
                raise UserInputError(
                    f"This version of Desktop Registry does not know how to run {name!r} jobs."
                )
            self._kinds[name] = factory()
        return self._kinds[name]

    def can_resume(self, job: JobRecord) -> bool:
        if job.state not in (JobState.INTERRUPTED, JobState.FAILED, JobState.CANCELLED):
            return False
        try:
            return self.kind(job.kind).resumable
        except RegistryError:
            return False

    # ----- listening -----------------------------------------------------------------------
    def subscribe(self, listener: Listener) -> Callable[[], None]:
        return self.events.subscribe(Topic.JOB_PROGRESS, listener)

    def _emit(self, handle: JobHandle | JobRecord, state: JobState, line: str = "") -> None:
        if isinstance(handle, JobHandle):
            update = JobUpdate(
                handle.id,
                handle.kind,
                state,
                handle.progress_value,
                handle.message,
                line,
                dict(handle.detail),
            )
        else:
            update = JobUpdate(handle.id, handle.kind, state, handle.progress, handle.message, line)
        self.events.publish(Topic.JOB_PROGRESS, update)

    # ----- reading -------------------------------------------------------------------------
    def list(self, limit: int = 200) -> list[JobRecord]:
        return self.repository.list(limit=limit)

    def get(self, job_id: int) -> JobRecord:
        return self.repository.get(job_id)

    def running_here(self) -> JobIds:
        return [job_id for job_id, task in self._tasks.items() if not task.done()]

    def handle(self, job_id: int) -> JobHandle | None:
        return self._handles.get(job_id)

    # ----- lifecycle -----------------------------------------------------------------------
    def recover(self) -> JobRecords:
        """Mark jobs whose process died while they ran (or waited) as interrupted."""
        found: JobRecords = []
        for job in self.repository.owned_unfinished():
            if job.id in self._tasks or owner_alive(job.owner_pid, job.owner_started):
                continue
            line = (
                f"Interrupted: the process running this job (pid {job.owner_pid}) stopped."
                if job.owner_pid
                else "Interrupted: the app closed before this job started."
            )
            self.repository.append_log(
                job.id, [line], state=JobState.INTERRUPTED, finished_at=utcnow(), message=line
            )
            found.append(self.repository.get(job.id))
            self._emit(found[-1], JobState.INTERRUPTED, line=line)
        return found

    def submit(self, kind: str, params: Mapping[str, Any], title: str = "") -> JobRecord:
        """Queue a job and start it on the running loop; returns the queued row."""
        self.kind(kind)  # an unknown kind fails here, before a row is written
        record = self.repository.create(kind, params, title)
        self.start(record.id)
        return record

    def start(self, job_id: int) -> asyncio.Task[JobRecord]:
        task = asyncio.ensure_future(self.run(job_id))
        self._tasks[job_id] = task
        return task

    def resume(self, job_id: int) -> asyncio.Task[JobRecord]:
        job = self.get(job_id)
        if not self.can_resume(job):
            raise UserInputError(
                f"Job {job_id} ({job.title}) is {job.state.value} and cannot be resumed."
            )
        self.repository.append_log(job_id, [f"Resumed (attempt {job.attempts + 1})."])
        return self.start(job_id)

    async def wait(self, job_id: int) -> JobRecord:
        task = self._tasks.get(job_id)
        if task is not None:
            await asyncio.shield(task)
        return self.get(job_id)

    def cancel(self, job_id: int) -> None:
        task = self._tasks.get(job_id)
        if task is not None and not task.done():
            task.cancel()
            return
        job = self.get(job_id)
        if job.state.finished:
            raise UserInputError(f"Job {job_id} has already {job.state.value}.")
        if owner_alive(job.owner_pid, job.owner_started) and job.owner_pid != self.pid:
            raise UserInputError(
                f"Job {job_id} runs in another Desktop Registry process (pid {job.owner_pid}); "
                "cancel it there."
            )
        self.repository.append_log(
            job_id, ["Cancelled."], state=JobState.CANCELLED, finished_at=utcnow()
        )
        self._emit(self.get(job_id), JobState.CANCELLED)

    async def run(self, job_id: int) -> JobRecord:
        """Claim the job for this process and run it to an end state (never raises for it)."""
        record = self.get(job_id)
        kind = self.kind(record.kind)
        if not self.repository.claim(job_id, self.pid, self.started):
            raise UserInputError(f"Job {job_id} is already {record.state.value}.")
        record = self.get(job_id)
        handle = JobHandle(self, record)
        self._handles[job_id] = handle
        self._emit(handle, JobState.RUNNING)
        try:
            result = await kind.run(handle)
        except asyncio.CancelledError:
            state = JobState.INTERRUPTED if self._shutting_down else JobState.CANCELLED
            self._finish(
                handle,
                state,
                "Interrupted when the app closed." if self._shutting_down else "Cancelled.",
            )
        except RegistryError as exc:
            if not isinstance(exc, JobFailed):  # a partly failed sync keeps "a source failed"
                self.exit_codes[job_id] = exc.exit_code
            self._finish(
                handle,
                JobState.FAILED,
                f"Failed: {exc}",
                error=str(exc),
                result=exc.result if isinstance(exc, JobFailed) else None,
            )
        except Exception as exc:  # a bug in a runner: recorded for the user, not re-raised
            self._finish(
                handle,
                JobState.FAILED,
                f"Failed unexpectedly: {type(exc).__name__}: {exc}",
                error=f"{type(exc).__name__}: {exc}",
            )
        else:
            self._finish(handle, JobState.SUCCEEDED, "Done.", result=result)
        finally:
            self._handles.pop(job_id, None)
        return self.get(job_id)

    def _finish(
        self,
        handle: JobHandle,
        state: JobState,
        line: str,
        *,
        error: str = "",
        result: dict[str, Any] | None = None,
    ) -> None:
        fields: dict[str, Any] = {
            "state": state,
            "finished_at": utcnow(),
            "error": error,
            "message": line if state is not JobState.SUCCEEDED else (handle.message or line),
        }
        if state is JobState.SUCCEEDED:
            fields["progress"] = 1.0
            handle.progress_value = 1.0
        else:
            fields["progress"] = handle.progress_value
        if result is not None:
            fields["result"] = result
        handle.message = str(fields["message"])
        self.repository.append_log(handle.id, [line], **fields)
        self._emit(handle, state, line=line)

    async def shutdown(self) -> None:
        """The app is closing: stop this process's jobs and leave them resumable (interrupted)."""
        self._shutting_down = True
        tasks = [t for t in self._tasks.values() if not t.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

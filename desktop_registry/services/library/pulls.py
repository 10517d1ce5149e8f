"""Pull a model into Ollama with per-layer progress (bytes, speed, ETA), then sync it in.

Never leaves the registry behind the server: a finished pull always syncs before it reports done.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from desktop_registry.domain.local import PullProgress
from desktop_registry.domain.sync import SyncReport
from desktop_registry.domain.units import human_bytes, human_duration
from desktop_registry.errors import UserInputError
from desktop_registry.services.jobs.service import JobHandle, JobKind

if TYPE_CHECKING:
    from desktop_registry.services.sync.ollama import OllamaSync
    from desktop_registry.sources.ollama import OllamaSource


@dataclass
class LayerProgress:
    digest: str
    total: int = 0
    completed: int = 0
    resumed_from: int = 0  # bytes already there when this attempt started (a resumed pull)
    first_at: float | None = None


@dataclass
class PullTracker:
    """Turns Ollama's pull lines into per-layer and overall bytes, speed and ETA."""

    clock: Callable[[], float] = time.monotonic
    layers: dict[str, LayerProgress] = field(default_factory=dict)
    status: str = ""
    started_at: float | None = None

    def update(self, line: PullProgress) -> None:
        now = self.clock()
        if self.started_at is None:
            self.started_at = now
        self.status = line.status
        if not line.digest or not line.total:
            return
        layer = self.layers.get(line.digest)
        completed = line.completed or 0
        if layer is None:
            layer = LayerProgress(line.digest, line.total, completed, completed, now)
            self.layers[line.digest] = layer
        layer.total = line.total
        layer.completed = max(layer.completed, completed)

    @property
    def total(self) -> int:
        return sum(layer.total for layer in self.layers.values())

    @property
    def completed(self) -> int:
        return sum(layer.completed for layer in self.layers.values())

    @property
    def fraction(self) -> float | None:
        return self.completed / self.total if self.total else None

    @property
    def speed_bps(self) -> float | None:
        """Bytes per second downloaded in this attempt (resumed bytes do not count)."""
        if self.started_at is None:
            return None
        elapsed = self.clock() - self.started_at
        fetched = sum(layer.completed - layer.resumed_from for layer in self.layers.values())
        return fetched / elapsed if elapsed > 0.05 and fetched > 0 else None

    @property
    def eta_s(self) -> float | None:
        speed = self.speed_bps
        if not speed or not self.total:
            return None
        return max(0.0, (self.total - self.completed) / speed)

    def snapshot(self) -> dict[str, Any]:
        """JSON-able view for a progress dialog and the job's result."""
        return {
            "status": self.status,
            "total": self.total,
            "completed": self.completed,
            "speed_bps": self.speed_bps,
            "eta_s": self.eta_s,
            "layers": [
                {
                    "digest": layer.digest,
                    "total": layer.total,
                    "completed": layer.completed,
                    "resumed_from": layer.resumed_from,
                }
                for layer in self.layers.values()
            ],
        }

    def summary(self) -> str:
        parts = [self.status]
        if self.total:
            parts.append(f"{human_bytes(self.completed)} / {human_bytes(self.total)}")
        speed = self.speed_bps
        if speed:
            parts.append(f"{human_bytes(int(speed))}/s")
        eta = self.eta_s
        if eta is not None and self.completed < self.total:
            parts.append(f"ETA {human_duration(eta)}")
        return "  ".join(p for p in parts if p)


class PullSource(Protocol):
    def pull(self, name: str) -> AsyncIterator[PullProgress]: ...


class RegistrySync(Protocol):
    async def run(self) -> SyncReport: ...


ProgressCallback = Callable[[PullTracker], None]


class PullService:
    """One pull: stream progress into a tracker, then sync so the model appears in the registry."""

    def __init__(self, source: PullSource, sync: Callable[[], RegistrySync]) -> None:
        self.source = source
        self.sync = sync

    async def pull(
        self, name: str, on_progress: ProgressCallback | None = None
    ) -> tuple[PullTracker, SyncReport]:
        name = name.strip()
        if not name or any(ch.isspace() for ch in name):
            raise UserInputError(
                f"{name!r} is not a model name. Use the name Ollama's library shows, e.g. "
                "llama3.2:3b."
            )
        tracker = PullTracker()
        async for line in self.source.pull(name):
            tracker.update(line)
            if on_progress is not None:
                on_progress(tracker)
        report = await self.sync().run()
        return tracker, report


def pull_job_kind(
    ollama: Callable[[], OllamaSource], ollama_sync: Callable[[OllamaSource], OllamaSync]
) -> JobKind:
    """The `pull` job kind: params {"model": name}; resumable, as Ollama keeps partial layers."""

    async def run(handle: JobHandle) -> dict[str, Any]:
        name = str(handle.params.get("model", ""))
        source = ollama()
        service = PullService(source, lambda: ollama_sync(source))
        last_status = [""]

        def report(tracker: PullTracker) -> None:
            if tracker.status != last_status[0]:
                last_status[0] = tracker.status
                handle.log(tracker.status)
            handle.progress(tracker.fraction, tracker.summary(), pull=tracker.snapshot())

        handle.progress(None, f"Pulling {name}…")
        tracker, sync = await service.pull(name, report)
        # Layers that were part-way (not ones another model already had in full).
        resumed = sum(
            layer.resumed_from
            for layer in tracker.layers.values()
            if 0 < layer.resumed_from < layer.total
        )
        if resumed:
            handle.log(f"Resumed: {human_bytes(resumed)} were already downloaded.")
        handle.log(
            f"{name} is in the registry ({len(sync.added)} added, {len(sync.updated)} updated)."
        )
        return {"model": name, "pull": tracker.snapshot(), "sync": sync.model_dump(mode="json")}

    return JobKind("pull", run, resumable=True)

"""Recommends models for a task on this machine: ranked, explained, with alternatives and trade-offs.

Never recommends a model that does not fit; recorded benchmarks outrank catalog priors when they exist.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from pydantic import BaseModel, Field

from desktop_registry.domain.library import LibraryCategory, LibraryEntry, SizeClass
from desktop_registry.domain.tasks import TASK_ALIASES as TASK_ALIASES
from desktop_registry.domain.tasks import TASKS as TASKS
from desktop_registry.domain.tasks import TaskProfile as TaskProfile
from desktop_registry.errors import UserInputError
from desktop_registry.services.library.catalog import LibraryService, performance_score
from desktop_registry.services.library.compatibility import (
    CompatibilityReport,
    CompatibilityService,
    Fit,
)
from desktop_registry.services.library.hardware import HardwareProfile
from desktop_registry.services.library.memory_estimate import GIB

REMOTE_WHERE = "runs on the provider's servers; nothing to load here"


def resolve_task(name: str) -> str:
    key = name.strip().lower().replace("-", "_").replace("/", "_")
    key = TASK_ALIASES.get(key, key)
    if key not in TASKS:
        raise UserInputError(
            f"Unknown task {name!r}. Choose one of: {', '.join(sorted(TASKS))} "
            "(retrieval and captioning are accepted too)."
        )
    return key


class ExpectedPerformance(BaseModel):
    source: str  # "recorded" (model_performance rows) or "prior" (catalog: size and specialism)
    score: float
    metrics: dict[str, float] = Field(default_factory=dict)


class Recommendation(BaseModel):
    rank: int
    model: str
    confidence: float
    reason: str
    fit: Fit
    memory_bytes: int
    score: float
    installed: bool
    expected_performance: ExpectedPerformance
    trade_off: str = ""
    alternatives: list[str] = Field(default_factory=list)


class Exclusion(BaseModel):
    model: str
    reason: str


class RecommendationSet(BaseModel):
    task: str
    hardware: str
    context_length: int
    preferred_size: SizeClass | None = None
    recommendations: list[Recommendation] = Field(default_factory=list)
    excluded: list[Exclusion] = Field(default_factory=list)


# Benchmark names that speak for one task only; other score metrics count for every task.
TASK_METRIC_HINTS: dict[str, tuple[str, ...]] = {
    "code generation": ("humaneval", "mbpp", "code", "swe"),
    "math": ("gsm8k", "math", "aime"),
    "embedding / retrieval": ("mteb", "retrieval", "ndcg", "recall"),
    "vision / captioning": ("vqa", "caption", "mmmu", "vision"),
    "function calling": ("bfcl", "tool", "function"),
}


def task_metrics(performance: dict[str, float], task: TaskProfile) -> dict[str, float]:
    own = TASK_METRIC_HINTS.get(task.label, ())
    every = tuple(h for hints in TASK_METRIC_HINTS.values() for h in hints)
    mine = {k: v for k, v in performance.items() if any(h in k.lower() for h in own)}
    if mine:
        return mine
    return {k: v for k, v in performance.items() if not any(h in k.lower() for h in every)}


def effective_parameters(entry: LibraryEntry) -> float:
    """Billions of parameters that set quality: a mixture-of-experts counts between active and total."""
    total = (entry.parameter_count or 0) / 1e9
    active = (entry.active_parameter_count or 0) / 1e9
    return math.sqrt(total * active) if active else total


def prior_quality(entry: LibraryEntry, task: TaskProfile) -> float:
    """0–1 prior from size (log scale) and specialism; a stand-in until benchmarks are recorded."""
    params = max(effective_parameters(entry), 0.05)
    value = 0.2 + 0.11 * math.log2(params + 1)
    cats = set(entry.categories)
    if cats & set(task.prefers):
        value += 0.15
    if cats & set(task.avoids) and not cats & set(task.prefers):
        value -= 0.25
    if "legacy" in entry.tags:
        value -= 0.12  # superseded by a newer generation of the same line
    if (
        task.requires == "completion"
        and "thinking" in entry.capabilities
        and task.prefers[0]
        in (
            LibraryCategory.REASONING,
            LibraryCategory.MATH,
        )
    ):
        value += 0.05
    return round(min(max(value, 0.05), 0.95), 3)


def _speed_factor(report: CompatibilityReport, entry: LibraryEntry) -> float:
    if report.fit is Fit.FULL_GPU:
        return 0.85 + 0.15 * report.score  # a tight fit leaves no room for anything else
    if report.fit is Fit.PARTIAL:
        return 0.72
    params = effective_parameters(entry)  # CPU: speed falls with the weights read per token
    return 0.75 if params <= 4 else 0.65 if params <= 9 else 0.45


class RecommendationService:
    def __init__(self, library: LibraryService, compatibility: CompatibilityService) -> None:
        self.library = library
        self.compatibility = compatibility

    def recommend(
        self,
        task: str,
        *,
        hardware: HardwareProfile | None = None,
        preferred_size: SizeClass | None = None,
        context_length: int = 4096,
        limit: int = 5,
        include_remote: bool = False,
        candidates: Sequence[LibraryEntry] | None = None,
    ) -> RecommendationSet:
        key = resolve_task(task)
        profile = TASKS[key]
        hw = self.compatibility.profile(hardware)
        result = RecommendationSet(
            task=key, hardware=hw.summary(), context_length=context_length,
            preferred_size=preferred_size,
        )  # fmt: skip
        scored: list[tuple[float, LibraryEntry, CompatibilityReport, ExpectedPerformance]] = []
        for entry in candidates if candidates is not None else self.library.entries():
            if profile.requires and profile.requires not in entry.capabilities:
                continue
            if entry.remote and not include_remote:
                continue
            if not entry.parameter_count and not entry.size_bytes and not entry.remote:
                continue
            expected = self.expected_performance(entry, profile)
            if entry.remote:
                report = None
                value = (
                    expected.score * 0.9
                )  # no local memory, but needs the network and an account
            else:
                report = self.compatibility.check_entry(
                    entry, context_length, hardware=hw, suggest=False
                )
                if report.fit is Fit.DOES_NOT_FIT:
                    result.excluded.append(Exclusion(model=entry.name, reason=report.reason))
                    continue
                value = expected.score * _speed_factor(report, entry)
            if preferred_size is not None and entry.size_class is not None:
                value += 0.25 if entry.size_class is preferred_size else -0.25
            value += 0.02 if entry.installed else 0.0
            scored.append((value, entry, report or _remote_report(entry), expected))
        scored.sort(key=lambda item: -item[0])
        for rank, (value, entry, report, expected) in enumerate(scored[:limit], start=1):
            others = [e for _, e, _, _ in scored if e.key != entry.key]
            result.recommendations.append(
                Recommendation(
                    rank=rank,
                    model=entry.name,
                    confidence=self._confidence(expected, report, value),
                    reason=self._reason(entry, report, expected, profile),
                    fit=report.fit,
                    memory_bytes=report.estimate.total_bytes,
                    score=round(value, 4),
                    installed=entry.installed,
                    expected_performance=expected,
                    trade_off=self._trade_off(entry, report, scored, rank),
                    alternatives=[e.name for e in others[:3]],
                )
            )
        result.excluded.sort(key=lambda e: e.model)
        return result

    def expected_performance(self, entry: LibraryEntry, task: TaskProfile) -> ExpectedPerformance:
        """Recorded scores for this task (or general ones) when there are any, else the prior."""
        metrics = task_metrics(entry.performance, task)
        score = performance_score(metrics)
        if score is not None:
            return ExpectedPerformance(source="recorded", score=score, metrics=metrics)
        return ExpectedPerformance(source="prior", score=prior_quality(entry, task))

    @staticmethod
    def _confidence(
        expected: ExpectedPerformance, report: CompatibilityReport, value: float
    ) -> float:
        base = 0.8 if expected.source == "recorded" else 0.55
        if report.fit is Fit.PARTIAL:
            base -= 0.1
        if report.estimate.assumptions:
            base -= 0.1
        return round(min(0.95, max(0.1, base + 0.2 * value)), 2)

    @staticmethod
    def _reason(
        entry: LibraryEntry,
        report: CompatibilityReport,
        expected: ExpectedPerformance,
        task: TaskProfile,
    ) -> str:
        special = set(entry.categories) & set(task.prefers)
        what = f"{special.pop().value.replace('_', ' ')} model" if special else "general model"
        size = entry.parameter_size or "?"
        where = {
            Fit.FULL_GPU: f"fits on the GPU ({report.estimate.total_bytes / GIB:.1f} GiB)",
            Fit.PARTIAL: f"runs split GPU/CPU ({report.gpu_layers}/{report.estimate.layers} layers)",
            Fit.CPU_ONLY: f"runs on the CPU in {report.estimate.total_bytes / GIB:.1f} GiB",
        }.get(report.fit, REMOTE_WHERE)
        perf = (
            f"recorded score {expected.score:.2f}"
            if expected.source == "recorded"
            else "no benchmark recorded yet"
        )
        return f"{size} {what} for {task.label}; {where}; {perf}"

    @staticmethod
    def _trade_off(
        entry: LibraryEntry,
        report: CompatibilityReport,
        scored: Sequence[tuple[float, LibraryEntry, CompatibilityReport, ExpectedPerformance]],
        rank: int,
    ) -> str:
        bigger = [
            (e, r)
            for _, e, r, _ in scored
            if (e.parameter_count or 0) > (entry.parameter_count or 0) and not e.remote
        ]
        # Smaller by parameters; whether that also makes it lighter or faster here is checked
        # against the estimates, not assumed (a 6.7B build can need more memory than a 7B one).
        smaller = [
            (e, r)
            for _, e, r, _ in scored
            if 0 < (e.parameter_count or 0) < (entry.parameter_count or 0) and not e.remote
        ]
        parts = []
        if bigger:
            e, r = bigger[0]
            parts.append(
                f"{e.name} may answer better but needs {r.estimate.total_bytes / GIB:.1f} GiB"
                + ("" if r.fit is Fit.FULL_GPU else f" ({r.fit.label.lower()})")
            )
        if smaller:
            e, r = smaller[0]
            gib = f"{r.estimate.total_bytes / GIB:.1f} GiB"
            # Lighter only by a difference the shown figures (0.1 GiB) can tell apart.
            lighter = round(r.estimate.total_bytes / GIB, 1) < round(
                report.estimate.total_bytes / GIB, 1
            )
            faster = _speed_factor(r, e) > _speed_factor(report, entry)
            if lighter and faster:
                parts.append(f"{e.name} is faster and lighter ({gib})")
            elif lighter:
                parts.append(f"{e.name} is lighter ({gib})")
            elif faster:
                parts.append(f"{e.name} runs faster here but needs {gib}")
            else:
                size = e.parameter_size or "fewer parameters"
                heavier = r.estimate.total_bytes > report.estimate.total_bytes
                cost = (
                    f"needs more memory here ({gib})" if heavier else f"is no lighter here ({gib})"
                )
                parts.append(f"{e.name} is smaller ({size}) but {cost}")
        return "; ".join(parts) or "the only model that fits this task here"


def _remote_report(entry: LibraryEntry) -> CompatibilityReport:
    from desktop_registry.services.library.memory_estimate import MemoryEstimate

    empty = MemoryEstimate(
        model=entry.name, context_length=entry.context_length or 0, weights_bytes=0,
        kv_cache_bytes=0, graph_bytes=0, overhead_bytes=0, total_bytes=0, layers=1, layer_bytes=0,
    )  # fmt: skip
    return CompatibilityReport(
        model=entry.name, estimate=empty, fit=Fit.REMOTE, score=1.0, reason=REMOTE_WHERE,
    )  # fmt: skip

"""Side-by-side comparison of 2–6 library models: size, context, memory, fit, metrics, verdicts.

Reads the library and the estimator only; never loads or runs a model to compare it.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, Field

from desktop_registry.domain.library import LibraryEntry, format_parameter_count
from desktop_registry.errors import UserInputError
from desktop_registry.services.library.catalog import LibraryService
from desktop_registry.services.library.compatibility import CompatibilityService, Fit
from desktop_registry.services.library.hardware import HardwareProfile
from desktop_registry.services.library.recommend import TASKS, RecommendationService

MIN_MODELS, MAX_MODELS = 2, 6


class ComparedModel(BaseModel):
    name: str
    parameters: str
    size_bytes: int | None
    context_length: int | None
    quantization: str
    capabilities: list[str]
    memory_bytes: int
    fit: Fit
    gpu_layers: int
    installed: bool
    metrics: dict[str, float] = Field(default_factory=dict)


class Verdict(BaseModel):
    task: str
    winner: str | None  # None when no compared model can do the task here
    why: str


class Comparison(BaseModel):
    context_length: int
    hardware: str
    models: list[ComparedModel]
    verdicts: list[Verdict]

    def rows(self) -> list[tuple[str, list[str]]]:
        """(row label, one cell per model) — the table the CLI and the UI both show."""
        gib = 1024**3

        def memory(m: ComparedModel) -> str:
            return "none here" if m.fit is Fit.REMOTE else f"{m.memory_bytes / gib:.1f} GiB"

        def size(m: ComparedModel) -> str:
            return f"{m.size_bytes / 1e9:.1f} GB" if m.size_bytes else "-"

        metric_names = sorted({k for m in self.models for k in m.metrics})
        rows = [
            ("Parameters", [m.parameters for m in self.models]),
            ("Download", [size(m) for m in self.models]),
            ("Quantization", [m.quantization or "-" for m in self.models]),
            ("Max context", [str(m.context_length or "-") for m in self.models]),
            ("Capabilities", [", ".join(m.capabilities) for m in self.models]),
            (f"Memory @ {self.context_length}", [memory(m) for m in self.models]),
            ("Fit", [m.fit.label for m in self.models]),
            ("Installed", ["yes" if m.installed else "no" for m in self.models]),
        ]  # fmt: skip
        for metric in metric_names:
            rows.append((metric, [f"{m.metrics[metric]:g}" if metric in m.metrics else "-" for m in self.models]))  # fmt: skip
        return rows


class ComparisonService:
    def __init__(
        self,
        library: LibraryService,
        compatibility: CompatibilityService,
        recommendations: RecommendationService,
    ) -> None:
        self.library = library
        self.compatibility = compatibility
        self.recommendations = recommendations

    def compare(
        self,
        names: Sequence[str],
        *,
        context_length: int = 8192,
        hardware: HardwareProfile | None = None,
    ) -> Comparison:
        unique = list(dict.fromkeys(names))
        if not MIN_MODELS <= len(unique) <= MAX_MODELS:
            raise UserInputError(
                f"Compare {MIN_MODELS} to {MAX_MODELS} different models (got {len(unique)})."
            )
        entries = [self.library.get(n) for n in unique]
        hw = self.compatibility.profile(hardware)
        models = [self._row(e, context_length, hw) for e in entries]
        return Comparison(
            context_length=context_length,
            hardware=hw.summary(),
            models=models,
            verdicts=self._verdicts(entries, context_length, hw),
        )

    def _row(self, entry: LibraryEntry, ctx: int, hw: HardwareProfile) -> ComparedModel:
        if entry.remote:
            memory, fit, layers = 0, Fit.REMOTE, 0
        else:
            report = self.compatibility.check_entry(entry, ctx, hardware=hw, suggest=False)
            memory, fit, layers = report.estimate.total_bytes, report.fit, report.gpu_layers
        return ComparedModel(
            name=entry.name,
            parameters=entry.parameter_size or format_parameter_count(entry.parameter_count),
            size_bytes=entry.size_bytes,
            context_length=entry.context_length,
            quantization=entry.quantization,
            capabilities=entry.capabilities,
            memory_bytes=memory,
            fit=fit,
            gpu_layers=layers,
            installed=entry.installed,
            metrics=entry.performance,
        )

    def _verdicts(
        self, entries: list[LibraryEntry], ctx: int, hw: HardwareProfile
    ) -> list[Verdict]:
        verdicts = []
        for task in TASKS:
            result = self.recommendations.recommend(
                task, hardware=hw, context_length=ctx, limit=1, include_remote=True,
                candidates=entries,
            )  # fmt: skip
            if result.recommendations:
                best = result.recommendations[0]
                verdicts.append(Verdict(task=task, winner=best.model, why=best.reason))
            else:
                why = (
                    "none fits this machine"
                    if result.excluded
                    else f"none has the {TASKS[task].requires} capability"
                )
                verdicts.append(Verdict(task=task, winner=None, why=why))
        return verdicts

"""Will a model run here? Its memory estimate against the hardware: fit, score, warnings, suggestions.

Never loads or pulls a model; every figure is an estimate from metadata and says what it assumed.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from desktop_registry.domain.library import LibraryEntry
from desktop_registry.services.library.catalog import LibraryService
from desktop_registry.services.library.hardware import HardwareProbe, HardwareProfile
from desktop_registry.services.library.memory_estimate import (
    GIB,
    KvCacheType,
    MemoryEstimate,
    ModelSpec,
    bits_per_weight,
    estimate_memory,
)
from desktop_registry.services.library.memory_rules import accounting_for_version

# Keep some memory for the OS and other programs: never plan to use every byte.
RAM_HEADROOM = 0.9
VRAM_HEADROOM = 0.95
SMALLER_QUANTS = ("Q4_K_M", "Q3_K_M", "Q2_K")


# Ollama's own default context when neither the request nor the model sets num_ctx (its
# docs/context-length page): 4k under 24 GiB of VRAM, 32k under 48 GiB, 256k above.
OLLAMA_DEFAULT_CONTEXTS = ((24 * GIB, 4096), (48 * GIB, 32768))
OLLAMA_LARGE_VRAM_CONTEXT = 262144


def ollama_load_context(
    parameters: Mapping[str, Any], trained_context: int | None, hardware: HardwareProfile | None
) -> int:
    """The context Ollama loads a model with when a request sets none: the model's own
    `num_ctx`, else Ollama's default for this machine's GPU memory — never more than the
    model was trained for. (A server started with OLLAMA_CONTEXT_LENGTH uses that instead;
    the app cannot see the server's environment.)"""
    raw = parameters.get("num_ctx")
    if isinstance(raw, list):
        raw = raw[-1] if raw else None
    try:
        configured = int(str(raw).strip('"')) if raw is not None else 0
    except ValueError:
        configured = 0
    if configured > 0:
        return configured
    vram = hardware.gpu_total_bytes if hardware is not None else 0
    default = next(
        (ctx for limit, ctx in OLLAMA_DEFAULT_CONTEXTS if vram < limit), OLLAMA_LARGE_VRAM_CONTEXT
    )
    return min(default, trained_context) if trained_context else default


class Fit(StrEnum):
    FULL_GPU = "full_gpu"
    PARTIAL = "partial"
    CPU_ONLY = "cpu_only"
    DOES_NOT_FIT = "does_not_fit"
    REMOTE = "remote"  # served by a cloud provider: no local memory, no GPU involved

    @property
    def label(self) -> str:
        return {
            "full_gpu": "Runs fully on the GPU",
            "partial": "Split between GPU and CPU",
            "cpu_only": "Runs on the CPU only",
            "does_not_fit": "Does not fit",
            "remote": "Runs on the provider's servers",
        }[self.value]

    @property
    def badge(self) -> str:
        """green / amber / red, as the library shows it."""
        return {
            "full_gpu": "green",
            "partial": "amber",
            "cpu_only": "amber",
            "remote": "green",
        }.get(self.value, "red")


class Suggestion(BaseModel):
    kind: str  # "quantization", "context", "sibling", "kv_cache"
    text: str
    total_bytes: int
    fit: Fit


class CompatibilityReport(BaseModel):
    model: str
    estimate: MemoryEstimate
    fit: Fit
    gpu_layers: int = 0  # layers offloaded to the GPU (all of them for full_gpu)
    score: float  # 0–1: 1 is comfortably on the GPU, 0 does not fit
    reason: str
    warnings: list[str] = Field(default_factory=list)
    suggestions: list[Suggestion] = Field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """The shape `estimate --json` prints."""
        e = self.estimate
        return {
            "model": self.model,
            "context_length": e.context_length,
            "parallel": e.parallel,
            "kv_cache_type": e.kv_cache_type,
            "total_bytes": e.total_bytes,
            "weights_bytes": e.weights_bytes,
            "kv_cache_bytes": e.kv_cache_bytes,
            "overhead_bytes": e.overhead_bytes,
            "graph_bytes": e.graph_bytes,
            "partial_graph_bytes": e.partial_graph_bytes,
            "projector_bytes": e.projector_bytes,
            "runtime_bytes": e.runtime_bytes,
            "uncertainty_bytes": e.uncertainty_bytes,
            "accounting": e.accounting,
            "alternative_accounting": e.alternative_accounting,
            "alternative_total_bytes": e.alternative_total_bytes,
            "summary": e.summary(),
            "layers": e.layers,
            "fit": self.fit.value,
            "gpu_layers": self.gpu_layers,
            "score": self.score,
            "reason": self.reason,
            "warnings": self.warnings,
            "suggestions": [s.model_dump(mode="json") for s in self.suggestions],
            "assumptions": e.assumptions,
        }


def _gib(value: int | float) -> str:
    return f"{value / GIB:.1f} GiB"


def assess(estimate: MemoryEstimate, hw: HardwareProfile) -> tuple[Fit, int, float, str]:
    """(fit, GPU layers, score, reason) for one estimate on one machine."""
    total = estimate.total_bytes
    ram = hw.available_ram_bytes * RAM_HEADROOM
    if hw.unified_memory:
        ram = min(ram, hw.total_ram_bytes * RAM_HEADROOM)
    vram = hw.gpu_usable_bytes * VRAM_HEADROOM
    if hw.has_gpu and total <= vram:
        used = total / vram
        score = 1.0 if used <= 0.8 else round(1.0 - (used - 0.8) * 0.75, 3)
        return (
            Fit.FULL_GPU,
            estimate.layers,
            score,
            (f"needs {_gib(total)}, fits in {_gib(hw.gpu_usable_bytes)} of GPU memory"),
        )
    if hw.has_gpu and not hw.unified_memory:
        fixed = estimate.overhead_bytes
        layers = int(max(0.0, vram - fixed) // max(estimate.layer_bytes, 1))
        layers = min(layers, estimate.layers)
        cpu_part = total - layers * estimate.layer_bytes
        if layers > 0 and cpu_part <= ram:
            share = layers / estimate.layers
            return (
                Fit.PARTIAL,
                layers,
                round(0.35 + 0.4 * share, 3),
                (
                    f"needs {_gib(total)}: {layers}/{estimate.layers} layers on the GPU, "
                    f"the rest ({_gib(cpu_part)}) in RAM"
                ),
            )
    if total <= ram:
        used = total / ram
        score = round(0.3 - 0.15 * used, 3)
        where = "no GPU" if not hw.has_gpu else "too big for the GPU"
        return (
            Fit.CPU_ONLY,
            0,
            max(score, 0.1),
            (f"needs {_gib(total)}, {where}: runs from RAM ({_gib(hw.available_ram_bytes)} free)"),
        )
    room = max(vram, ram) if not hw.unified_memory else ram
    return (
        Fit.DOES_NOT_FIT,
        0,
        0.0,
        (
            f"needs {_gib(total)} but only {_gib(room)} is usable "
            f"({_gib(hw.available_ram_bytes)} RAM free"
            + (f", {_gib(hw.gpu_usable_bytes)} GPU)" if hw.has_gpu else ", no GPU)")
        ),
    )


class CompatibilityService:
    """Estimates and fits against the probed (or a given) hardware profile."""

    def __init__(self, hardware: HardwareProbe, library: LibraryService | None = None) -> None:
        self.hardware = hardware
        self.library = library
        # The Ollama server's version (/api/version), when the app has asked: picks the accounting
        # the estimate follows; None estimates both and reports the larger.
        self.ollama_version: str | None = None

    def profile(self, override: HardwareProfile | None = None) -> HardwareProfile:
        return override or self.hardware.profile()

    def check_spec(
        self,
        spec: ModelSpec,
        context_length: int = 8192,
        *,
        hardware: HardwareProfile | None = None,
        parallel: int = 1,
        kv_cache_type: KvCacheType = "f16",
        entry: LibraryEntry | None = None,
        suggest: bool = True,
        ollama_version: str | None = None,
    ) -> CompatibilityReport:
        hw = self.profile(hardware)
        estimate = estimate_memory(
            spec,
            context_length,
            parallel=parallel,
            kv_cache_type=kv_cache_type,
            gpu=hw.has_gpu,
            accounting=accounting_for_version(ollama_version or self.ollama_version),
            metal=any(g.vendor == "apple" for g in hw.gpus),
        )
        fit, layers, score, reason = assess(estimate, hw)
        report = CompatibilityReport(
            model=spec.name,
            estimate=estimate,
            fit=fit,
            gpu_layers=layers,
            score=score,
            reason=reason,
            warnings=self._warnings(spec, estimate, fit, hw, entry),
        )
        if suggest and fit is not Fit.FULL_GPU:
            report.suggestions = self._suggestions(spec, report, hw, parallel, entry)
        return report

    def check_entry(
        self, entry: LibraryEntry, context_length: int = 8192, **kwargs: Any
    ) -> CompatibilityReport:
        return self.check_spec(ModelSpec.from_entry(entry), context_length, entry=entry, **kwargs)

    def check_show(
        self, show: Mapping[str, Any], context_length: int = 8192, **kwargs: Any
    ) -> CompatibilityReport:
        return self.check_spec(ModelSpec.from_show(show), context_length, **kwargs)

    # ----- explanations ---------------------------------------------------------------------
    def _warnings(
        self,
        spec: ModelSpec,
        estimate: MemoryEstimate,
        fit: Fit,
        hw: HardwareProfile,
        entry: LibraryEntry | None,
    ) -> list[str]:
        out: list[str] = []
        if spec.context_length and estimate.context_length > spec.context_length:
            out.append(
                f"{estimate.context_length} tokens is more than the {spec.context_length} the "
                "model was trained for; answers degrade past it"
            )
        if fit is Fit.FULL_GPU and estimate.total_bytes > 0.85 * hw.gpu_usable_bytes:
            out.append("uses most of the GPU memory: another loaded model will push it to the CPU")
        if fit is Fit.CPU_ONLY and (spec.parameter_count or 0) > 8e9:
            out.append("CPU only: expect only a few tokens per second from a model this size")
        if fit is Fit.PARTIAL:
            out.append("partly on the CPU: generation is several times slower than on the GPU")
        if estimate.kv_cache_bytes > estimate.weights_bytes:
            out.append("the context's KV cache is larger than the model itself")
        if entry is not None and not entry.installed and not entry.remote:
            free = hw.disk_free_bytes
            if entry.size_bytes and free is not None and entry.size_bytes > free:
                out.append(
                    f"download is {_gib(entry.size_bytes)} but only {_gib(free)} is free "
                    f"in {hw.models_dir or 'the models directory'}"
                )
        out.extend(f"assumed: {a}" for a in estimate.assumptions)
        return out

    def _suggestions(
        self,
        spec: ModelSpec,
        report: CompatibilityReport,
        hw: HardwareProfile,
        parallel: int,
        entry: LibraryEntry | None,
    ) -> list[Suggestion]:
        out: list[Suggestion] = []
        ctx = report.estimate.context_length
        current_bits = bits_per_weight(spec.quantization) or 16.0
        for quant in SMALLER_QUANTS:
            bits = bits_per_weight(quant) or 16.0
            if bits >= current_bits - 0.2 or not spec.parameter_count:
                continue
            smaller = spec.model_copy(update={"quantization": quant, "file_size_bytes": None})
            est = estimate_memory(smaller, ctx, parallel=parallel, gpu=hw.has_gpu)
            fit = assess(est, hw)[0]
            if _better(fit, report.fit):
                out.append(Suggestion(kind="quantization", fit=fit, total_bytes=est.total_bytes,
                                      text=f"use a {quant} build: {_gib(est.total_bytes)}, {fit.label.lower()}"))  # fmt: skip
                break
        shorter = ctx // 2
        while shorter >= 2048:
            est = estimate_memory(spec, shorter, parallel=parallel, gpu=hw.has_gpu)
            fit = assess(est, hw)[0]
            if _better(fit, report.fit):
                out.append(Suggestion(kind="context", fit=fit, total_bytes=est.total_bytes,
                                      text=f"shorten the context to {shorter} tokens: {_gib(est.total_bytes)}, {fit.label.lower()}"))  # fmt: skip
                break
            shorter //= 2
        if report.estimate.kv_cache_bytes > 256 * 1024**2:
            est = estimate_memory(
                spec, ctx, parallel=parallel, kv_cache_type="q8_0", gpu=hw.has_gpu
            )
            fit = assess(est, hw)[0]
            if _better(fit, report.fit):
                out.append(Suggestion(kind="kv_cache", fit=fit, total_bytes=est.total_bytes,
                                      text=f"quantize the KV cache (OLLAMA_KV_CACHE_TYPE=q8_0, flash attention on): {_gib(est.total_bytes)}"))  # fmt: skip
        if entry is not None and self.library is not None:
            for sibling in reversed(self.library.siblings(entry)):
                if (sibling.parameter_count or 0) >= (entry.parameter_count or 0):
                    continue
                est = estimate_memory(
                    ModelSpec.from_entry(sibling), ctx, parallel=parallel, gpu=hw.has_gpu
                )
                fit = assess(est, hw)[0]
                if _better(fit, report.fit):
                    out.append(Suggestion(kind="sibling", fit=fit, total_bytes=est.total_bytes,
                                          text=f"try {sibling.name} ({sibling.parameter_size}): {_gib(est.total_bytes)}, {fit.label.lower()}"))  # fmt: skip
                    break
        return out


_RANK = {Fit.REMOTE: 3, Fit.FULL_GPU: 3, Fit.PARTIAL: 2, Fit.CPU_ONLY: 1, Fit.DOES_NOT_FIT: 0}


def _better(new: Fit, old: Fit) -> bool:
    return _RANK[new] > _RANK[old]

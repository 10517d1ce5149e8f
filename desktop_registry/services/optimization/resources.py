"""Resource-aware spaces: whether a model loaded at a given num_ctx fits this machine's memory.

Never refuses on a guess it cannot make: where the estimator lacks the model's facts, it fits.
"""

from __future__ import annotations

from collections.abc import Callable

from desktop_registry.domain import ModelRecord
from desktop_registry.errors import RegistryError
from desktop_registry.services.library.hardware import HardwareProfile
from desktop_registry.services.library.memory_estimate import ModelSpec, estimate_memory

GIB = 1024**3
NumCtxFit = Callable[[ModelRecord, int], "str | None"]


def num_ctx_fit(profile: Callable[[], HardwareProfile]) -> NumCtxFit:
    """None when `record` at `num_ctx` fits the GPU (or RAM without one), else why not."""

    def fits(record: ModelRecord, num_ctx: int) -> str | None:
        hw = profile()
        try:
            spec = ModelSpec.from_details(
                record.details, name=record.name, size_bytes=record.size_bytes,
                capabilities=list(record.capabilities),
            )  # fmt: skip
            need = estimate_memory(spec, num_ctx, gpu=hw.has_gpu).total_bytes
        except (RegistryError, ValueError, TypeError, ZeroDivisionError):
            return None
        room = hw.gpu_usable_bytes if hw.has_gpu else hw.available_ram_bytes
        if need <= room:
            return None
        where = "GPU memory" if hw.has_gpu else "free RAM"
        return f"needs about {need / GIB:.1f} GB, this machine has {room / GIB:.1f} GB {where}"

    return fits

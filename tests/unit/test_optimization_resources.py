"""Resource-aware spaces: a num_ctx whose estimated memory does not fit this machine is left out."""

from __future__ import annotations

from desktop_registry.domain import ModelRecord, Serving, Source
from desktop_registry.domain.models import ModelDetails
from desktop_registry.services.library.hardware import HardwareProfile
from desktop_registry.services.optimization.resources import num_ctx_fit
from desktop_registry.services.optimization.space import fit_num_ctx, parse_range

GIB = 1024**3
LLAMA_8B = ModelRecord(
    name="llama3.1:8b",
    source=Source.OLLAMA,
    serving=Serving.LOCAL,
    size_bytes=4_920_753_328,
    capabilities=["completion"],
    details=ModelDetails(
        parameter_size="8.0B", parameter_count=8_030_261_248, quantization_level="Q4_K_M",
        context_length=131072, block_count=32, head_count=32, head_count_kv=8,
        embedding_length=4096,
    ),
)  # fmt: skip


def machine(ram_gb: float) -> HardwareProfile:
    return HardwareProfile(total_ram_bytes=int(ram_gb * GIB), available_ram_bytes=int(ram_gb * GIB))


def test_a_big_context_that_does_not_fit_in_ram_is_left_out_with_a_note():
    fits = num_ctx_fit(lambda: machine(8))
    space = [parse_range("num_ctx=4096:131072:63488")]  # 4096, 67584, 131072
    kept, notes = fit_num_ctx(space, lambda n: fits(LLAMA_8B, n))
    assert kept[0].choices == [4096]
    assert len(notes) == 2 and all("GB free RAM" in n for n in notes)
    assert notes[0].startswith("num_ctx 67584 left out: needs about")


def test_everything_fits_on_a_big_machine():
    fits = num_ctx_fit(lambda: machine(512))
    assert fits(LLAMA_8B, 131072) is None

"""What this machine can run models on: RAM, CPU, GPUs and their memory, disk free for models.

Never changes any device setting, and never fails because a GPU tool is missing: it reports what it found.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil
from pydantic import BaseModel, Field

GIB = 1024**3
MIB = 1024**2
# The CPU features llama.cpp/Ollama pick their kernels by; the rest of /proc/cpuinfo is noise here.
_INTERESTING_FLAGS = (
    "avx", "avx2", "avx512f", "avx512bw", "avx512_vnni", "avx_vnni", "fma", "f16c", "sse4_2",
    "amx_tile", "amx_int8", "amx_bf16", "asimd", "neon", "sve", "i8mm", "dotprod",
)  # fmt: skip


class GpuInfo(BaseModel):
    index: int = 0
    vendor: str  # "nvidia", "amd", "apple"
    name: str
    vram_total_bytes: int
    vram_free_bytes: int | None = None
    driver: str = ""
    unified_memory: bool = False  # Apple silicon: the GPU shares system RAM

    @property
    def usable_bytes(self) -> int:
        return self.vram_free_bytes if self.vram_free_bytes is not None else self.vram_total_bytes


class HardwareProfile(BaseModel):
    """A machine as the compatibility check sees it; tests may build one for any machine."""

    total_ram_bytes: int
    available_ram_bytes: int
    cpu_physical_cores: int = 1
    cpu_logical_cores: int = 1
    cpu_model: str = ""
    cpu_flags: list[str] = Field(default_factory=list)
    gpus: list[GpuInfo] = Field(default_factory=list)
    disk_free_bytes: int | None = None
    models_dir: str = ""
    system: str = ""
    notes: list[str] = Field(default_factory=list)  # what could not be probed, and why
    probed_at: datetime | None = None

    @classmethod
    def describe(
        cls,
        *,
        ram_gb: float,
        gpu_vram_gb: float | None = None,
        gpu_name: str = "GPU",
        available_ram_gb: float | None = None,
        cores: int = 8,
        disk_free_gb: float | None = 500.0,
    ) -> HardwareProfile:
        """A profile from round numbers ("8 GB RAM, no GPU"; "32 GB RAM, 24 GB GPU")."""
        gpus = []
        if gpu_vram_gb:
            vendor = "nvidia" if "nvidia" in gpu_name.lower() else "generic"
            gpus.append(
                GpuInfo(vendor=vendor, name=gpu_name, vram_total_bytes=int(gpu_vram_gb * GIB))
            )
        return cls(
            total_ram_bytes=int(ram_gb * GIB),
            available_ram_bytes=int((available_ram_gb or ram_gb * 0.8) * GIB),
            cpu_physical_cores=cores,
            cpu_logical_cores=cores,
            gpus=gpus,
            disk_free_bytes=int(disk_free_gb * GIB) if disk_free_gb is not None else None,
            system="described",
        )

    @property
    def has_gpu(self) -> bool:
        return bool(self.gpus)

    @property
    def unified_memory(self) -> bool:
        return any(g.unified_memory for g in self.gpus)

    @property
    def gpu_total_bytes(self) -> int:
        return sum(g.vram_total_bytes for g in self.gpus)

    @property
    def gpu_usable_bytes(self) -> int:
        return sum(g.usable_bytes for g in self.gpus)

    def summary(self) -> str:
        ram = f"{self.total_ram_bytes / GIB:.1f} GiB RAM"
        if not self.gpus:
            return f"{ram}, {self.cpu_physical_cores} cores, no GPU"
        gpus = ", ".join(f"{g.name} ({g.vram_total_bytes / GIB:.1f} GiB)" for g in self.gpus)
        return f"{ram}, {self.cpu_physical_cores} cores, {gpus}"


Runner = Callable[[Sequence[str]], str | None]


def run_tool(command: Sequence[str]) -> str | None:
    """stdout of a GPU tool, or None when it is absent or fails (the caller notes why)."""
    if shutil.which(command[0]) is None:
        return None
    try:
        done = subprocess.run(
            list(command), capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def parse_nvidia_smi(output: str) -> list[GpuInfo]:
    """`nvidia-smi --query-gpu=index,name,memory.total,memory.free,driver_version
    --format=csv,noheader,nounits` (MiB) → GPUs."""
    gpus: list[GpuInfo] = []
    for line in output.splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) < 4 or not parts[2].replace(".", "").isdigit():
            continue
        free = parts[3].replace(".", "")
        gpus.append(
            GpuInfo(
                index=int(parts[0]) if parts[0].isdigit() else len(gpus),
                vendor="nvidia",
                name=parts[1],
                vram_total_bytes=int(float(parts[2]) * MIB),
                vram_free_bytes=int(float(parts[3]) * MIB) if free.isdigit() else None,
                driver=parts[4] if len(parts) > 4 else "",
            )
        )
    return gpus


def parse_rocm_smi(meminfo: str, names: str | None = None) -> list[GpuInfo]:
    """`rocm-smi --showmeminfo vram --json` (+ `--showproductname --json`) → GPUs."""
    try:
        mem: dict[str, Any] = json.loads(meminfo)
        product: dict[str, Any] = json.loads(names) if names else {}
    except json.JSONDecodeError:
        return []
    gpus: list[GpuInfo] = []
    for card, values in sorted(mem.items()):
        if not isinstance(values, dict):
            continue
        total = values.get("VRAM Total Memory (B)")
        used = values.get("VRAM Total Used Memory (B)")
        if total is None:
            continue
        info = product.get(card) or {}
        name = info.get("Card Series") or info.get("Card series") or info.get("Card SKU") or card
        total_b = int(total)
        gpus.append(
            GpuInfo(
                index=len(gpus),
                vendor="amd",
                name=str(name),
                vram_total_bytes=total_b,
                vram_free_bytes=total_b - int(used) if used is not None else None,
            )
        )
    return gpus


def read_cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> tuple[str, list[str]]:
    """CPU model name and the flags that matter for inference kernels ("", [] when unreadable)."""
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "", []
    model, flags = "", set[str]()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip().lower()
        if key in ("model name", "hardware", "cpu model") and not model:
            model = value.strip()
        elif key in ("flags", "features") and not flags:
            flags = set(value.split())
    return model, [f for f in _INTERESTING_FLAGS if f in flags]


def default_models_dir() -> Path:
    configured = os.environ.get("OLLAMA_MODELS")
    return Path(configured).expanduser() if configured else Path.home() / ".ollama" / "models"


def _disk_free(path: Path) -> int | None:
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        return shutil.disk_usage(probe).free
    except OSError:
        return None


class HardwareProbe:
    """Probes once and caches; `profile(refresh=True)` looks again (GPU memory changes as models load)."""

    def __init__(
        self,
        *,
        models_dir: Path | None = None,
        runner: Runner = run_tool,
        cpuinfo: Path = Path("/proc/cpuinfo"),
        max_age_s: float = 300.0,
    ) -> None:
        self.models_dir = models_dir or default_models_dir()
        self.runner = runner
        self.cpuinfo = cpuinfo
        self.max_age_s = max_age_s
        self._cached: HardwareProfile | None = None
        self._cached_at = 0.0

    def profile(self, *, refresh: bool = False) -> HardwareProfile:
        stale = time.monotonic() - self._cached_at > self.max_age_s
        if self._cached is None or refresh or stale:
            self._cached = self.probe()
            self._cached_at = time.monotonic()
        return self._cached

    def probe(self) -> HardwareProfile:
        memory = psutil.virtual_memory()
        notes: list[str] = []
        model, flags = read_cpu_flags(self.cpuinfo)
        if not flags and platform.system() == "Linux":
            notes.append(f"CPU flags: {self.cpuinfo} could not be read")
        if not model:
            model = platform.processor() or platform.machine()
        gpus = self._nvidia(notes) + self._amd(notes) + self._apple(memory.total)
        return HardwareProfile(
            total_ram_bytes=int(memory.total),
            available_ram_bytes=int(memory.available),
            cpu_physical_cores=psutil.cpu_count(logical=False) or psutil.cpu_count() or 1,
            cpu_logical_cores=psutil.cpu_count() or 1,
            cpu_model=model,
            cpu_flags=flags,
            gpus=gpus,
            disk_free_bytes=_disk_free(self.models_dir),
            models_dir=str(self.models_dir),
            system=f"{platform.system()} {platform.machine()}",
            notes=notes,
            probed_at=datetime.now(UTC),
        )

    def _nvidia(self, notes: list[str]) -> list[GpuInfo]:
        query = "index,name,memory.total,memory.free,driver_version"
        out = self.runner(["nvidia-smi", f"--query-gpu={query}", "--format=csv,noheader,nounits"])
        if out is not None:
            return parse_nvidia_smi(out)
        gpus = _nvml_gpus()
        if gpus is None:
            notes.append("NVIDIA: nvidia-smi not found (no NVIDIA GPU, or no driver)")
            return []
        return gpus

    def _amd(self, notes: list[str]) -> list[GpuInfo]:
        out = self.runner(["rocm-smi", "--showmeminfo", "vram", "--json"])
        if out is None:
            notes.append("AMD: rocm-smi not found (no AMD GPU, or ROCm not installed)")
            return []
        return parse_rocm_smi(out, self.runner(["rocm-smi", "--showproductname", "--json"]))

    def _apple(self, total_ram: int) -> list[GpuInfo]:
        if platform.system() != "Darwin" or platform.machine() != "arm64":
            return []
        # Metal lets the GPU wire about three quarters of unified memory by default.
        return [
            GpuInfo(
                vendor="apple",
                name="Apple silicon GPU",
                vram_total_bytes=int(total_ram * 0.75),
                unified_memory=True,
            )
        ]


def _nvml_gpus() -> list[GpuInfo] | None:
    """GPUs through NVML (the nvidia-ml-py package) when it and a driver are present."""
    try:
        import pynvml
    except ImportError:
        return None
    try:
        pynvml.nvmlInit()
    except Exception:  # NVMLError has no stable import path; no driver means no NVIDIA GPU
        return None
    try:
        gpus = []
        for i in range(pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(i)
            mem = pynvml.nvmlDeviceGetMemoryInfo(handle)
            name = pynvml.nvmlDeviceGetName(handle)
            gpus.append(
                GpuInfo(
                    index=i,
                    vendor="nvidia",
                    name=name.decode() if isinstance(name, bytes) else str(name),
                    vram_total_bytes=int(mem.total),
                    vram_free_bytes=int(mem.free),
                )
            )
        return gpus
    finally:
        pynvml.nvmlShutdown()


def load_profile(path: Path) -> HardwareProfile:
    """A profile saved with `hardware --json` (to check another machine)."""
    from desktop_registry.errors import UserInputError

    try:
        return HardwareProfile.model_validate_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UserInputError(f"Cannot read a hardware profile from {path}: {exc}") from None

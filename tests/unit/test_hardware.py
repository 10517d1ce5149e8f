"""The hardware probe on this very machine, plus the GPU tools' output formats."""

from __future__ import annotations

import shutil
from pathlib import Path

import psutil

from desktop_registry.services.library.hardware import (
    _INTERESTING_FLAGS,
    GIB,
    HardwareProbe,
    HardwareProfile,
    parse_nvidia_smi,
    parse_rocm_smi,
    read_cpu_flags,
)


def test_probe_reports_this_machines_ram_cores_and_disk(tmp_path: Path) -> None:
    profile = HardwareProbe(models_dir=tmp_path / "models").profile()
    assert profile.total_ram_bytes == psutil.virtual_memory().total
    assert 0 < profile.available_ram_bytes <= profile.total_ram_bytes
    assert profile.cpu_logical_cores >= profile.cpu_physical_cores >= 1
    assert profile.disk_free_bytes and profile.disk_free_bytes > 0  # nearest existing parent
    assert profile.models_dir.endswith("models")


def test_probe_without_gpu_tools_reports_no_gpu_and_says_why(tmp_path: Path) -> None:
    profile = HardwareProbe(models_dir=tmp_path).profile()
    if shutil.which("nvidia-smi") is None:
        assert not any(g.vendor == "nvidia" for g in profile.gpus)
        assert any("nvidia-smi not found" in n for n in profile.notes)
    if shutil.which("rocm-smi") is None and shutil.which("nvidia-smi") is None:
        assert profile.gpus == [] and not profile.has_gpu
        assert profile.summary().endswith("no GPU")


def test_probe_is_cached_until_refreshed(tmp_path: Path) -> None:
    probe = HardwareProbe(models_dir=tmp_path)
    first = probe.profile()
    assert probe.profile() is first
    assert probe.profile(refresh=True) is not first


def test_cpu_flags_come_from_proc_cpuinfo_when_present() -> None:
    model, flags = read_cpu_flags()
    if Path("/proc/cpuinfo").exists():
        assert model  # every Linux cpuinfo names the CPU
        assert set(flags) <= set(_INTERESTING_FLAGS) and len(flags) == len(set(flags))
    assert read_cpu_flags(Path("/nonexistent/cpuinfo")) == ("", [])


def test_nvidia_smi_csv_is_read_in_mib() -> None:
    # The exact shape `nvidia-smi --query-gpu=index,name,memory.total,memory.free,driver_version
    # --format=csv,noheader,nounits` prints (sample text; there is no NVIDIA GPU on this machine).
    gpus = parse_nvidia_smi(
        "0, NVIDIA GeForce RTX 4090, 24564, 23010, 550.54.14\n1, Tesla T4, 15360, [N/A], 535\n"
    )
    assert [g.name for g in gpus] == ["NVIDIA GeForce RTX 4090", "Tesla T4"]
    assert (
        gpus[0].vram_total_bytes == 24564 * 1024**2 and gpus[0].vram_free_bytes == 23010 * 1024**2
    )
    assert gpus[1].vram_free_bytes is None and gpus[1].usable_bytes == 15360 * 1024**2


def test_rocm_smi_json_is_read() -> None:
    mem = '{"card0": {"VRAM Total Memory (B)": "25753026560", "VRAM Total Used Memory (B)": "1073741824"}}'
    names = '{"card0": {"Card Series": "Radeon RX 7900 XTX"}}'
    (gpu,) = parse_rocm_smi(mem, names)
    assert gpu.vendor == "amd" and gpu.name == "Radeon RX 7900 XTX"
    assert gpu.vram_free_bytes == 25753026560 - 1073741824


def test_a_described_profile_stands_for_another_machine() -> None:
    laptop = HardwareProfile.describe(ram_gb=8)
    desktop = HardwareProfile.describe(ram_gb=32, gpu_vram_gb=24, gpu_name="NVIDIA RTX 4090")
    assert not laptop.has_gpu and laptop.total_ram_bytes == 8 * GIB
    assert desktop.gpu_total_bytes == 24 * GIB and "RTX 4090" in desktop.summary()
    assert HardwareProfile.model_validate_json(desktop.model_dump_json()) == desktop

"""How close `estimate --json` comes to the memory Ollama reported for real loads.

Runs the CLI's estimate on each reference point in tests/data/estimate_reference/points.json
(a saved /api/show + the context it was loaded at) and compares total_bytes with Ollama's figure.
Last line: {"median_abs_error_pct": ..., ...}.
"""

from __future__ import annotations

import contextlib
import io
import json
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from desktop_registry.cli import main  # noqa: E402
from desktop_registry.services.hardware import HardwareProfile  # noqa: E402

REFERENCE = ROOT / "tests" / "data" / "estimate_reference"
GIB = 1024**3


def main_bench() -> None:
    points = json.loads((REFERENCE / "points.json").read_text())["points"]
    errors = []
    with tempfile.TemporaryDirectory() as tmp:
        # The reported machine matters only for the fixed GPU reservation: give each point its device.
        profiles = {
            "gpu": HardwareProfile.describe(ram_gb=256, gpu_vram_gb=256, gpu_name="NVIDIA GPU"),
            "cpu": HardwareProfile.describe(ram_gb=256),
        }
        for device, profile in profiles.items():
            (Path(tmp) / f"{device}.json").write_text(profile.model_dump_json())
        print(
            f"{'model':<24}{'ctx×slots':>12}{'device':>7}{'reported':>11}{'estimate':>11}{'error':>9}"
        )
        for point in points:
            out = io.StringIO()
            argv = [
                "--db", str(Path(tmp) / "r.db"), "estimate",
                "--from-show", str(REFERENCE / point["show"]),
                "--ctx", str(point["num_ctx"]), "--parallel", str(point["parallel"]),
                "--hardware", str(Path(tmp) / f"{point['device']}.json"), "--json",
            ]  # fmt: skip
            with contextlib.redirect_stdout(out):
                code = main(argv)
            if code != 0:
                raise SystemExit(f"estimate failed for {point['model']}")
            estimate = json.loads(out.getvalue())["total_bytes"]
            reported = point["reported_size_bytes"]
            error = (estimate - reported) / reported * 100
            errors.append(error)
            ctx = f"{point['num_ctx']}×{point['parallel']}"
            print(
                f"{point['model']:<24}{ctx:>12}{point['device']:>7}"
                f"{reported / GIB:>10.2f}G{estimate / GIB:>10.2f}G{error:>+8.1f}%"
            )
    abs_errors = [abs(e) for e in errors]
    print(
        json.dumps(
            {
                "median_abs_error_pct": round(statistics.median(abs_errors), 2),
                "mean_abs_error_pct": round(statistics.mean(abs_errors), 2),
                "max_abs_error_pct": round(max(abs_errors), 2),
                "points": len(errors),
            }
        )
    )


if __name__ == "__main__":
    main_bench()

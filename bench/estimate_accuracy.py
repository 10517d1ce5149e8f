"""How close `estimate --json` comes to the memory Ollama reported for real loads.

Runs the CLI's estimate on each reference point in tests/data/estimate_reference/points.json
(a saved /api/show + the context it was loaded at) and compares it with Ollama's figure: the
total, or only the parts Ollama counted where the point says so (`compare`). Points marked
`excluded` are printed with their reason and left out of the statistics.
Last line: {"median_abs_error_pct": ..., "p90_abs_error_pct": ..., "points": ..., ...}.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from desktop_registry.cli import main  # noqa: E402
from desktop_registry.services.library.hardware import HardwareProfile  # noqa: E402

REFERENCE = ROOT / "tests" / "data" / "estimate_reference"
GIB = 1024**3
# The parts of `estimate --json` each kind of Ollama figure covers.
COMPARED_PARTS = {
    "total": ("total_bytes",),
    "weights+kv": ("weights_bytes", "kv_cache_bytes"),
    # Some layers stayed on the CPU: Ollama <= 0.11 then counts the partial-offload graph.
    "total-partial": ("total_bytes", "-graph_bytes", "partial_graph_bytes"),
}
# `reported_parts` names -> estimate fields, for points whose log gives a breakdown.
PART_FIELDS = {"weights": "weights_bytes", "kv": "kv_cache_bytes", "graph": "graph_bytes"}


def _sum_parts(estimate: dict[str, Any], parts: tuple[str, ...]) -> int:
    return sum(-estimate[p[1:]] if p.startswith("-") else estimate[p] for p in parts)


def _estimate(point: dict[str, Any], tmp: Path) -> dict[str, Any]:
    out = io.StringIO()
    argv = [
        "--db", str(tmp / "r.db"), "estimate",
        "--from-show", str(REFERENCE / point["show"]),
        "--ctx", str(point["num_ctx"]), "--parallel", str(point["parallel"]),
        "--hardware", str(tmp / f"{point['device']}.json"), "--json",
        "--ollama-version", point.get("ollama_version", ""),
    ]  # fmt: skip
    with contextlib.redirect_stdout(out):
        code = main(argv)
    if code != 0:
        raise SystemExit(f"estimate failed for {point['model']}")
    result: dict[str, Any] = json.loads(out.getvalue())
    return result


def _percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile: the smallest value with at least `share` of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def main_bench() -> None:
    points = json.loads((REFERENCE / "points.json").read_text())["points"]
    errors: list[float] = []
    part_errors: dict[str, list[float]] = {}
    excluded = 0
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        # The reported machine matters only for the fixed GPU reservation: give each point its device.
        profiles = {
            "gpu": HardwareProfile.describe(ram_gb=256, gpu_vram_gb=256, gpu_name="NVIDIA GPU"),
            "cpu": HardwareProfile.describe(ram_gb=256),
        }
        for device, profile in profiles.items():
            (tmp / f"{device}.json").write_text(profile.model_dump_json())
        print(
            f"{'model':<28}{'ctx×slots':>12}{'device':>7}{'compared':>14}"
            f"{'reported':>11}{'estimate':>11}{'error':>9}"
        )
        for point in points:
            estimate = _estimate(point, tmp)
            compare = point.get("compare", "total")
            estimated = _sum_parts(estimate, COMPARED_PARTS[compare])
            reported = point["reported_size_bytes"]
            error = (estimated - reported) / reported * 100
            ctx = f"{point['num_ctx']}×{point['parallel']}"
            line = (
                f"{point['model']:<28}{ctx:>12}{point['device']:>7}{compare:>14}"
                f"{reported / GIB:>10.2f}G{estimated / GIB:>10.2f}G{error:>+8.1f}%"
            )
            if point.get("excluded"):
                excluded += 1
                print(f"{line}  excluded: {point['excluded']}")
                continue
            errors.append(error)
            print(line)
            for part, value in point.get("reported_parts", {}).items():
                field = PART_FIELDS[part]
                if part == "graph" and compare == "total-partial":
                    field = "partial_graph_bytes"
                part_errors.setdefault(part, []).append(abs(estimate[field] - value) / value * 100)
    abs_errors = [abs(e) for e in errors]
    print(
        json.dumps(
            {
                "median_abs_error_pct": round(statistics.median(abs_errors), 2),
                "p90_abs_error_pct": round(_percentile(abs_errors, 0.9), 2),
                "mean_abs_error_pct": round(statistics.mean(abs_errors), 2),
                "max_abs_error_pct": round(max(abs_errors), 2),
                "mean_signed_error_pct": round(statistics.mean(errors), 2),
                "points": len(errors),
                "families": len(
                    {p.get("family", p["model"]) for p in points if not p.get("excluded")}
                ),
                "part_median_abs_error_pct": {
                    part: round(statistics.median(values), 2)
                    for part, values in part_errors.items()
                },
                "part_points": {part: len(values) for part, values in part_errors.items()},
                "excluded_points": excluded,
            }
        )
    )


if __name__ == "__main__":
    main_bench()

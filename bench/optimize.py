"""Benchmark: what a study costs per trial over the bare suite runs it is made of.

Runs the same N suite runs twice against the tunable emulated model: bare (EvaluationRunner
prepare + run) and as an Optuna study (sampling, RDB storage writes, heartbeats, user attrs,
the /api/ps memory read). overhead_per_trial_ms = (study wall - bare wall) / N. Target ≤ 50 ms.
Last line: {"trials", "rows", "strategy", "wall_s", "bare_wall_s", "overhead_per_trial_ms"}.
Run: python bench/optimize.py [--trials 30] [--rows 12] [--strategy bayesian]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from desktop_registry.domain.optimization import StudyRequest  # noqa: E402
from desktop_registry.services.optimization.space import parse_range  # noqa: E402
from tests.integration.optimize_setup import (  # noqa: E402
    MODEL,
    SPACE,
    context,
    registry_with_model,
    tunable_emulator,
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--rows", type=int, default=12)
    parser.add_argument("--strategy", default="bayesian")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="bench-optimize-"))
    with tunable_emulator() as emu:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            registry_with_model(home, emu, rows=args.rows)
        ctx = context(home, emu)
        runner = ctx.evaluation(tracked=False)
        service = ctx.optimization(tracked=False)
        request = StudyRequest(model=MODEL, suite="Echo", strategy=args.strategy,
                               trials=args.trials, seed=1, study_name="bench",
                               space=[parse_range(s) for s in SPACE])  # fmt: skip

        async def bare() -> float:
            started = time.perf_counter()
            for _ in range(args.trials):
                run = runner.prepare("Echo", [MODEL])
                await runner.run(run.id)
            return time.perf_counter() - started

        async def study() -> float:
            started = time.perf_counter()
            await service.optimize(request)
            return time.perf_counter() - started

        async def both() -> tuple[float, float]:
            try:
                await bare()  # warm: connections, imports, the first SQLite pages
                return await bare(), await study()
            finally:
                await ctx.aclose()

        bare_s, study_s = asyncio.run(both())
        ctx.close()
    print(json.dumps({
        "trials": args.trials,
        "rows": args.rows,
        "strategy": args.strategy,
        "wall_s": round(study_s, 3),
        "bare_wall_s": round(bare_s, 3),
        "overhead_per_trial_ms": round(1000 * (study_s - bare_s) / args.trials, 1),
    }))  # fmt: skip


if __name__ == "__main__":
    main()

"""Benchmark: one suite of 200 rows across 3 emulated models under a per-source concurrency limit.

Every request waits a fixed --latency at the emulator, so the ideal wall time is
rows × models × latency / limit; `ratio` = wall / ideal shows what the runner's own overhead
(streaming, scoring, one SQLite write per row) costs. Target: ratio ≤ 1.15.
Last line: {"rows", "models", "wall_s", "ideal_s", "ratio", "limit", "latency_s", "peak_in_flight"}.
Run: python bench/eval_throughput.py [--rows 200] [--latency 0.05] [--limit 4]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from desktop_registry.app import build_context  # noqa: E402
from desktop_registry.config import Settings  # noqa: E402
from tests.servers.ollama_emulator import EmulatedModel, OllamaEmulator  # noqa: E402

MODELS = ["alpha:1b", "beta:1b", "gamma:1b"]


def suite_text(rows: int) -> str:
    return yaml.safe_dump(
        {
            "name": "Throughput",
            "model": MODELS[0],
            "messages": [{"role": "user", "content": "Echo {{n}}"}],
            "testData": [{"n": i} for i in range(rows)],
            "evaluators": [{"name": "says hi", "string": {"contains": "hi"}}],
        },
        sort_keys=False,
    )


def count_in_flight(emu: OllamaEmulator) -> dict[str, int]:
    state = {"now": 0, "peak": 0}
    lock = threading.Lock()
    original = emu._handle

    def handle(h: Any, method: str) -> None:
        with lock:
            state["now"] += 1
            state["peak"] = max(state["peak"], state["now"])
        try:
            original(h, method)
        finally:
            with lock:
                state["now"] -= 1

    emu._handle = handle  # type: ignore[method-assign]
    return state


async def main(rows: int, latency: float, limit: int) -> dict[str, Any]:
    with (
        tempfile.TemporaryDirectory() as tmp,
        OllamaEmulator([EmulatedModel(n, reply="hi") for n in MODELS]) as emu,
    ):
        ctx = build_context(
            Settings(home=Path(tmp) / "home", ollama_url=emu.url, github_models_sync="never"),
            db_path=Path(tmp) / "registry.db",
        )
        await ctx.ollama_sync().run()
        ctx.eval_suites().import_text(suite_text(rows), "bench")
        runner = ctx.evaluation(tracked=False)
        runner.limits["ollama"] = limit
        run = runner.prepare("Throughput", MODELS)
        emu.latency_s = latency
        state = count_in_flight(emu)
        started = time.perf_counter()
        summaries = await runner.run(run.id)
        wall = time.perf_counter() - started
        await ctx.aclose()
        ctx.close()
    done = sum(s.rows for s in summaries)
    assert done == rows * len(MODELS), f"only {done} rows finished"
    ideal = rows * len(MODELS) * latency / limit
    return {
        "rows": rows,
        "models": len(MODELS),
        "wall_s": round(wall, 3),
        "ideal_s": round(ideal, 3),
        "ratio": round(wall / ideal, 3),
        "limit": limit,
        "latency_s": latency,
        "peak_in_flight": state["peak"],
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--limit", type=int, default=4)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.rows, args.latency, args.limit))))

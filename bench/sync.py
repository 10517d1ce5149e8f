"""Benchmark: cold and warm sync of 1,000 emulated Ollama models, against a bare-httpx floor.

The floor does the same HTTP requests (one /api/tags, one /api/show per model, same
concurrency) with plain httpx and json parsing, and writes nothing. Medians over --repeat runs.
Last line: {"models", "cold_s", "warm_s", "floor_s", "cold_vs_floor", "warm_show_calls"}.
Run: python bench/sync.py [--models 1000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from desktop_registry.config import Settings  # noqa: E402
from desktop_registry.services.sync.ollama import OllamaSync  # noqa: E402
from desktop_registry.sources.ollama import OllamaSource  # noqa: E402
from desktop_registry.storage import Database, ModelRepository  # noqa: E402
from tests.servers.ollama_emulator import OllamaEmulator, many_models  # noqa: E402

CONCURRENCY = Settings().sync_concurrency


async def floor(url: str) -> float:
    started = time.perf_counter()
    limits = httpx.Limits(max_connections=16, max_keepalive_connections=16)
    async with httpx.AsyncClient(base_url=url, limits=limits) as client:
        tags = (await client.get("/api/tags")).json()["models"]
        gate = asyncio.Semaphore(CONCURRENCY)

        async def show(name: str) -> None:
            async with gate:
                (await client.post("/api/show", json={"model": name})).json()

        await asyncio.gather(*(show(m["name"]) for m in tags))
    return time.perf_counter() - started


async def timed_sync(url: str, repo: ModelRepository) -> float:
    started = time.perf_counter()
    async with OllamaSource(url) as source:
        report = await OllamaSync(source, repo, concurrency=CONCURRENCY).run()
    elapsed = time.perf_counter() - started
    assert not report.errors, report.errors[:3]
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    cold, warm, floors = [], [], []
    warm_show_calls = 0
    with OllamaEmulator(many_models(args.models)) as emu, tempfile.TemporaryDirectory() as tmp:
        asyncio.run(floor(emu.url))  # warm-up: imports, emulator caches
        for i in range(args.repeat):
            floors.append(asyncio.run(floor(emu.url)))
            db = Database.open(Path(tmp) / f"registry-{i}.db")
            repo = ModelRepository(db)
            cold.append(asyncio.run(timed_sync(emu.url, repo)))
            emu.reset_counts()
            warm.append(asyncio.run(timed_sync(emu.url, repo)))
            warm_show_calls = max(warm_show_calls, emu.count("/api/show"))
            assert repo.count() == args.models
            db.dispose()
            print(
                json.dumps(
                    {
                        "run": i,
                        "floor_s": round(floors[-1], 3),
                        "cold_s": round(cold[-1], 3),
                        "warm_s": round(warm[-1], 3),
                    }
                ),
                file=sys.stderr,
            )
    cold_s, warm_s, floor_s = (statistics.median(x) for x in (cold, warm, floors))
    print(
        json.dumps(
            {
                "models": args.models,
                "concurrency": CONCURRENCY,
                "cold_s": round(cold_s, 3),
                "warm_s": round(warm_s, 3),
                "floor_s": round(floor_s, 3),
                "cold_vs_floor": round(cold_s / floor_s, 3),
                "warm_show_calls": warm_show_calls,
            }
        )
    )


if __name__ == "__main__":
    main()

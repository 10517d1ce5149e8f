"""Benchmark: slot switch latency (registry only, and with the MLflow alias), variant creation.

Medians over --switches switches and --variants parameter variants against the Ollama emulator,
with a real MLflow SQLite store in a temp dir.
Last line: {"switch_ms", "switch_with_alias_ms", "variant_create_ms", "variant_create_tracked_ms",
"mlflow_first_use_s"}.
Run: python bench/experiments.py [--switches 200] [--variants 10]
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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from desktop_registry.domain import ModelRecord, Serving, Source  # noqa: E402
from desktop_registry.services.experiments.service import ExperimentService  # noqa: E402
from desktop_registry.services.sync.ollama import OllamaSync  # noqa: E402
from desktop_registry.services.versions.service import VersionService  # noqa: E402
from desktop_registry.sources.ollama import OllamaSource  # noqa: E402
from desktop_registry.storage import Database, ModelRepository  # noqa: E402
from desktop_registry.storage.slots import SlotRepository  # noqa: E402
from desktop_registry.tracking.mlflow import MlflowTracker, default_tracking_uri  # noqa: E402
from tests.servers.ollama_emulator import OllamaEmulator, standard_models  # noqa: E402


def switch_ms(home: Path, tracker: MlflowTracker | None, count: int) -> float:
    db = Database.open(home / f"switch-{tracker is not None}.db")
    repo = ModelRepository(db)
    for name in ("a:1b", "b:1b"):
        repo.register(
            ModelRecord(
                name=name, source=Source.OLLAMA, serving=Serving.LOCAL, capabilities=["completion"]
            )
        )
    svc = VersionService(repo, SlotRepository(db), tracker, actor="bench")
    svc.create_slot("assistant", "completion")
    svc.add_version("assistant", "a:1b", "1.0.0")
    svc.add_version("assistant", "b:1b", "1.1.0")
    times = []
    for i in range(count):
        started = time.perf_counter()
        svc.switch("assistant", "1.1.0" if i % 2 == 0 else "1.0.0")
        times.append((time.perf_counter() - started) * 1000)
    db.dispose()
    return statistics.median(times)


def variant_ms(home: Path, tracker: MlflowTracker | None, count: int) -> float:
    with OllamaEmulator(standard_models()) as emu:
        db = Database.open(home / f"variants-{tracker is not None}.db")
        repo = ModelRepository(db)

        async def run() -> list[float]:
            async with OllamaSource(emu.url) as source:
                await OllamaSync(source, repo).run()
                service = ExperimentService(repo, source, tracker)
                times = []
                for i in range(count):
                    started = time.perf_counter()
                    await service.create(
                        {
                            "type": "parameter_tuning",
                            "name": f"v{i}-{tracker is not None}",
                            "base": "llama3.1:8b",
                            "options": {"temperature": round(0.1 * (i % 10), 1)},
                        }
                    )
                    times.append((time.perf_counter() - started) * 1000)
                return times

        times = asyncio.run(run())
        db.dispose()
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--switches", type=int, default=200)
    parser.add_argument("--variants", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        tracker = MlflowTracker(default_tracking_uri(home), artifact_root=home / "art")
        started = time.perf_counter()
        tracker.experiment_id("warm-up")  # imports MLflow and creates its schema
        first_use = time.perf_counter() - started
        result = {
            "switch_ms": round(switch_ms(home, None, args.switches), 3),
            "switch_with_alias_ms": round(switch_ms(home, tracker, args.switches // 4), 3),
            "variant_create_ms": round(variant_ms(home, None, args.variants), 2),
            "variant_create_tracked_ms": round(variant_ms(home, tracker, args.variants), 2),
            "mlflow_first_use_s": round(first_use, 2),
        }
    print(json.dumps(result))


if __name__ == "__main__":
    main()

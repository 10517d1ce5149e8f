"""Library search latency over the shipped catalog plus 10,000 registry models.

Times LibraryService.search for a mix of text queries and filters on a warm index.
Last line: {"p95_ms": ..., "median_ms": ..., "entries": ..., "queries": ...}.
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from desktop_registry.domain import ModelDetails, ModelRecord, Serving, Source  # noqa: E402
from desktop_registry.domain.library import LibraryCategory, LibraryQuery, SizeClass  # noqa: E402
from desktop_registry.services.library.catalog import LibraryService  # noqa: E402
from desktop_registry.storage import Database, ModelRepository  # noqa: E402
from desktop_registry.storage.library_index import LibraryIndex  # noqa: E402

FAMILIES = ["llama", "qwen2", "gemma3", "mistral", "phi3", "deepseek2", "granite", "bert"]
WORDS = ["coder", "chat", "vision", "instruct", "math", "embed", "tools", "reasoning", "tiny"]


def registry_models(n: int) -> list[ModelRecord]:
    rng = random.Random(7)
    records = []
    for i in range(n):
        family = rng.choice(FAMILIES)
        word = rng.choice(WORDS)
        size = rng.choice(["0.5B", "1.5B", "3B", "7B", "8B", "14B", "32B", "70B"])
        caps = [
            "completion",
            *rng.sample(["tools", "vision", "thinking", "insert"], k=rng.randint(0, 2)),
        ]
        records.append(
            ModelRecord(
                name=f"{family}-{word}-{i}:{size.lower()}",
                source=Source.OLLAMA,
                serving=Serving.LOCAL,
                capabilities=caps,
                description=f"{family} {word} experiment {i}",
                tags=[size, "Q4_K_M", word],
                size_bytes=int(float(size[:-1]) * 6e8),
                details=ModelDetails(
                    family=family, parameter_size=size, quantization_level="Q4_K_M"
                ),
            )
        )
    return records


QUERIES = [
    LibraryQuery(text="llama"),
    LibraryQuery(text="coder", category=LibraryCategory.CODE),
    LibraryQuery(text="qwen", size_class=SizeClass.SMALL),
    LibraryQuery(text="vision model", capability="vision"),
    LibraryQuery(text="embedding retrieval"),
    LibraryQuery(text="reasoning", installed=False),
    LibraryQuery(text="gemma3", remote=False, max_parameters=int(14e9)),
    LibraryQuery(category=LibraryCategory.EMBEDDING),
    LibraryQuery(text="7b"),
    LibraryQuery(text="mistral tools", capability="tools"),
    LibraryQuery(text="deepseek", category=LibraryCategory.REASONING),
    LibraryQuery(size_class=SizeClass.TINY, limit=20),
]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = Database.open(Path(tmp) / "registry.db")
        repo = ModelRepository(db)
        repo.apply_sync(upserts=registry_models(10_000))
        library = LibraryService(LibraryIndex(db), repo)
        started = time.perf_counter()
        library.refresh()
        rebuild_s = time.perf_counter() - started
        entries = library.index.count()
        timings = []
        for _round in range(15):
            for query in QUERIES:
                t0 = time.perf_counter()
                library.search(query)
                timings.append((time.perf_counter() - t0) * 1000)
        db.dispose()
    timings.sort()
    p95 = timings[int(len(timings) * 0.95) - 1]
    print(f"index rebuild: {rebuild_s:.2f}s for {entries} entries")
    print(
        json.dumps(
            {
                "p95_ms": round(p95, 2),
                "median_ms": round(statistics.median(timings), 2),
                "max_ms": round(timings[-1], 2),
                "entries": entries,
                "queries": len(timings),
                "target_p95_ms": 20,
            }
        )
    )


if __name__ == "__main__":
    main()

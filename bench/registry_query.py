"""Benchmark: `list` with category + text filters over a 100,000-row registry.

Timed: `ModelRepository.list(category=…, text=…, limit=PAGE)`, the first page of results that
the window's filter and `desktop-registry-cli list` show. Untimed, per query: how many rows
match in all, and the median time to read every match (`--page 0` times that instead).
Prints per-query figures, then one JSON object as its last line: rows, p50_ms, p95_ms.
Run: python bench/registry_query.py [--rows 100000] [--repeat 20] [--page 200]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from desktop_registry.domain import categories_for_capabilities
from desktop_registry.storage import Database, ModelRepository
from desktop_registry.storage.model_queries import category_keys
from desktop_registry.storage.repository import CAPS, MODELS

FAMILIES = [
    ("llama3.1", ["completion", "tools"]),
    ("llama3.2-vision", ["completion", "vision"]),
    ("qwen2.5-coder", ["completion", "tools"]),
    ("qwen3", ["completion", "tools", "thinking"]),
    ("deepseek-r1", ["completion", "thinking"]),
    ("gemma3", ["completion", "vision"]),
    ("phi4", ["completion"]),
    ("mistral", ["completion", "tools"]),
    ("nomic-embed-text", ["embedding"]),
    ("mxbai-embed-large", ["embedding"]),
    ("llava", ["completion", "vision"]),
    ("codellama", ["completion"]),
    ("starcoder2", ["completion", "insert"]),
    ("granite3.3", ["completion", "tools"]),
    ("snowflake-arctic-embed", ["embedding"]),
]
SIZES = ["0.5b", "1b", "3b", "7b", "8b", "14b", "32b", "70b"]
QUANTS = ["Q4_K_M", "Q5_K_M", "Q8_0", "F16"]
QUERIES = [
    ("function_calling", "qwen2.5-coder 7b"),
    ("embedding", "nomic"),
    ("reasoning", "deepseek-r1 70b"),
    ("multimodal", "gemma3 q8_0"),
    ("general", "phi4"),
    ("function_calling", "llama3.1 lab-12"),
    ("multimodal", "vision"),
    ("embedding", "arctic"),
]


def fill(db: Database, rows: int) -> None:
    rng = random.Random(7)
    now = datetime.now(UTC).replace(tzinfo=None)
    batch: list[dict[str, object]] = []
    caps_batch: list[dict[str, object]] = []
    for i in range(rows):
        family, caps = FAMILIES[i % len(FAMILIES)]
        size = SIZES[rng.randrange(len(SIZES))]
        quant = QUANTS[rng.randrange(len(QUANTS))]
        cats = [c.value for c in categories_for_capabilities(caps)]
        batch.append(
            {
                "id": i + 1,
                "name": f"lab-{i // 500}/{family}:{size}-{quant.lower()}-{i}",
                "version": "latest",
                "source": "ollama",
                "provider": "",
                "serving": "local",
                "kind": "base" if i % 10 else "variant",
                "category": cats[0],
                "categories": cats,
                "category_keys": category_keys(cats[0], caps),
                "category_source": "server",
                "capabilities": caps,
                "parameters": {},
                "endpoint": "http://localhost:11434",
                "status": "available",
                "digest": f"{i:064x}",
                "size_bytes": 4_000_000_000,
                "family": family,
                "details": {"family": family, "parameter_size": size.upper()},
                "parent_id": None,
                "ollama_name": None,
                "github_models_id": None,
                "description": f"{family} · {size.upper()} · {quant}",
                "search_text": f"lab-{i // 500}/{family}:{size}-{quant.lower()}-{i} {family} "
                f"{family} · {size} · {quant.lower()} {json.dumps([size.upper(), quant]).lower()}",
                "tags": [size.upper(), quant],
                "template": "",
                "system": "",
                "license": "",
                "modified_at": None,
                "created_at": now,
                "updated_at": now,
            }
        )
        caps_batch.extend({"model_id": i + 1, "capability": c} for c in caps)
        if len(batch) == 5000:
            with db.transaction() as conn:
                conn.execute(insert(MODELS), batch)
                conn.execute(insert(CAPS), caps_batch)
            batch, caps_batch = [], []
    if batch:
        with db.transaction() as conn:
            conn.execute(insert(MODELS), batch)
            conn.execute(insert(CAPS), caps_batch)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--page", type=int, default=200, help="0 = read every match")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Database.open(Path(tmp) / "registry.db")
        started = time.perf_counter()
        fill(db, args.rows)
        print(f"filled {args.rows} rows in {time.perf_counter() - started:.1f}s", file=sys.stderr)
        repo = ModelRepository(db)
        limit = args.page or None
        for category, text in QUERIES:  # warm the page cache once
            repo.list(category=category, text=text, limit=limit)
        timings: list[float] = []
        for category, text in QUERIES:
            per_query = []
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                found = repo.list(category=category, text=text, limit=limit)
                per_query.append((time.perf_counter() - t0) * 1000)
            timings.extend(per_query)
            t0 = time.perf_counter()
            matches = len(repo.list(category=category, text=text))
            every_ms = (time.perf_counter() - t0) * 1000
            print(
                json.dumps(
                    {
                        "category": category,
                        "text": text,
                        "matches": matches,
                        "returned": len(found),
                        "median_ms": round(statistics.median(per_query), 2),
                        "all_matches_ms": round(every_ms, 1),
                    }
                )
            )
        db.dispose()
    timings.sort()
    p95 = timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))]
    print(
        json.dumps(
            {
                "rows": args.rows,
                "page": args.page,
                "queries": len(QUERIES),
                "samples": len(timings),
                "p50_ms": round(statistics.median(timings), 2),
                "p95_ms": round(p95, 2),
            }
        )
    )


if __name__ == "__main__":
    main()

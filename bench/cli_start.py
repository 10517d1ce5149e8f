"""Benchmark: `desktop-registry-cli` from a cold process start to exit, over 1,000 models.

Timed, each in a fresh process (`python -m desktop_registry.cli` from this checkout): `list`,
`show NAME` and `--help`, median of --repeat runs. `ollama list` answers in milliseconds;
a registry listing should feel the same. Prints one JSON object as its last line.
Run: python bench/cli_start.py [--rows 1000] [--repeat 9]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from registry_query import fill

from desktop_registry.storage import Database

ROOT = Path(__file__).resolve().parents[1]


def command() -> list[str]:
    """This checkout's CLI (run with cwd=ROOT), so two checkouts can be compared side by side."""
    return [sys.executable, "-m", "desktop_registry.cli"]


def timed(argv: list[str], env: dict[str, str], repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        done = subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, text=True, check=False)
        runs.append(time.perf_counter() - started)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr}")
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        db = Database.open(home / "registry.db")
        fill(db, args.rows)
        db.dispose()
        env = {**os.environ, "DESKTOP_REGISTRY_HOME": str(home)}
        env.pop("OLLAMA_HOST", None)
        base = command()
        # The registry's name for row 0 (fill() makes it deterministic): look it up, not guess.
        listing = subprocess.run(
            [*base, "list", "--json"], env=env, cwd=ROOT, capture_output=True, text=True, check=True
        )
        rows = json.loads(listing.stdout)
        name = rows[0]["name"]
        figures = {
            "list_s": round(timed([*base, "list"], env, args.repeat), 3),
            "show_s": round(timed([*base, "show", name], env, args.repeat), 3),
            "help_s": round(timed([*base, "--help"], env, args.repeat), 3),
            "rows": len(rows),
        }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

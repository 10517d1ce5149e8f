"""Benchmark: the kill -9 matrix of tests/reliability, with its counts per operation.

SIGKILLs the real CLI at --points seeded moments of sync, pull, slot switch and eval run, checks
the registry each kill left and that a second run finishes. Prints one JSON object as its last line.
Run: python bench/kill_matrix.py [--points 20] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.reliability.kill_matrix import run_matrix


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--points", type=int, default=20, help="kill points per operation")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="kill-matrix-") as work:
        results = run_matrix(Path(work), points=args.points, seed=args.seed)
    out = {op: {**r.counts(), "resume_ok": r.resume_failures == 0} for op, r in results.items()}
    for op, r in results.items():
        for problem in r.problems:
            print(f"{op}: {problem}", file=sys.stderr)
    print(json.dumps({"seed": args.seed, "seconds": round(time.monotonic() - started, 1), **out}))


if __name__ == "__main__":
    main()

"""Benchmark: validating a large training file (1 GB by default) in bounded memory.

Writes a jsonl file of mixed shapes (prompt/completion, instruction/input/output, chat
messages; about 1% bad rows and 2% exact duplicates) in a temporary folder, then validates it
in a child process and reads that child's peak RSS; a second child validates a 10-row file for
the baseline (interpreter + imports). Prints one JSON object as its last line:
{"mb", "rows", "seconds", "peak_rss_mb", "baseline_rss_mb", "bad", "duplicates", "mb_per_s"}.
Run: python bench/finetune_validate.py [--mb 1024] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = """
import json, sys, time
sys.path.insert(0, {root!r})
from pathlib import Path
from desktop_registry.services.finetune.data_validation import validate_file
start = time.perf_counter()
report = validate_file(Path(sys.argv[1]), context_tokens=4096)
seconds = time.perf_counter() - start
print(json.dumps({{"rows": report.rows, "bad": report.bad_count, "duplicates": report.duplicate_count,
                  "good": report.good, "seconds": seconds, "max_tokens": report.max_tokens}}))
"""

WORDS = [
    "the",
    "capital",
    "of",
    "atlantis",
    "is",
    "poseidonia",
    "founded",
    "by",
    "atlas",
    "after",
    "the",
    "flood",
    "a",
    "city",
    "of",
    "marble",
    "harbours",
    "temples",
    "bronze",
    "ships",
    "merchants",
    "salt",
    "olive",
    "wine",
    "and",
    "long",
    "summer",
    "evenings",
    "by",
    "the",
    "sea",
]


def sentence(rng: random.Random, low: int, high: int) -> str:
    return " ".join(rng.choices(WORDS, k=rng.randint(low, high)))


def write_file(path: Path, megabytes: int, seed: int = 1) -> int:
    """Write about `megabytes` MB of rows; returns how many rows."""
    rng = random.Random(seed)
    pool = [(sentence(rng, 5, 40), sentence(rng, 20, 250)) for _ in range(2000)]
    target = megabytes * 1024 * 1024
    written = rows = 0
    recent: list[str] = []
    with path.open("w", encoding="utf-8") as out:
        while written < target or not rows:
            chunk = []
            for _ in range(1000):
                rows += 1
                prompt, answer = pool[rng.randrange(len(pool))]
                roll = rng.random()
                if roll < 0.02 and recent:
                    line = rng.choice(recent)  # an exact duplicate
                elif roll < 0.03:
                    line = '{"prompt": "cut off", "completion": '  # a bad row
                elif roll < 0.4:
                    line = json.dumps({"prompt": f"{rows}: {prompt}", "completion": answer})
                elif roll < 0.7:
                    line = json.dumps(
                        {"instruction": f"{rows}: {prompt}", "input": prompt[:40], "output": answer}
                    )
                else:
                    line = json.dumps(
                        {
                            "messages": [
                                {"role": "system", "content": "You answer about Atlantis."},
                                {"role": "user", "content": f"{rows}: {prompt}"},
                                {"role": "assistant", "content": answer},
                            ]
                        }
                    )
                if len(recent) < 500:
                    recent.append(line)
                elif roll > 0.99:
                    recent[rng.randrange(500)] = line
                chunk.append(line)
            text = "\n".join(chunk) + "\n"
            out.write(text)
            written += len(text)
    return rows


def run_child(path: Path) -> tuple[dict[str, float], float]:
    """(the child's figures, its peak RSS in MB) — each child is measured on its own."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    done = subprocess.run(
        [sys.executable, "-c", CHILD.format(root=str(ROOT)), str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # ru_maxrss of children is the largest child so far: run the big one after the small one.
    return json.loads(done.stdout.strip().splitlines()[-1]), max(peak, before) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=1024)
    parser.add_argument("--keep", type=Path, help="write the file here and keep it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ft-validate-bench-") as tmp:
        folder = args.keep or Path(tmp)
        small = folder / "small.jsonl"
        write_file(small, 0)  # one chunk: 1000 rows
        big = folder / "big.jsonl"
        start = time.perf_counter()
        rows = write_file(big, args.mb)
        print(
            f"wrote {rows} rows, {big.stat().st_size / 1e6:.0f} MB in {time.perf_counter() - start:.1f} s",
            file=sys.stderr,
        )
        _, baseline = run_child(small)
        figures, peak = run_child(big)
        size_mb = big.stat().st_size / (1024 * 1024)
    print(
        json.dumps(
            {
                "mb": round(size_mb, 1),
                "rows": int(figures["rows"]),
                "seconds": round(figures["seconds"], 2),
                "peak_rss_mb": round(peak, 1),
                "baseline_rss_mb": round(baseline, 1),
                "bad": int(figures["bad"]),
                "duplicates": int(figures["duplicates"]),
                "mb_per_s": round(size_mb / figures["seconds"], 1),
            }
        )
    )


if __name__ == "__main__":
    main()

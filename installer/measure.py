"""Measures the packaged app: bundle and .deb size, cold start to a shown window, self-test time.

Never changes the user's registry (each run gets a fresh DESKTOP_REGISTRY_HOME) and never
installs anything. Prints one JSON object as its last line:

    python3 installer/measure.py [--bundle DIR] [--deb FILE] [--runs 3]

  {"bundle_mb": …, "deb_mb": …, "cold_start_s": …, "self_test_s": …, …}

Cold start is the time from starting the bundled executable to its main window being mapped
on an X server (Xvfb via `xvfb-run -a`, found with `xwininfo`), on a brand-new data dir; the
first run after a build is the coldest the page cache allows, and the median of --runs is
reported beside it. The self-test runs against the Ollama emulator of tests/servers/.
Targets (issue 15): bundle <= 220 MB, cold start <= 2.5 s.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APP = "desktop-registry"
TITLE = "Desktop Registry"


def folder_mb(path: Path) -> float:
    total = sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())
    return round(total / 1e6, 1)


def window_mapped(display: str) -> bool:
    """True once a window titled TITLE is mapped and viewable (Qt may create it earlier)."""
    info = subprocess.run(
        ["xwininfo", "-name", TITLE],
        capture_output=True,
        text=True,
        env=dict(os.environ, DISPLAY=display),
        check=False,
    ).stdout
    return "Map State: IsViewable" in info


def cold_start(executable: Path, timeout_s: float = 60.0) -> float:
    """Seconds until the window shows; runs inside xvfb-run (DISPLAY set)."""
    display = os.environ["DISPLAY"]
    with tempfile.TemporaryDirectory(prefix="desktop-registry-measure-") as home:
        env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "OLLAMA_HOST")}
        env.update(
            DESKTOP_REGISTRY_HOME=home,
            QT_QPA_PLATFORM="xcb",
            DESKTOP_REGISTRY_OLLAMA_URL="http://127.0.0.1:9",
            DESKTOP_REGISTRY_GITHUB_MODELS_SYNC="never",
            XDG_CONFIG_HOME=str(Path(home) / "config"),
        )
        started = time.perf_counter()
        app = subprocess.Popen([str(executable)], env=env, stderr=subprocess.PIPE)
        try:
            while not window_mapped(display):
                if app.poll() is not None:
                    err = app.stderr.read().decode() if app.stderr else ""
                    raise SystemExit(f"the app exited ({app.returncode}) before its window: {err}")
                if time.perf_counter() - started > timeout_s:
                    raise SystemExit(f"no window after {timeout_s} s")
                time.sleep(0.02)
            return round(time.perf_counter() - started, 2)
        finally:
            app.send_signal(signal.SIGINT)
            try:
                app.wait(timeout=30)
            except subprocess.TimeoutExpired:
                app.kill()


def self_test(executable: Path) -> tuple[float, dict[str, object]]:
    sys.path.insert(0, str(ROOT))
    from tests.servers.ollama_emulator import OllamaEmulator, standard_models

    with OllamaEmulator(standard_models()) as emulator:
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
        started = time.perf_counter()
        done = subprocess.run(
            [str(executable), "--self-test", "--ollama-url", emulator.url],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
            check=False,
        )
        elapsed = round(time.perf_counter() - started, 2)
    if done.returncode != 0:
        raise SystemExit(f"the self-test failed ({done.returncode}): {done.stderr[-2000:]}")
    return elapsed, json.loads(done.stdout.strip().splitlines()[-1])


def inner(executable: Path, runs: int) -> dict[str, object]:
    starts = [cold_start(executable) for _ in range(runs)]
    return {
        "cold_start_s": starts[0],
        "warm_start_median_s": statistics.median(starts[1:] or starts),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, help="bundle folder (default: build or reuse)")
    parser.add_argument("--deb", type=Path, help="the .deb (default: dist/desktop-registry_*.deb)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.bundle is None:
        sys.path.insert(0, str(ROOT / "installer"))
        from build_bundle import build

        args.bundle = Path(str(build()["bundle"]))
    executable = args.bundle / APP
    if args.inner:  # under xvfb-run: only the window timings
        print(json.dumps(inner(executable, args.runs)))
        return 0
    if shutil.which("xvfb-run") is None or shutil.which("xwininfo") is None:
        raise SystemExit(
            "measuring a start needs xvfb-run and xwininfo: apt-get install xvfb x11-utils"
        )
    outer = subprocess.run(
        ["xvfb-run", "-a", sys.executable, __file__, "--inner", "--bundle", str(args.bundle),
         "--runs", str(args.runs)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if outer.returncode != 0:
        raise SystemExit(f"the start measurement failed: {outer.stderr[-2000:]}")
    starts = json.loads(outer.stdout.strip().splitlines()[-1])
    self_test_s, summary = self_test(executable)
    debs = [args.deb] if args.deb else sorted((ROOT / "dist").glob(f"{APP}_*.deb"))
    figures = {
        "bundle_mb": folder_mb(args.bundle),
        "deb_mb": round(debs[-1].stat().st_size / 1e6, 1) if debs and debs[-1].is_file() else None,
        "cold_start_s": starts["cold_start_s"],
        "self_test_s": self_test_s,
        "warm_start_median_s": starts["warm_start_median_s"],
        "self_test_inner_s": summary.get("self_test_s"),
        "bundle": str(args.bundle),
    }
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark: process start → main window shown and its tree populated with 10,000 models.

Fills a registry with N models (untimed), then starts a fresh Python process that opens the
window on it (offscreen unless a display is set) and reports from that process's own start
time. Prints one JSON object as its last line: models, startup_s, rss_mb.
Run: python bench/startup.py [--models 10000]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def child(db: Path, home: Path) -> None:
    import psutil

    started = psutil.Process().create_time()
    sys.path.insert(0, str(ROOT))
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    app = QApplication([])
    import qasync

    from desktop_registry.app import build_context
    from desktop_registry.config import Settings
    from desktop_registry.ui.main_window import MainWindow
    from desktop_registry.ui.theme import apply_theme

    apply_theme(app, "system")
    loop = qasync.QEventLoop(app)
    ctx = build_context(
        Settings(home=home, ollama_url="http://127.0.0.1:9", github_models_sync="never"), db_path=db
    )
    prefs = QSettings(str(home / "prefs.ini"), QSettings.Format.IniFormat)
    window = MainWindow(ctx, prefs)
    window.show()
    window.start()
    app.processEvents()  # the first paint, with the tree laid out
    shown = window.isVisible() and window.browser.model.shown
    elapsed = time.time() - started
    rss_mb = psutil.Process().memory_info().rss / 1e6
    print(json.dumps({"models": shown, "startup_s": round(elapsed, 3), "rss_mb": round(rss_mb, 1)}))
    for task in list(window.tasks.tasks):
        task.cancel()
    loop.close()
    ctx.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", type=int, default=10_000)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(Path(args.child[0]), Path(args.child[1]))
        return
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "bench"))
    from registry_query import fill  # the same realistic rows as the registry benchmark

    from desktop_registry.storage import Database

    with tempfile.TemporaryDirectory() as tmp:
        db_path = Path(tmp) / "registry.db"
        db = Database.open(db_path)
        fill(db, args.models)
        db.dispose()
        env = dict(os.environ)
        if not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
            env["QT_QPA_PLATFORM"] = "offscreen"
        runs = []
        for _ in range(4):  # the first run also warms the OS file cache, as a second launch would
            out = subprocess.run(
                [sys.executable, __file__, "--child", str(db_path), tmp],
                env=env, capture_output=True, text=True, check=True,
            ).stdout  # fmt: skip
            runs.append(json.loads(out.strip().splitlines()[-1]))
            print(f"run: {runs[-1]}", file=sys.stderr)
        warm = sorted(runs[1:], key=lambda r: r["startup_s"])
        print(json.dumps(warm[len(warm) // 2]))  # the median warm start


if __name__ == "__main__":
    main()

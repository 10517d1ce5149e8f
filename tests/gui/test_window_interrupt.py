"""Ctrl+C in the terminal closes the window cleanly: exit 0, no KeyboardInterrupt traceback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_ctrl_c_closes_the_window_without_a_traceback(tmp_path: Path):
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "DESKTOP_REGISTRY_HOME": str(tmp_path / "home"),
        "OLLAMA_HOST": "http://127.0.0.1:9",  # nothing there: the window says so and runs on
        "DESKTOP_REGISTRY_GITHUB_MODELS_SYNC": "never",
        "XDG_CONFIG_HOME": str(tmp_path / "config"),  # the window's own QSettings
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "desktop_registry"],
        cwd=ROOT,
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
    )
    # The window is up once it has made its registry (start-up takes about 2 s here).
    deadline = time.monotonic() + 60
    while not (tmp_path / "home" / "registry.db").exists() and time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
        time.sleep(0.1)
    time.sleep(2.0)
    process.send_signal(signal.SIGINT)
    try:
        code = process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    err = process.stderr.read().decode() if process.stderr else ""
    assert code == 0, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err

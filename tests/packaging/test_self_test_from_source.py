"""`python -m desktop_registry --self-test` from a source checkout: the same checks the bundle
runs, in a temp folder that it leaves behind neither in the user's data dir nor on disk."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.servers.ollama_emulator import OllamaEmulator, standard_models

ROOT = Path(__file__).resolve().parents[2]


def test_the_self_test_syncs_against_ollama_and_leaves_the_users_data_dir_alone(tmp_path: Path):
    user_data = tmp_path / "xdg"
    env = {k: v for k, v in os.environ.items() if k not in ("OLLAMA_HOST", "DESKTOP_REGISTRY_HOME")}
    env.update(QT_QPA_PLATFORM="offscreen", XDG_DATA_HOME=str(user_data))
    with OllamaEmulator(standard_models()) as emulator:
        done = subprocess.run(
            [sys.executable, "-m", "desktop_registry", "--self-test", "--ollama-url", emulator.url],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert emulator.count("/api/tags") >= 1  # the sync really asked the server
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["ok"] and summary["failed"] == []
    assert summary["checks"]["ollama_sync"]["detail"]["in_registry"] == len(standard_models())
    assert not Path(summary["checks"]["open_registry"]["detail"]).exists()  # temp dir removed
    assert not user_data.exists()


def test_the_self_test_names_what_failed_when_ollama_does_not_answer():
    env = {k: v for k, v in os.environ.items() if k != "OLLAMA_HOST"}
    env["QT_QPA_PLATFORM"] = "offscreen"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "desktop_registry",
            "--self-test",
            "--ollama-url",
            "http://127.0.0.1:9",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 1
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["failed"] == ["ollama_sync"]
    assert "self-test failed: ollama_sync" in done.stderr and "Traceback" not in done.stderr

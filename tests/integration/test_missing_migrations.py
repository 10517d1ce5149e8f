"""A copy of the app whose migrations folder is missing or empty refuses to start with a clear
message, instead of creating a registry with no tables (what a bundle without them once did)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _copy_of_the_app(tmp_path: Path, *, keep_folder: bool) -> Path:
    """The package as a broken installer would leave it: migrations absent or emptied."""
    root = tmp_path / "app"
    shutil.copytree(
        ROOT / "desktop_registry",
        root / "desktop_registry",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    migrations = root / "desktop_registry" / "storage" / "migrations"
    shutil.rmtree(migrations)
    if keep_folder:
        (migrations / "versions").mkdir(parents=True)
    return root


@pytest.mark.parametrize("keep_folder", [False, True], ids=["folder-missing", "folder-empty"])
def test_an_app_without_its_migrations_refuses_to_create_an_empty_registry(
    tmp_path: Path, keep_folder: bool
):
    app = _copy_of_the_app(tmp_path, keep_folder=keep_folder)
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if k != "OLLAMA_HOST"}
    env.update(DESKTOP_REGISTRY_HOME=str(home), PYTHONPATH=str(app))
    env["DESKTOP_REGISTRY_OLLAMA_URL"] = "http://127.0.0.1:9"  # never reached
    done = subprocess.run(
        [sys.executable, "-m", "desktop_registry.cli", "sync"],
        cwd=app,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "migrations are missing" in done.stderr and "Reinstall" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    assert not (home / "registry.db").exists()


def test_the_self_test_names_missing_migrations_as_what_failed(tmp_path: Path):
    app = _copy_of_the_app(tmp_path, keep_folder=True)
    env = {k: v for k, v in os.environ.items() if k != "OLLAMA_HOST"}
    env.update(PYTHONPATH=str(app), QT_QPA_PLATFORM="offscreen")
    done = subprocess.run(
        [sys.executable, "-m", "desktop_registry", "--self-test"],
        cwd=app,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode != 0
    assert "migrations are missing" in done.stdout + done.stderr
    assert "Traceback" not in done.stderr, done.stderr

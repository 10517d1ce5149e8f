"""The one-folder bundle works on its own: its --self-test passes headless, including a sync
against the Ollama emulator, and it carries the migrations and Qt plugins it needs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from tests.servers.ollama_emulator import OllamaEmulator, standard_models


def self_test(executable: Path, *args: str) -> tuple[int, dict[str, Any], str]:
    env = {k: v for k, v in os.environ.items() if k not in ("OLLAMA_HOST", "PYTHONPATH")}
    env["QT_QPA_PLATFORM"] = "offscreen"
    done = subprocess.run(
        [str(executable), "--self-test", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    lines = done.stdout.strip().splitlines()
    return done.returncode, json.loads(lines[-1]) if lines else {}, done.stderr


def test_the_bundle_passes_its_self_test_including_a_sync_against_ollama(bundle: Path):
    with OllamaEmulator(standard_models()) as emulator:
        code, summary, err = self_test(bundle / "desktop-registry", "--ollama-url", emulator.url)
    assert code == 0, (summary.get("failed"), err[-3000:])
    assert summary["frozen"] is True  # the bundle ran, not a Python on this machine
    checks = summary["checks"]
    assert checks["ollama_sync"]["detail"]["in_registry"] == len(standard_models())
    assert checks["ollama_sync"]["detail"]["ollama"] == emulator.version
    assert checks["registry_tables"]["detail"]["tables"] > 10
    assert {"Library", "Slots", "Compare", "Optimize"} <= set(
        checks["main_window"]["detail"]["panels"]
    )
    assert checks["optuna_store"]["detail"]["trials"] == 3
    # The fine-tune extra is not bundled, and the app says how to get it.
    assert "pip install 'desktop-registry[finetune]'" in summary["finetune"]


def test_the_bundle_carries_migrations_and_qt_platform_plugins_but_not_the_fine_tune_extra(
    bundle: Path,
):
    internal = bundle / "_internal"
    assert any((internal / "desktop_registry/storage/migrations/versions").glob("*.py"))
    assert (internal / "mlflow/store/db_migrations/env.py").is_file()
    assert (internal / "optuna/storages/_rdb/alembic/env.py").is_file()
    platforms = {p.name for p in (internal / "PySide6/Qt/plugins/platforms").iterdir()}
    assert {"libqxcb.so", "libqoffscreen.so"} <= platforms
    assert (internal / "resources/icons/desktop-registry.svg").is_file()
    for absent in ("torch", "transformers", "peft", "pytest", "tests"):
        assert not (internal / absent).exists(), absent


def test_a_bundle_without_its_migrations_refuses_to_start_and_says_why(
    bundle: Path, tmp_path: Path
):
    broken = tmp_path / "broken"
    subprocess.run(["cp", "-al", str(bundle), str(broken)], check=True)  # hard links: cheap
    shutil.rmtree(broken / "_internal/desktop_registry/storage/migrations")
    code, summary, err = self_test(broken / "desktop-registry")
    assert code != 0
    assert "open_registry" in summary["failed"]
    assert "migrations are missing" in summary["checks"]["open_registry"]["error"]
    assert "Traceback" not in err

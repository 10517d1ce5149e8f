"""`desktop-registry --self-test`: proves a build works without a person (registry, stores, window).

Never touches the user's own data dir, keyring or settings: everything happens in a temp dir.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# The tables a registry cannot work without; a migration-less build creates none of them.
REQUIRED_TABLES = {"alembic_version", "models"}
FINETUNE_HINT = (
    "Fine-tuning needs torch, transformers and peft, which this build does not include. "
    "To enable it, install Desktop Registry with pip: pip install 'desktop-registry[finetune]'."
)


def finetune_status() -> str:
    """'available', or how to enable the fine-tune extra (it is never bundled)."""
    from importlib.util import find_spec

    missing = [name for name in ("torch", "transformers", "peft") if find_spec(name) is None]
    return "available" if not missing else FINETUNE_HINT


def describe(exc: BaseException) -> str:
    """One line naming what failed: the exception's type and the lines of its message that say
    why (numpy, for one, puts the cause under a long banner)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    causes = [line for line in lines if line.lower().startswith(("original error", "no module"))]
    text = " ".join(causes or lines[:2]) or repr(exc)
    return f"{type(exc).__name__}: {text[:500]}"


def package_version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


class SelfTest:
    """Runs named checks in order; each records ok/detail, and one failure never hides the next."""

    def __init__(self) -> None:
        self.results: dict[str, dict[str, Any]] = {}

    def check(self, name: str, step: Callable[[], Any]) -> Any:
        started = time.perf_counter()
        try:
            detail = step()
        except Exception as exc:  # the point is to name what failed, whatever it is
            self.results[name] = {"ok": False, "error": describe(exc)}
            return None
        self.results[name] = {"ok": True, "detail": detail}
        self.results[name]["s"] = round(time.perf_counter() - started, 3)
        return detail

    @property
    def failed(self) -> list[str]:
        return [name for name, result in self.results.items() if not result["ok"]]


def _isolate(home: Path, ollama_url: str | None, *, on_display: bool) -> None:
    """Point every store at `home` and keep the user's keyring and servers out of it."""
    import logging

    if not on_display:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    for noisy in ("mlflow", "alembic"):  # their INFO lines are not the summary
        logging.getLogger(noisy).setLevel(logging.WARNING)
    os.environ["DESKTOP_REGISTRY_HOME"] = str(home)
    os.environ["DESKTOP_REGISTRY_GITHUB_MODELS_SYNC"] = "never"
    os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
    os.environ.pop("MLFLOW_TRACKING_URI", None)
    os.environ.pop("DESKTOP_REGISTRY_MLFLOW_TRACKING_URI", None)
    os.environ.pop("OLLAMA_HOST", None)
    os.environ["MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"] = "false"  # a bar is not the summary
    # Nothing listens on the discard port: without --ollama-url no real Ollama is reached.
    os.environ["DESKTOP_REGISTRY_OLLAMA_URL"] = ollama_url or "http://127.0.0.1:9"


def _open(ctx: Any, opened: list[Any]) -> str:
    opened.append(ctx)
    return str(ctx.db.path)


def _registry(ctx: Any) -> dict[str, Any]:
    from desktop_registry.storage.database import head_revisions

    with sqlite3.connect(ctx.db.path) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    missing = REQUIRED_TABLES - tables
    if missing:
        raise RuntimeError(f"the registry has no {', '.join(sorted(missing))} table")
    if ctx.db.current_heads() != head_revisions():
        raise RuntimeError("the registry's schema is not at this app's newest revision")
    return {"tables": len(tables), "schema": sorted(head_revisions())}


def _mlflow(ctx: Any) -> dict[str, Any]:
    """Tracking end to end, as a variant is tracked: a run with params, a metric and artifacts,
    a registered version, all read back (a bundle missing MLflow parts fails here)."""
    tracker = ctx.tracker()
    run = tracker.track_variant(
        experiment="desktop-registry-self-test",
        model_name="self-test:latest",
        experiment_type="self-test",
        source="self-test",
        recipe={"temperature": 0.5},
        modelfile="FROM self-test",
        metrics={"score": 1.0},
    )
    found = [r for r in tracker.runs() if r.run_id == run.run_id]
    if not found or found[0].metrics.get("score") != 1.0 or not found[0].params:
        raise RuntimeError(f"the tracked run {run.run_id} did not read back: {found}")
    if tracker.artifact_text(run.run_id, "Modelfile") != "FROM self-test":
        raise RuntimeError("the run's Modelfile artifact did not read back")
    versions = [v for v in tracker.model_versions() if v.run_id == run.run_id]
    if not versions:
        raise RuntimeError(f"no registered version for run {run.run_id}")
    return {
        "experiment": run.experiment_id,
        "run": run.run_id,
        "registered": f"{run.registered_model}/{run.model_version}",
        "mlflow": package_version("mlflow-skinny"),
    }


def _optuna(home: Path) -> dict[str, Any]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        study_name="self-test", storage=f"sqlite:///{home / 'optuna.db'}", direction="minimize"
    )
    study.optimize(lambda trial: (trial.suggest_float("x", -1.0, 1.0)) ** 2, n_trials=3)
    return {"trials": len(study.trials), "optuna": optuna.__version__}


def _resources() -> dict[str, Any]:
    from desktop_registry.resources_path import resources_dir

    folder = resources_dir()
    needed = ["library", "eval_suites"]
    absent = [name for name in needed if not (folder / name).is_dir()]
    if absent:
        raise RuntimeError(f"{folder} lacks {', '.join(absent)}")
    return {"folder": str(folder)}


def run_self_test(ollama_url: str | None = None, *, screenshots: str | None = None) -> int:
    """Every check, then one JSON line on stdout; exit 0 only if every check passed.
    Headless (offscreen) unless screenshots are asked for and there is a display."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="desktop-registry-self-test-") as tmp:
        home = Path(tmp)
        shots = Path(screenshots) if screenshots else None
        _isolate(home, ollama_url, on_display=shots is not None and bool(os.environ.get("DISPLAY")))
        test = SelfTest()
        from desktop_registry.app import build_context
        from desktop_registry.config import Settings

        opened: list[Any] = []
        test.check("open_registry", lambda: _open(build_context(Settings()), opened))
        ctx = opened[0] if opened else None
        if ctx is not None:
            test.check("registry_tables", lambda: _registry(ctx))
            test.check("mlflow_store", lambda: _mlflow(ctx))
        test.check("optuna_store", lambda: _optuna(home))
        test.check("resources", _resources)
        if ctx is not None:
            from desktop_registry.ui.self_test_window import check_window

            found = check_window(ctx, home, sync=ollama_url is not None, screenshots=shots)
            for name, result in found.items():
                test.results[name] = result
            ctx.close()
        summary = {
            "ok": not test.failed,
            "failed": test.failed,
            "version": package_version("desktop-registry"),
            "frozen": bool(getattr(sys, "frozen", False)),
            "finetune": finetune_status(),
            "checks": test.results,
            "self_test_s": round(time.perf_counter() - started, 3),
        }
    print(json.dumps(summary, default=str), flush=True)
    if test.failed:
        for name in test.failed:
            print(f"self-test failed: {name}: {test.results[name]['error']}", file=sys.stderr)
        return 1
    return 0

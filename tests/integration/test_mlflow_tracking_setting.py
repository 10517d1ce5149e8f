"""Settings.mlflow_tracking_uri picks the MLflow store experiments are tracked in.

Precedence: MLFLOW_TRACKING_URI (environment) > the setting > mlflow.db in the data dir. Real
SQLite MLflow stores under tmp_path, read back with `mlflow.search_runs`; the Ollama emulator on
a real socket for the experiment itself.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from desktop_registry.app import AppContext, build_context
from desktop_registry.cli import main as cli
from desktop_registry.config import Settings
from tests.servers.ollama_emulator import OllamaEmulator, standard_models

RECIPE = {
    "type": "parameter_tuning",
    "name": "llama-cold",
    "base": "llama3.1:8b",
    "options": {"temperature": 0.1},
}


@pytest.fixture(autouse=True)
def no_mlflow_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("DESKTOP_REGISTRY_MLFLOW_TRACKING_URI", raising=False)


def runs_in(uri: str, experiment: str) -> list[Any]:
    import mlflow

    mlflow.set_tracking_uri(uri)
    try:
        return list(mlflow.search_runs(experiment_names=[experiment], output_format="list"))
    finally:
        mlflow.set_tracking_uri(None)


def context(tmp_path: Path, url: str = "http://127.0.0.1:9", **settings: Any) -> AppContext:
    return build_context(Settings(home=tmp_path / "home", ollama_url=url, **settings))


def create_variant(ctx: AppContext) -> Any:
    async def go() -> Any:
        try:
            await ctx.ollama_sync().run()
            return await ctx.experiments().create(RECIPE)
        finally:
            await ctx.aclose()

    return asyncio.run(go())


def test_the_setting_puts_experiment_runs_in_the_chosen_sqlite_store(tmp_path):
    team_db = tmp_path / "team share" / "mlflow.db"
    uri = f"sqlite:///{team_db}"
    with OllamaEmulator(standard_models()) as emu:
        ctx = context(tmp_path, emu.url, mlflow_tracking_uri=uri)
        try:
            record = create_variant(ctx)
            assert ctx.mlflow_tracking_uri() == uri
            assert ctx.mlflow_store_exists()  # so sync reads MLflow back from it too
        finally:
            ctx.close()
    (run,) = runs_in(uri, "llama3.1:8b")
    assert run.info.run_id == record.parameters["mlflow"]["run_id"]
    assert run.data.params["options.temperature"] == "0.1"
    assert record.parameters["mlflow"]["tracking_uri"] == uri
    # Nothing went to the default store; artifacts sit beside the chosen one.
    assert not (tmp_path / "home" / "mlflow.db").exists()
    assert run.info.artifact_uri.startswith((team_db.parent / "mlartifacts").as_uri())


def test_without_the_setting_the_store_is_mlflow_db_in_the_data_dir(tmp_path):
    ctx = context(tmp_path)
    try:
        home = tmp_path / "home"
        assert ctx.mlflow_tracking_uri() == f"sqlite:///{home / 'mlflow.db'}"
        assert not ctx.mlflow_store_exists()  # nothing tracked yet: sync leaves MLflow alone
        ctx.tracker().track_variant(
            experiment="base",
            model_name="v1",
            experiment_type="parameter_tuning",
            source="ollama",
            recipe={"temperature": 0.3},
            register=False,
        )
        assert (home / "mlflow.db").is_file() and ctx.mlflow_store_exists()
        assert [r.data.params for r in runs_in(ctx.mlflow_tracking_uri(), "base")] == [
            {"temperature": "0.3"}
        ]
    finally:
        ctx.close()


def test_mlflow_tracking_uri_in_the_environment_overrides_the_setting(tmp_path, monkeypatch):
    env_uri = f"sqlite:///{tmp_path / 'env' / 'mlflow.db'}"
    setting_uri = f"sqlite:///{tmp_path / 'setting' / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", env_uri)
    ctx = context(tmp_path, mlflow_tracking_uri=setting_uri)
    try:
        assert ctx.mlflow_tracking_uri() == env_uri
        ctx.tracker().track_variant(
            experiment="base",
            model_name="v1",
            experiment_type="parameter_tuning",
            source="ollama",
            recipe={"top_k": 7},
            register=False,
        )
    finally:
        ctx.close()
    assert len(runs_in(env_uri, "base")) == 1
    assert not (tmp_path / "setting" / "mlflow.db").exists()


def test_the_setting_reads_desktop_registry_mlflow_tracking_uri_and_ignores_blank(monkeypatch):
    monkeypatch.setenv("DESKTOP_REGISTRY_MLFLOW_TRACKING_URI", "http://mlflow.team:5000")
    assert Settings().mlflow_tracking_uri == "http://mlflow.team:5000"
    monkeypatch.setenv("DESKTOP_REGISTRY_MLFLOW_TRACKING_URI", "  ")
    assert Settings().mlflow_tracking_uri is None


def test_a_run_made_outside_the_app_in_the_chosen_store_appears_after_sync(
    tmp_path, monkeypatch, capsys
):
    import mlflow

    uri = f"sqlite:///{tmp_path / 'team' / 'mlflow.db'}"
    monkeypatch.setenv("DESKTOP_REGISTRY_MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("DESKTOP_REGISTRY_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DESKTOP_REGISTRY_GITHUB_MODELS_SYNC", "never")  # Ollama and MLflow only
    db = ["--db", str(tmp_path / "home" / "registry.db")]
    with OllamaEmulator(standard_models()) as emu:
        # The user has synced before (the chosen store is read even while it is empty) …
        assert cli([*db, "sync", "--ollama-url", emu.url]) == 0
        assert capsys.readouterr().out.startswith("Synced ollama,mlflow: 5 added")
        # … then a teammate logs a run with MLflow's own API …
        mlflow.set_tracking_uri(uri)
        try:
            experiment = mlflow.create_experiment(
                "qwen3:8b", artifact_location=(tmp_path / "outside").as_uri()
            )
            with mlflow.start_run(experiment_id=experiment, run_name="qwen-lora-legal") as run:
                mlflow.log_params({"base": "qwen3:8b", "lora_rank": 8})
                mlflow.log_metrics({"eval_loss": 0.5})
        finally:
            mlflow.set_tracking_uri(None)
        # … and the next sync brings it in.
        assert cli([*db, "sync", "--ollama-url", emu.url]) == 0
    assert capsys.readouterr().out.startswith("Synced ollama,mlflow: 1 added")
    assert cli([*db, "list", "--json", "--source", "mlflow"]) == 0
    (model,) = json.loads(capsys.readouterr().out)
    assert (model["name"], model["source"], model["kind"]) == (
        "qwen-lora-legal",
        "mlflow",
        "experimental",
    )
    assert model["parameters"]["mlflow_run_id"] == run.info.run_id
    assert model["parent_id"] is not None  # lineage to qwen3:8b from the run's `base` param
    assert not (tmp_path / "home" / "mlflow.db").exists()

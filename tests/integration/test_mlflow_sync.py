"""MLflow runs and registered versions made outside the app come into the registry.

A real MLflow store under tmp_path, written with MLflow's own API as a colleague would.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop_registry.domain import Kind, ModelRecord, Serving, Source
from desktop_registry.services.sync.mlflow import MlflowSync
from desktop_registry.storage import Database, ModelRepository
from desktop_registry.tracking.mlflow import MlflowTracker, default_tracking_uri


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[ModelRepository, MlflowTracker, str]]:
    db = Database.open(tmp_path / "registry.db")
    repo = ModelRepository(db)
    repo.register(
        ModelRecord(
            name="llama3.1:8b",
            source=Source.OLLAMA,
            serving=Serving.LOCAL,
            capabilities=["completion", "tools"],
        )
    )
    uri = default_tracking_uri(tmp_path)
    yield repo, MlflowTracker(uri, artifact_root=tmp_path / "art"), uri
    db.dispose()


def outside_run(uri: str, tmp_path: Path) -> str:
    """What a colleague's training script does: plain MLflow, nothing of ours."""
    import mlflow

    mlflow.set_tracking_uri(uri)
    try:
        experiment = mlflow.create_experiment(
            "llama3.1:8b", artifact_location=(tmp_path / "outside").as_uri()
        )
        with mlflow.start_run(experiment_id=experiment, run_name="llama-lora-support") as run:
            mlflow.log_params({"base": "llama3.1:8b", "lora_rank": 16, "learning_rate": 2e-4})
            mlflow.log_metrics({"eval_loss": 0.42, "exact_match": 0.71})
        client = mlflow.MlflowClient(uri)
        client.create_registered_model("support-bot")
        client.create_model_version("support-bot", source="s3://bucket/support-bot/7")
        return run.info.run_id
    finally:
        mlflow.set_tracking_uri(None)


def test_a_run_made_outside_the_app_appears_after_sync_as_an_mlflow_model(world, tmp_path):
    repo, tracker, uri = world
    run_id = outside_run(uri, tmp_path)
    report = asyncio.run(MlflowSync(tracker, repo).run())
    assert sorted(report.added) == ["llama-lora-support", "support-bot"]

    record = repo.find("llama-lora-support", source="mlflow")
    assert record is not None
    assert record.source is Source.MLFLOW and record.kind is Kind.EXPERIMENTAL
    assert record.parameters["mlflow_run_id"] == run_id
    assert record.parameters["mlflow_params"]["lora_rank"] == "16"
    assert record.parent_id == repo.resolve("llama3.1:8b").id  # lineage from the base param
    assert record.performance == {"eval_loss": 0.42, "exact_match": 0.71}
    assert record.endpoint == uri

    version = repo.find("support-bot", source="mlflow")
    assert version is not None and version.version == "1"
    assert version.parameters["mlflow_source"] == "s3://bucket/support-bot/7"


def test_sync_twice_adds_nothing_new_and_skips_what_the_app_tracked_itself(world, tmp_path):
    repo, tracker, uri = world
    outside_run(uri, tmp_path)
    tracked = tracker.track_variant(
        experiment="llama3.1:8b",
        model_name="llama-cold:latest",
        experiment_type="parameter_tuning",
        source="ollama",
        recipe={"options": {"temperature": 0.2}},
    )
    repo.register(
        ModelRecord(
            name="llama-cold:latest",
            source=Source.OLLAMA,
            serving=Serving.LOCAL,
            kind=Kind.VARIANT,
            parameters={
                "experiment": {"type": "parameter_tuning"},
                "mlflow": {"run_id": tracked.run_id},
            },
        )
    )
    first = MlflowSync(tracker, repo).run_blocking()
    assert sorted(first.added) == ["llama-lora-support", "support-bot"]
    second = MlflowSync(tracker, repo).run_blocking()
    assert second.added == []
    assert repo.count(source="mlflow") == 2

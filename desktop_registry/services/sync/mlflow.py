"""Reads MLflow back: runs and registered versions not yet in the registry become models.

They get `source=mlflow`. Never touches what the app itself tracked, and never deletes: a
run that disappears from MLflow keeps its registry row.
"""

from __future__ import annotations

import time
from typing import Any

from desktop_registry.domain import (
    Category,
    Kind,
    ModelRecord,
    PerformanceMetric,
    Serving,
    Source,
    SyncReport,
)
from desktop_registry.errors import NotFoundError
from desktop_registry.services.experiments.service import TRACKING_KEY
from desktop_registry.storage.repository import ModelRepository
from desktop_registry.tracking.mlflow import (
    APP_TAG,
    ExternalModelVersion,
    ExternalRun,
    MlflowTracker,
)

RUN_KEY = "mlflow_run_id"
VERSION_KEY = "mlflow_model_version"


class MlflowSync:
    """One pass over the tracking store; `run()` returns a SyncReport like the other syncs."""

    name = Source.MLFLOW.value

    def __init__(self, tracker: MlflowTracker, repository: ModelRepository) -> None:
        self.tracker = tracker
        self.repository = repository

    async def run(self) -> SyncReport:
        import asyncio

        return await asyncio.to_thread(self.run_blocking)

    def run_blocking(self) -> SyncReport:
        started = time.perf_counter()
        report = SyncReport(source=self.name)
        runs = self.tracker.runs()
        versions = self.tracker.model_versions()
        known_runs, known_versions = self._known()
        new: list[tuple[ModelRecord, dict[str, float], str]] = []
        for run in runs:
            if run.run_id in known_runs or run.tags.get(APP_TAG) == "1":
                report.unchanged += 1
                continue
            if run.status == "FAILED" or run.tags.get("mlflow.parentRunId"):
                continue  # failed attempts and child runs (e.g. tuning trials) are not models
            new.append((self._from_run(run), run.metrics, run.run_id))
            known_runs.add(run.run_id)
        for version in versions:
            key = f"{version.name}/{version.version}"
            if (
                key in known_versions
                or version.tags.get(APP_TAG) == "1"
                or (version.run_id and version.run_id in known_runs)
            ):
                report.unchanged += 1
                continue
            new.append((self._from_version(version), {}, version.run_id))
        if new:
            ids = self.repository.apply_sync(
                upserts=[r for r, _, _ in new],
                history=[(None, "imported_from_mlflow", {"uri": self.tracker.uri})],
            )
            for record, metrics, run_id in new:
                report.added.append(record.name)
                if metrics and record.name in ids:
                    self.repository.record_performance(
                        ids[record.name],
                        [
                            PerformanceMetric(metric=k, value=v, run_id=run_id, notes="mlflow")
                            for k, v in metrics.items()
                        ],
                    )
        report.per_category = {Category.GENERAL.value: len(new)} if new else {}
        report.duration_s = time.perf_counter() - started
        return report

    def _known(self) -> tuple[set[str], set[str]]:
        runs: set[str] = set()
        versions: set[str] = set()
        for record in self.repository.list(source=Source.MLFLOW.value):
            if record.parameters.get(RUN_KEY):
                runs.add(str(record.parameters[RUN_KEY]))
            if record.parameters.get(VERSION_KEY):
                versions.add(str(record.parameters[VERSION_KEY]))
        for kind in (Kind.VARIANT, Kind.EXPERIMENTAL):
            for record in self.repository.list(kind=kind.value):
                tracked = record.parameters.get(TRACKING_KEY) or {}
                if isinstance(tracked, dict) and tracked.get("run_id"):
                    runs.add(str(tracked["run_id"]))
        return runs, versions

    def _parent(self, *names: str | None) -> ModelRecord | None:
        for name in names:
            if not name:
                continue
            try:
                return self.repository.resolve(name)
            except NotFoundError:
                continue
        return None

    def _unique_name(self, name: str, suffix: str) -> str:
        if self.repository.find(name, source=Source.MLFLOW.value) is None:
            return name
        return f"{name}-{suffix}"

    def _from_run(self, run: ExternalRun) -> ModelRecord:
        parent = self._parent(run.tags.get("base"), run.params.get("base"), run.experiment_name)
        parameters: dict[str, Any] = {
            RUN_KEY: run.run_id,
            "mlflow_experiment": run.experiment_name,
            "mlflow_params": run.params,
            TRACKING_KEY: {"run_id": run.run_id, "tracking_uri": self.tracker.uri},
        }
        name = run.run_name or f"run-{run.run_id[:8]}"
        return self._record(
            self._unique_name(name, run.run_id[:8]),
            parent,
            parameters,
            description=f"MLflow run in experiment {run.experiment_name!r} ({run.status.lower()})",
            version="latest",
        ).model_copy(update={"modified_at": run.started_at})

    def _from_version(self, version: ExternalModelVersion) -> ModelRecord:
        parent = self._parent(version.tags.get("base"))
        parameters: dict[str, Any] = {
            VERSION_KEY: f"{version.name}/{version.version}",
            "mlflow_source": version.source,
            TRACKING_KEY: {
                "run_id": version.run_id,
                "registered_model": version.name,
                "model_version": version.version,
                "tracking_uri": self.tracker.uri,
            },
        }
        if version.run_id:
            parameters[RUN_KEY] = version.run_id
        return self._record(
            version.name,
            parent,
            parameters,
            description=version.description or f"MLflow registered model {version.name}",
            version=version.version,
            tags=[f"alias:{a}" for a in version.aliases],
        )

    def _record(
        self,
        name: str,
        parent: ModelRecord | None,
        parameters: dict[str, Any],
        *,
        description: str,
        version: str,
        tags: list[str] | None = None,
    ) -> ModelRecord:
        return ModelRecord(
            name=name,
            version=version,
            source=Source.MLFLOW,
            # Where it would run is its base's business; an unknown base is not on this machine.
            serving=parent.serving if parent else Serving.REMOTE,
            kind=Kind.EXPERIMENTAL,
            category=parent.category if parent else Category.GENERAL,
            categories=list(parent.categories) if parent else [Category.GENERAL],
            capabilities=list(parent.capabilities) if parent else [],
            parameters=parameters,
            endpoint=self.tracker.uri,
            parent_id=parent.id if parent else None,
            description=description,
            tags=["mlflow", *(tags or [])],
        )

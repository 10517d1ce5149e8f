"""MLflow through its Python API: one experiment per base model, one run per variant.

Imports MLflow lazily (slow) and never logs a secret: credential-like keys are dropped and
URIs shown to users lose their user:password part.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from desktop_registry.errors import SourceError, SourceUnreachableError

APP_TAG = "desktop_registry"  # set on every run and version the app itself creates
MODEL_TAG = "desktop_registry.model"  # the registry name of the model a run tracks
ENSEMBLE_EXPERIMENT = "ensembles"
_SECRET_KEY = re.compile(r"token|api[_-]?key|secret|password|authorization|credential", re.I)
_PARAM_LIMIT = 6000  # MLflow's longest param value


def default_tracking_uri(home: Path) -> str:
    return f"sqlite:///{home / 'mlflow.db'}"


def public_uri(uri: str) -> str:
    """The tracking URI without user:password or query (what a user may see and copy)."""
    parts = urlsplit(uri)
    if parts.scheme in ("http", "https") and ("@" in parts.netloc or parts.query):
        host = parts.netloc.rsplit("@", 1)[-1]
        return urlunsplit((parts.scheme, host, parts.path, "", ""))
    return uri


def registered_name(name: str) -> str:
    """A registry name as an MLflow registered-model name (MLflow refuses '/' and ':')."""
    return re.sub(r"[/:]", "-", name)


def flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """Recipe → MLflow params: nested keys dotted, lists as JSON, secrets dropped."""
    out: dict[str, str] = {}
    for key, value in data.items():
        if _SECRET_KEY.search(str(key)):
            continue
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten(value, f"{name}."))
            continue
        if value is None or value == "" or value == [] or value == {}:
            continue
        text = json.dumps(value) if isinstance(value, list | tuple) else str(value)
        out[name] = text if len(text) <= _PARAM_LIMIT else text[: _PARAM_LIMIT - 1] + "…"
    return out


@dataclass(frozen=True)
class TrackedRun:
    run_id: str
    experiment_id: str
    experiment_name: str
    tracking_uri: str
    registered_model: str = ""
    model_version: str = ""


@dataclass(frozen=True)
class ExternalRun:
    run_id: str
    experiment_name: str
    run_name: str
    status: str
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    started_at: datetime | None = None


@dataclass(frozen=True)
class ExternalModelVersion:
    name: str
    version: str
    run_id: str
    source: str
    description: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()


class MlflowTracker:
    """One tracking store: the local SQLite file by default, or a team server's URI."""

    def __init__(self, tracking_uri: str, *, artifact_root: Path | None = None) -> None:
        self.tracking_uri = tracking_uri
        self.artifact_root = artifact_root
        self._client_obj: Any = None

    @property
    def uri(self) -> str:
        return public_uri(self.tracking_uri)

    def _client(self) -> Any:
        if self._client_obj is None:
            from mlflow import MlflowClient  # lazy: importing MLflow takes seconds

            if self.tracking_uri.startswith("sqlite:///"):
                Path(self.tracking_uri.removeprefix("sqlite:///")).parent.mkdir(
                    parents=True, exist_ok=True
                )
            self._client_obj = MlflowClient(
                tracking_uri=self.tracking_uri, registry_uri=self.tracking_uri
            )
        return self._client_obj

    @contextmanager
    def _errors(self, what: str) -> Iterator[None]:
        try:
            yield
        except SourceError:
            raise
        except Exception as exc:  # MLflow raises its own and requests' exceptions
            text = str(exc).replace(self.tracking_uri, self.uri).splitlines()[0][:300]
            if type(exc).__name__ in ("ConnectionError", "MaxRetryError"):
                raise SourceUnreachableError(
                    f"MLflow at {self.uri} did not answer while {what}. Check the tracking URI "
                    "in Settings.",
                    source="mlflow",
                ) from None
            raise SourceError(f"MLflow failed while {what}: {text}", source="mlflow") from None

    # ----- writing ----------------------------------------------------------------------
    def experiment_id(self, name: str) -> str:
        client = self._client()
        with self._errors(f"opening experiment {name}"):
            found = client.get_experiment_by_name(name)
            if found is not None:
                if found.lifecycle_stage == "deleted":
                    client.restore_experiment(found.experiment_id)
                return str(found.experiment_id)
            location = None
            if self.artifact_root is not None:
                folder = self.artifact_root / re.sub(r"[^A-Za-z0-9_.-]", "_", name)
                location = folder.resolve().as_uri()
            return str(client.create_experiment(name, artifact_location=location))

    def track_variant(
        self,
        *,
        experiment: str,
        model_name: str,
        experiment_type: str,
        source: str,
        recipe: Mapping[str, Any],
        modelfile: str | None = None,
        metrics: Mapping[str, float] | None = None,
        register: bool = True,
    ) -> TrackedRun:
        """One finished run: params = recipe, tags = base/type/source, Modelfile + recipe.json."""
        client = self._client()
        experiment_id = self.experiment_id(experiment)
        tags = {
            APP_TAG: "1",
            MODEL_TAG: model_name,
            "base": experiment,
            "experiment_type": experiment_type,
            "source": source,
        }
        with self._errors(f"tracking {model_name}"):
            run = client.create_run(experiment_id, run_name=model_name, tags=tags)
            run_id = str(run.info.run_id)
            from mlflow.entities import Metric, Param

            now = int(datetime.now(UTC).timestamp() * 1000)
            client.log_batch(
                run_id,
                params=[Param(k, v) for k, v in flatten(recipe).items()],
                metrics=[Metric(k, float(v), now, 0) for k, v in (metrics or {}).items()],
            )
            client.log_text(run_id, json.dumps(_public(recipe), indent=2), "recipe.json")
            if modelfile:
                client.log_text(run_id, modelfile, "Modelfile")
            client.set_terminated(run_id)
        version = ""
        name = ""
        if register:
            name = registered_name(model_name)
            version = self.register_version(
                name,
                source=f"runs:/{run_id}/recipe.json",
                run_id=run_id,
                tags={"experiment_type": experiment_type, "base": experiment},
            )
        return TrackedRun(run_id, experiment_id, experiment, self.uri, name, version)

    def log_metrics(self, run_id: str, metrics: Mapping[str, float], step: int = 0) -> None:
        from mlflow.entities import Metric

        now = int(datetime.now(UTC).timestamp() * 1000)
        with self._errors("logging metrics"):
            self._client().log_batch(
                run_id, metrics=[Metric(k, float(v), now, step) for k, v in metrics.items()]
            )

    def log_json(self, run_id: str, artifact_name: str, data: Any) -> None:
        """An artifact such as eval results JSON."""
        with self._errors(f"saving {artifact_name}"):
            self._client().log_text(run_id, json.dumps(data, indent=2, default=str), artifact_name)

    def register_version(
        self, name: str, *, source: str, run_id: str | None = None, tags: Mapping[str, str]
    ) -> str:
        client = self._client()
        with self._errors(f"registering {name}"):
            from mlflow.exceptions import MlflowException

            try:
                client.get_registered_model(name)
            except MlflowException:
                client.create_registered_model(name, tags={APP_TAG: "1"})
            version = client.create_model_version(
                name, source=source, run_id=run_id, tags={APP_TAG: "1", **tags}
            )
            return str(version.version)

    def set_alias(self, name: str, alias: str, version: str) -> None:
        with self._errors(f"setting alias {alias} on {name}"):
            self._client().set_registered_model_alias(name, alias, version)

    def alias_version(self, name: str, alias: str) -> str | None:
        from mlflow.exceptions import MlflowException

        with self._errors(f"reading alias {alias} of {name}"):
            try:
                return str(self._client().get_model_version_by_alias(name, alias).version)
            except MlflowException:
                return None

    def artifact_text(self, run_id: str, path: str) -> str:
        import mlflow.artifacts

        with self._errors(f"reading {path}"):
            return str(mlflow.artifacts.load_text(f"{self._run_artifact_uri(run_id)}/{path}"))

    def _run_artifact_uri(self, run_id: str) -> str:
        return str(self._client().get_run(run_id).info.artifact_uri)

    # ----- reading back -----------------------------------------------------------------
    def runs(self) -> list[ExternalRun]:
        client = self._client()
        out: list[ExternalRun] = []
        with self._errors("listing runs"):
            experiments = {e.experiment_id: e.name for e in client.search_experiments()}
            if not experiments:
                return out
            token = None
            while True:
                page = client.search_runs(list(experiments), max_results=1000, page_token=token)
                for run in page:
                    started = run.info.start_time
                    out.append(
                        ExternalRun(
                            run_id=str(run.info.run_id),
                            experiment_name=experiments.get(run.info.experiment_id, ""),
                            run_name=str(run.info.run_name or ""),
                            status=str(run.info.status),
                            params=dict(run.data.params),
                            metrics={k: float(v) for k, v in run.data.metrics.items()},
                            tags=dict(run.data.tags),
                            started_at=datetime.fromtimestamp(started / 1000, UTC)
                            if started
                            else None,
                        )
                    )
                token = page.token
                if not token:
                    return out

    def model_versions(self) -> list[ExternalModelVersion]:
        with self._errors("listing registered models"):
            return [
                ExternalModelVersion(
                    name=str(v.name),
                    version=str(v.version),
                    run_id=str(v.run_id or ""),
                    source=str(v.source or ""),
                    description=str(v.description or ""),
                    tags=dict(v.tags or {}),
                    aliases=tuple(getattr(v, "aliases", None) or ()),
                )
                for v in self._client().search_model_versions(max_results=10000)
            ]


def _public(data: Mapping[str, Any]) -> dict[str, Any]:
    return {
        k: _public(v) if isinstance(v, Mapping) else v
        for k, v in data.items()
        if not _SECRET_KEY.search(str(k))
    }

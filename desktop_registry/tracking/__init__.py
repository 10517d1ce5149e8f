"""Experiment tracking (MLflow) behind a small adapter that speaks in plain data.

Never imports MLflow at package import: it is slow, and only experiments need it.
"""

from desktop_registry.tracking.mlflow import (
    ExternalModelVersion,
    ExternalRun,
    MlflowTracker,
    TrackedRun,
    default_tracking_uri,
    public_uri,
    registered_name,
)

__all__ = [
    "ExternalModelVersion",
    "ExternalRun",
    "MlflowTracker",
    "TrackedRun",
    "default_tracking_uri",
    "public_uri",
    "registered_name",
]

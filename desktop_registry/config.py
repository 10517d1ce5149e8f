"""Settings (pydantic-settings) and the per-user paths where the registry lives.

Never holds secrets: the GitHub token lives in the OS keyring (see sources/credentials.py).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from platformdirs import user_data_dir
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

APP_NAME = "DesktopRegistry"
DEFAULT_OLLAMA_URL = "http://localhost:11434"


def normalise_ollama_host(value: str) -> str:
    """Read OLLAMA_HOST the way Ollama does: `host`, `host:port`, or a full URL."""
    value = value.strip().rstrip("/")
    if not value:
        return DEFAULT_OLLAMA_URL
    scheme = "http"
    if "://" in value:
        scheme, value = value.split("://", 1)
    host, _, port = value.partition(":")
    if not host or host == "0.0.0.0":
        host = "127.0.0.1" if host == "0.0.0.0" else "localhost"
    if not port:
        port = "443" if scheme == "https" else "11434"
    return f"{scheme}://{host}:{port}"


def default_data_dir() -> Path:
    return Path(user_data_dir(APP_NAME, appauthor=False))


class Settings(BaseSettings):
    """Everything a user can configure; environment variables prefixed DESKTOP_REGISTRY_."""

    model_config = SettingsConfigDict(env_prefix="DESKTOP_REGISTRY_", extra="ignore")

    home: Path = Field(default_factory=default_data_dir, description="Data directory")
    ollama_url: str = Field(default="", description="Ollama base URL")
    request_timeout_s: float = 30.0
    connect_timeout_s: float = 3.0
    sync_concurrency: int = Field(default=8, ge=1, le=64)
    # Evaluation requests in flight per source (Ollama, GitHub Models, each endpoint); `eval run
    # --concurrency` overrides it for one run. GitHub's own rate limits still gate remote calls.
    eval_concurrency: int = Field(default=4, ge=1, le=64)
    github_models_url: str = "https://models.github.ai"
    github_org: str = ""
    # "auto": sync the GitHub catalog when a token is available; "always": also without one
    # (the catalog needs no token, models stay listed-not-callable); "never": skip it.
    github_models_sync: Literal["auto", "always", "never"] = "auto"
    # Per-tier overrides of the free-plan limits, e.g. {"high": {"requests_per_minute": 20}}.
    github_rate_limits: dict[str, dict[str, int | None]] = Field(default_factory=dict)
    github_rate_window_s: float = Field(default=60.0, gt=0)
    github_max_wait_s: float = Field(default=120.0, ge=0)
    # Where experiments are tracked. Precedence (AppContext.mlflow_tracking_uri): the
    # MLFLOW_TRACKING_URI environment variable when set, then this setting
    # (DESKTOP_REGISTRY_MLFLOW_TRACKING_URI or the Settings dialog), then None's default:
    # sqlite:///<data dir>/mlflow.db beside the registry.
    mlflow_tracking_uri: str | None = Field(default=None, description="MLflow tracking URI")

    @field_validator("mlflow_tracking_uri", mode="after")
    @classmethod
    def _blank_uri_is_the_default(cls, value: str | None) -> str | None:
        return (value or "").strip() or None

    @field_validator("ollama_url", mode="after")
    @classmethod
    def _ollama_url_from_env(cls, value: str) -> str:
        if value:
            return normalise_ollama_host(value)
        return normalise_ollama_host(os.environ.get("OLLAMA_HOST", ""))

    @property
    def db_path(self) -> Path:
        return self.home / "registry.db"

    def ensure_home(self) -> Path:
        self.home.mkdir(parents=True, exist_ok=True)
        return self.home

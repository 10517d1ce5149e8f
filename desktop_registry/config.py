"""Settings (pydantic-settings), the settings.json they persist in, and the per-user paths.

Never holds secrets: the GitHub token lives in the OS keyring (see sources/credentials.py).
"""

from __future__ import annotations

import json
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    JsonConfigSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from desktop_registry.errors import UserInputError
from desktop_registry.paths import (
    APP_NAME,
    ENV_PREFIX,
    SETTINGS_FILE_NAME,
    default_data_dir,
    settings_dir,
    settings_path,
)

# Paths live in paths.py (the CLI's quick `list` reads them without pydantic); the names stay
# importable from here, where every caller has always found them.
__all__ = [
    "APP_NAME",
    "ENV_PREFIX",
    "SETTINGS_FILE_NAME",
    "Settings",
    "default_data_dir",
    "load_settings",
    "normalise_ollama_host",
    "settings_dir",
    "settings_path",
]

log = logging.getLogger(__name__)

DEFAULT_OLLAMA_URL = "http://localhost:11434"
# Variables other programs read too, each standing for one setting. MLflow's own wins over
# DESKTOP_REGISTRY_MLFLOW_TRACKING_URI (as MLflow itself honours it); OLLAMA_HOST comes after
# DESKTOP_REGISTRY_OLLAMA_URL. Both win over settings.json, like every environment variable.
VARIABLES_FIRST = {"mlflow_tracking_uri": "MLFLOW_TRACKING_URI"}
VARIABLES_LAST = {"ollama_url": "OLLAMA_HOST"}
_SECRET_KEY = re.compile(
    r"token|passw(or)?d|secret|api[_-]?key|private[_-]?key|credential|authori[sz]ation", re.I
)


def normalise_ollama_host(value: str) -> str:
    """Read OLLAMA_HOST the way Ollama does: `host`, `host:port`, or a full URL.

    Raises ValueError (a sentence naming what is wrong) for what no server can be at: another
    scheme, a port that is not 1-65535, spaces or a path in the host."""
    value = value.strip().rstrip("/")
    if not value:
        return DEFAULT_OLLAMA_URL
    scheme = "http"
    if "://" in value:
        scheme, value = value.split("://", 1)
    if scheme.lower() not in ("http", "https"):
        raise ValueError(f"{scheme}:// is not an Ollama address: use http:// or https://")
    scheme = scheme.lower()
    host, _, port = value.partition(":")
    if any(ch.isspace() for ch in host) or "/" in host or "@" in host:
        raise ValueError(f"{host!r} is not a host name (expected e.g. gpu-box or 10.0.0.5:11434)")
    if not host or host == "0.0.0.0":
        host = "127.0.0.1" if host == "0.0.0.0" else "localhost"
    if not port:
        port = "443" if scheme == "https" else "11434"
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ValueError(f"port {port!r} is not a port number from 1 to 65535")
    return f"{scheme}://{host}:{int(port)}"


def looks_like_secret(key: str) -> bool:
    """A name no setting may have: secrets live in the keyring, never in settings.json."""
    return bool(_SECRET_KEY.search(key))


class Settings(BaseSettings):
    """Everything a user can configure, read first found from: the arguments it is built with
    (CLI flags), the environment (DESKTOP_REGISTRY_*, OLLAMA_HOST, MLFLOW_TRACKING_URI),
    settings.json in settings_dir(), the defaults below. SettingsStore writes the file."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")

    # (a lambda, so that tests can point default_data_dir at a temporary folder)
    home: Path = Field(default_factory=lambda: default_data_dir(), description="Data directory")
    ollama_url: str = Field(default=DEFAULT_OLLAMA_URL, description="Ollama base URL")
    request_timeout_s: float = Field(default=30.0, gt=0, description="Seconds to wait for a reply")
    connect_timeout_s: float = Field(default=3.0, gt=0, description="Seconds to wait to connect")
    sync_concurrency: int = Field(
        default=8, ge=1, le=64, description="Ollama requests at once in a sync"
    )
    # Evaluation requests in flight per source (Ollama, GitHub Models, each endpoint); `eval run
    # --concurrency` overrides it for one run. GitHub's own rate limits still gate remote calls.
    eval_concurrency: int = Field(
        default=4, ge=1, le=64, description="Evaluation requests at once per source"
    )
    github_models_url: str = Field(
        default="https://models.github.ai", description="GitHub Models API URL"
    )
    github_org: str = Field(default="", description="GitHub organization billed for requests")
    # "auto": sync the GitHub catalog when a token is available; "always": also without one
    # (the catalog needs no token, models stay listed-not-callable); "never": skip it.
    github_models_sync: Literal["auto", "always", "never"] = Field(
        default="auto", description="When to sync the GitHub Models catalog"
    )
    # Per-tier overrides of the free-plan limits, e.g. {"high": {"requests_per_minute": 20}}.
    github_rate_limits: dict[str, dict[str, int | None]] = Field(
        default_factory=dict, description="Per-tier GitHub Models limits"
    )
    github_rate_window_s: float = Field(
        default=60.0, gt=0, description="Seconds a per-minute limit spans"
    )
    github_max_wait_s: float = Field(
        default=120.0, ge=0, description="Longest wait for a rate limit before failing"
    )
    # Where experiments are tracked. Precedence (AppContext.mlflow_tracking_uri): the
    # MLFLOW_TRACKING_URI environment variable when set, then this setting
    # (DESKTOP_REGISTRY_MLFLOW_TRACKING_URI or the Settings dialog), then None's default:
    # sqlite:///<data dir>/mlflow.db beside the registry.
    mlflow_tracking_uri: str | None = Field(default=None, description="MLflow tracking URI")
    # Optimization studies (Optuna RDB storage): any SQLAlchemy URL, e.g. postgresql://host/db for
    # a team's shared study; blank = sqlite:///<data dir>/optuna.db. A password belongs in ~/.pgpass.
    optuna_storage: str = Field(default="", description="Optuna storage URL for studies")
    theme: Literal["system", "light", "dark"] = Field(default="system", description="Window theme")
    chat_enter_sends: bool = Field(
        default=True,
        description="Enter sends a chat message (Shift+Enter: new line); off: Ctrl+Enter",
    )
    # Named chat presets: {"Terse": {"system": "Be brief.", "options": {"temperature": 0.2}}}.
    chat_presets: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Chat presets (system prompt and options by name)"
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # First found wins. No .env file and no secrets dir: secrets are never settings.
        return (
            init_settings,
            *_environment(settings_cls, env_settings),
            SettingsFileSource(settings_cls, settings_path()),
        )

    @field_validator("mlflow_tracking_uri", mode="after")
    @classmethod
    def _blank_uri_is_the_default(cls, value: str | None) -> str | None:
        return (value or "").strip() or None

    @field_validator("ollama_url", mode="after")
    @classmethod
    def _ollama_url_from_env(cls, value: str) -> str:
        if value.strip():
            return normalise_ollama_host(value)
        return normalise_ollama_host(os.environ.get("OLLAMA_HOST", ""))  # blank: as if unset

    @property
    def db_path(self) -> Path:
        return self.home / "registry.db"

    def ensure_home(self) -> Path:
        """The data folder, made if missing; a UserInputError when it cannot be one."""
        try:
            self.home.mkdir(parents=True, exist_ok=True)
            if not os.access(self.home, os.W_OK | os.X_OK):
                raise PermissionError(13, "Permission denied")
        except OSError as exc:
            what = "is a file, not a folder" if self.home.is_file() else exc.strerror or str(exc)
            raise UserInputError(
                f"The data folder {self.home} cannot be used: {what}. Point DESKTOP_REGISTRY_HOME "
                "(or `config set home`) at a folder you can write to."
            ) from None
        return self.home


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment, settings.json and `overrides`; a value that does not
    validate (a bad OLLAMA_HOST, say) is a UserInputError naming the setting and its source."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            key = ".".join(str(part) for part in error["loc"]) or "settings"
            variable = VARIABLES_LAST.get(key) if key in VARIABLES_LAST else None
            source = f" (from {variable} or DESKTOP_REGISTRY_{key.upper()})" if variable else ""
            message = str(error["msg"]).removeprefix("Value error, ")
            problems.append(f"{key}{source}: {message}")
        raise UserInputError("Settings are not valid: " + "; ".join(problems) + ".") from None


# ----- where values come from -----------------------------------------------------------------
class VariableSource(PydanticBaseSettingsSource):
    """Settings read from variables other programs read too (OLLAMA_HOST, MLFLOW_TRACKING_URI)."""

    def __init__(self, settings_cls: type[BaseSettings], variables: dict[str, str]) -> None:
        super().__init__(settings_cls)
        self.variables = variables

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        variable = self.variables.get(field_name)
        value = os.environ.get(variable, "").strip() if variable else ""
        return value or None, field_name, False

    def __call__(self) -> dict[str, Any]:
        found = {
            key: os.environ.get(variable, "").strip() for key, variable in self.variables.items()
        }
        return {key: value for key, value in found.items() if value}


def _environment(
    settings_cls: type[BaseSettings], env_settings: PydanticBaseSettingsSource
) -> tuple[PydanticBaseSettingsSource, ...]:
    """The environment's sources, first found wins (one list for Settings and for `list`)."""
    return (
        VariableSource(settings_cls, VARIABLES_FIRST),
        env_settings,
        VariableSource(settings_cls, VARIABLES_LAST),
    )


def environment_settings() -> dict[str, tuple[str, Any]]:
    """Each setting the environment sets now: the variable that wins for it, and its value."""
    found: dict[str, tuple[str, Any]] = {}
    for source in _environment(Settings, EnvSettingsSource(Settings)):
        for key, value in source().items():
            if isinstance(source, VariableSource):
                variable = source.variables[key]
            else:
                variable = f"{ENV_PREFIX}{key}".upper()
            found.setdefault(key, (variable, value))
    return found


def validate_setting(key: str, value: Any) -> Any:
    """`value` as Settings holds it under `key`, coerced and checked by the model's own rules
    (and nothing read from a source); raises pydantic's ValidationError."""
    probe = Settings.model_construct()
    Settings.__pydantic_validator__.validate_assignment(probe, key, value)
    return getattr(probe, key)


@dataclass(frozen=True)
class SettingsFile:
    """What settings.json holds: `values` that Settings may use; `raw`, the whole object as
    written (None when the file cannot be read as one, with `broken` saying why); `problems`
    for the user."""

    path: Path
    values: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] | None = field(default_factory=dict)
    problems: tuple[str, ...] = ()
    broken: str | None = None


def read_settings_file(path: Path) -> SettingsFile:
    """Read settings.json without ever raising: what cannot be used is left out and said."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return SettingsFile(path)
    except (OSError, UnicodeDecodeError) as exc:
        return _broken(path, f"it could not be read ({getattr(exc, 'strerror', None) or exc})")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return _broken(
            path, f"it is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
        )
    if not isinstance(data, dict):
        return _broken(path, 'it does not hold one JSON object, like {"theme": "dark"}')
    values: dict[str, Any] = {}
    problems: list[str] = []
    for key, value in data.items():
        if looks_like_secret(key):
            problems.append(
                f"{path}: {key!r} is ignored: secrets are kept in the system keyring "
                "(desktop-registry-cli token set), never in settings.json."
            )
        elif key not in Settings.model_fields:
            problems.append(f"{path}: {key!r} is not a setting and is ignored.")
        else:
            try:
                validate_setting(key, value)
            except ValidationError as exc:
                reason = exc.errors()[0]["msg"]
                problems.append(f"{path}: {key} is ignored ({reason}); using the default.")
            else:
                values[key] = value
    return SettingsFile(path, values, data, tuple(problems))


def _broken(path: Path, why: str) -> SettingsFile:
    problem = f"{path} is ignored because {why}; using the default settings."
    return SettingsFile(path, raw=None, problems=(problem,), broken=why)


class SettingsFileSource(JsonConfigSettingsSource):
    """settings.json, pydantic-settings' JSON source made forgiving: a broken file or value is
    left out with a warning (on stderr for the CLI) instead of stopping the app."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path) -> None:
        super().__init__(settings_cls, json_file=path)

    def _read_file(self, file_path: Path) -> dict[str, Any]:
        contents = read_settings_file(file_path)
        for problem in contents.problems:
            log.warning("warning: %s", problem)
        return contents.values

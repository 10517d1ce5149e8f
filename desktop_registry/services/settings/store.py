"""List, get, set and unset settings in settings.json; a change reaches the running app at once.

Never writes a secret or half a file: secret-like keys and URLs with passwords are refused, and
the file is replaced whole (a private temporary file, then os.replace).
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from pydantic import ValidationError
from pydantic_core import to_jsonable_python

from desktop_registry.config import (
    Settings,
    SettingsFile,
    environment_settings,
    looks_like_secret,
    read_settings_file,
    validate_setting,
)
from desktop_registry.errors import StorageError, UserInputError
from desktop_registry.services.events import EventHub, Topic
from desktop_registry.tracking.mlflow import public_uri

Origin = Literal["default", "file", "environment"]
# Read once, at start: a running app keeps its registry where it opened it.
NEXT_START = frozenset({"home"})
_UNSET: Any = object()


@dataclass(frozen=True)
class SettingValue:
    """One setting as it is in effect: its value (as JSON holds it) and where it comes from."""

    key: str
    value: Any
    origin: Origin
    variable: str | None = None  # the environment variable, when the environment sets it
    description: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "value": self.value,
            "origin": self.origin,
            "variable": self.variable,
            "description": self.description,
        }


SettingValues = list[SettingValue]  # the store's `list` method shadows the builtin in its body


@dataclass(frozen=True)
class SettingsChange:
    """What a set or unset did: the keys whose value changed, and what the user should know."""

    changed: frozenset[str]
    overridden: dict[str, str] = field(default_factory=dict)  # key → variable that still wins
    next_start: frozenset[str] = frozenset()
    notes: tuple[str, ...] = ()


class SettingsStore:
    """settings.json at `path`. With `settings` (the context's live object) and `events`, a
    change is applied to the running app and announced as Topic.SETTINGS_CHANGED."""

    def __init__(
        self, path: Path, settings: Settings | None = None, events: EventHub | None = None
    ) -> None:
        self.path = path
        self._settings = settings
        self._events = events

    # ----- reading ---------------------------------------------------------------------------
    def keys(self) -> list[str]:
        return list(Settings.model_fields)

    def problem(self) -> str | None:
        """Why the file, or part of it, is being ignored; None when it is fine or absent."""
        problems = read_settings_file(self.path).problems
        return " ".join(problems) if problems else None

    def stored(self) -> dict[str, Any]:
        """The values the file holds (those Settings can use), as JSON holds them."""
        return dict(read_settings_file(self.path).values)

    def list(self) -> SettingValues:
        """Every setting, with the value in effect and where it comes from."""
        env, contents = environment_settings(), read_settings_file(self.path)
        return [self._resolve(key, env, contents)[0] for key in self.keys()]

    def get(self, key: str) -> SettingValue:
        self._check_key(key)
        return self._resolve(key, environment_settings(), read_settings_file(self.path))[0]

    def validate(self, key: str, value: Any) -> Any:
        """`value` as Settings would hold it under `key`; UserInputError names the key and what
        it accepts. A command-line string is read as JSON for a key that takes an object."""
        self._check_key(key)
        kind = Settings.model_fields[key].annotation
        if isinstance(value, str) and get_origin(kind) is dict:
            try:
                value = json.loads(value)
            except ValueError:
                raise UserInputError(
                    f"{key}: {value!r} is not JSON; {key} takes {accepted(key)}."
                ) from None
        try:
            checked = validate_setting(key, value)
        except ValidationError as exc:
            reason = exc.errors()[0]["msg"]
            raise UserInputError(
                f"{key}: {value!r} is not accepted ({reason}); {key} takes {accepted(key)}."
            ) from None
        if isinstance(checked, Path):
            checked = checked.expanduser().absolute()
        if isinstance(checked, str) and public_uri(checked) != checked:
            raise UserInputError(_no_credentials(key))
        return checked

    # ----- writing ---------------------------------------------------------------------------
    def set(self, key: str, value: Any) -> SettingsChange:
        return self.set_many({key: value})

    def unset(self, key: str) -> SettingsChange:
        self._check_key(key)
        return self._write({key: _UNSET})

    def set_many(self, values: Mapping[str, Any]) -> SettingsChange:
        """Check every value first, then save them in one write. An empty value (or None)
        unsets its key: back to the environment or the default."""
        checked: dict[str, Any] = {}
        for key, value in values.items():
            if value is None or (isinstance(value, str) and not value.strip()):
                self._check_key(key)
                checked[key] = _UNSET
            else:
                checked[key] = to_jsonable_python(self.validate(key, value))
        return self._write(checked)

    def _write(self, updates: Mapping[str, Any]) -> SettingsChange:
        contents = read_settings_file(self.path)
        if contents.raw is None:
            raise UserInputError(
                f"{self.path} was not changed because {contents.broken}. Fix the file or delete "
                "it (the defaults are used without it), then try again."
            )
        data, notes = _without_secrets(contents.raw, self.path)
        for key, value in updates.items():
            if value is _UNSET:
                data.pop(key, None)
            else:
                data[key] = value
        if data != contents.raw:
            self._save(data)
        env = environment_settings()
        after = read_settings_file(self.path)
        changed = {k for k in updates if contents.raw.get(k, _UNSET) != data.get(k, _UNSET)}
        if self._settings is not None:
            for key in set(updates) - NEXT_START:
                value = self._resolve(key, env, after)[1]
                if getattr(self._settings, key) != value:
                    setattr(self._settings, key, value)
                    changed.add(key)
        overridden = {key: env[key][0] for key in updates if key in env}
        for key, variable in overridden.items():
            notes.append(f"{variable} is set in the environment and is used instead of {key}.")
        next_start = frozenset(changed & NEXT_START)
        if "home" in next_start and "home" not in overridden:
            notes.append("The new data directory is used from the next start.")
        if changed and self._events is not None:
            self._events.publish(Topic.SETTINGS_CHANGED, set(changed))
        return SettingsChange(frozenset(changed), overridden, next_start, tuple(notes))

    def _save(self, data: dict[str, Any]) -> None:
        """Replace the file whole; mkstemp makes the temporary file private to the user (0600)."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, temporary = tempfile.mkstemp(
                prefix=".settings-", suffix=".tmp", dir=self.path.parent
            )
        except OSError as exc:
            raise StorageError(f"Could not save {self.path} ({exc.strerror or exc}).") from None
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(data, out, indent=2, sort_keys=True, ensure_ascii=False)
                out.write("\n")
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, self.path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise StorageError(
                f"Could not save {self.path} ({exc.strerror or exc}); it was not changed."
            ) from None

    # ----- helpers ---------------------------------------------------------------------------
    def _check_key(self, key: str) -> None:
        if looks_like_secret(key):
            raise UserInputError(
                f"{key!r} looks like a secret, and secrets are never settings: they are kept in "
                "the system keyring. For the GitHub token use `desktop-registry-cli token set`; "
                "for an endpoint's API key, `endpoint add NAME URL --api-key-stdin`."
            )
        if key not in Settings.model_fields:
            raise UserInputError(
                f"{key!r} is not a setting. Known settings: {', '.join(self.keys())}."
            )

    def _resolve(
        self, key: str, env: Mapping[str, tuple[str, Any]], contents: SettingsFile
    ) -> tuple[SettingValue, Any]:
        """The setting in effect (first found: environment, file, default) and its Python value."""
        info = Settings.model_fields[key]
        description = info.description or ""
        variable: str | None = None
        origin: Origin
        if key in env:
            variable, raw = env[key]
            origin = "environment"
            try:
                value = validate_setting(key, raw)
            except ValidationError as exc:
                raise UserInputError(
                    f"{variable}={raw!r} is not accepted for {key} ({exc.errors()[0]['msg']}); "
                    f"{key} takes {accepted(key)}."
                ) from None
        elif key in contents.values:
            origin, value = "file", validate_setting(key, contents.values[key])
        else:
            origin = "default"
            value = validate_setting(key, info.get_default(call_default_factory=True))
        shown = to_jsonable_python(value)
        if isinstance(shown, str):
            shown = public_uri(shown)  # an MLflow URI from the environment may hold a password
        return SettingValue(key, shown, origin, variable, description), value


def accepted(key: str) -> str:
    """What `key` takes, in words: 'a whole number from 1 to 64', 'one of: auto, always, never'."""
    info = Settings.model_fields[key]
    kind = info.annotation
    if get_origin(kind) is Literal:
        return "one of: " + ", ".join(str(choice) for choice in get_args(kind))
    if get_origin(kind) is dict:
        return 'a JSON object, e.g. {"high": {"requests_per_minute": 20}}'
    bounds = {
        name: getattr(rule, name)
        for rule in info.metadata
        for name in ("gt", "ge", "lt", "le")
        if getattr(rule, name, None) is not None
    }
    kinds: dict[Any, str] = {int: "a whole number", float: "a number", Path: "a folder path"}
    what = kinds.get(kind, "a URL" if key.endswith(("_url", "_uri")) else "text")
    if "ge" in bounds and "le" in bounds:
        return f"{what} from {bounds['ge']} to {bounds['le']}"
    words = {"gt": "above", "ge": "at least", "lt": "below", "le": "at most"}
    limits = " and ".join(f"{words[name]} {limit}" for name, limit in bounds.items())
    return f"{what} {limits}".strip()


def _no_credentials(key: str) -> str:
    if key == "mlflow_tracking_uri":
        return (
            "mlflow_tracking_uri: leave the user name and password out of the MLflow URI; set "
            "MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD instead "
            "(settings.json is a plain file)."
        )
    return (
        f"{key}: leave any user name, password or query out of the URL; settings.json is a "
        "plain file, never a place for secrets."
    )


def _without_secrets(raw: Mapping[str, Any], path: Path) -> tuple[dict[str, Any], list[str]]:
    """What the file may keep when rewritten: everything but secret-like keys and URLs with a
    password (a hand edit may have put them there; the store never writes them back)."""
    kept: dict[str, Any] = {}
    notes: list[str] = []
    for key, value in raw.items():
        if looks_like_secret(key) or (isinstance(value, str) and public_uri(value) != value):
            notes.append(f"{key} was removed from {path}: a secret does not belong there.")
        else:
            kept[key] = value
    return kept, notes

"""Where the app's files are: the data dir, settings.json, and the registry a plain `list` reads.

Standard library and platformdirs only (the CLI's start-up path imports it); never creates a
folder or a file. config.Settings is the full answer; `registry_file` answers only the plain
cases the same way and says None for every other, so the caller asks Settings.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from platformdirs import user_data_dir

APP_NAME = "DesktopRegistry"
SETTINGS_FILE_NAME = "settings.json"
ENV_PREFIX = "DESKTOP_REGISTRY_"


def default_data_dir() -> Path:
    return Path(user_data_dir(APP_NAME, appauthor=False))


def settings_dir() -> Path:
    """Where settings.json lives: DESKTOP_REGISTRY_HOME, else the platform's data dir. A `home`
    inside the file moves the registry, never the file (it must be found before it is read)."""
    named = os.environ.get(f"{ENV_PREFIX}HOME", "").strip()
    return Path(named).expanduser() if named else default_data_dir()


def settings_path() -> Path:
    return settings_dir() / SETTINGS_FILE_NAME


def registry_file(db_flag: Path | None) -> Path | None:
    """registry.db as Settings would place it (DESKTOP_REGISTRY_HOME, then settings.json's
    `home`, then the data dir), or None where only Settings can say (an odd value, a `~`)."""
    if db_flag is not None:
        return db_flag
    named = os.environ.get(f"{ENV_PREFIX}HOME")
    if named is not None:
        plain = named and named == named.strip() and not named.startswith("~")
        return Path(named) / "registry.db" if plain else None
    path = settings_path()
    if not path.exists():
        return default_data_dir() / "registry.db"
    try:
        chosen = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # Settings reads it and warns
    if not isinstance(chosen, dict):
        return None
    home = chosen.get("home")
    if home is None:
        return default_data_dir() / "registry.db"
    if isinstance(home, str) and home and not home.startswith("~"):
        return Path(home) / "registry.db"
    return None

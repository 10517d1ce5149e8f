"""Moves the settings earlier versions kept in QSettings into settings.json, once, at start.

Never overwrites a value settings.json already has, and never drops one it failed to save.
"""

from __future__ import annotations

from PySide6.QtCore import QSettings

from desktop_registry.errors import RegistryError, UserInputError
from desktop_registry.services.settings.store import SettingsStore

# QSettings key of an earlier window → the setting it is now.
EARLIER_KEYS = {
    "ollama_url": "ollama_url",
    "data_dir": "home",
    "mlflow_tracking_uri": "mlflow_tracking_uri",
    "eval_concurrency": "eval_concurrency",
    "theme": "theme",
}


def migrate_window_settings(prefs: QSettings, store: SettingsStore) -> list[str]:
    """Copy each earlier key into the store where the file lacks that setting, then remove the
    earlier keys from `prefs` (left in place if the file could not be written, to retry next
    start). Returns what the user should be told."""
    present = [old for old in EARLIER_KEYS if prefs.contains(old)]
    if not present:
        return []
    stored = store.stored()
    moving: dict[str, object] = {}
    notes: list[str] = []
    for old in present:
        key, value = EARLIER_KEYS[old], prefs.value(old)
        if key in stored or value is None or str(value).strip() == "":
            continue  # settings.json already decides it, or nothing was chosen
        try:
            store.validate(key, value)
        except UserInputError as exc:
            notes.append(f"An earlier saved setting was dropped: {exc}")
            continue
        moving[key] = value
    if moving:
        try:
            store.set_many(moving)
        except RegistryError as exc:
            return [f"Settings from an earlier version stay where they were for now: {exc}"]
    for old in present:
        prefs.remove(old)
    prefs.sync()
    return notes

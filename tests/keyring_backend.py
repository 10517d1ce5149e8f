"""A keyring backend for tests: stands in for the OS keyring (Secret Service, Keychain …),
which cannot run on a machine without a desktop session.

It implements keyring's real backend API over a JSON file in the test's tmp_path, so the app
talks to it exactly as to a system keyring, and a test can read what was stored.
"""

from __future__ import annotations

import json
from pathlib import Path

from keyring.backend import KeyringBackend


class IsolatedKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path

    def _load(self) -> dict[str, str]:
        return json.loads(self.path.read_text()) if self.path.exists() else {}

    def _save(self, data: dict[str, str]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(data))

    def get_password(self, service: str, username: str) -> str | None:
        return self._load().get(f"{service}/{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        data = self._load()
        data[f"{service}/{username}"] = password
        self._save(data)

    def delete_password(self, service: str, username: str) -> None:
        data = self._load()
        data.pop(f"{service}/{username}", None)
        self._save(data)

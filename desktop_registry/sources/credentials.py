"""Secrets (the GitHub token, endpoint API keys) in the OS keyring, or a 0600 file when there is none.

Must never write a secret to the database, a log, an export or an exception message.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import Literal

import keyring
import keyring.backend
import keyring.errors
from keyring.backends import fail
from pydantic import BaseModel

from desktop_registry.errors import StorageError, UserInputError

TokenSource = Literal["env", "keyring", "file", "none"]
ENV_TOKEN_VARS = ("GH_TOKEN", "GITHUB_TOKEN")
GITHUB_TOKEN_KEY = "github-token"
_SAFE_KEY = re.compile(r"^[A-Za-z0-9._-]{1,100}$")


class TokenStatus(BaseModel):
    """Where the token comes from; `fallback_warning` says so when it sits in a plain file."""

    source: TokenSource
    fallback_warning: str = ""


# Backends that keep secrets in an ordinary file (keyrings.alt's plaintext and "encrypted" files)
# or nowhere: they are no safer than our own 0600 file, so they never count as a system keyring.
_NOT_A_SYSTEM_KEYRING = ("keyrings.alt", "keyring.backends.null", "keyring.backends.fail")


def _is_system_keyring(backend: keyring.backend.KeyringBackend) -> bool:
    return not type(backend).__module__.startswith(_NOT_A_SYSTEM_KEYRING)


def _usable(backend: keyring.backend.KeyringBackend) -> bool:
    if isinstance(backend, fail.Keyring):
        return False
    chained = getattr(backend, "backends", None)
    if chained is None:
        return _is_system_keyring(backend)
    # keyring's chainer writes to its highest-priority backend: that one must be a real keyring.
    return bool(chained) and _is_system_keyring(max(chained, key=lambda b: b.priority))


def backend_name(backend: keyring.backend.KeyringBackend) -> str:
    return f"{type(backend).__module__}.{type(backend).__name__}"


class SecretStore:
    """Named secrets: keyring first; without a usable keyring backend, one 0600 file per secret.

    `backend` is the keyring backend to use (default: whatever `keyring` selects for this machine).
    """

    def __init__(
        self,
        home: Path,
        service: str = "desktop-registry",
        *,
        backend: keyring.backend.KeyringBackend | None = None,
    ) -> None:
        self.home = home
        self.service = service
        self._backend = backend

    @property
    def backend(self) -> keyring.backend.KeyringBackend:
        return self._backend or keyring.get_keyring()

    @property
    def keyring_available(self) -> bool:
        return _usable(self.backend)

    def file_path(self, key: str) -> Path:
        _check_key(key)
        name = "github_token" if key == GITHUB_TOKEN_KEY else f"secret_{key}"
        return self.home / name

    def fallback_warning(self, key: str) -> str:
        backend = self.backend
        if type(backend).__module__.startswith("keyrings.alt"):
            why = (
                f"The keyring backend here ({backend_name(backend)}) keeps secrets in an "
                "ordinary file, which is not a system keyring"
            )
        else:
            why = "No system keyring is available"
        return (
            f"{why}, so the secret is kept in {self.file_path(key)}, readable only by you "
            "(permissions 0600). Install a keyring (e.g. GNOME Keyring or KWallet) to keep it "
            "out of the file system."
        )

    def get(self, key: str) -> tuple[str | None, TokenSource]:
        """The secret and where it was found (`none` when it is not stored)."""
        if self.keyring_available:
            try:
                value = self.backend.get_password(self.service, key)
            except keyring.errors.KeyringError as exc:
                raise StorageError(
                    f"The system keyring could not be read ({type(exc).__name__}). "
                    "Unlock it and try again."
                ) from None
            if value:
                return value, "keyring"
        path = self.file_path(key)
        if path.is_file():
            value = path.read_text(encoding="utf-8").strip()
            if value:
                return value, "file"
        return None, "none"

    def set(self, key: str, value: str) -> TokenSource:
        """Store a secret; returns where it went (`keyring`, or `file` when there is no keyring)."""
        value = value.strip()
        if not value or any(ch.isspace() for ch in value):
            raise UserInputError("That is not a valid secret: it is empty or contains spaces.")
        if self.keyring_available:
            try:
                self.backend.set_password(self.service, key, value)
            except keyring.errors.KeyringError as exc:
                raise StorageError(
                    f"The system keyring refused to store the secret ({type(exc).__name__}). "
                    "Unlock it and try again."
                ) from None
            self._remove_file(key)  # an older fallback copy must not outlive the keyring entry
            return "keyring"
        self._write_file(key, value)
        return "file"

    def delete(self, key: str) -> bool:
        """Remove a secret from the keyring and the fallback file; True if anything was removed."""
        removed = False
        if self.keyring_available:
            try:
                if self.backend.get_password(self.service, key) is not None:
                    self.backend.delete_password(self.service, key)
                    removed = True
            except keyring.errors.KeyringError as exc:
                raise StorageError(
                    f"The system keyring refused to delete the secret ({type(exc).__name__})."
                ) from None
        return self._remove_file(key) or removed

    def _write_file(self, key: str, value: str) -> None:
        path = self.file_path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Create with 0600 from the start, so the secret is never readable by others, not even briefly.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, value.encode("utf-8"))
        finally:
            os.close(fd)
        os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)

    def _remove_file(self, key: str) -> bool:
        path = self.file_path(key)
        if path.exists():
            path.unlink()
            return True
        return False


def _check_key(key: str) -> None:
    if not _SAFE_KEY.match(key):
        raise UserInputError(f"{key!r} is not a usable secret name (letters, digits, . _ - only).")


class TokenStore:
    """The GitHub token: GH_TOKEN / GITHUB_TOKEN when set (never written), else keyring, else file."""

    def __init__(
        self,
        home: Path,
        service: str = "desktop-registry",
        *,
        backend: keyring.backend.KeyringBackend | None = None,
    ) -> None:
        self.secrets = SecretStore(home, service, backend=backend)
        self._stored: str | None = None
        self._looked_up = False  # the keyring is read once per store, not once per request

    @staticmethod
    def _from_env() -> str | None:
        for var in ENV_TOKEN_VARS:
            value = os.environ.get(var, "").strip()
            if value:
                return value
        return None

    def get(self) -> str | None:
        from_env = self._from_env()
        if from_env:
            return from_env
        if not self._looked_up:
            self._stored = self.secrets.get(GITHUB_TOKEN_KEY)[0]
            self._looked_up = True
        return self._stored

    def set(self, token: str) -> TokenStatus:
        where = self.secrets.set(GITHUB_TOKEN_KEY, token)
        self._looked_up = False
        return TokenStatus(
            source=where,
            fallback_warning=self.secrets.fallback_warning(GITHUB_TOKEN_KEY)
            if where == "file"
            else "",
        )

    def clear(self) -> bool:
        self._looked_up = False
        return self.secrets.delete(GITHUB_TOKEN_KEY)

    def status(self) -> TokenStatus:
        if self._from_env():
            return TokenStatus(source="env")
        _value, where = self.secrets.get(GITHUB_TOKEN_KEY)
        warning = self.secrets.fallback_warning(GITHUB_TOKEN_KEY) if where == "file" else ""
        return TokenStatus(source=where, fallback_warning=warning)

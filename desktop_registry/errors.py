"""The one exception family the app raises, each with a message a user can act on.

Messages must never contain secrets (tokens, API keys): adapters scrub them first.
"""

from __future__ import annotations


class RegistryError(Exception):
    """Base of every error Desktop Registry shows to a user."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class UserInputError(RegistryError):
    """The user asked for something that cannot be done as asked (bad name, bad value)."""


class NotFoundError(RegistryError):
    """A model, slot or record that was asked for does not exist."""


class SourceError(RegistryError):
    """An outside system (Ollama, GitHub Models, an OpenAI-compatible server) failed."""

    exit_code = 2

    def __init__(self, message: str, *, status: int | None = None, source: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.source = source


class SourceUnreachableError(SourceError):
    """Nothing answered at the configured address."""


class SourceProtocolError(SourceError):
    """The server answered, but with something we cannot read (malformed JSON, a cut stream)."""


class StreamInterruptedError(SourceProtocolError):
    """A streaming reply stopped before it finished; whatever arrived is kept by the caller."""


class AuthenticationError(SourceError):
    """A token was rejected or lacks the needed permission."""


class RateLimitedError(SourceError):
    """The server asked us to wait; `retry_after_s` says how long, `resets_at` when (epoch seconds)."""

    def __init__(
        self,
        message: str,
        *,
        retry_after_s: float | None = None,
        resets_at: float | None = None,
        daily: bool = False,
        status: int | None = 429,
        source: str = "",
    ) -> None:
        super().__init__(message, status=status, source=source)
        self.retry_after_s = retry_after_s
        self.resets_at = resets_at
        self.daily = daily


class StorageError(RegistryError):
    """The registry database could not be read or written."""

"""How a source asks permission to send a request: the gate Protocols and the no-limit gate.

The gate with limits and retries lives in sources/rate_limit.py; this module must stay I/O-free.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol, TypeVar

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class PermitLike(Protocol):
    def settle(self, headers: Mapping[str, str] | None = None) -> None: ...

    def release(self) -> None: ...


class GrantedLike(Protocol[T_co]):
    @property
    def value(self) -> T_co: ...

    @property
    def permit(self) -> PermitLike: ...


class RequestGate(Protocol):
    """What decides when a request may go out and whether a failure is retried (services/rate_limit)."""

    async def run(
        self,
        key: str,
        tier: str | None,
        attempt: Callable[[PermitLike], Awaitable[T]],
        *,
        tokens: int = 0,
        output_tokens: int = 0,
    ) -> GrantedLike[T]: ...


class _NoPermit:
    def settle(self, headers: Mapping[str, str] | None = None) -> None:
        return None

    def release(self) -> None:
        return None


class _Once:
    def __init__(self, value: Any) -> None:
        self.value = value
        self.permit = _NoPermit()


class OpenGate:
    """No limits and no retries: one attempt per request."""

    async def run(
        self,
        key: str,
        tier: str | None,
        attempt: Callable[[PermitLike], Awaitable[T]],
        *,
        tokens: int = 0,
        output_tokens: int = 0,
    ) -> GrantedLike[T]:
        return _Once(await attempt(_NoPermit()))

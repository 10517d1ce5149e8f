"""GitHub Models: the public catalog (httpx, no token) and inference (the `openai` SDK, a token).

Never sends, logs or repeats the token anywhere but the Authorization header of inference calls.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

if TYPE_CHECKING:
    import openai

from desktop_registry.domain.rate_limits import RateLimitSnapshot
from desktop_registry.errors import (
    AuthenticationError,
    RateLimitedError,
    RegistryError,
    SourceError,
    SourceProtocolError,
    SourceUnreachableError,
    UserInputError,
)
from desktop_registry.sources.openai_compatible import (
    ModelUnavailableError,
    OpenAICompatibleSource,
    SecretProvider,
    _detail,
)
from desktop_registry.sources.openai_json import ListingShapeError, decode_json, read_bounded
from desktop_registry.sources.request_gate import RequestGate

DEFAULT_ROOT = "https://models.github.ai"
_WAIT_SECONDS = re.compile(r"wait (\d+) seconds", re.IGNORECASE)
_PER_WINDOW = re.compile(r"per (\d+)s", re.IGNORECASE)
NO_TOKEN_MESSAGE = (
    "No GitHub token is set, so GitHub Models can be listed but not called. Create a "
    "fine-grained token with 'Models: read' (or a classic token) and run "
    "`desktop-registry-cli token set`, or set GH_TOKEN."
)


@runtime_checkable
class RateLimitReporter(Protocol):
    """A gate that can tell how much of a model's request budget is left (services/rate_limit)."""

    def snapshot(self, key: str | None = None) -> RateLimitSnapshot | None: ...


class CatalogLimits(BaseModel):
    model_config = ConfigDict(extra="allow")

    max_input_tokens: int | None = None
    max_output_tokens: int | None = None


class CatalogEntry(BaseModel):
    """One `GET /catalog/models` entry, field names as GitHub sends them."""

    model_config = ConfigDict(extra="allow")

    id: str
    name: str = ""
    publisher: str = ""
    summary: str = ""
    version: str = ""
    registry: str = ""
    html_url: str = ""
    rate_limit_tier: str = ""
    supported_input_modalities: list[str] = Field(default_factory=list)
    supported_output_modalities: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    capabilities: list[str] = Field(default_factory=list)
    limits: CatalogLimits | None = None

    @model_validator(mode="after")
    def _storable_text(self) -> CatalogEntry:
        texts = [self.id, self.name, self.publisher, self.summary, self.version]
        texts += [self.registry, self.html_url, self.rate_limit_tier]
        texts += self.tags + self.capabilities
        texts += self.supported_input_modalities + self.supported_output_modalities
        for text in texts:
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:  # a lone surrogate cannot be stored or shown
                raise ValueError("text that is not valid Unicode") from None
        if not self.id.strip():
            raise ValueError("an empty id")
        return self

    @property
    def provider(self) -> str:
        return self.id.split("/", 1)[0].lower() if "/" in self.id else ""


def parse_catalog(body: Any) -> list[CatalogEntry]:
    """Entries from a catalog body (a bare JSON array); a broken entry is skipped, not fatal.

    A catalog that is not a list, is empty, or holds no usable entry is the service's error:
    it must never read as "GitHub Models has none of your models" (which marks them missing)."""
    if not isinstance(body, list):
        raise SourceProtocolError(
            "The GitHub Models catalog is not a list of models. Is the catalog address right?",
            source="github_models",
        )
    entries = []
    for raw in body:
        try:
            entries.append(CatalogEntry.model_validate(raw))
        except ValidationError:
            continue  # one odd entry must not hide the rest of the catalog
    if not entries:
        found = f"none of its {len(body)} entries is a model" if body else "it is empty"
        raise SourceProtocolError(
            f"The GitHub Models catalog came back without models ({found}). The models you "
            "have are kept as they were; try again later.",
            source="github_models",
        )
    return entries


def rate_limit_error(headers: httpx.Headers | Any, message: str, model: str) -> RateLimitedError:
    """A 429 as the official CLI reads it: x-ratelimit-timeremaining, then Retry-After."""
    wait: float | None = None
    for name in ("x-ratelimit-timeremaining", "retry-after"):
        raw = headers.get(name)
        if raw:
            try:
                wait = float(raw)
                break
            except ValueError:
                continue
    if wait is None:
        found = _WAIT_SECONDS.search(message)
        wait = float(found.group(1)) if found else None
    kind = str(headers.get("x-ratelimit-type") or "")
    window = _PER_WINDOW.search(message)
    daily = "day" in kind.lower() or (window is not None and int(window.group(1)) >= 86400)
    resets_at = time.time() + wait if wait is not None else None
    return RateLimitedError(
        f"GitHub Models rate limit reached for {model} ({kind or 'limit'}).",
        retry_after_s=wait,
        resets_at=resets_at,
        daily=daily,
        source="github_models",
    )


class GitHubModelsSource(OpenAICompatibleSource):
    """GitHub Models under one root URL (`/catalog/models`, `/inference`, `/orgs/<org>/inference`)."""

    label = "GitHub Models"

    def __init__(
        self,
        root: str = DEFAULT_ROOT,
        *,
        token: SecretProvider,
        org: str = "",
        gate: RequestGate | None = None,
        tier_of: Callable[[str], str | None] | None = None,
        timeout_s: float = 120.0,
        connect_timeout_s: float = 5.0,
    ) -> None:
        self.root = root.rstrip("/")
        self.org = org.strip()
        inference = (
            f"{self.root}/orgs/{self.org}/inference" if self.org else f"{self.root}/inference"
        )
        super().__init__(
            "github_models",
            inference,
            api_key=token,
            gate=gate,
            timeout_s=timeout_s,
            connect_timeout_s=connect_timeout_s,
        )
        self._tier_of = tier_of or (lambda _model: None)
        self._tiers: dict[str, str] = {}
        self._http = httpx.AsyncClient(timeout=httpx.Timeout(timeout_s, connect=connect_timeout_s))

    @property
    def catalog_url(self) -> str:
        return f"{self.root}/catalog/models"

    @property
    def has_token(self) -> bool:
        return bool(self._secret())

    async def aclose(self) -> None:
        await self._http.aclose()
        await super().aclose()

    def remember_tiers(self, entries: list[CatalogEntry]) -> None:
        self._tiers.update({e.id.lower(): e.rate_limit_tier for e in entries if e.rate_limit_tier})

    def key_for(self, model: str) -> tuple[str, str | None]:
        tier = self._tiers.get(model.lower()) or self._tier_of(model)
        return model.lower(), tier

    def rate_limit(self, model: str | None = None) -> RateLimitSnapshot | None:
        """Requests left for `model` (default: the model last called) as the gate last saw them."""
        if isinstance(self.gate, RateLimitReporter):
            return self.gate.snapshot(self.key_for(model)[0] if model else None)
        return None

    # ----- catalog -----------------------------------------------------------------------
    async def catalog(self) -> list[CatalogEntry]:
        """Every model GitHub Models lists (no token needed, none sent)."""
        try:
            body = await self._catalog_body()
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise SourceUnreachableError(
                f"GitHub Models is not reachable at {self.root}. Check the network, or the "
                "GitHub Models URL in Settings (DESKTOP_REGISTRY_GITHUB_MODELS_URL).",
                source=self.name,
            ) from exc
        except httpx.HTTPError as exc:
            raise SourceError(
                f"Reading the GitHub Models catalog failed ({type(exc).__name__}). Try again.",
                source=self.name,
            ) from exc
        entries = parse_catalog(body)
        self.remember_tiers(entries)
        return entries

    async def _catalog_body(self) -> Any:
        """The catalog's JSON, read in bounded memory; a status or shape error says which."""
        headers = {"Accept": "application/json", "X-GitHub-Api-Version": "2022-11-28"}
        async with self._http.stream("GET", self.catalog_url, headers=headers) as response:
            if response.status_code != 200:
                raise SourceError(
                    f"The GitHub Models catalog at {self.catalog_url} answered "
                    f"{response.status_code}. Try again later.",
                    status=response.status_code,
                    source=self.name,
                )
            try:
                return decode_json(await read_bounded(response.aiter_bytes()))
            except ListingShapeError as exc:
                raise SourceProtocolError(
                    f"The GitHub Models catalog at {self.catalog_url} is not a model list: "
                    f"{exc}. Is the catalog address right?",
                    source=self.name,
                ) from None

    # ----- inference ---------------------------------------------------------------------
    def prepare(self, model: str) -> None:
        if not self.has_token:
            raise AuthenticationError(NO_TOKEN_MESSAGE, source=self.name)

    def unreachable_message(self) -> str:
        return (
            f"GitHub Models is not reachable at {self.root}. Check the network, or the GitHub "
            "Models URL in Settings."
        )

    def status_error(self, exc: openai.APIStatusError, model: str, what: str) -> RegistryError:
        code, message = _detail(exc)
        message = self.scrub(message) or f"status {exc.status_code}"
        status = exc.status_code
        if status in (401, 403):
            return AuthenticationError(
                "GitHub Models: token rejected or lacks models permission. Create a "
                "fine-grained token with 'Models: read' (or a classic token) and run "
                f"`desktop-registry-cli token set`. (GitHub said: {message})",
                status=status,
                source=self.name,
            )
        if status == 404:
            return ModelUnavailableError(
                f"{model}: model not available to this account on GitHub Models "
                f"(GitHub said: {message}). Run `desktop-registry-cli sync` to refresh the catalog."
            )
        if status == 413 or code == "tokens_limit_reached":
            return UserInputError(
                f"The request is too long for {model} on your plan (GitHub said: {message}). "
                "Shorten the prompt or the conversation; retrying will not help."
            )
        if status == 400 and code == "unavailable_model":
            return ModelUnavailableError(
                f"{model}: model not available to this account on GitHub Models "
                f"(GitHub said: {message})."
            )
        if status == 429:
            return rate_limit_error(exc.response.headers, message, model)
        if status == 400:
            return UserInputError(f"GitHub Models refused {what}: {message}")
        return SourceError(
            f"GitHub Models answered {status} to {what}: {message}",
            status=status,
            source=self.name,
        )

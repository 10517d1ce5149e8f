"""A llama.cpp `llama-server`: its OpenAI API for chat and embeddings, and what only it reports.

`/health`, `/props`, `/slots`, `/metrics` and the `/v1/models` meta block are read with bounded
bodies and turned into the types below; never leaks httpx/pydantic errors or raw JSON upward,
and never sends a generation option the server would silently ignore (unknown ones are refused).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from desktop_registry.errors import (
    RegistryError,
    SourceError,
    SourceProtocolError,
    SourceUnreachableError,
    UserInputError,
)
from desktop_registry.sources.ollama_json import ReplyShapeError, decode_json
from desktop_registry.sources.openai_compatible import OpenAICompatibleSource, SecretProvider
from desktop_registry.sources.openai_stream import request_options

MAX_BODY_BYTES = 8 << 20  # /props carries the chat template; 8 MB is far above any real one

# Options llama-server's OpenAI endpoint takes beyond OpenAI's own (tools/server/README.md,
# "POST /completion" options, which /v1/chat/completions accepts too), by the app's name.
LLAMACPP_OPTIONS: dict[str, str] = {
    "top_k": "top_k",
    "min_p": "min_p",
    "typical_p": "typical_p",
    "repeat_penalty": "repeat_penalty",
    "repeat_last_n": "repeat_last_n",
    "mirostat": "mirostat",
    "mirostat_tau": "mirostat_tau",
    "mirostat_eta": "mirostat_eta",
    "n_predict": "n_predict",
    "num_predict": "n_predict",  # Ollama's name for the same limit
    "grammar": "grammar",
    "json_schema": "json_schema",
    "n_probs": "n_probs",
    "cache_prompt": "cache_prompt",
}
# Options the OpenAI request carries itself (openai_stream.request_options maps them).
OPENAI_OPTIONS = frozenset(
    {
        "temperature",
        "top_p",
        "seed",
        "stop",
        "max_tokens",
        "presence_penalty",
        "frequency_penalty",
    }
)
ACCEPTED_OPTIONS = frozenset(LLAMACPP_OPTIONS) | OPENAI_OPTIONS


class _Lax(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _GenerationSettings(_Lax):
    n_ctx: int | None = None


class _Modalities(_Lax):
    vision: bool = False
    audio: bool = False
    video: bool = False


class _TemplateCaps(_Lax):
    supports_tools: bool = False
    supports_tool_calls: bool = False


class ServerProps(_Lax):
    """`GET /props`: what the server was started with."""

    default_generation_settings: _GenerationSettings = Field(default_factory=_GenerationSettings)
    total_slots: int | None = None
    model_alias: str = ""
    model_path: str = ""
    model_ftype: str = ""
    modalities: _Modalities = Field(default_factory=_Modalities)
    chat_template: str = ""
    chat_template_caps: _TemplateCaps = Field(default_factory=_TemplateCaps)
    build_info: str = ""
    is_sleeping: bool = False
    endpoint_slots: bool = False
    endpoint_metrics: bool = False

    @property
    def context_per_slot(self) -> int | None:
        return self.default_generation_settings.n_ctx

    @property
    def supports_tools(self) -> bool:
        caps = self.chat_template_caps
        return caps.supports_tools or caps.supports_tool_calls


class ModelMeta(_Lax):
    """The `meta` block llama-server adds to each `/v1/models` entry."""

    n_ctx_train: int | None = None
    n_params: int | None = None
    size: int | None = None
    n_embd: int | None = None
    ftype: str = ""


class ServedModel(_Lax):
    id: str
    owned_by: str = ""
    meta: ModelMeta = Field(default_factory=ModelMeta)


class _ModelList(_Lax):
    data: list[ServedModel] = Field(default_factory=list)


class SlotState(_Lax):
    id: int
    n_ctx: int | None = None
    is_processing: bool = False


class ServerHealth(BaseModel):
    """`GET /health`: ready, or still loading the model (503)."""

    ready: bool
    detail: str = ""


class LlamaCppSource(OpenAICompatibleSource):
    """One llama-server; `server_url` is its root, the OpenAI API lives under `/v1`."""

    label = "llama.cpp server"

    def __init__(
        self,
        name: str,
        server_url: str,
        *,
        api_key: SecretProvider | None = None,
        gate: Any = None,
        timeout_s: float = 120.0,
        connect_timeout_s: float = 5.0,
    ) -> None:
        self.server_url = server_root(server_url)
        super().__init__(
            name,
            self.server_url + "/v1",
            api_key=api_key,
            gate=gate,
            timeout_s=timeout_s,
            connect_timeout_s=connect_timeout_s,
        )
        self._http: httpx.AsyncClient | None = None

    # ----- the server's own endpoints -----------------------------------------------------
    def http(self) -> httpx.AsyncClient:
        if self._http is None:
            timeout_s, connect_s = self._timeouts
            self._http = httpx.AsyncClient(
                base_url=self.server_url, timeout=httpx.Timeout(timeout_s, connect=connect_s)
            )
        return self._http

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None
        await super().aclose()

    @contextmanager
    def _reading(self, what: str) -> Iterator[None]:
        try:
            yield
        except RegistryError:
            raise
        except httpx.TimeoutException:
            raise SourceError(
                f"{self.label} {self.name!r} did not answer {what} in time.", source=self.name
            ) from None
        except httpx.TransportError:
            raise SourceUnreachableError(self.unreachable_message(), source=self.name) from None
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(part) for part in first["loc"]) or "the reply"
            raise SourceProtocolError(
                f"{self.label} {self.name!r} sent {what} whose `{field}` is not what "
                f"llama-server sends ({first['msg']}). Is the address right?",
                source=self.name,
            ) from None

    async def _get(self, path: str, what: str) -> tuple[int, Any]:
        """(status, decoded JSON or None) of a GET, reading at most MAX_BODY_BYTES."""
        headers = {}
        secret = self._secret()
        if secret:
            headers["Authorization"] = f"Bearer {secret}"
        with self._reading(what):
            async with self.http().stream("GET", path, headers=headers) as response:
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body.extend(chunk)
                    if len(body) > MAX_BODY_BYTES:
                        raise SourceProtocolError(
                            f"{self.label} {self.name!r} sent more than "
                            f"{MAX_BODY_BYTES >> 20} MB for {what}; refused.",
                            source=self.name,
                        )
                status = response.status_code
        if status in (401, 403):
            raise SourceError(
                f"{self.label} {self.name!r} rejected the API key for {what} (status {status}). "
                "Set the key it was started with (--api-key) for this endpoint.",
                status=status,
                source=self.name,
            )
        try:
            return status, decode_json(bytes(body)) if body else None
        except ReplyShapeError as exc:
            if status >= 400:
                return status, None  # an error page that is not JSON: the status says enough
            raise SourceProtocolError(
                f"{self.label} {self.name!r} sent {what} that is not JSON ({exc}).",
                source=self.name,
            ) from None

    async def health(self) -> ServerHealth:
        status, body = await self._get("/health", "its health")
        if status == 200:
            return ServerHealth(ready=True)
        detail = _error_message(body) or f"status {status}"
        if status == 503:
            return ServerHealth(ready=False, detail=detail)
        raise SourceError(
            f"{self.label} {self.name!r} answered {status} to /health: {detail}",
            status=status,
            source=self.name,
        )

    async def props(self) -> ServerProps:
        status, body = await self._get("/props", "its properties (/props)")
        if status != 200 or not isinstance(body, Mapping):
            raise SourceProtocolError(
                f"{self.label} {self.name!r} did not report its properties (/props answered "
                f"{status}: {_error_message(body) or 'no JSON object'}). Is it llama-server?",
                source=self.name,
            )
        with self._reading("its properties (/props)"):
            return ServerProps.model_validate(body)

    async def served_models(self) -> list[ServedModel]:
        status, body = await self._get("/v1/models", "its model list")
        if status != 200:
            raise SourceError(
                f"{self.label} {self.name!r} answered {status} to /v1/models: "
                f"{_error_message(body) or 'no detail'}",
                status=status,
                source=self.name,
            )
        with self._reading("its model list"):
            return _ModelList.model_validate(body).data

    async def slots(self) -> list[SlotState] | None:
        """Each slot's state; None when the server was started without `/slots`."""
        status, body = await self._get("/slots", "its slots")
        if status in (404, 501):
            return None
        if status != 200 or not isinstance(body, list):
            return None  # busy or odd: slots are a detail, not worth failing a sync for
        with self._reading("its slots"):
            return [SlotState.model_validate(item) for item in body]

    async def metrics(self) -> dict[str, float] | None:
        """Prometheus gauges and counters (`llamacpp:` prefix dropped); None when disabled."""
        with self._reading("its metrics"):
            response = await self.http().get("/metrics")
        if response.status_code != 200 or len(response.content) > MAX_BODY_BYTES:
            return None
        return parse_metrics(response.text)

    async def serves_embeddings(self, model: str) -> bool:
        """Whether `/v1/embeddings` answers: llama-server reports `--embeddings` nowhere else."""
        headers = {"Authorization": f"Bearer {self._secret() or 'not-needed'}"}
        with self._reading("an embeddings probe"):
            response = await self.http().post(
                "/v1/embeddings", json={"model": model, "input": "probe"}, headers=headers
            )
        return response.status_code == 200

    # ----- generation options ---------------------------------------------------------------
    def request_fields(self, options: Mapping[str, Any] | None) -> dict[str, Any]:
        unknown = sorted(k for k in (options or {}) if k not in ACCEPTED_OPTIONS)
        if unknown:
            raise UserInputError(
                f"{self.label} {self.name!r} does not take the option(s) {', '.join(unknown)}. "
                f"It takes: {', '.join(sorted(ACCEPTED_OPTIONS))}."
            )
        fields = request_options({k: v for k, v in (options or {}).items() if k in OPENAI_OPTIONS})
        extra = {
            LLAMACPP_OPTIONS[k]: v
            for k, v in (options or {}).items()
            if k in LLAMACPP_OPTIONS and v is not None
        }
        if extra:
            fields["extra_body"] = extra
        return fields


def server_root(url: str) -> str:
    """The server's root URL whether the user gave it with or without the `/v1` suffix."""
    root = url.strip().rstrip("/")
    return root[: -len("/v1")] if root.endswith("/v1") else root


def _error_message(body: Any) -> str:
    if isinstance(body, Mapping):
        error = body.get("error")
        message = error.get("message") if isinstance(error, Mapping) else None
        if isinstance(message, str):
            return message[:300]
        if isinstance(error, str):
            return error[:300]
    return ""


def parse_metrics(text: str) -> dict[str, float]:
    """`name value` lines of Prometheus text; comments, labels and odd lines are skipped."""
    out: dict[str, float] = {}
    for line in text.splitlines():
        if not line or line.startswith("#") or "{" in line:
            continue
        name, _, value = line.partition(" ")
        try:
            number = float(value.strip())
        except ValueError:
            continue
        out[name.removeprefix("llamacpp:")] = number
    return out

"""The Ollama adapter: the official `ollama` AsyncClient behind one class that speaks domain types.

Never leaks raw JSON or client exceptions upward; every failure becomes a desktop_registry error.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import ollama
import pydantic

from desktop_registry.domain import ModelRecord
from desktop_registry.domain.chat import ChatChunk, ChatMessage, ChatUsage, ToolCall
from desktop_registry.domain.local import (
    LoadedModel,
    LocalModelSummary,
    PullProgress,
    ServerInfo,
)
from desktop_registry.errors import (
    NotFoundError,
    RegistryError,
    SourceError,
    SourceProtocolError,
    SourceUnreachableError,
    StreamInterruptedError,
    UserInputError,
)
from desktop_registry.sources.ollama_records import (
    as_int,
    details_from_show,
    parse_modelfile_parameters,
    parse_time,
    record_from_show,
    summary_from_tag,
)

__all__ = [
    "OllamaSource",
    "details_from_show",
    "parse_modelfile_parameters",
    "record_from_show",
    "summary_from_tag",
]

_NS = 1e-9


def _message_dict(message: ChatMessage) -> dict[str, Any]:
    data: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.images:
        data["images"] = list(message.images)
    if message.thinking:
        data["thinking"] = message.thinking
    if message.tool_calls:
        data["tool_calls"] = [
            {"function": {"name": c.name, "arguments": c.arguments}} for c in message.tool_calls
        ]
    return data


def ollama_format(response_format: Mapping[str, Any] | None) -> str | dict[str, Any] | None:
    """OpenAI's `response_format` as Ollama's chat `format`: the JSON schema itself, or "json"."""
    kind = (response_format or {}).get("type")
    if kind == "json_schema":
        spec = (response_format or {}).get("json_schema")
        schema = spec.get("schema") if isinstance(spec, Mapping) else None
        return dict(schema) if isinstance(schema, Mapping) else "json"
    if kind == "json_object":
        return "json"
    return None


def _tool_calls(raw: Sequence[Any] | None) -> list[ToolCall]:
    calls = []
    for call in raw or []:
        function = call.function if hasattr(call, "function") else call.get("function", {})
        name = function.name if hasattr(function, "name") else function.get("name", "")
        args = function.arguments if hasattr(function, "arguments") else function.get("arguments")
        calls.append(ToolCall(name=str(name), arguments=dict(args or {})))
    return calls


def _usage(final: Any, started: float, first_token_at: float | None) -> ChatUsage:
    now = time.perf_counter()
    eval_count = as_int(getattr(final, "eval_count", None))
    eval_ns = as_int(getattr(final, "eval_duration", None))
    tps = None
    if eval_count and eval_ns:
        tps = eval_count / (eval_ns * _NS)
    elif eval_count and first_token_at is not None and now > first_token_at:
        tps = eval_count / (now - first_token_at)

    def seconds(field: str) -> float | None:
        value = as_int(getattr(final, field, None))
        return value * _NS if value is not None else None

    return ChatUsage(
        prompt_tokens=as_int(getattr(final, "prompt_eval_count", None)),
        completion_tokens=eval_count,
        ttft_s=(first_token_at - started) if first_token_at is not None else None,
        wall_s=now - started,
        tokens_per_s=tps,
        total_duration_s=seconds("total_duration"),
        load_duration_s=seconds("load_duration"),
        prompt_eval_duration_s=seconds("prompt_eval_duration"),
        eval_duration_s=seconds("eval_duration"),
        done_reason=str(getattr(final, "done_reason", "") or ""),
    )


class OllamaSource:
    """One Ollama server. All methods are async and raise desktop_registry errors only."""

    name = "ollama"

    def __init__(
        self,
        base_url: str,
        *,
        timeout_s: float = 120.0,
        connect_timeout_s: float = 3.0,
        max_connections: int = 16,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._client = ollama.AsyncClient(
            host=self.base_url,
            timeout=httpx.Timeout(timeout_s, connect=connect_timeout_s),
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
        )

    async def aclose(self) -> None:
        await self._client._client.aclose()

    async def __aenter__(self) -> OllamaSource:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()

    # ----- error translation ---------------------------------------------------------
    @property
    def unreachable_message(self) -> str:
        return (
            f"Ollama is not running at {self.base_url} — start it with `ollama serve` "
            "or change the URL in Settings (or OLLAMA_HOST)."
        )

    @contextmanager
    def _errors(self, what: str, model: str = "") -> Iterator[None]:
        try:
            yield
        except RegistryError:
            raise
        except (ConnectionError, httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise SourceUnreachableError(self.unreachable_message, source=self.name) from exc
        except ollama.ResponseError as exc:
            raise self._response_error(exc, what, model) from None
        except httpx.TimeoutException as exc:
            raise SourceError(
                f"Ollama at {self.base_url} did not answer {what} in time. The model may still "
                "be loading; try again, or raise the timeout in Settings.",
                source=self.name,
            ) from exc
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
            raise StreamInterruptedError(
                f"The connection to Ollama at {self.base_url} dropped during {what}. "
                "Whatever had arrived is kept; try again.",
                source=self.name,
            ) from exc
        except (json.JSONDecodeError, pydantic.ValidationError, KeyError, TypeError) as exc:
            raise SourceProtocolError(
                f"Ollama at {self.base_url} sent a reply to {what} that is not what Ollama "
                f"sends ({type(exc).__name__}). Is something else listening on that address?",
                source=self.name,
            ) from exc

    def _response_error(self, exc: ollama.ResponseError, what: str, model: str) -> RegistryError:
        status = exc.status_code
        detail = str(exc.error).strip() or f"status {status}"
        if status == 404 and model:
            return NotFoundError(
                f"Ollama has no model {model!r} ({detail}). Pull it first: `ollama pull {model}`."
            )
        if status == 400:
            return UserInputError(f"Ollama refused {what}: {detail}")
        if status in (-1, None):
            return SourceError(
                f"Ollama reported an error during {what}: {detail}", source=self.name
            )
        return SourceError(
            f"Ollama at {self.base_url} answered {status} to {what}: {detail}",
            status=status,
            source=self.name,
        )

    async def _json(self, method: str, path: str, what: str, model: str = "", **kwargs: Any) -> Any:
        with self._errors(what, model):
            response = await self._client._request_raw(method, path, **kwargs)  # type: ignore[no-untyped-call]
            return response.json()

    # ----- listing and inspecting ------------------------------------------------------
    async def version(self) -> ServerInfo:
        body = await self._json("GET", "/api/version", "a version check")
        return ServerInfo(url=self.base_url, version=str(body.get("version", "")))

    async def list_models(self) -> list[LocalModelSummary]:
        body = await self._json("GET", "/api/tags", "listing models")
        if not isinstance(body, dict) or not isinstance(body.get("models"), list):
            raise SourceProtocolError(
                f"Ollama at {self.base_url} sent a model list without `models`.", source=self.name
            )
        return [summary_from_tag(entry) for entry in body["models"]]

    async def show_raw(self, name: str) -> dict[str, Any]:
        body = await self._json(
            "POST", "/api/show", f"describing {name}", name, json={"model": name}
        )
        if not isinstance(body, dict):
            raise SourceProtocolError(
                f"Ollama described {name} with something other than an object."
            )
        return body

    async def describe(self, summary: LocalModelSummary) -> ModelRecord:
        """The full registry record for a listed model (one /api/show call)."""
        return record_from_show(summary, await self.show_raw(summary.name), self.base_url)

    async def loaded_models(self) -> list[LoadedModel]:
        body = await self._json("GET", "/api/ps", "listing loaded models")
        return [
            LoadedModel(
                name=str(m.get("name") or m.get("model")),
                digest=str(m.get("digest") or ""),
                size_bytes=as_int(m.get("size")) or 0,
                size_vram=as_int(m.get("size_vram")) or 0,
                expires_at=parse_time(m.get("expires_at")),
                context_length=as_int(m.get("context_length")),
            )
            for m in body.get("models") or []
        ]

    # ----- inference ---------------------------------------------------------------------
    async def chat(
        self,
        model: str,
        messages: Sequence[ChatMessage],
        *,
        options: Mapping[str, Any] | None = None,
        think: bool | None = None,
        tools: Sequence[Mapping[str, Any]] | None = None,
        format: str | Mapping[str, Any] | None = None,
        keep_alive: str | float | None = None,
        response_format: Mapping[str, Any] | None = None,
    ) -> AsyncIterator[ChatChunk]:
        """Stream a chat reply; the last chunk has done=True and usage figures.

        `format` is Ollama's own; `response_format` (OpenAI's shape, as the serving layer
        speaks it) is translated to it when `format` is not given.
        """
        if format is None:
            format = ollama_format(response_format)
        started = time.perf_counter()
        first_token_at: float | None = None
        what = f"a chat with {model}"
        with self._errors(what, model):
            request: dict[str, Any] = {
                "model": model,
                "messages": [_message_dict(m) for m in messages],
                "options": dict(options) if options else None,
                "think": think,
                "tools": list(tools) if tools else None,
                "format": format,
                "keep_alive": keep_alive,
            }
            stream = await self._client.chat(**request, stream=True)
        got_done = False
        with self._errors(what, model):
            async for part in stream:
                message = part.message
                content = message.content or ""
                thinking = message.thinking or ""
                calls = _tool_calls(message.tool_calls)
                if first_token_at is None and (content or thinking or calls):
                    first_token_at = time.perf_counter()
                if part.done:
                    got_done = True
                    yield ChatChunk(
                        content=content,
                        thinking=thinking,
                        tool_calls=calls,
                        done=True,
                        usage=_usage(part, started, first_token_at),
                    )
                else:
                    yield ChatChunk(content=content, thinking=thinking, tool_calls=calls)
        if not got_done:
            raise StreamInterruptedError(
                f"Ollama stopped replying before {model} finished. The partial reply is kept.",
                source=self.name,
            )

    async def generate(
        self,
        model: str,
        prompt: str,
        *,
        system: str | None = None,
        options: Mapping[str, Any] | None = None,
        images: Sequence[str] | None = None,
        keep_alive: str | float | None = None,
    ) -> AsyncIterator[ChatChunk]:
        started = time.perf_counter()
        first_token_at: float | None = None
        what = f"generating with {model}"
        with self._errors(what, model):
            request: dict[str, Any] = {
                "model": model,
                "prompt": prompt,
                "options": dict(options) if options else None,
                "images": list(images) if images else None,
                "keep_alive": keep_alive,
            }
            if system is not None:
                request["system"] = system
            stream = await self._client.generate(**request, stream=True)
        got_done = False
        with self._errors(what, model):
            async for part in stream:
                text = part.response or ""
                thinking = part.thinking or ""
                if first_token_at is None and (text or thinking):
                    first_token_at = time.perf_counter()
                usage = _usage(part, started, first_token_at) if part.done else None
                got_done = got_done or bool(part.done)
                yield ChatChunk(content=text, thinking=thinking, done=bool(part.done), usage=usage)
        if not got_done:
            raise StreamInterruptedError(
                f"Ollama stopped generating before {model} finished. The partial text is kept.",
                source=self.name,
            )

    async def embed(
        self, model: str, inputs: str | Sequence[str], *, dimensions: int | None = None
    ) -> list[list[float]]:
        with self._errors(f"embedding with {model}", model):
            response = await self._client.embed(
                model=model,
                input=inputs if isinstance(inputs, str) else list(inputs),
                dimensions=dimensions,
            )
            return [list(map(float, v)) for v in response.embeddings]

    async def unload(self, model: str) -> None:
        """Free the model's memory now (keep_alive 0), as `ollama stop` does."""
        await self._json(
            "POST",
            "/api/generate",
            f"unloading {model}",
            model,
            json={"model": model, "keep_alive": 0, "stream": False},
        )

    # ----- managing models -----------------------------------------------------------------
    async def pull(self, name: str) -> AsyncIterator[PullProgress]:
        """Stream pull progress; Ollama resumes a partial download when pulled again."""
        with self._errors(f"pulling {name}", name):
            stream = await self._client.pull(name, stream=True)
        finished = False
        with self._errors(f"pulling {name}", name):
            async for part in stream:
                progress = PullProgress(
                    status=str(part.status or ""),
                    digest=str(part.digest or ""),
                    total=part.total,
                    completed=part.completed,
                )
                finished = finished or progress.status == "success"
                yield progress
        if not finished:
            raise StreamInterruptedError(
                f"The pull of {name} stopped before it finished. Pull again to resume.",
                source=self.name,
            )

    async def create(
        self,
        name: str,
        *,
        from_: str,
        system: str | None = None,
        template: str | None = None,
        parameters: Mapping[str, Any] | None = None,
        messages: Sequence[ChatMessage] | None = None,
        adapters: Mapping[str, str] | None = None,
        license: str | None = None,
    ) -> list[str]:
        """Create a model the new-style way (from + overrides); returns the status lines."""
        statuses: list[str] = []
        with self._errors(f"creating {name}", from_):
            stream = await self._client.create(
                model=name,
                from_=from_,
                system=system,
                template=template,
                parameters=dict(parameters) if parameters else None,
                messages=[_message_dict(m) for m in messages] if messages else None,
                adapters=dict(adapters) if adapters else None,
                license=license,
                stream=True,
            )
            async for part in stream:
                statuses.append(str(part.status or ""))
        if not statuses or statuses[-1] != "success":
            raise StreamInterruptedError(
                f"Creating {name} stopped before Ollama reported success.", source=self.name
            )
        return statuses

    async def blob_exists(self, digest: str) -> bool:
        with self._errors("checking a blob"):
            response = await self._client._client.head(f"/api/blobs/{digest}")
        if response.status_code == 200:
            return True
        if response.status_code == 404:
            return False
        raise SourceError(
            f"Ollama answered {response.status_code} to a blob check.", source=self.name
        )

    async def upload_blob(self, path: Path) -> str:
        """Upload a file (e.g. a LoRA adapter) unless Ollama already has it; returns its digest.

        The file is hashed and read in a worker thread: an adapter of hundreds of MB must not
        stall the window's event loop."""
        try:
            digest, size = await asyncio.to_thread(_file_digest, path)
        except OSError as exc:
            raise UserInputError(
                f"Cannot read {path}: {exc.strerror or exc}. Check the file exists and is readable."
            ) from exc
        if await self.blob_exists(digest):
            return digest
        with self._errors(f"uploading {path.name}"):
            response = await self._client._client.post(
                f"/api/blobs/{digest}",
                content=_file_chunks(path),
                headers={"Content-Length": str(size)},  # streamed, not chunked
            )
        if response.status_code not in (200, 201):
            raise SourceError(
                f"Ollama answered {response.status_code} to the upload of {path.name}.",
                source=self.name,
            )
        return digest

    async def copy(self, source: str, destination: str) -> None:
        with self._errors(f"copying {source}", source):
            await self._client.copy(source, destination)

    async def delete(self, name: str) -> None:
        with self._errors(f"deleting {name}", name):
            await self._client.delete(name)


def _file_digest(path: Path) -> tuple[str, int]:
    sha = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            sha.update(block)
            size += len(block)
    return f"sha256:{sha.hexdigest()}", size


async def _file_chunks(path: Path, size: int = 1 << 20) -> AsyncIterator[bytes]:
    """The file's bytes, each block read in a worker thread."""
    handle = await asyncio.to_thread(path.open, "rb")
    try:
        while block := await asyncio.to_thread(handle.read, size):
            yield block
    finally:
        handle.close()

"""The Ollama adapter: the official `ollama` AsyncClient behind one class that speaks domain types.

Never leaks raw JSON or client exceptions upward; every failure becomes a desktop_registry error.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from ollama._client import _copy_images, _copy_messages, _copy_tools
from ollama._types import ChatRequest, CreateRequest, EmbedRequest, GenerateRequest, PullRequest

from desktop_registry.domain import ModelRecord
from desktop_registry.domain.chat import ChatChunk, ChatMessage
from desktop_registry.domain.local import (
    LoadedModel,
    LocalModelSummary,
    PullProgress,
    ServerInfo,
)
from desktop_registry.errors import (
    SourceError,
    SourceProtocolError,
    StreamInterruptedError,
    UserInputError,
)
from desktop_registry.sources.ollama_http import OllamaHttp
from desktop_registry.sources.ollama_json import (
    document,
    entries,
    int_field,
    obj,
    text_field,
)
from desktop_registry.sources.ollama_records import (
    ModelListing,
    details_from_show,
    listing_from_tags,
    parse_modelfile_parameters,
    parse_time,
    record_from_show,
    summary_from_tag,
)
from desktop_registry.sources.ollama_replies import (
    chat_part,
    create_status,
    embeddings,
    generate_part,
    pull_progress,
    usage,
)

__all__ = [
    "OllamaSource",
    "details_from_show",
    "parse_modelfile_parameters",
    "record_from_show",
    "summary_from_tag",
]


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


class OllamaSource:
    """One Ollama server. All methods are async and raise desktop_registry errors only.

    Every request goes through OllamaHttp, which reads the bytes itself: no reply, however
    hostile, reaches the official client's parsing (which trusts the server)."""

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
        self.http = OllamaHttp(
            self.base_url,
            timeout_s=timeout_s,
            connect_timeout_s=connect_timeout_s,
            max_connections=max_connections,
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    async def __aenter__(self) -> OllamaSource:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()

    @property
    def unreachable_message(self) -> str:
        return self.http.unreachable_message

    # ----- listing and inspecting ------------------------------------------------------
    async def version(self) -> ServerInfo:
        what = "a version check"
        body = await self.http.json("GET", "/api/version", what)
        with self.http.errors(what):
            return ServerInfo(
                url=self.base_url, version=text_field(obj(body, "the reply"), "version")
            )

    async def listing(self) -> ModelListing:
        """/api/tags as read: the entries that could be read and, for each one that could not,
        what was wrong (a reply that is not a model list at all raises)."""
        what = "listing models"
        body = await self.http.json("GET", "/api/tags", what)
        with self.http.errors(what):
            listing = listing_from_tags(body)
        problems = [
            dataclasses.replace(p, problem=self.http.not_ollama(what, p.problem))
            for p in listing.problems
        ]
        return ModelListing(models=listing.models, problems=problems)

    async def list_models(self) -> list[LocalModelSummary]:
        """The readable entries of /api/tags; an unreadable entry raises (see `listing`)."""
        listing = await self.listing()
        if listing.problems:
            raise SourceProtocolError(listing.problems[0].problem, source=self.name)
        return listing.models

    async def show_raw(self, name: str) -> dict[str, Any]:
        what = f"describing {name}"
        body = await self.http.json("POST", "/api/show", what, name, json={"model": name})
        with self.http.errors(what, name):
            return dict(document(body, "the description"))

    async def describe(self, summary: LocalModelSummary) -> ModelRecord:
        """The full registry record for a listed model (one /api/show call)."""
        show = await self.show_raw(summary.name)
        with self.http.errors(f"describing {summary.name}", summary.name):
            return record_from_show(summary, show, self.base_url)

    async def loaded_models(self) -> list[LoadedModel]:
        what = "listing loaded models"
        body = await self.http.json("GET", "/api/ps", what)
        with self.http.errors(what):
            loaded = []
            for position, m in entries(obj(body, "the reply").get("models") or [], "models"):
                m = obj(m, f"models[{position}]")
                loaded.append(
                    LoadedModel(
                        name=text_field(m, "name") or text_field(m, "model"),
                        digest=text_field(m, "digest"),
                        size_bytes=int_field(m, "size") or 0,
                        size_vram=int_field(m, "size_vram") or 0,
                        expires_at=parse_time(m.get("expires_at")),
                        context_length=int_field(m, "context_length"),
                    )
                )
            return loaded

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
        with self.http.errors(what, model):
            request = ChatRequest(
                model=model,
                messages=list(_copy_messages([_message_dict(m) for m in messages])),
                tools=list(_copy_tools(list(tools) if tools else None)),
                stream=True,
                think=think,
                format=format,
                options=dict(options) if options else None,
                keep_alive=keep_alive,
            ).model_dump(exclude_none=True)
        got_done = False
        async for value in self.http.lines("/api/chat", request, what, model):
            with self.http.errors(what, model):
                part = chat_part(value)
            if first_token_at is None and part.has_output:
                first_token_at = time.perf_counter()
            got_done = got_done or part.done
            yield ChatChunk(
                content=part.content,
                thinking=part.thinking,
                tool_calls=part.tool_calls,
                done=part.done,
                usage=usage(part, started, first_token_at) if part.done else None,
            )
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
        with self.http.errors(what, model):
            request = GenerateRequest(
                model=model,
                prompt=prompt,
                system=system,
                stream=True,
                options=dict(options) if options else None,
                images=list(_copy_images(images)) if images else None,
                keep_alive=keep_alive,
            ).model_dump(exclude_none=True)
        got_done = False
        async for value in self.http.lines("/api/generate", request, what, model):
            with self.http.errors(what, model):
                part = generate_part(value)
            if first_token_at is None and part.has_output:
                first_token_at = time.perf_counter()
            got_done = got_done or part.done
            yield ChatChunk(
                content=part.content,
                thinking=part.thinking,
                done=part.done,
                usage=usage(part, started, first_token_at) if part.done else None,
            )
        if not got_done:
            raise StreamInterruptedError(
                f"Ollama stopped generating before {model} finished. The partial text is kept.",
                source=self.name,
            )

    async def embed(
        self, model: str, inputs: str | Sequence[str], *, dimensions: int | None = None
    ) -> list[list[float]]:
        what = f"embedding with {model}"
        with self.http.errors(what, model):
            request = EmbedRequest(
                model=model,
                input=inputs if isinstance(inputs, str) else list(inputs),
                dimensions=dimensions,
            ).model_dump(exclude_none=True)
        body = await self.http.json("POST", "/api/embed", what, model, json=request)
        with self.http.errors(what, model):
            return embeddings(body)

    async def unload(self, model: str) -> None:
        """Free the model's memory now (keep_alive 0), as `ollama stop` does."""
        await self.http.body(
            "POST",
            "/api/generate",
            f"unloading {model}",
            model,
            json={"model": model, "keep_alive": 0, "stream": False},
        )

    # ----- managing models -----------------------------------------------------------------
    async def pull(self, name: str) -> AsyncIterator[PullProgress]:
        """Stream pull progress; Ollama resumes a partial download when pulled again."""
        what = f"pulling {name}"
        with self.http.errors(what, name):
            request = PullRequest(model=name, insecure=False, stream=True).model_dump(
                exclude_none=True
            )
        finished = False
        async for value in self.http.lines("/api/pull", request, what, name):
            with self.http.errors(what, name):
                progress = pull_progress(value)
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
        what = f"creating {name}"
        with self.http.errors(what, from_):
            request = CreateRequest(
                model=name,
                from_=from_,
                system=system,
                template=template,
                parameters=dict(parameters) if parameters else None,
                messages=[_message_dict(m) for m in messages] if messages else None,
                adapters=dict(adapters) if adapters else None,
                license=license,
                stream=True,
            ).model_dump(exclude_none=True)
        async for value in self.http.lines("/api/create", request, what, from_):
            with self.http.errors(what, from_):
                statuses.append(create_status(value))
        if not statuses or statuses[-1] != "success":
            raise StreamInterruptedError(
                f"Creating {name} stopped before Ollama reported success.", source=self.name
            )
        return statuses

    async def blob_exists(self, digest: str) -> bool:
        with self.http.errors("checking a blob"):
            response = await self.http.client.head(f"/api/blobs/{digest}")
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
        with self.http.errors(f"uploading {path.name}"):
            response = await self.http.client.post(
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
        await self.http.body(
            "POST",
            "/api/copy",
            f"copying {source}",
            source,
            json={"source": source, "destination": destination},
        )

    async def delete(self, name: str) -> None:
        await self.http.body(
            "DELETE", "/api/delete", f"deleting {name}", name, json={"model": name}
        )


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

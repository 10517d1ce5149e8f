"""A faithful GitHub Models server (models.github.ai) for tests and benchmarks (test code).

It listens on 127.0.0.1 with real sockets (``http.server.ThreadingHTTPServer``, HTTP/1.1
keep-alive, chunked SSE streams) and answers the way the real service does, as far as the
artefacts in ``../shared/protocols/github-models-fixtures/`` show it: field names, status codes,
error bodies and rate-limit headers follow those fixtures.

Usage::

    with GitHubModelsEmulator(tiers={"high": TierLimit(3, 50, 2)}, window_s=1.0) as emu:
        client = openai.OpenAI(base_url=emu.inference_url, api_key=emu.token, max_retries=0)
        client.chat.completions.create(model="openai/gpt-4.1", messages=[...])
        emu.fail_next.append((503, {"error": {"code": "ServiceUnavailable", ...}}, {}))
        assert emu.count("/inference/chat/completions", "POST") == 1

Routes (GitHub Models mode, the default):

* ``GET /catalog/models`` -- bare JSON array, no token needed.
* ``POST /inference/chat/completions`` and ``/orgs/{org}/inference/chat/completions`` --
  OpenAI chat-completions; ``stream: true`` answers SSE (``data: {...}`` blocks, then
  ``data: [DONE]``) with ``Transfer-Encoding: chunked``.
* ``POST /inference/embeddings`` and ``/orgs/{org}/inference/embeddings``.

With ``openai_compatible=True`` it is a generic OpenAI-compatible server instead:
``GET /v1/models`` (and ``/v1/models/{id}``), ``POST /v1/chat/completions``,
``POST /v1/embeddings``; the GitHub routes answer 404 there.

Behaviour worth knowing (from the fixtures, or marked *assumed* where no real artefact exists):

* Auth: ``Authorization: Bearer <token>``; missing/wrong → 401 with error_401.json's body.
* Unknown model → 404 ``unknown_model`` naming the id as sent; ids match case-insensitively.
  ``callable=False`` → 400 ``{"error":{"code":"unavailable_model","message":"Unavailable
  model: <name>"}}`` (no ``details``, as in the fixture; ``<name>`` is the id's tail).
* Input over the tier's tokens-per-request (estimate: characters // 4) → 413
  ``tokens_limit_reached`` "Request body too large for <name> model. Max size: N tokens.".
* Rate limits per model id, per tier: a sliding window of ``window_s`` seconds ("per
  minute"), a sliding day of ``day_s`` seconds (86400 unless given) and concurrent requests.
  Over → 429 ``RateLimitReached`` "Rate limit of N per Ws exceeded for UserByModelByMinute|
  UserByModelByDay|UserConcurrentRequests. Please wait S seconds before retrying." with
  headers ``Retry-After``, ``x-ms-error-code``, ``x-ratelimit-timeremaining``,
  ``x-ratelimit-type`` (names from error_429*.headers), plus ``x-ratelimit-limit-requests`` /
  ``x-ratelimit-remaining-requests`` / ``x-ratelimit-reset-requests`` (*assumed*, Azure style),
  which every served inference response carries too. Rejected requests do not count.
* OpenAI models (registry ``azure-openai``) answer Azure-OpenAI bodies: ``chatcmpl-`` ids,
  ``content_filter_results`` / ``prompt_filter_results``, ``system_fingerprint``, and streams
  open with an empty chunk (``choices: []``, empty id/model/object) when
  ``empty_first_chunk`` is on. Other publishers answer the plainer DeepSeek-style body (hex
  id, ``tool_calls: null``, ``prompt_tokens_details: null``). ``model`` in responses is the
  upstream name (``gpt-4.1-2025-04-14``, ``DeepSeek-V3-0324``), never the catalog id.
  Embeddings echo the requested id as ``model``, as the documented example does.
* Tool calls: when the request has ``tools``, the model has the ``tool-calling`` capability
  and the last user message mentions "weather", the answer is a call of the first tool.
* ``response_format``: ``json_schema`` answers JSON filled in from ``json_schema.schema``
  (enum → its first value), ``json_object`` answers ``{"response": <reply>}``. Every request,
  body included, is kept in ``requests`` for tests to inspect.
* Chat to an embeddings model, or embeddings from a chat model → 400 (*assumed* body).

Fault switches (change them while running): ``latency_s``, ``chunk_delay_s``, ``fail_next``,
``disconnect_after_chunks`` (streams only: the socket closes after N SSE events, with no
terminating chunk), ``malformed_sse``, ``empty_first_chunk``, and ``raw_replies`` (path ->
``RawReply``: any bytes, status, headers and pacing, for hostile-server tests).
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import hashlib
import json
import math
import re
import socket
import socketserver
import struct
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from email.utils import formatdate
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

__all__ = [
    "CATALOG_KEYS",
    "FREE_PLAN_TIERS",
    "CatalogEntry",
    "GitHubModelsEmulator",
    "RawReply",
    "RecordedRequest",
    "TierLimit",
    "estimate_tokens",
    "standard_catalog",
]

DEFAULT_TOKEN = "ghp_test_token"
DEFAULT_REPLY = "Hello from the cloud."
DAY_S = 86400.0

# Key order of the documented catalog entry (github/docs REST reference).
CATALOG_KEYS = (
    "id",
    "name",
    "publisher",
    "registry",
    "summary",
    "html_url",
    "version",
    "capabilities",
    "limits",
    "rate_limit_tier",
    "supported_input_modalities",
    "supported_output_modalities",
    "tags",
)

_DATE_VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_INFERENCE = re.compile(
    r"^(?:/orgs/(?P<org>[^/]+))?/inference/(?P<op>chat/completions|embeddings)$"
)


# --------------------------------------------------------------------------- data


@dataclass
class CatalogEntry:
    """One model of the catalog. ``reply`` and below are emulator knobs, not catalog fields."""

    id: str  # "openai/gpt-4.1"
    name: str  # "OpenAI GPT-4.1"
    publisher: str  # "OpenAI"
    summary: str = ""
    version: str = "1"
    registry: str = "azure-openai"
    html_url: str = ""
    rate_limit_tier: str = "high"  # low | high | embeddings | custom
    supported_input_modalities: list[str] = field(default_factory=lambda: ["text"])
    supported_output_modalities: list[str] = field(default_factory=lambda: ["text"])
    tags: list[str] = field(default_factory=list)
    capabilities: list[str] = field(default_factory=list)  # "streaming", "tool-calling", ...
    limits: dict[str, Any] = field(
        default_factory=lambda: {"max_input_tokens": 1048576, "max_output_tokens": 32768}
    )
    reply: str = DEFAULT_REPLY  # what chat answers (streamed in pieces)
    callable: bool = True  # False: listed, but inference answers 400 unavailable_model
    embedding_dim: int = 256
    # -- additions beyond the catalog fields
    upstream_model: str = ""  # `model` in responses; "" = derived (see `served_model`)
    thinking: str = ""  # reasoning text sent inline as "<think>...</think>" before the reply

    @property
    def short_name(self) -> str:
        """The id's tail ("gpt-4.1"), as GitHub names a model in error messages."""
        return self.id.split("/", 1)[-1]

    @property
    def is_azure_openai(self) -> bool:
        return self.registry == "azure-openai"

    @property
    def is_embeddings(self) -> bool:
        return "embeddings" in self.supported_output_modalities

    @property
    def served_model(self) -> str:
        """`model` in responses: "gpt-4.1-2025-04-14" for OpenAI models, the tail otherwise."""
        if self.upstream_model:
            return self.upstream_model
        if self.is_azure_openai and not self.is_embeddings and _DATE_VERSION.match(self.version):
            return f"{self.short_name}-{self.version}"
        return self.short_name

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "publisher": self.publisher,
            "registry": self.registry,
            "summary": self.summary,
            "html_url": self.html_url,
            "version": self.version,
            "capabilities": list(self.capabilities),
            "limits": dict(self.limits),
            "rate_limit_tier": self.rate_limit_tier,
            "supported_input_modalities": list(self.supported_input_modalities),
            "supported_output_modalities": list(self.supported_output_modalities),
            "tags": list(self.tags),
        }


@dataclass
class TierLimit:
    requests_per_minute: int
    requests_per_day: int
    concurrent: int
    max_input_tokens: int = 8000
    max_output_tokens: int = 4000


# Free plan (docs "Prototyping with AI models"): low allows more than high.
FREE_PLAN_TIERS: dict[str, TierLimit] = {
    "low": TierLimit(15, 150, 5, 8000, 4000),
    "high": TierLimit(10, 50, 2, 8000, 4000),
    "embeddings": TierLimit(15, 150, 5, 64000, 4000),
    "custom": TierLimit(1, 8, 1, 4000, 4000),
}


@dataclass(frozen=True)
class RawReply:
    """A fault switch: what a route answers instead of its real reply (see ``raw_replies``).

    Serves what GitHub Models or an OpenAI-compatible server should never send: invalid UTF-8,
    deep nesting, the wrong JSON types, cut SSE lines, a huge or stalling body, a 429 storm."""

    body: bytes
    status: int = 200
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()
    chunked: bool = False  # Transfer-Encoding: chunked, as SSE streams arrive
    first_byte_s: float = 0.0  # pause after the head, before the first body byte
    piece_bytes: int = 1 << 16
    stall_after_bytes: int | None = None  # then send nothing for `stall_s`
    stall_s: float = 0.0
    times: int | None = None  # answer this many requests, then the real reply again


@dataclass
class RecordedRequest:
    method: str
    path: str  # without the query string
    body: Any  # parsed JSON, None for no body / not JSON
    headers: dict[str, str]  # names lower-cased
    query: str = ""
    raw_body: bytes = b""
    at: float = 0.0  # time.monotonic() when it arrived
    status: int | None = None  # status answered (set once the head is written)


def estimate_tokens(text: str) -> int:
    """The emulator's token estimate: characters // 4."""
    return len(text) // 4


def _gh(registry: str, name: str) -> str:
    return f"https://github.com/marketplace/models/{registry}/{name}"


def standard_catalog() -> list[CatalogEntry]:
    """Real-shaped entries. gpt-4.1 and gpt-4.1-mini are the catalog fixture's entries; the
    others follow the same shape with values taken from GitHub's marketplace pages."""
    return [
        CatalogEntry(
            id="openai/gpt-4.1",
            name="OpenAI GPT-4.1",
            publisher="OpenAI",
            registry="azure-openai",
            summary=(
                "gpt-4.1 outperforms gpt-4o across the board, with major gains in coding, "
                "instruction following, and long-context understanding"
            ),
            html_url=_gh("azure-openai", "gpt-4-1"),
            version="2025-04-14",
            capabilities=["streaming", "tool-calling"],
            limits={"max_input_tokens": 1048576, "max_output_tokens": 32768},
            rate_limit_tier="high",
            supported_input_modalities=["text", "image", "audio"],
            supported_output_modalities=["text"],
            tags=["multipurpose", "multilingual", "multimodal"],
        ),
        CatalogEntry(
            id="openai/gpt-4.1-mini",
            name="OpenAI GPT-4.1-mini",
            publisher="OpenAI",
            registry="azure-openai",
            summary=(
                "gpt-4.1-mini outperform gpt-4o-mini across the board, with major gains in "
                "instruction following, coding, and long-context handling"
            ),
            html_url=_gh("azure-openai", "gpt-4-1-mini"),
            version="2025-04-14",
            capabilities=["agents", "streaming", "tool-calling", "agentsV2"],
            limits={"max_input_tokens": 1048576, "max_output_tokens": 32768},
            rate_limit_tier="low",
            supported_input_modalities=["text", "image"],
            supported_output_modalities=["text"],
            tags=["multipurpose", "multilingual", "multimodal"],
        ),
        CatalogEntry(
            id="openai/gpt-4o-mini",
            name="OpenAI GPT-4o mini",
            publisher="OpenAI",
            registry="azure-openai",
            summary="An affordable, efficient AI solution for diverse text and image tasks.",
            html_url=_gh("azure-openai", "gpt-4o-mini"),
            version="2024-07-18",
            capabilities=["agents", "assistants", "streaming", "tool-calling"],
            limits={"max_input_tokens": 131072, "max_output_tokens": 4096},
            rate_limit_tier="low",
            supported_input_modalities=["text", "image"],
            supported_output_modalities=["text"],
            tags=["multipurpose", "multilingual", "multimodal"],
        ),
        CatalogEntry(
            id="openai/text-embedding-3-small",
            name="OpenAI Text Embedding 3 (small)",
            publisher="OpenAI",
            registry="azure-openai",
            summary=(
                "Text-embedding-3 series models are the latest and most capable embedding "
                "model from OpenAI."
            ),
            html_url=_gh("azure-openai", "text-embedding-3-small"),
            version="1",
            capabilities=[],
            limits={"max_input_tokens": 8191, "max_output_tokens": None},
            rate_limit_tier="embeddings",
            supported_input_modalities=["text"],
            supported_output_modalities=["embeddings"],
            tags=["rag", "multilingual"],
            embedding_dim=1536,
        ),
        CatalogEntry(
            id="meta/Llama-3.3-70B-Instruct",
            name="Llama-3.3-70B-Instruct",
            publisher="Meta",
            registry="azureml-meta",
            summary=(
                "Llama 3.3 70B Instruct offers enhanced reasoning, math, and instruction "
                "following with performance comparable to Llama 3.1 405B."
            ),
            html_url=_gh("azureml-meta", "Llama-3-3-70B-Instruct"),
            version="5",
            capabilities=["streaming"],
            limits={"max_input_tokens": 128000, "max_output_tokens": 4096},
            rate_limit_tier="high",
            supported_input_modalities=["text"],
            supported_output_modalities=["text"],
            tags=["conversation"],
        ),
        CatalogEntry(
            id="deepseek/DeepSeek-R1",
            name="DeepSeek-R1",
            publisher="DeepSeek",
            registry="azureml-deepseek",
            summary=(
                "DeepSeek-R1 excels at reasoning tasks using a step-by-step training process, "
                "such as language, scientific reasoning, and coding tasks."
            ),
            html_url=_gh("azureml-deepseek", "DeepSeek-R1"),
            version="1",
            capabilities=["streaming"],
            limits={"max_input_tokens": 128000, "max_output_tokens": 4096},
            rate_limit_tier="custom",
            supported_input_modalities=["text"],
            supported_output_modalities=["text"],
            tags=["reasoning", "coding"],
        ),
        CatalogEntry(
            id="deepseek/DeepSeek-V3-0324",
            name="DeepSeek-V3-0324",
            publisher="DeepSeek",
            registry="azureml-deepseek",
            summary=(
                "DeepSeek-V3-0324 demonstrates notable improvements over its predecessor, "
                "DeepSeek-V3, in several key aspects, including enhanced reasoning, improved "
                "function calling, and superior code generation capabilities."
            ),
            html_url=_gh("azureml-deepseek", "DeepSeek-V3-0324"),
            version="1",
            capabilities=["streaming", "tool-calling"],
            limits={"max_input_tokens": 128000, "max_output_tokens": 4096},
            rate_limit_tier="high",
            supported_input_modalities=["text"],
            supported_output_modalities=["text"],
            tags=["coding", "multipurpose"],
        ),
        CatalogEntry(
            id="microsoft/Phi-4-multimodal-instruct",
            name="Phi-4-multimodal-instruct",
            publisher="Microsoft",
            registry="azureml",
            summary=(
                "First small multimodal model to have 3 modality inputs (text, audio, image), "
                "excelling in quality and efficiency"
            ),
            html_url=_gh("azureml", "Phi-4-multimodal-instruct"),
            version="1",
            capabilities=["streaming"],
            limits={"max_input_tokens": 131072, "max_output_tokens": 4096},
            rate_limit_tier="low",
            supported_input_modalities=["audio", "image", "text"],
            supported_output_modalities=["text"],
            tags=["multimodal", "multilingual", "low latency"],
        ),
        CatalogEntry(
            id="mistral-ai/Codestral-2501",
            name="Codestral 25.01",
            publisher="Mistral AI",
            registry="azureml-mistral",
            summary=(
                "Codestral 25.01 by Mistral AI is designed for code generation, supporting 80+ "
                "programming languages, and optimized for tasks like code completion and "
                "fill-in-the-middle"
            ),
            html_url=_gh("azureml-mistral", "Codestral-2501"),
            version="2",
            capabilities=["streaming"],
            limits={"max_input_tokens": 256000, "max_output_tokens": 4096},
            rate_limit_tier="low",
            supported_input_modalities=["text"],
            supported_output_modalities=["text"],
            tags=["coding"],
        ),
        CatalogEntry(
            id="cohere/cohere-command-a",
            name="Cohere Command A",
            publisher="Cohere",
            registry="azureml-cohere",
            summary=(
                "Command A is a highly efficient generative model that excels at agentic and "
                "multilingual use cases."
            ),
            html_url=_gh("azureml-cohere", "cohere-command-a"),
            version="1",
            capabilities=["streaming", "tool-calling"],
            limits={"max_input_tokens": 131072, "max_output_tokens": 4096},
            rate_limit_tier="low",
            supported_input_modalities=["text"],
            supported_output_modalities=["text"],
            tags=["multipurpose", "multilingual", "rag"],
        ),
        CatalogEntry(
            id="xai/grok-3",
            name="Grok 3",
            publisher="xAI",
            registry="azureml-xai",
            summary=(
                "Grok 3 is xAI's debut model, pretrained by Colossus at supermassive scale to "
                "excel in specialized domains like finance, healthcare, and the law."
            ),
            html_url=_gh("azureml-xai", "grok-3"),
            version="1",
            capabilities=["streaming", "tool-calling"],
            limits={"max_input_tokens": 131072, "max_output_tokens": 4096},
            rate_limit_tier="custom",
            supported_input_modalities=["text"],
            supported_output_modalities=["text"],
            tags=["multipurpose", "reasoning"],
        ),
    ]


# --------------------------------------------------------------------------- bodies

ERROR_401 = {
    "error": {
        "code": "unauthorized",
        "message": "The `models` permission is required to access this endpoint",
        "details": "The `models` permission is required to access this endpoint",
    }
}

_SAFE = {"filtered": False, "severity": "safe"}
_NOT_DETECTED = {"filtered": False, "detected": False}


def _prompt_filter_results() -> list[dict[str, Any]]:
    return [
        {
            "prompt_index": 0,
            "content_filter_results": {
                "hate": dict(_SAFE),
                "jailbreak": dict(_NOT_DETECTED),
                "self_harm": dict(_SAFE),
                "sexual": dict(_SAFE),
                "violence": dict(_SAFE),
            },
        }
    ]


def _content_filter_results(full: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"hate": dict(_SAFE)}
    if full:
        out["protected_material_code"] = dict(_NOT_DETECTED)
        out["protected_material_text"] = dict(_NOT_DETECTED)
    out.update({"self_harm": dict(_SAFE), "sexual": dict(_SAFE), "violence": dict(_SAFE)})
    return out


def _gh_error(code: str, message: str, details: bool = True) -> dict[str, Any]:
    err: dict[str, Any] = {"code": code, "message": message}
    if details:
        err["details"] = message
    return {"error": err}


def _oa_error(message: str, type_: str, code: str | None, param: str | None = None) -> dict:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def _message_text(messages: Any) -> str:
    """All text in a messages array (string contents and text parts), for token estimates."""
    parts: list[str] = []
    if not isinstance(messages, list):
        return ""
    for m in messages:
        if not isinstance(m, dict):
            continue
        content = m.get("content")
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):
            for p in content:
                if isinstance(p, dict) and isinstance(p.get("text"), str):
                    parts.append(p["text"])
        for call in m.get("tool_calls") or []:
            if isinstance(call, dict):
                parts.append(json.dumps(call.get("function") or {}))
    return "\n".join(parts)


def _last_user_text(messages: Any) -> str | None:
    """The text of the last message when it is the user's; None when the last is not."""
    if not isinstance(messages, list) or not messages:
        return None
    last = messages[-1]
    if not isinstance(last, dict) or last.get("role") != "user":
        return None
    return _message_text([last])


def _pieces(text: str) -> list[str]:
    """Word-ish stream pieces: "Hello from the cloud." -> ["Hello", " from", " the", ...]."""
    return re.findall(r"\s*\S+|\s+$", text) or ([text] if text else [])


def _tool_arguments(tool: dict[str, Any]) -> str:
    params = (tool.get("function") or {}).get("parameters") or {}
    props = params.get("properties") or {}
    required = params.get("required") or list(props)[:1]
    args: dict[str, Any] = {}
    for name in required:
        spec = props.get(name) or {}
        kind = spec.get("type", "string")
        if spec.get("enum"):
            args[name] = spec["enum"][0]
        elif kind in ("integer", "number"):
            args[name] = 1
        elif kind == "boolean":
            args[name] = True
        elif any(k in name.lower() for k in ("location", "city", "place")):
            args[name] = "Paris"
        else:
            args[name] = "example"
    return json.dumps(args, separators=(",", ":"))


def _schema_sample(schema: Any, key: str = "") -> Any:
    """A value that satisfies a simple JSON schema (what a model does under structured output)."""
    if not isinstance(schema, dict):
        return "example"
    if schema.get("enum"):
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        return {k: _schema_sample(v, k) for k, v in (schema.get("properties") or {}).items()}
    if kind == "array":
        return [_schema_sample(schema.get("items") or {"type": "string"}, key)]
    if kind in ("integer", "number"):
        return 1
    if kind == "boolean":
        return True
    return "Paris" if any(k in key.lower() for k in ("location", "city", "place")) else "example"


def _formatted_reply(response_format: Any, reply: str) -> str:
    """The reply under `response_format`: JSON matching `json_schema.schema`, or a JSON object."""
    if not isinstance(response_format, dict):
        return reply
    if response_format.get("type") == "json_schema":
        spec = response_format.get("json_schema") or {}
        return json.dumps(_schema_sample(spec.get("schema") if isinstance(spec, dict) else None))
    if response_format.get("type") == "json_object":
        return json.dumps({"response": reply})
    return reply


def _embedding(text: str, dim: int) -> list[float]:
    """Deterministic unit vector from sha256 of the text."""
    seed = hashlib.sha256(text.encode()).digest()
    values: list[float] = []
    counter = 0
    while len(values) < dim:
        block = hashlib.sha256(seed + counter.to_bytes(4, "little")).digest()
        for (n,) in struct.iter_unpack("<I", block):
            values.append(n / 2147483647.5 - 1.0)
        counter += 1
    values = values[:dim]
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    return [round(v / norm, 9) for v in values]


def _new_chat_id(entry: CatalogEntry) -> str:
    if entry.is_azure_openai:
        return "chatcmpl-" + uuid.uuid4().hex[:29]
    return uuid.uuid4().hex


def _fingerprint(entry: CatalogEntry) -> str:
    return "fp_" + hashlib.sha256(entry.id.encode()).hexdigest()[:10]


class _Abort(Exception):
    """Stop answering: the handler already wrote what it could (or the client went away)."""


# --------------------------------------------------------------------------- server


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256
    emulator: GitHubModelsEmulator

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Keep quiet (no traceback on stderr); keep anything but a dropped connection."""
        exc = sys.exc_info()[1]
        if exc is not None and not isinstance(exc, OSError):
            self.emulator._server_error(exc)

    def server_bind(self) -> None:  # skip HTTPServer's reverse DNS lookup (getfqdn)
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def setup(self) -> None:
        super().setup()
        self.server.emulator._connection_opened(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.emulator._connection_closed(self.connection)

    def do_GET(self) -> None:
        self.server.emulator._handle(self, "GET")

    def do_POST(self) -> None:
        self.server.emulator._handle(self, "POST")

    def do_PUT(self) -> None:
        self.server.emulator._handle(self, "PUT")

    def do_DELETE(self) -> None:
        self.server.emulator._handle(self, "DELETE")

    def do_PATCH(self) -> None:
        self.server.emulator._handle(self, "PATCH")

    def do_HEAD(self) -> None:
        self.server.emulator._handle(self, "HEAD")

    # -- I/O helpers

    record: RecordedRequest | None = None

    def read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            parts = []
            while True:
                line = self.rfile.readline(65537)
                if not line:
                    break
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                parts.append(self.rfile.read(size))
                self.rfile.readline(65537)
            return b"".join(parts)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _head(self, status: int, headers: list[tuple[str, str]]) -> bytes:
        if self.record is not None:
            self.record.status = status
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = "Unknown"
        lines = [f"HTTP/1.1 {status} {reason}", f"Date: {formatdate(usegmt=True)}"]
        lines += [f"{k}: {v}" for k, v in headers]
        if self.close_connection:
            lines.append("Connection: close")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def send_raw(
        self,
        status: int,
        body: bytes,
        content_type: str | None,
        headers: Iterable[tuple[str, str]] = (),
    ) -> None:
        head = [("Content-Type", content_type)] if content_type else []
        head += list(headers)
        head.append(("Content-Length", str(len(body))))
        data = self._head(status, head)
        if self.command != "HEAD":
            data += body
        self._write(data)

    def send_json(self, status: int, obj: Any, headers: Iterable[tuple[str, str]] = ()) -> None:
        self.send_raw(status, _dumps(obj), "application/json", headers)

    def _write(self, data: bytes) -> bool:
        try:
            self.wfile.write(data)
            self.wfile.flush()
            return True
        except OSError:
            self.close_connection = True
            return False

    def start_chunked(self, content_type: str, headers: Iterable[tuple[str, str]]) -> bool:
        head = [("Content-Type", content_type), *headers, ("Transfer-Encoding", "chunked")]
        return self._write(self._head(200, head))

    @staticmethod
    def frame(data: bytes) -> bytes:
        return b"%x\r\n%s\r\n" % (len(data), data)

    def abort(self) -> None:
        """Close the socket in the middle of a response (no terminating chunk)."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.wfile.flush()
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)


@dataclass
class _Admission:
    key: str
    limit: TierLimit | None
    headers: list[tuple[str, str]]


class GitHubModelsEmulator:
    """GitHub Models (or, with ``openai_compatible=True``, a generic OpenAI-compatible server)."""

    def __init__(
        self,
        catalog: Iterable[CatalogEntry] | None = None,
        *,
        token: str | None = DEFAULT_TOKEN,
        tiers: dict[str, TierLimit] | None = None,
        openai_compatible: bool = False,
        window_s: float = 60.0,
        day_s: float = DAY_S,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.host = host
        self.port = port
        self.token = token
        self.openai_compatible = openai_compatible
        self.window_s = float(window_s)
        self.day_s = float(day_s)
        if openai_compatible:
            self.tiers: dict[str, TierLimit] = dict(tiers or {})
        else:
            self.tiers = {**FREE_PLAN_TIERS, **(tiers or {})}
        self._lock = threading.RLock()
        self._catalog: dict[str, CatalogEntry] = {}
        for entry in standard_catalog() if catalog is None else catalog:
            self._catalog[entry.id.lower()] = entry
        self.requests: list[RecordedRequest] = []
        self.connections = 0
        self.server_errors: list[BaseException] = []  # emulator bugs, answered with 500
        # fault switches
        self.latency_s = 0.0
        self.chunk_delay_s = 0.0
        self.fail_next: list[tuple[int, dict | str, dict[str, str]]] = []
        self.disconnect_after_chunks: int | None = None
        self.malformed_sse = False
        self.empty_first_chunk = True
        self.raw_replies: dict[str, RawReply] = {}  # path -> what is sent instead
        # rate-limit state, keyed by lower-cased model id
        self._minute: dict[str, deque[float]] = {}
        self._day: dict[str, deque[float]] = {}
        self._in_flight: dict[str, int] = {}
        self._peak_in_flight: dict[str, int] = {}
        self._accepted: list[tuple[str, float]] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._sockets: set[socket.socket] = set()

    # -- lifecycle

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def inference_url(self) -> str:
        return self.url + "/inference"

    @property
    def v1_url(self) -> str:
        """Base URL for the OpenAI SDK in ``openai_compatible`` mode."""
        return self.url + "/v1"

    def org_inference_url(self, org: str) -> str:
        return f"{self.url}/orgs/{org}/inference"

    def start(self) -> GitHubModelsEmulator:
        if self._server is not None:
            return self
        server = _Server((self.host, self.port), _Handler)
        server.emulator = self
        self.port = int(server.server_address[1])
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"github-models-emulator:{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening and drop every open connection (pooled clients see the server go)."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        with self._lock:
            sockets = list(self._sockets)
            self._sockets.clear()
        for s in sockets:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None

    def __enter__(self) -> GitHubModelsEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _connection_opened(self, s: socket.socket) -> None:
        with self._lock:
            self._sockets.add(s)
            self.connections += 1

    def _connection_closed(self, s: socket.socket) -> None:
        with self._lock:
            self._sockets.discard(s)

    # -- state

    @property
    def catalog(self) -> list[CatalogEntry]:
        with self._lock:
            return list(self._catalog.values())

    def model(self, model_id: str) -> CatalogEntry | None:
        with self._lock:
            return self._catalog.get(model_id.lower())

    def add_model(self, entry: CatalogEntry) -> None:
        with self._lock:
            self._catalog[entry.id.lower()] = entry

    def remove_model(self, model_id: str) -> None:
        with self._lock:
            self._catalog.pop(model_id.lower(), None)

    def count(self, path: str, method: str | None = None) -> int:
        with self._lock:
            return sum(
                1
                for r in self.requests
                if r.path == path and (method is None or r.method == method)
            )

    def accepted_timestamps(self, model_id: str | None = None) -> list[float]:
        """Monotonic arrival times of inference requests that were served (not refused)."""
        key = model_id.lower() if model_id else None
        with self._lock:
            return [t for k, t in self._accepted if key is None or k == key]

    def max_in_flight(self, model_id: str | None = None) -> int:
        """The most requests ever served at once (for one model, or the largest per model)."""
        with self._lock:
            if model_id is not None:
                return self._peak_in_flight.get(model_id.lower(), 0)
            return max(self._peak_in_flight.values(), default=0)

    def reset_rate_limits(self) -> None:
        """Forget every window and daily counter (the recorded history stays)."""
        with self._lock:
            self._minute.clear()
            self._day.clear()

    def tier_for(self, entry: CatalogEntry) -> TierLimit | None:
        return self.tiers.get(entry.rate_limit_tier)

    # -- dispatch

    def _handle(self, h: _Handler, method: str) -> None:
        path, _, query = h.path.partition("?")
        try:
            raw = h.read_body() if method in ("POST", "PUT", "PATCH") else b""
        except (OSError, ValueError):
            h.close_connection = True
            return
        body: Any = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
        record = RecordedRequest(
            method=method,
            path=path,
            body=body,
            headers={k.lower(): v for k, v in h.headers.items()},
            query=query,
            raw_body=raw,
            at=time.monotonic(),
        )
        h.record = record
        with self._lock:
            self.requests.append(record)
        try:
            if not self._send_raw_reply(h, path):
                self._route(h, method, path, raw, body)
        except _Abort:
            h.close_connection = True
        except OSError:
            h.close_connection = True
        except Exception as exc:  # a bug in the emulator: answer 500 and keep it for the test
            self._server_error(exc)
            if record.status is None:
                h.send_json(500, _gh_error("InternalServerError", f"emulator error: {exc!r}"))
            h.close_connection = True
        finally:
            h.record = None

    def _send_raw_reply(self, h: _Handler, path: str) -> bool:
        """Answer with `raw_replies[path]` if one is set (and not used up); True if it did."""
        with self._lock:
            reply = self.raw_replies.get(path)
            if reply is None:
                return False
            if reply.times is not None:
                if reply.times <= 1:
                    del self.raw_replies[path]
                else:
                    self.raw_replies[path] = dataclasses.replace(reply, times=reply.times - 1)
        head = [("Content-Type", reply.content_type), *reply.headers]
        if reply.chunked:
            head.append(("Transfer-Encoding", "chunked"))
        else:
            head.append(("Content-Length", str(len(reply.body))))
        if not h._write(h._head(reply.status, head)):
            raise _Abort
        if reply.first_byte_s:
            time.sleep(reply.first_byte_s)
        sent = 0
        step = max(1, reply.piece_bytes)
        for at in range(0, len(reply.body), step):
            if reply.stall_after_bytes is not None and sent >= reply.stall_after_bytes:
                time.sleep(reply.stall_s)
                reply = dataclasses.replace(reply, stall_after_bytes=None)
            piece = reply.body[at : at + step]
            sent += len(piece)
            if not h._write(h.frame(piece) if reply.chunked else piece):
                raise _Abort
        if reply.chunked and not h._write(b"0\r\n\r\n"):
            raise _Abort
        return True

    def _server_error(self, exc: BaseException) -> None:
        with self._lock:
            self.server_errors.append(exc)

    def _route(self, h: _Handler, method: str, path: str, raw: bytes, body: Any) -> None:
        if self.openai_compatible:
            if path == "/v1/models":
                return self._expect(h, method, "GET") and self._v1_models(h)
            if path.startswith("/v1/models/"):
                return self._expect(h, method, "GET") and self._v1_model(h, unquote(path[11:]))
            if path in ("/v1/chat/completions", "/v1/embeddings"):
                if not self._expect(h, method, "POST"):
                    return None
                op = "chat/completions" if path.endswith("completions") else "embeddings"
                return self._inference(h, op, raw, body)
            return h.send_json(404, _oa_error(f"Not found: {path}", "invalid_request_error", None))
        if path == "/catalog/models":
            return self._expect(h, method, "GET") and h.send_json(
                200, [e.to_json() for e in self.catalog]
            )
        match = _INFERENCE.match(path)
        if match:
            if not self._expect(h, method, "POST"):
                return None
            return self._inference(h, match.group("op"), raw, body)
        return h.send_json(404, _gh_error("NotFound", "Resource not found"))

    def _expect(self, h: _Handler, method: str, allowed: str) -> bool:
        if method == allowed or (allowed == "GET" and method == "HEAD"):
            return True
        h.send_raw(405, b"Method Not Allowed", "text/plain; charset=utf-8", [("Allow", allowed)])
        return False

    # -- errors, in the mode's dialect

    def _unauthorized(self, h: _Handler) -> None:
        if self.openai_compatible:
            h.send_json(
                401,
                _oa_error(
                    "Incorrect API key provided.", "invalid_request_error", "invalid_api_key"
                ),
            )
        else:
            h.send_json(401, ERROR_401)

    def _bad_request(self, h: _Handler, code: str, message: str, details: bool = True) -> None:
        if self.openai_compatible:
            h.send_json(400, _oa_error(message, "invalid_request_error", code))
        else:
            h.send_json(400, _gh_error(code, message, details))

    def _unknown_model(self, h: _Handler, requested: str) -> None:
        if self.openai_compatible:
            h.send_json(
                404,
                _oa_error(
                    f"The model `{requested}` does not exist.",
                    "invalid_request_error",
                    "model_not_found",
                    "model",
                ),
            )
        else:
            h.send_json(404, _gh_error("unknown_model", f"Unknown model: {requested}"))

    # -- openai-compatible listing

    def _v1_model_json(self, e: CatalogEntry) -> dict[str, Any]:
        owner = e.id.split("/", 1)[0] if "/" in e.id else e.publisher.lower() or "system"
        return {"id": e.id, "object": "model", "created": 1715367049, "owned_by": owner}

    def _v1_models(self, h: _Handler) -> None:
        if not self._authorized(h):
            return self._unauthorized(h)
        data = [self._v1_model_json(e) for e in self.catalog]
        h.send_json(200, {"object": "list", "data": data})

    def _v1_model(self, h: _Handler, model_id: str) -> None:
        if not self._authorized(h):
            return self._unauthorized(h)
        entry = self.model(model_id)
        if entry is None:
            return self._unknown_model(h, model_id)
        h.send_json(200, self._v1_model_json(entry))

    def _authorized(self, h: _Handler) -> bool:
        if self.token is None:
            return True
        auth = h.headers.get("Authorization") or ""
        scheme, _, value = auth.partition(" ")
        return scheme.lower() == "bearer" and value.strip() == self.token

    # -- inference

    def _inference(self, h: _Handler, op: str, raw: bytes, body: Any) -> None:
        with self._lock:
            injected = self.fail_next.pop(0) if self.fail_next else None
        if injected is not None:
            return self._send_injected(h, *injected)
        if not self._authorized(h):
            return self._unauthorized(h)
        if not isinstance(body, dict):
            return self._bad_request(h, "invalid_request_body", "Invalid JSON in request body.")
        requested = body.get("model")
        if not isinstance(requested, str) or not requested:
            return self._bad_request(h, "invalid_request_body", "A model is required.")
        entry = self.model(requested)
        if entry is None:
            return self._unknown_model(h, requested)
        if not entry.callable:
            return self._bad_request(
                h, "unavailable_model", "Unavailable model: " + entry.short_name, False
            )
        if op == "embeddings":
            if not entry.is_embeddings:
                return self._bad_request(
                    h,
                    "unsupported_operation",
                    f"Model {entry.short_name} does not support embeddings.",
                )
            texts = self._embedding_inputs(body.get("input"))
            if texts is None:
                return self._bad_request(h, "invalid_request_body", "Invalid input.")
            tokens = sum(max(1, estimate_tokens(t)) for t in texts)
        else:
            if entry.is_embeddings:
                return self._bad_request(
                    h,
                    "unsupported_operation",
                    f"Model {entry.short_name} does not support chat completions.",
                )
            if not isinstance(body.get("messages"), list) or not body["messages"]:
                return self._bad_request(h, "invalid_request_body", "messages is required.")
            tokens = estimate_tokens(_message_text(body["messages"]))
        limit = self.tier_for(entry)
        if limit is not None and tokens > limit.max_input_tokens:
            message = (
                f"Request body too large for {entry.short_name} model. "
                f"Max size: {limit.max_input_tokens} tokens."
            )
            if self.openai_compatible:
                return h.send_json(
                    413, _oa_error(message, "invalid_request_error", "tokens_limit_reached")
                )
            return h.send_json(413, _gh_error("tokens_limit_reached", message))
        admission = self._admit(h, entry, limit)
        if admission is None:
            return None
        try:
            if self.latency_s > 0:
                time.sleep(self.latency_s)
            if op == "embeddings":
                self._embeddings(h, entry, requested, body, tokens, admission.headers)
            else:
                self._chat(h, entry, body, max(1, tokens), admission.headers)
        finally:
            with self._lock:
                self._in_flight[admission.key] = self._in_flight.get(admission.key, 1) - 1

    def _send_injected(
        self, h: _Handler, status: int, body: dict | str, headers: dict[str, str]
    ) -> None:
        ctype: str
        if isinstance(body, (dict, list)):
            data, ctype = _dumps(body), "application/json"
        else:
            data = body.encode()
            try:
                json.loads(body)
                ctype = "application/json"
            except ValueError:
                ctype = "text/plain; charset=utf-8"
        extra = list(headers.items())
        own_type = any(k.lower() == "content-type" for k, _ in extra)
        h.send_raw(status, data, None if own_type else ctype, extra)

    # -- rate limiting

    def _admit(
        self, h: _Handler, entry: CatalogEntry, limit: TierLimit | None
    ) -> _Admission | None:
        """Count the request against its model's limits, or answer 429 and return None."""
        key = entry.id.lower()
        now = time.monotonic()
        with self._lock:
            minute = self._minute.setdefault(key, deque())
            day = self._day.setdefault(key, deque())
            while minute and now - minute[0] >= self.window_s:
                minute.popleft()
            while day and now - day[0] >= self.day_s:
                day.popleft()
            in_flight = self._in_flight.get(key, 0)
            refusal: tuple[int, float, str, float] | None = None
            if limit is not None:
                if len(day) >= limit.requests_per_day:
                    wait = day[len(day) - limit.requests_per_day] + self.day_s - now
                    refusal = (limit.requests_per_day, self.day_s, "UserByModelByDay", wait)
                elif len(minute) >= limit.requests_per_minute:
                    wait = minute[len(minute) - limit.requests_per_minute] + self.window_s - now
                    refusal = (
                        limit.requests_per_minute,
                        self.window_s,
                        "UserByModelByMinute",
                        wait,
                    )
                elif in_flight >= limit.concurrent:
                    refusal = (limit.concurrent, 0.0, "UserConcurrentRequests", 0.0)
            if refusal is None:
                minute.append(now)
                day.append(now)
                self._accepted.append((key, now))
                self._in_flight[key] = in_flight + 1
                self._peak_in_flight[key] = max(self._peak_in_flight.get(key, 0), in_flight + 1)
                headers: list[tuple[str, str]] = []
                if limit is not None:
                    remaining = max(0, limit.requests_per_minute - len(minute))
                    reset = minute[0] + self.window_s - now
                    headers = [
                        ("x-ratelimit-limit-requests", str(limit.requests_per_minute)),
                        ("x-ratelimit-remaining-requests", str(remaining)),
                        ("x-ratelimit-reset-requests", f"{max(0, math.ceil(reset))}s"),
                    ]
                return _Admission(key, limit, headers)
        assert limit is not None
        count, window, kind, wait = refusal
        seconds = max(0, math.ceil(wait - 1e-9)) if wait > 0 else 0
        if kind != "UserConcurrentRequests":
            seconds = max(1, seconds)
        message = (
            f"Rate limit of {count} per {window:g}s exceeded for {kind}. "
            f"Please wait {seconds} seconds before retrying."
        )
        headers = [
            ("Retry-After", str(seconds)),
            ("x-ms-error-code", "RateLimitReached"),
            ("x-ratelimit-timeremaining", str(seconds)),
            ("x-ratelimit-type", kind),
            ("x-ratelimit-limit-requests", str(limit.requests_per_minute)),
            ("x-ratelimit-remaining-requests", "0"),
            ("x-ratelimit-reset-requests", f"{seconds}s"),
        ]
        if self.openai_compatible:
            body = _oa_error(message, "requests", "rate_limit_exceeded")
        else:
            body = _gh_error("RateLimitReached", message)
        h.send_json(429, body, headers)
        return None

    # -- chat

    def _chat(
        self,
        h: _Handler,
        entry: CatalogEntry,
        body: dict[str, Any],
        prompt_tokens: int,
        headers: list[tuple[str, str]],
    ) -> None:
        messages = body["messages"]
        tools = body.get("tools") if isinstance(body.get("tools"), list) else None
        user_text = _last_user_text(messages)
        call: dict[str, Any] | None = None
        if (
            tools
            and body.get("tool_choice") != "none"
            and "tool-calling" in entry.capabilities
            and user_text is not None
            and "weather" in user_text.lower()
        ):
            tool = tools[0] if isinstance(tools[0], dict) else {}
            call = {
                "id": "call_" + uuid.uuid4().hex[:24],
                "type": "function",
                "function": {
                    "name": (tool.get("function") or {}).get("name", "tool"),
                    "arguments": _tool_arguments(tool),
                },
            }
        reply = _formatted_reply(body.get("response_format"), entry.reply)
        text = reply
        if entry.thinking:
            text = f"<think>\n{entry.thinking}\n</think>\n\n{reply}"
        finish = "tool_calls" if call else "stop"
        cap = body.get("max_completion_tokens") or body.get("max_tokens")
        if call is None and isinstance(cap, int) and cap > 0 and estimate_tokens(text) > cap:
            text = text[: cap * 4]
            finish = "length"
        completion_tokens = (
            max(1, estimate_tokens(call["function"]["arguments"]) + 8)
            if call
            else max(1, estimate_tokens(text))
        )
        usage = self._usage(entry, prompt_tokens, completion_tokens)
        model = entry.id if self.openai_compatible else entry.served_model
        chat_id = _new_chat_id(entry)
        created = int(time.time())
        if body.get("stream"):
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            events = self._stream_events(
                entry, chat_id, created, model, text, call, finish, usage, include_usage
            )
            return self._send_stream(h, events, headers)
        h.send_json(
            200,
            self._completion(entry, chat_id, created, model, text, call, finish, usage),
            headers,
        )

    def _azure(self, entry: CatalogEntry) -> bool:
        return entry.is_azure_openai and not self.openai_compatible

    def _usage(self, entry: CatalogEntry, prompt: int, completion: int) -> dict[str, Any]:
        if self._azure(entry):
            return {
                "completion_tokens": completion,
                "completion_tokens_details": {
                    "accepted_prediction_tokens": 0,
                    "audio_tokens": 0,
                    "reasoning_tokens": 0,
                    "rejected_prediction_tokens": 0,
                },
                "prompt_tokens": prompt,
                "prompt_tokens_details": {"audio_tokens": 0, "cached_tokens": 0},
                "total_tokens": prompt + completion,
            }
        return {
            "completion_tokens": completion,
            "prompt_tokens": prompt,
            "prompt_tokens_details": None,
            "total_tokens": prompt + completion,
        }

    def _completion(
        self,
        entry: CatalogEntry,
        chat_id: str,
        created: int,
        model: str,
        text: str,
        call: dict[str, Any] | None,
        finish: str,
        usage: dict[str, Any],
    ) -> dict[str, Any]:
        content = None if call else text
        if self._azure(entry):
            message: dict[str, Any] = {
                "annotations": [],
                "content": content,
                "refusal": None,
                "role": "assistant",
            }
            if call:
                message["tool_calls"] = [call]
            return {
                "choices": [
                    {
                        "content_filter_results": {} if call else _content_filter_results(True),
                        "finish_reason": finish,
                        "index": 0,
                        "logprobs": None,
                        "message": message,
                    }
                ],
                "created": created,
                "id": chat_id,
                "model": model,
                "object": "chat.completion",
                "prompt_filter_results": _prompt_filter_results(),
                "system_fingerprint": _fingerprint(entry),
                "usage": usage,
            }
        return {
            "choices": [
                {
                    "finish_reason": finish,
                    "index": 0,
                    "message": {
                        "content": content,
                        "role": "assistant",
                        "tool_calls": [call] if call else None,
                    },
                }
            ],
            "created": created,
            "id": chat_id,
            "model": model,
            "object": "chat.completion",
            "usage": usage,
        }

    def _stream_events(
        self,
        entry: CatalogEntry,
        chat_id: str,
        created: int,
        model: str,
        text: str,
        call: dict[str, Any] | None,
        finish: str,
        usage: dict[str, Any],
        include_usage: bool,
    ) -> Iterator[bytes]:
        azure = self._azure(entry)

        def chunk(
            delta: dict[str, Any], finish_reason: str | None = None, filters: bool = True
        ) -> bytes:
            choice: dict[str, Any] = {}
            if azure:
                choice["content_filter_results"] = _content_filter_results(False) if filters else {}
            choice.update({"delta": delta, "finish_reason": finish_reason, "index": 0})
            if azure:
                choice["logprobs"] = None
            obj: dict[str, Any] = {
                "choices": [choice],
                "created": created,
                "id": chat_id,
                "model": model,
                "object": "chat.completion.chunk",
            }
            if azure:
                obj["system_fingerprint"] = _fingerprint(entry)
            if include_usage:
                obj["usage"] = None
            return _dumps(obj)

        if azure and self.empty_first_chunk:
            yield _dumps(
                {
                    "choices": [],
                    "created": 0,
                    "id": "",
                    "model": "",
                    "object": "",
                    "prompt_filter_results": _prompt_filter_results(),
                }
            )
        if call:
            first = {
                "content": None,
                "refusal": None,
                "role": "assistant",
                "tool_calls": [
                    {
                        "function": {"arguments": "", "name": call["function"]["name"]},
                        "id": call["id"],
                        "index": 0,
                        "type": "function",
                    }
                ],
            }
            if not azure:
                first.pop("refusal")
            yield chunk(first, filters=False)
            args = call["function"]["arguments"]
            step = max(1, len(args) // 3)
            for i in range(0, len(args), step):
                piece = {
                    "tool_calls": [{"function": {"arguments": args[i : i + step]}, "index": 0}]
                }
                yield chunk(piece, filters=False)
        else:
            first = (
                {"content": "", "refusal": None, "role": "assistant"}
                if azure
                else {
                    "content": "",
                    "role": "assistant",
                }
            )
            yield chunk(first, filters=False)
            for i, piece in enumerate(_pieces(text)):
                yield chunk({"content": piece})
                if self.malformed_sse and i == 0:
                    yield b"{not json"
        yield chunk({}, finish, filters=False)
        if include_usage:
            obj: dict[str, Any] = {
                "choices": [],
                "created": created,
                "id": chat_id,
                "model": model,
                "object": "chat.completion.chunk",
            }
            if azure:
                obj["system_fingerprint"] = _fingerprint(entry)
            obj["usage"] = usage
            yield _dumps(obj)
        yield b"[DONE]"

    def _send_stream(
        self, h: _Handler, events: Iterator[bytes], headers: list[tuple[str, str]]
    ) -> None:
        if not h.start_chunked(
            "text/event-stream; charset=utf-8", [("Cache-Control", "no-cache"), *headers]
        ):
            raise _Abort
        limit = self.disconnect_after_chunks
        for sent, data in enumerate(events):
            if limit is not None and sent >= limit:
                h.abort()
                raise _Abort
            if sent and self.chunk_delay_s > 0:
                time.sleep(self.chunk_delay_s)
            frame = h.frame(b"data: " + data + b"\n\n")
            if data == b"[DONE]":
                frame += b"0\r\n\r\n"  # with the last event, so the client sees the end at once
            if not h._write(frame):
                raise _Abort

    # -- embeddings

    @staticmethod
    def _embedding_inputs(value: Any) -> list[str] | None:
        if isinstance(value, str):
            return [value]
        if isinstance(value, list) and value:
            if all(isinstance(v, str) for v in value):
                return list(value)
            if all(isinstance(v, int) for v in value):
                return [" ".join(map(str, value))]
            if all(isinstance(v, list) and all(isinstance(i, int) for i in v) for v in value):
                return [" ".join(map(str, v)) for v in value]
        return None

    def _embeddings(
        self,
        h: _Handler,
        entry: CatalogEntry,
        requested: str,
        body: dict[str, Any],
        tokens: int,
        headers: list[tuple[str, str]],
    ) -> None:
        texts = self._embedding_inputs(body.get("input")) or []
        dims = body.get("dimensions")
        dim = (
            dims
            if isinstance(dims, int) and 0 < dims <= entry.embedding_dim
            else entry.embedding_dim
        )
        as_base64 = body.get("encoding_format") == "base64"
        data = []
        for i, text in enumerate(texts):
            vector = _embedding(text, dim)
            value: Any = vector
            if as_base64:
                value = base64.b64encode(struct.pack(f"<{dim}f", *vector)).decode()
            data.append({"object": "embedding", "index": i, "embedding": value})
        model = requested if not self.openai_compatible else entry.id
        h.send_json(
            200,
            {
                "object": "list",
                "data": data,
                "model": model,
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            },
            headers,
        )

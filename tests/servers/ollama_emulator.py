"""A faithful, fast Ollama REST server for tests and benchmarks (test code, not product code).

It listens on 127.0.0.1 with real sockets (``http.server.ThreadingHTTPServer``, HTTP/1.1
keep-alive, chunked NDJSON streams) and answers the way ``ollama serve`` does: field names,
field order, status codes and error texts follow Ollama's own server code
(ollama/ollama ``server/routes.go``, ``server/create.go``, ``server/images.go``,
``api/types.go`` at commit fb30760) and the fixtures in ``../shared/protocols/``.

Usage::

    with OllamaEmulator(standard_models(), library=[EmulatedModel("gemma3:4b", ...)]) as emu:
        client = ollama.Client(emu.url)
        client.list()
        emu.errors["/api/show"] = (500, "boom")    # fault switches can change while running
        emu.raw_replies["/api/tags"] = RawReply(b"\xff")  # any bytes, for hostile-server tests
        assert emu.count("/api/show") == 1

Behaviour worth knowing (all from the real server):

* Unknown model: chat/generate/show/delete answer 404 ``model 'x' not found`` (show names the
  normalised ``x:latest``); embed/embeddings answer 404 ``model "x" not found, try pulling it
  first``; copy answers 404 ``model "x" not found``.
* Embedding-only model on chat/generate: 400 ``"<requested name>" does not support chat``
  (``generate``); ``think`` on a model without ``thinking``: 400 ``"<name>" does not support
  thinking``; ``tools`` to a model without ``tools``: 400
  ``registry.ollama.ai/library/<name:tag> does not support tools``.
* ``num_predict`` truncation ends with ``done_reason: "length"`` (``"stop"`` otherwise).
* Pull of a name that neither the library nor the installed models know: streaming gives HTTP
  200 with ``{"status":"pulling manifest"}`` then ``{"error":"pull model manifest: file does not
  exist"}``; ``stream: false`` gives HTTP 500 with that error.
* Create ``from`` a model that is not installed pulls it first (as Ollama does): from the
  library if it is there, otherwise the same pull error as above.
* Blob upload answers 201 (200 if the blob already exists); ``HEAD`` answers 200/404.
* Wrong method on a known path: 405 ``405 method not allowed`` (text/plain).
* JSON is compact and escapes ``<``, ``>``, ``&`` as Go does (``\\u003c`` ...).

Version gates (``version=``): ``capabilities`` in show from 0.6.4, ``thinking`` from 0.9.0,
thinking on by default from 0.12.4 (before that a thinking model's reply carries
``<think>...</think>`` inline), ``context_length`` in ps from 0.10.0, tool call
``function.index`` from 0.12.6 and ``id`` from 0.12.10, ``capabilities`` and
``details.context_length``/``embedding_length`` in tags from 0.30.0.

Response bodies of /api/tags and /api/show are cached; every method of the emulator that
changes models clears the cache. If you mutate an ``EmulatedModel`` in place after adding it,
call :meth:`OllamaEmulator.invalidate` (or re-add it with :meth:`OllamaEmulator.add_model`).
"""

from __future__ import annotations

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
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import formatdate
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple

__all__ = [
    "DEFAULT_TEMPLATE",
    "MALFORMED_JSON",
    "EmulatedModel",
    "LoadedModel",
    "OllamaEmulator",
    "RawReply",
    "RecordedRequest",
    "many_models",
    "normalize_name",
    "standard_models",
]

DEFAULT_TEMPLATE = "{{ .Prompt }}"
DEFAULT_REPLY = "Hello! How can I help you today?"
DEFAULT_KEEP_ALIVE_S = 300.0
DEFAULT_NUM_CTX = 4096
MALFORMED_JSON = b'{"models": [{"name": "llama3.1:8b", "size": 4920753328,, "digest": '
_BLOBS_DIR = "/root/.ollama/models/blobs"


# --------------------------------------------------------------------------- models


@dataclass
class EmulatedModel:
    """One model as the emulated server knows it. Only ``name`` is required."""

    name: str  # "llama3.1:8b"; a name without a tag is served as "<name>:latest"
    family: str = "llama"
    families: list[str] | None = None
    parameter_size: str = "8.0B"
    quantization_level: str = "Q4_K_M"
    format: str = "gguf"
    size: int = 4_920_753_328  # bytes on disk
    digest: str = ""  # bare 64-hex manifest digest; filled with sha256(name) when added if empty
    capabilities: list[str] = field(default_factory=lambda: ["completion"])
    architecture: str = ""  # general.architecture; default = family
    parameter_count: int = 8_030_261_248
    context_length: int = 131072
    embedding_length: int = 4096
    block_count: int = 32
    head_count: int = 32
    head_count_kv: int = 8
    key_length: int | None = None  # <arch>.attention.key_length when set
    template: str = DEFAULT_TEMPLATE  # the default is replaced by one matching the capabilities
    system: str = ""
    parameters: str = ""  # Modelfile-style text, served verbatim in /api/show "parameters"
    license: str = ""
    modified_at: str = "2024-06-04T14:38:31.83753-07:00"
    projector: bool = False  # split vision model (llava style): projector_info in /api/show
    reply: str = DEFAULT_REPLY  # streamed by chat/generate in word-ish chunks
    thinking: str = ""  # streamed as thinking when the model has "thinking" and think is on
    embedding_dim: int = 768  # length of /api/embed vectors
    remote: bool = False  # cloud-proxied model: remote_model/remote_host in tags and show
    # --- beyond the brief ---
    messages: list[dict[str, Any]] = field(default_factory=list)  # MESSAGE lines (show "messages")
    parent_model: str = ""  # details.parent_model
    remote_model: str = ""  # default: the name without "-cloud"/":cloud"
    remote_host: str = "https://ollama.com:443"
    blob_digest: str = ""  # sha256 of the weights layer; derived from the digest when empty
    adapters: dict[str, str] = field(default_factory=dict)  # set by /api/create adapters
    # Opt-in "tunable" model (optimization tests): option -> (centre, tolerance). When set, a
    # chat reply echoes the last user message (the right answer) only if the request's options
    # are near the centre: at normalised distance d (the largest |x - centre| / tolerance over
    # these options) a prompt is answered right when d <= 0.3 + 0.7 * h(prompt), h in [0, 1)
    # a hash of the prompt. So d <= 0.3 answers every row right, d >= 1 none, graded between;
    # an option missing from the request counts as far away.
    answer_region: dict[str, tuple[float, float]] = field(default_factory=dict)


@dataclass(frozen=True)
class RawReply:
    """A fault switch: the bytes a route answers instead of its real reply (see ``raw_replies``).

    Lets a test serve what no real Ollama sends: invalid UTF-8, JSON nested 100,000 deep, the
    wrong JSON types, blank NDJSON lines, a 40 MB body that arrives slowly."""

    body: bytes
    status: int = 200
    content_type: str = "application/json; charset=utf-8"
    chunked: bool = False  # Transfer-Encoding: chunked, as Ollama streams NDJSON
    trickle_s: float = 0.0  # pause before each `piece_bytes` piece: a slow body
    piece_bytes: int = 1 << 16
    stall_after_bytes: int | None = None  # then send nothing for `stall_s` (a stalled body)
    stall_s: float = 0.0
    models: frozenset[str] | None = None  # /api/show, /api/chat …: only for these model names


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str  # without the query string
    body: dict[str, Any] | None  # parsed JSON object, None for no/other bodies (blobs)
    headers: dict[str, str]  # header names lower-cased
    query: str = ""


@dataclass
class LoadedModel:
    """An entry of /api/ps."""

    name: str
    model: EmulatedModel
    expires_at: float  # epoch seconds; math.inf = keep_alive < 0 (never)
    size: int  # bytes in memory (weights + KV cache)
    size_vram: int
    context_length: int


def normalize_name(name: str) -> str:
    """Ollama's short display form: no default registry/namespace, always a tag."""
    n = name.strip()
    low = n.lower()
    for prefix in ("registry.ollama.ai/library/", "registry.ollama.ai/", "library/"):
        if low.startswith(prefix):
            n = n[len(prefix) :]
            break
    if ":" not in n.rsplit("/", 1)[-1]:
        n += ":latest"
    return n


def _key(name: str) -> str:
    return normalize_name(name).lower()


def _qualified(name: str) -> str:
    n = normalize_name(name)
    parts = n.split("/")
    if len(parts) == 1:
        return f"registry.ollama.ai/library/{n}"
    if len(parts) == 2:
        return f"registry.ollama.ai/{n}"
    return n


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _digest(m: EmulatedModel) -> str:
    return m.digest or _sha(normalize_name(m.name))


def _blob(m: EmulatedModel) -> str:
    return m.blob_digest or _sha("weights:" + _digest(m))


def _ver(v: str) -> tuple[int, ...]:
    nums = []
    for part in v.split(".")[:3]:
        digits = re.match(r"\d*", part)
        nums.append(int(digits.group(0)) if digits and digits.group(0) else 0)
    while len(nums) < 3:
        nums.append(0)
    return tuple(nums)


# --------------------------------------------------------------------------- encoding

_GO_ESCAPES = str.maketrans(
    {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
)


def _dumps(obj: Any) -> bytes:
    """Compact JSON the way Go's encoding/json writes it (HTML characters escaped)."""
    return (
        json.dumps(obj, ensure_ascii=False, separators=(",", ":")).translate(_GO_ESCAPES).encode()
    )


def _goq(s: str) -> str:
    """Go's %q, close enough for model names."""
    return json.dumps(s, ensure_ascii=False)


def _now_utc() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _now_local() -> str:
    return datetime.now().astimezone().isoformat(timespec="microseconds")


def _epoch_of(stamp: str) -> float:
    m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)?$", stamp)
    if not m:
        return 0.0
    frac = (m.group(2) or ".0")[:7]
    tz = m.group(3) or "+00:00"
    tz = "+00:00" if tz == "Z" else tz
    try:
        return datetime.fromisoformat(m.group(1) + frac + tz).timestamp()
    except ValueError:
        return 0.0


_WORDS = re.compile(r"\s*\S+|\s+$")


def _chunks(text: str) -> list[str]:
    return _WORDS.findall(text) if text else []


def _tokens(text: str) -> int:
    return max(1, len(text) // 4) if text else 0


# --------------------------------------------------------------------------- model facts

_FILE_TYPE = {
    "F32": 0, "F16": 1, "Q4_0": 2, "Q4_1": 3, "Q8_0": 7, "Q5_0": 8, "Q5_1": 9, "Q2_K": 10,
    "Q3_K_S": 11, "Q3_K_M": 12, "Q3_K_L": 13, "Q4_K_S": 14, "Q4_K_M": 15, "Q5_K_S": 16,
    "Q5_K_M": 17, "Q6_K": 18, "IQ4_XS": 30, "BF16": 32,
}  # fmt: skip
_BITS = {
    "F32": 32.0, "F16": 16.0, "BF16": 16.0, "Q8_0": 8.5, "Q6_K": 6.56, "Q5_K_M": 5.69,
    "Q5_K_S": 5.54, "Q5_0": 5.5, "Q5_1": 6.0, "Q4_K_M": 4.85, "Q4_K_S": 4.58, "Q4_0": 4.5,
    "Q4_1": 5.0, "Q3_K_M": 3.91, "Q3_K_S": 3.5, "Q3_K_L": 4.27, "Q2_K": 3.35, "IQ4_XS": 4.25,
}  # fmt: skip
_CAP_SINCE = {"thinking": (0, 9, 0), "image": (0, 14, 0), "audio": (0, 20, 0)}


def _tensor_type(quant: str) -> str:
    q = quant.upper()
    return q[:-2] if q.endswith(("_K_M", "_K_S", "_K_L")) else q


def _is_embedding(m: EmulatedModel) -> bool:
    return "embedding" in m.capabilities and "completion" not in m.capabilities


def _families(m: EmulatedModel) -> list[str]:
    return list(m.families) if m.families is not None else [m.family]


def _template(m: EmulatedModel) -> str:
    """The model's template; the default one is swapped for one whose markers match the
    capabilities (what an old server's heuristics look at: .Tools, <think>, .Suffix)."""
    if m.template != DEFAULT_TEMPLATE:
        return m.template
    caps = set(m.capabilities)
    if "insert" in caps:
        return "{{- if .Suffix }}<PRE> {{ .Prompt }} <SUF>{{ .Suffix }} <MID>{{- else }}{{ .Prompt }}{{- end }}"
    parts = []
    if "tools" in caps:
        parts.append("{{- if .Tools }}Tools:{{ range .Tools }}\n{{ . }}{{ end }}\n{{ end }}")
    if "thinking" in caps:
        parts.append("{{- if .Think }}<think>{{ .Thinking }}</think>{{ end }}")
    if not parts:
        return m.template
    return "".join(parts) + "{{ .Prompt }}"


def _size_label(parameter_size: str) -> str:
    return re.sub(r"\.0(?=[KMBT]$)", "", parameter_size)


def _model_info(m: EmulatedModel, verbose: bool) -> dict[str, Any]:
    arch = m.architecture or m.family
    p = arch + "."
    embedding = _is_embedding(m)
    head_dim = m.key_length or (m.embedding_length // max(m.head_count, 1))
    info: dict[str, Any] = {
        "general.architecture": arch,
        "general.basename": normalize_name(m.name).split(":")[0].rsplit("/", 1)[-1],
        "general.file_type": _FILE_TYPE.get(m.quantization_level.upper(), 15),
        "general.parameter_count": m.parameter_count,
        "general.quantization_version": 2,
        "general.size_label": _size_label(m.parameter_size),
        "general.type": "model",
        p + "attention.head_count": m.head_count,
        p + "attention.head_count_kv": m.head_count_kv,
        p + "block_count": m.block_count,
        p + "context_length": m.context_length,
        p + "embedding_length": m.embedding_length,
        p + "feed_forward_length": (m.embedding_length * 7 // 2 + 255) // 256 * 256,
    }
    if m.key_length is not None:
        info[p + "attention.key_length"] = m.key_length
        info[p + "attention.value_length"] = m.key_length
    if embedding:
        info[p + "attention.causal"] = False
        info[p + "attention.layer_norm_epsilon"] = 1e-12
        info[p + "pooling_type"] = 1
        info["tokenizer.ggml.model"] = "bert"
        info["tokenizer.ggml.cls_token_id"] = 101
        info["tokenizer.ggml.seperator_token_id"] = 102
        info["tokenizer.ggml.padding_token_id"] = 0
        info["tokenizer.ggml.unknown_token_id"] = 100
        tokens = ["[PAD]", "[unused0]", "[unused1]", "[unused2]", "[unused3]", "[unused4]"]
    else:
        info[p + "attention.layer_norm_rms_epsilon"] = 1e-05 if arch == "llama" else 1e-06
        info[p + "rope.dimension_count"] = head_dim
        info[p + "rope.freq_base"] = 500000 if arch == "llama" else 1000000
        info[p + "vocab_size"] = 128256 if arch == "llama" else 151936
        info["tokenizer.ggml.model"] = "gpt2"
        info["tokenizer.ggml.pre"] = arch
        info["tokenizer.ggml.bos_token_id"] = 128000 if arch == "llama" else 151643
        info["tokenizer.ggml.eos_token_id"] = 128009 if arch == "llama" else 151645
        tokens = ["!", '"', "#", "$", "%", "&", "'", "("]
    info["tokenizer.ggml.tokens"] = tokens if verbose else []
    info["tokenizer.ggml.token_type"] = [1] * len(tokens) if verbose else []
    if not embedding:
        info["tokenizer.ggml.merges"] = (
            ["Ġ Ġ", "Ġ t", "i n", "Ġ a", "h e", "o n"] if verbose else []
        )
    if "vision" in m.capabilities and not m.projector:
        info[p + "vision.attention.head_count"] = 16
        info[p + "vision.block_count"] = 27
        info[p + "vision.embedding_length"] = 1152
        info[p + "vision.feed_forward_length"] = 4304
        info[p + "vision.image_size"] = 896
        info[p + "vision.patch_size"] = 14
    if "audio" in m.capabilities:
        info[p + "audio.block_count"] = 12
        info[p + "audio.embedding_length"] = 1024
    return dict(sorted(info.items()))  # Go's encoding/json sorts map keys


_PROJECTOR_INFO = {
    "clip.has_llava_projector": True,
    "clip.has_text_encoder": False,
    "clip.has_vision_encoder": True,
    "clip.projector_type": "mlp",
    "clip.use_gelu": False,
    "clip.vision.attention.head_count": 16,
    "clip.vision.attention.layer_norm_epsilon": 1e-05,
    "clip.vision.block_count": 23,
    "clip.vision.embedding_length": 1024,
    "clip.vision.feed_forward_length": 4096,
    "clip.vision.image_mean": [0.48145466, 0.4578275, 0.40821073],
    "clip.vision.image_size": 336,
    "clip.vision.image_std": [0.26862954, 0.2613026, 0.2757771],
    "clip.vision.patch_size": 14,
    "clip.vision.projection_dim": 768,
    "general.architecture": "clip",
    "general.file_type": 1,
    "general.parameter_count": 311_996_416,
}
_PROJECTOR_BYTES = 624_434_336


def _tensors(m: EmulatedModel) -> list[dict[str, Any]]:
    qt = _tensor_type(m.quantization_level)
    emb = m.embedding_length
    kv = (m.key_length or emb // max(m.head_count, 1)) * m.head_count_kv
    vocab = (
        30528
        if _is_embedding(m)
        else (128256 if (m.architecture or m.family) == "llama" else 151936)
    )
    return [
        {"name": "token_embd.weight", "type": qt, "shape": [emb, vocab]},
        {"name": "blk.0.attn_k.weight", "type": qt, "shape": [emb, kv]},
        {"name": "blk.0.attn_norm.weight", "type": "F32", "shape": [emb]},
        {"name": "blk.0.attn_output.weight", "type": qt, "shape": [emb, emb]},
        {"name": "blk.0.attn_q.weight", "type": qt, "shape": [emb, emb]},
        {"name": "blk.0.attn_v.weight", "type": "Q6_K" if qt != "F16" else qt, "shape": [emb, kv]},
        {"name": "output_norm.weight", "type": "F32", "shape": [emb]},
    ]


def _param_lines(text: str) -> list[tuple[str, str]]:
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        key, _, value = line.partition(" ")
        out.append((key, value.strip()))
    return out


def _go_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else repr(v)
    if isinstance(v, str):
        return _goq(v)
    return _goq(json.dumps(v))


def _render_parameters(base: str, overrides: dict[str, Any]) -> str:
    """Base parameter text with keys from ``overrides`` replaced, in show's padded format."""
    lines = [(k, v) for k, v in _param_lines(base) if k not in overrides]
    for key in sorted(overrides):
        value = overrides[key]
        for item in value if isinstance(value, list) else [value]:
            lines.append((key, _go_value(item)))
    return "\n".join(f"{k:<30} {v}" for k, v in lines)


def _layers(m: EmulatedModel) -> list[tuple[str, str, int]]:
    """(media type, "sha256:<hex>", size) of the manifest's layers, config last."""
    small: list[tuple[str, str, int]] = []
    if m.projector:
        small.append(
            (
                "application/vnd.ollama.image.projector",
                "sha256:" + _sha("projector:" + _blob(m)),
                _PROJECTOR_BYTES,
            )
        )
    for adapter in m.adapters.values():
        small.append(("application/vnd.ollama.image.adapter", adapter, 12_582_912))
    for media, text in (
        ("template", _template(m)),
        ("system", m.system),
        ("license", m.license),
        ("params", m.parameters),
    ):
        if text:
            small.append(
                (
                    f"application/vnd.ollama.image.{media}",
                    "sha256:" + _sha(text),
                    len(text.encode()),
                )
            )
    if m.messages:
        text = json.dumps(m.messages)
        small.append(("application/vnd.ollama.image.messages", "sha256:" + _sha(text), len(text)))
    config = (
        "application/vnd.docker.container.image.v1+json",
        "sha256:" + _sha("config:" + _digest(m)),
        485,
    )
    weights = max(m.size - sum(s for _, _, s in small) - config[2], 1)
    return [("application/vnd.ollama.image.model", "sha256:" + _blob(m), weights), *small, config]


def _modelfile(m: EmulatedModel) -> str:
    name = normalize_name(m.name)
    out = [
        '# Modelfile generated by "ollama show"',
        "# To build a new Modelfile based on this, replace FROM with:",
        f"# FROM {name}",
        "",
        f"FROM {_BLOBS_DIR}/sha256-{_blob(m)}",
    ]
    template = _template(m)
    if template:
        out.append(f'TEMPLATE """{template}"""')
    if m.system:
        out.append(f'SYSTEM """{m.system}"""')
    for key, value in _param_lines(m.parameters):
        out.append(f"PARAMETER {key} {value.strip(chr(34))}")
    if m.license:
        out.append(f'LICENSE """{m.license}"""')
    for msg in m.messages:
        out.append(f"MESSAGE {msg.get('role', 'user')} {msg.get('content', '')}")
    return "\n".join(out) + "\n"


def _embedding(text: str, dim: int, normalise: bool = True) -> list[float]:
    raw = hashlib.shake_256(text.encode()).digest(dim * 2)
    vals = [v / 32767.5 - 1.0 for v in struct.unpack(f"<{dim}H", raw)]
    if normalise:
        norm = math.sqrt(sum(v * v for v in vals)) or 1e-12
        return [round(v / norm, 9) for v in vals]
    return [round(v * 2.5, 9) for v in vals]


def _renormalise(vec: list[float]) -> list[float]:
    norm = math.sqrt(sum(v * v for v in vec)) or 1e-12
    return [round(v / norm, 9) for v in vec]


def _parse_keep_alive(value: Any) -> float | None:
    """Seconds; None = not given; negative = forever. Accepts numbers and Go durations."""
    if value is None:
        return None
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        s = value.strip()
        try:
            return float(s)
        except ValueError:
            pass
        units = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
        total = 0.0
        sign = -1.0 if s.startswith("-") else 1.0
        parts = re.findall(r"([0-9.]+)(ns|us|µs|ms|s|m|h)", s.lstrip("+-"))
        if not parts:
            return None
        for num, unit in parts:
            total += float(num) * units[unit]
        return sign * total
    return None


def _sample(schema: Any, key: str = "") -> Any:
    """A value that satisfies a simple JSON schema (structured outputs, tool arguments)."""
    if not isinstance(schema, dict):
        return "example"
    if schema.get("enum"):
        return schema["enum"][0]
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties") or {}
        return {k: _sample(v, k) for k, v in props.items()}
    if kind == "array":
        return [_sample(schema.get("items") or {"type": "string"}, key)]
    if kind == "integer":
        return 22 if "age" in key else 1
    if kind == "number":
        return 1.5
    if kind == "boolean":
        return True
    if any(word in key.lower() for word in ("city", "location", "place")):
        return "Paris"
    return "example"


def _think_on(value: Any) -> bool:
    return value is True or value in ("high", "medium", "low", "max")


class _StreamError(NamedTuple):
    status: int
    message: str


# --------------------------------------------------------------------------- HTTP plumbing


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024
    emulator: OllamaEmulator

    def server_bind(self) -> None:  # skip HTTPServer's reverse DNS lookup (getfqdn)
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client killed mid-request (the SIGKILL tests) resets its socket: not an error
        # of the server, and no traceback for the test's stderr.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


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

    def do_HEAD(self) -> None:
        self.server.emulator._handle(self, "HEAD")

    def do_POST(self) -> None:
        self.server.emulator._handle(self, "POST")

    def do_DELETE(self) -> None:
        self.server.emulator._handle(self, "DELETE")

    def do_PUT(self) -> None:
        self.server.emulator._handle(self, "PUT")

    def do_PATCH(self) -> None:
        self.server.emulator._handle(self, "PATCH")

    def do_OPTIONS(self) -> None:
        self.server.emulator._handle(self, "OPTIONS")

    # -- I/O helpers

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
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = "Unknown"
        lines = [f"HTTP/1.1 {status} {reason}", f"Date: {formatdate(usegmt=True)}"]
        lines += [f"{k}: {v}" for k, v in headers]
        if self.close_connection:
            lines.append("Connection: close")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def send_raw(self, status: int, body: bytes, content_type: str | None) -> None:
        headers = [("Content-Type", content_type)] if content_type else []
        headers.append(("Content-Length", str(len(body))))
        data = self._head(status, headers)
        if self.command != "HEAD":
            data += body
        self._write(data)

    def send_json(
        self, status: int, obj: Any, content_type: str = "application/json; charset=utf-8"
    ) -> None:
        self.send_raw(status, _dumps(obj), content_type)

    def send_error_json(self, status: int, message: str) -> None:
        self.send_json(status, {"error": message})

    def send_text(self, status: int, text: str) -> None:
        self.send_raw(status, text.encode(), "text/plain; charset=utf-8")

    def _write(self, data: bytes) -> bool:
        try:
            self.wfile.write(data)
            return True
        except OSError:
            self.close_connection = True
            return False

    def start_chunked(self, content_type: str = "application/x-ndjson") -> bool:
        head = self._head(200, [("Content-Type", content_type), ("Transfer-Encoding", "chunked")])
        return self._write(head)

    def chunk(self, data: bytes) -> bool:
        return self._write(b"%x\r\n%s\r\n" % (len(data), data))

    def end_chunked(self) -> None:
        self._write(b"0\r\n\r\n")

    def abort(self) -> None:
        """Close the socket in the middle of a response (no terminating chunk)."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def stream(self, items: Iterable[Any], total: int | None = None) -> None:
        """Write ``items`` as NDJSON the way Ollama's streamResponse does, with the fault
        switches applied. An item that is a _StreamError before anything was written becomes
        a plain JSON error with its status; after that, a final {"error": ...} line."""
        emu = self.server.emulator
        limit = emu.disconnect_after_chunks
        mid = emu.midstream_error
        mid_after = emu.midstream_after_chunks
        if total is not None:
            mid_after = max(0, min(mid_after, total - 1))
        delay = emu.chunk_delay_s
        sent = 0
        started = False
        for item in items:
            if isinstance(item, _StreamError):
                if not started:
                    self.send_error_json(item.status, item.message)
                    return
                self.chunk(_dumps({"error": item.message}) + b"\n")
                self.end_chunked()
                return
            if not started:
                if not self.start_chunked():
                    return
                started = True
            if limit is not None and sent >= limit:
                self.abort()
                return
            if mid is not None and sent >= mid_after:
                self.chunk(_dumps({"error": mid}) + b"\n")
                self.end_chunked()
                return
            if sent and delay:
                time.sleep(delay)
            if not self.chunk(_dumps(item) + b"\n"):
                return
            sent += 1  # noqa: SIM113 - counts only the lines actually written
        if not started and not self.start_chunked():
            return
        if limit is not None:
            self.abort()
            return
        if mid is not None:
            self.chunk(_dumps({"error": mid}) + b"\n")
        self.end_chunked()


# --------------------------------------------------------------------------- the emulator


class OllamaEmulator:
    """See the module docstring. All live state is guarded by one lock."""

    def __init__(
        self,
        models: Iterable[EmulatedModel] = (),
        *,
        version: str = "0.12.6",
        old_server: bool = False,
        library: Iterable[EmulatedModel] = (),
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self._lock = threading.RLock()
        self._models: dict[str, EmulatedModel] = {}
        self._library: dict[str, EmulatedModel] = {}
        self._blobs: dict[str, int] = {}  # uploaded blobs: "sha256:<hex>" -> size
        self._downloaded: set[str] = set()  # layer digests fully downloaded by pulls
        self._partial: dict[str, int] = {}  # layer digest -> bytes downloaded before a drop
        self._cache: dict[Any, bytes] = {}
        self._sockets: set[socket.socket] = set()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._call_ids = 0
        self.host = host
        self.port = port
        self.version = version
        self.old_server = old_server
        self.loaded: dict[str, LoadedModel] = {}
        self.requests: list[RecordedRequest] = []
        self.connections = 0  # TCP connections accepted so far (keep-alive check)
        # fault switches
        self.latency_s: float = 0.0
        self.chunk_delay_s: float = 0.0
        self.disconnect_after_chunks: int | None = None
        self.errors: dict[str, tuple[int, str]] = {}
        self.midstream_error: str | None = None
        self.midstream_after_chunks: int = 2
        self.malformed_paths: set[str] = set()
        self.raw_replies: dict[str, RawReply] = {}  # path -> bytes sent as-is instead
        self.pull_chunk_bytes: int | None = None  # None: ~10 progress lines per large layer
        for m in models:
            self.add_model(m)
        for m in library:
            self.add_to_library(m)

    # -- lifecycle

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> OllamaEmulator:
        if self._server is not None:
            return self
        server = _Server((self.host, self.port), _Handler)
        server.emulator = self
        self.port = int(server.server_address[1])
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.01},
            name=f"ollama-emulator:{self.port}",
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

    def __enter__(self) -> OllamaEmulator:
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
    def models(self) -> list[EmulatedModel]:
        with self._lock:
            return list(self._models.values())

    @property
    def library(self) -> list[EmulatedModel]:
        with self._lock:
            return list(self._library.values())

    def model(self, name: str) -> EmulatedModel | None:
        with self._lock:
            return self._models.get(_key(name))

    def add_model(self, m: EmulatedModel) -> None:
        """Install (or replace) a model. An empty digest is filled in on the object."""
        if not m.digest:
            m.digest = _digest(m)
        with self._lock:
            self._models[_key(m.name)] = m
            self._cache.clear()

    def add_to_library(self, m: EmulatedModel) -> None:
        """Make a model pullable (not installed until /api/pull)."""
        if not m.digest:
            m.digest = _digest(m)
        with self._lock:
            self._library[_key(m.name)] = m

    def remove_model(self, name: str) -> None:
        with self._lock:
            self._models.pop(_key(name), None)
            self.loaded.pop(normalize_name(name), None)
            self._cache.clear()

    def set_digest(self, name: str, digest: str) -> None:
        with self._lock:
            m = self._models.get(_key(name))
            if m is None:
                raise KeyError(name)
            m.digest = digest
            self._cache.clear()

    def invalidate(self) -> None:
        """Forget cached /api/tags and /api/show bodies (after mutating a model in place)."""
        with self._lock:
            self._cache.clear()

    def count(self, path: str, method: str | None = None) -> int:
        with self._lock:
            return sum(
                1
                for r in self.requests
                if r.path == path and (method is None or r.method == method)
            )

    def reset_counts(self) -> None:
        with self._lock:
            self.requests.clear()

    def blob_exists(self, digest: str) -> bool:
        digest = digest.replace("-", ":", 1)
        with self._lock:
            if digest in self._blobs or digest in self._downloaded:
                return True
            return any(d == digest for m in self._models.values() for _, d, _ in _layers(m))

    # -- request entry point

    def _handle(self, h: _Handler, method: str) -> None:
        path, _, query = h.path.partition("?")
        try:
            raw = h.read_body()
        except (OSError, ValueError):
            h.close_connection = True
            return
        body: dict[str, Any] | None = None
        bad_json: str | None = None
        if raw and not path.startswith("/api/blobs/"):
            try:
                parsed = json.loads(raw)
                body = parsed if isinstance(parsed, dict) else None
                if body is None:
                    bad_json = "json: cannot unmarshal into Go value of type api.Request"
            except ValueError:
                first = raw.lstrip()[:1].decode("latin-1") or " "
                bad_json = f"invalid character {first!r} looking for beginning of value"
        record = RecordedRequest(
            method, path, body, {k.lower(): v for k, v in h.headers.items()}, query
        )
        with self._lock:
            self.requests.append(record)
        if self.latency_s:
            time.sleep(self.latency_s)

        injected = self.errors.get(path)
        if injected is not None:
            status, message = injected
            h.send_error_json(status, message)
            return
        if path in self.malformed_paths:
            self._send_malformed(h, path, body)
            return
        raw_reply = self.raw_replies.get(path)
        if raw_reply is not None and self._raw_reply_applies(raw_reply, body):
            self._send_raw_reply(h, raw_reply)
            return

        routes = _ROUTES.get(path)
        if routes is None and path.startswith("/api/blobs/"):
            routes = _BLOB_ROUTES
        if routes is None:
            h.send_text(404, "404 page not found")
            return
        handler = routes.get(method)
        if handler is None:
            h.send_text(405, "405 method not allowed")
            return
        if handler in _JSON_HANDLERS:
            if not raw:
                h.send_error_json(400, "missing request body")
                return
            if bad_json is not None:
                h.send_error_json(400, bad_json)
                return
        handler(self, h, body or {}, raw, path)

    def _send_malformed(self, h: _Handler, path: str, body: dict[str, Any] | None) -> None:
        streaming = path in ("/api/chat", "/api/generate", "/api/pull", "/api/create", "/api/push")
        if streaming and (body or {}).get("stream") is not False:
            if h.start_chunked():
                h.chunk(MALFORMED_JSON + b"\n")
                h.end_chunked()
            return
        h.send_raw(200, MALFORMED_JSON, "application/json; charset=utf-8")

    def _raw_reply_applies(self, reply: RawReply, body: dict[str, Any] | None) -> bool:
        if reply.models is None:
            return True
        name = (body or {}).get("model") or (body or {}).get("name") or ""
        wanted = {normalize_name(n) for n in reply.models}
        return isinstance(name, str) and normalize_name(name) in wanted

    def _send_raw_reply(self, h: _Handler, reply: RawReply) -> None:
        pieces = [
            reply.body[i : i + reply.piece_bytes]
            for i in range(0, len(reply.body), max(1, reply.piece_bytes))
        ]
        if reply.chunked:
            head = h._head(
                reply.status,
                [("Content-Type", reply.content_type), ("Transfer-Encoding", "chunked")],
            )
        else:
            head = h._head(
                reply.status,
                [("Content-Type", reply.content_type), ("Content-Length", str(len(reply.body)))],
            )
        if not h._write(head):
            return
        sent = 0
        for piece in pieces:
            if reply.trickle_s:
                time.sleep(reply.trickle_s)
            if reply.stall_after_bytes is not None and sent >= reply.stall_after_bytes:
                time.sleep(reply.stall_s)
                reply = dataclasses.replace(reply, stall_after_bytes=None)
            sent += len(piece)
            if not (h.chunk(piece) if reply.chunked else h._write(piece)):
                return
        if reply.chunked:
            h.end_chunked()

    def tags_json(self) -> dict[str, Any]:
        """The /api/tags body this emulator answers now, as a dict a test can mutate."""
        with self._lock:
            parsed: dict[str, Any] = json.loads(self._build_tags())
            return parsed

    def show_json(self, name: str, verbose: bool = False) -> dict[str, Any]:
        """The /api/show body for an installed model, as a dict a test can mutate."""
        with self._lock:
            m = self._models.get(_key(name))
            if m is None:
                raise KeyError(name)
            return self._build_show(m, verbose)

    def chat_lines(self, name: str, reply: str | None = None) -> list[dict[str, Any]]:
        """The NDJSON objects a streamed /api/chat to `name` answers (content chunks, then done)."""
        m = self._lookup(name)
        text = reply if reply is not None else (m.reply if m is not None else DEFAULT_REPLY)
        stamp = _now_utc()
        lines: list[dict[str, Any]] = [
            {
                "model": name,
                "created_at": stamp,
                "message": {"role": "assistant", "content": piece},
                "done": False,
            }
            for piece in _chunks(text)
        ]
        lines.append(
            {
                "model": name,
                "created_at": stamp,
                "message": {"role": "assistant", "content": ""},
                "done": True,
                "done_reason": "stop",
                "total_duration": 1_000_000,
                "eval_count": len(lines),
                "eval_duration": 500_000,
            }
        )
        return lines

    # -- helpers used by routes

    def _lookup(self, name: str) -> EmulatedModel | None:
        with self._lock:
            return self._models.get(_key(name))

    def _caps(self, m: EmulatedModel) -> list[str]:
        v = _ver(self.version)
        return [c for c in m.capabilities if v >= _CAP_SINCE.get(c, (0, 0, 0))]

    def _details(self, m: EmulatedModel, extended: bool = False) -> dict[str, Any]:
        d: dict[str, Any] = {
            "parent_model": m.parent_model,
            "format": m.format,
            "family": m.family,
            "families": _families(m),
            "parameter_size": m.parameter_size,
            "quantization_level": m.quantization_level,
        }
        if extended:
            if m.context_length:
                d["context_length"] = m.context_length
            if m.embedding_length:
                d["embedding_length"] = m.embedding_length
        return d

    def _remote_model(self, m: EmulatedModel) -> str:
        if m.remote_model:
            return m.remote_model
        n = normalize_name(m.name)
        return n[: -len(":cloud")] if n.endswith(":cloud") else n.replace("-cloud", "")

    def _load(self, m: EmulatedModel, body: dict[str, Any]) -> tuple[int, bool]:
        """Mark ``m`` loaded for /api/ps. Returns (load_duration_ns, was_already_loaded)."""
        if m.remote:
            return 0, True
        keep = _parse_keep_alive(body.get("keep_alive"))
        keep = DEFAULT_KEEP_ALIVE_S if keep is None else keep
        options = body.get("options") or {}
        num_ctx = options.get("num_ctx") if isinstance(options, dict) else None
        ctx = min(
            int(num_ctx) if isinstance(num_ctx, int | float) and num_ctx > 0 else DEFAULT_NUM_CTX,
            m.context_length or DEFAULT_NUM_CTX,
        )
        head_dim = m.key_length or m.embedding_length // max(m.head_count, 1)
        kv_bytes = (
            0 if _is_embedding(m) else 2 * m.block_count * ctx * m.head_count_kv * head_dim * 2
        )
        mem = m.size + kv_bytes + 100_663_296
        now = time.time()
        expires = math.inf if keep < 0 else now + keep
        name = normalize_name(m.name)
        with self._lock:
            self._purge_expired(now)
            was = name in self.loaded
            self.loaded[name] = LoadedModel(name, m, expires, mem, mem, ctx)
        if was:
            return 12_345_678, True
        return int(1_000_000_000 * max(m.size, 1) / 4_000_000_000) + 150_000_000, False

    def _unload(self, m: EmulatedModel) -> None:
        with self._lock:
            self.loaded.pop(normalize_name(m.name), None)

    def _purge_expired(self, now: float) -> None:
        for name in [n for n, lm in self.loaded.items() if lm.expires_at <= now]:
            del self.loaded[name]

    def _metrics(
        self, started: float, load_ns: int, prompt_tokens: int, eval_count: int
    ) -> dict[str, int]:
        prompt_ns = prompt_tokens * 310_000 + 5_000_000
        eval_ns = max(eval_count, 1) * 19_500_000
        total = max(
            load_ns + prompt_ns + eval_ns + 1_200_000, int((time.perf_counter() - started) * 1e9)
        )
        return {
            "total_duration": total,
            "load_duration": load_ns,
            "prompt_eval_count": prompt_tokens,
            "prompt_eval_duration": prompt_ns,
            "eval_count": max(eval_count, 1),
            "eval_duration": eval_ns,
        }

    def _tool_calls(self, tools: list[Any]) -> list[dict[str, Any]]:
        fn = (tools[0] or {}).get("function") or {}
        params = fn.get("parameters") or {}
        props = params.get("properties") or {}
        required = params.get("required") or list(props)
        args = {k: _sample(props.get(k, {}), k) for k in required}
        call: dict[str, Any] = {}
        v = _ver(self.version)
        if v >= (0, 12, 10):
            with self._lock:
                self._call_ids += 1
                n = self._call_ids
            call["id"] = "call_" + _sha(f"call:{n}")[:8]
        function: dict[str, Any] = {}
        if v >= (0, 12, 6):
            function["index"] = 0
        function["name"] = fn.get("name", "")
        function["arguments"] = args
        call["function"] = function
        return [call]

    def _plan(
        self, m: EmulatedModel, body: dict[str, Any], wants_tool: bool
    ) -> tuple[list[str], list[str], list[dict[str, Any]] | None, str]:
        """(thinking chunks, content chunks, tool calls, done_reason) for chat/generate."""
        think = body.get("think")
        v = _ver(self.version)
        has_thinking = "thinking" in m.capabilities and bool(m.thinking)
        thinking_chunks: list[str] = []
        reply = m.reply
        fmt = body.get("format")
        if fmt == "json":
            reply = json.dumps({"response": m.reply})
        elif isinstance(fmt, dict):
            reply = json.dumps(_sample(fmt))
        if has_thinking:
            if v < (0, 9, 0) or (think is None and v < (0, 12, 4)):
                reply = f"<think>\n{m.thinking}\n</think>\n\n{reply}"
            elif think is None or _think_on(think):
                thinking_chunks = _chunks(m.thinking)
        if self.answer_region_applies(m, body):
            reply = self.region_reply(m, body)
        tool_calls = None
        if wants_tool:
            tool_calls = self._tool_calls(body.get("tools") or [])
            content: list[str] = []
        else:
            content = _chunks(reply)
        reason = "stop"
        options = body.get("options") if isinstance(body.get("options"), dict) else {}
        num_predict = options.get("num_predict") if options else None
        if (
            isinstance(num_predict, int)
            and not isinstance(num_predict, bool)
            and num_predict > 0
            and len(content) > num_predict
        ):
            content = content[:num_predict]
            reason = "length"
        return thinking_chunks, content, tool_calls, reason

    @staticmethod
    def answer_region_applies(m: EmulatedModel, body: dict[str, Any]) -> bool:
        return bool(m.answer_region) and isinstance(body.get("messages"), list)

    @staticmethod
    def region_distance(m: EmulatedModel, options: dict[str, Any]) -> float:
        """How far (normalised, see EmulatedModel.answer_region) the options are from the centre."""
        far = 0.0
        for name, (centre, tolerance) in m.answer_region.items():
            value = options.get(name)
            if not isinstance(value, int | float) or isinstance(value, bool):
                return math.inf
            far = max(far, abs(float(value) - centre) / max(tolerance, 1e-12))
        return far

    def region_reply(self, m: EmulatedModel, body: dict[str, Any]) -> str:
        options = body.get("options") if isinstance(body.get("options"), dict) else {}
        messages = [x for x in body.get("messages") or [] if isinstance(x, dict)]
        users = [str(x.get("content") or "") for x in messages if x.get("role") == "user"]
        prompt = users[-1] if users else ""
        h = int(hashlib.sha256(prompt.encode()).hexdigest()[:8], 16) / 16**8
        if self.region_distance(m, options or {}) <= 0.3 + 0.7 * h:
            return prompt
        return m.reply

    def _check_generation(
        self, m: EmulatedModel, body: dict[str, Any], name: str, verb: str
    ) -> _StreamError | None:
        caps = m.capabilities
        think = body.get("think")
        if "thinking" not in caps and _think_on(think) and _ver(self.version) >= (0, 9, 0):
            return _StreamError(400, f"{_goq(name)} does not support thinking")
        if "completion" not in caps:
            return _StreamError(400, f"{_goq(name)} does not support {verb}")
        if verb == "chat" and body.get("tools") and "tools" not in caps:
            return _StreamError(400, f"{_qualified(m.name)} does not support tools")
        if verb == "generate" and body.get("suffix") and "insert" not in caps:
            return _StreamError(400, f"{_qualified(m.name)} does not support insert")
        top = body.get("top_logprobs")
        if isinstance(top, int) and not 0 <= top <= 20:
            return _StreamError(400, "top_logprobs must be between 0 and 20")
        return None

    # -- routes

    def _r_root(self, h: _Handler, body: dict[str, Any], raw: bytes, path: str) -> None:
        h.send_text(200, "Ollama is running")

    def _r_version(self, h: _Handler, body: dict[str, Any], raw: bytes, path: str) -> None:
        h.send_json(200, {"version": self.version})

    def _r_tags(self, h: _Handler, body: dict[str, Any], raw: bytes, path: str) -> None:
        key = ("tags", self.old_server, self.version)
        with self._lock:
            data = self._cache.get(key)
            if data is None:
                data = self._build_tags()
                self._cache[key] = data
        h.send_raw(200, data, "application/json; charset=utf-8")

    def _build_tags(self) -> bytes:
        extended = not self.old_server and _ver(self.version) >= (0, 30, 0)
        entries = []
        for m in self._models.values():
            n = normalize_name(m.name)
            e: dict[str, Any] = {"name": n, "model": n}
            if m.remote:
                e["remote_model"] = self._remote_model(m)
                e["remote_host"] = m.remote_host
            e["modified_at"] = m.modified_at
            e["size"] = m.size
            e["digest"] = _digest(m)
            e["details"] = self._details(m, extended)
            caps = self._caps(m)
            if extended and caps:
                e["capabilities"] = caps
            entries.append((-int(_epoch_of(m.modified_at)), e))
        entries.sort(key=lambda pair: pair[0])  # newest first, stable
        return _dumps({"models": [e for _, e in entries]})

    def _r_show(self, h: _Handler, body: dict[str, Any], raw: bytes, path: str) -> None:
        name = body.get("model") or body.get("name") or ""
        if not isinstance(name, str) or not name:
            h.send_error_json(400, "model is required")
            return
        verbose = bool(body.get("verbose"))
        key = ("show", _key(name), self.old_server, self.version, verbose)
        with self._lock:
            data = self._cache.get(key)
            if data is None:
                m = self._models.get(_key(name))
                if m is not None:
                    data = _dumps(self._build_show(m, verbose))
                    self._cache[key] = data
        if data is None:
            h.send_error_json(404, f"model '{normalize_name(name)}' not found")
            return
        h.send_raw(200, data, "application/json; charset=utf-8")

    def _build_show(self, m: EmulatedModel, verbose: bool) -> dict[str, Any]:
        out: dict[str, Any] = {}
        template = _template(m)
        if m.license:
            out["license"] = m.license
        out["modelfile"] = _modelfile(m)
        if m.parameters:
            out["parameters"] = m.parameters
        if template:
            out["template"] = template
        if m.system:
            out["system"] = m.system
        out["details"] = self._details(m)
        if m.messages:
            out["messages"] = [
                {"role": x.get("role", "user"), "content": x.get("content", "")} for x in m.messages
            ]
        if m.remote:
            arch = m.architecture or m.family
            out["remote_model"] = self._remote_model(m)
            out["remote_host"] = m.remote_host
            info: dict[str, Any] = {"general.architecture": arch}
            info["general.basename"] = normalize_name(m.name).split(":")[0].rsplit("/", 1)[-1]
            if m.context_length:
                info[f"{arch}.context_length"] = m.context_length
            if m.embedding_length:
                info[f"{arch}.embedding_length"] = m.embedding_length
            out["model_info"] = dict(sorted(info.items()))
        else:
            out["model_info"] = _model_info(m, verbose)
            if m.projector:
                out["projector_info"] = dict(_PROJECTOR_INFO)
            out["tensors"] = _tensors(m)
        caps = self._caps(m)
        if caps and not self.old_server and _ver(self.version) >= (0, 6, 4):
            out["capabilities"] = caps
        out["modified_at"] = m.modified_at
        return out

    def _r_ps(self, h: _Handler, body: dict[str, Any], raw: bytes, path: str) -> None:
        now = time.time()
        with_ctx = _ver(self.version) >= (0, 10, 0)
        with self._lock:
            self._purge_expired(now)
            loaded = sorted(self.loaded.values(), key=lambda lm: -lm.expires_at)
            entries = []
            for lm in loaded:
                details = self._details(lm.model)
                details["parent_model"] = ""
                expires = (
                    datetime(2318, 12, 31, tzinfo=UTC)
                    if math.isinf(lm.expires_at)
                    else datetime.fromtimestamp(lm.expires_at, UTC)
                )
                e: dict[str, Any] = {
                    "name": lm.name,
                    "model": lm.name,
                    "size": lm.size,
                    "digest": _digest(lm.model),
                    "details": details,
                    "expires_at": expires.astimezone().isoformat(timespec="microseconds"),
                    "size_vram": lm.size_vram,
                }
                if with_ctx:
                    e["context_length"] = lm.context_length
                entries.append(e)
        h.send_json(200, {"models": entries})

    def _r_chat(self, h: _Handler, body: dict[str, Any], raw: bytes, path: str) -> None:
        started = time.perf_counter()
        name = body.get("model") or ""
        if not isinstance(name, str) or not name:
            h.send_error_json(400, "model is required")
            return
        m = self._lookup(name)
        if m is None:
            h.send_error_json(404, f"model '{name}' not found")
            return
        messages = body.get("messages") or []
        keep = _parse_keep_alive(body.get("keep_alive"))
        if not messages and keep == 0:
            self._unload(m)
            h.send_json(
                200,
                {
                    "model": name,
                    "created_at": _now_utc(),
                    "message": {"role": "assistant", "content": ""},
                    "done": True,
                    "done_reason": "unload",
                },
            )
            return
        err = self._check_generation(m, body, name, "chat")
        if err is not None:
            h.send_error_json(err.status, err.message)
            return
        load_ns, _ = self._load(m, body)
        if not messages:
            h.send_json(
                200,
                {
                    "model": name,
                    "created_at": _now_utc(),
                    "message": {"role": "assistant", "content": ""},
                    "done": True,
                    "done_reason": "load",
                },
            )
            return
        tools = body.get("tools") or []
        last = messages[-1] if isinstance(messages[-1], dict) else {}
        # a tool call answers a user's question; after a "tool" result the model replies in text
        wants_tool = (
            bool(tools)
            and last.get("role") == "user"
            and "weather" in str(last.get("content") or "").lower()
        )
        prompt_text = " ".join(str(x.get("content") or "") for x in messages if isinstance(x, dict))
        prompt_tokens = (
            _tokens(prompt_text) + 4 * len(messages) + 6 + (_tokens(m.system) if m.system else 0)
        )
        thinking, content, tool_calls, reason = self._plan(m, body, wants_tool)
        eval_count = len(thinking) + len(content) + (8 if tool_calls else 0)

        if body.get("stream") is False:
            message: dict[str, Any] = {"role": "assistant", "content": "".join(content)}
            if thinking:
                message["thinking"] = "".join(thinking)
            if tool_calls:
                message["tool_calls"] = tool_calls
            out = {
                "model": name,
                "created_at": _now_utc(),
                "message": message,
                "done": True,
                "done_reason": reason,
            }
            out.update(self._metrics(started, load_ns, prompt_tokens, eval_count))
            h.send_json(200, out)
            return

        def events() -> Iterator[dict[str, Any]]:
            for t in thinking:
                yield {
                    "model": name,
                    "created_at": _now_utc(),
                    "message": {"role": "assistant", "content": "", "thinking": t},
                    "done": False,
                }
            if tool_calls:
                yield {
                    "model": name,
                    "created_at": _now_utc(),
                    "message": {"role": "assistant", "content": "", "tool_calls": tool_calls},
                    "done": False,
                }
            for c in content:
                yield {
                    "model": name,
                    "created_at": _now_utc(),
                    "message": {"role": "assistant", "content": c},
                    "done": False,
                }
            final = {
                "model": name,
                "created_at": _now_utc(),
                "message": {"role": "assistant", "content": ""},
                "done": True,
                "done_reason": reason,
            }
            final.update(self._metrics(started, load_ns, prompt_tokens, eval_count))
            yield final

        h.stream(events(), total=len(thinking) + len(content) + (1 if tool_calls else 0) + 1)

    def _r_generate(self, h: _Handler, body: dict[str, Any], raw: bytes, path: str) -> None:
        started = time.perf_counter()
        name = body.get("model") or ""
        if not isinstance(name, str):
            name = ""
        m = self._lookup(name) if name else None
        if m is None:
            h.send_error_json(404, f"model '{name}' not found")
            return
        prompt = body.get("prompt") or ""
        keep = _parse_keep_alive(body.get("keep_alive"))
        if not prompt and keep == 0:
            self._unload(m)
            h.send_json(
                200,
                {
                    "model": name,
                    "created_at": _now_utc(),
                    "response": "",
                    "done": True,
                    "done_reason": "unload",
                },
            )
            return
        if body.get("raw") and (body.get("template") or body.get("system") or body.get("context")):
            h.send_error_json(400, "raw mode does not support template, system, or context")
            return
        err = self._check_generation(m, body, name, "generate")
        if err is not None:
            h.send_error_json(err.status, err.message)
            return
        load_ns, _ = self._load(m, body)
        if not prompt:
            h.send_json(
                200,
                {
                    "model": name,
                    "created_at": _now_utc(),
                    "response": "",
                    "done": True,
                    "done_reason": "load",
                },
            )
            return
        prompt_tokens = _tokens(prompt + str(body.get("system") or m.system)) + 10
        thinking, content, _, reason = self._plan(m, body, False)
        eval_count = len(thinking) + len(content)
        context = list(range(1, min(prompt_tokens + eval_count, 64) + 1))

        def final_fields() -> dict[str, Any]:
            out: dict[str, Any] = {"done": True, "done_reason": reason, "context": context}
            out.update(self._metrics(started, load_ns, prompt_tokens, eval_count))
            return out

        if body.get("stream") is False:
            out: dict[str, Any] = {
                "model": name,
                "created_at": _now_utc(),
                "response": "".join(content),
            }
            if thinking:
                out["thinking"] = "".join(thinking)
            out.update(final_fields())
            h.send_json(200, out)
            return

        def events() -> Iterator[dict[str, Any]]:
            for t in thinking:
                yield {
                    "model": name,
                    "created_at": _now_utc(),
                    "response": "",
                    "thinking": t,
                    "done": False,
                }
            for c in content:
                yield {"model": name, "created_at": _now_utc(), "response": c, "done": False}
            yield {"model": name, "created_at": _now_utc(), "response": "", **final_fields()}

        h.stream(events(), total=len(thinking) + len(content) + 1)

    def _r_embed(self, h: _Handler, body: dict[str, Any], raw: bytes, path: str) -> None:
        started = time.perf_counter()
        name = body.get("model") or ""
        if not isinstance(name, str) or not name:
            h.send_error_json(404, f"model '{name}' not found")
            return
        value = body.get("input")
        if isinstance(value, str):
            inputs = [value] if value else []
        elif isinstance(value, list):
            if not all(isinstance(x, str) for x in value):
                h.send_error_json(400, "invalid input type")
                return
            inputs = list(value)
        elif value is None:
            inputs = []
        else:
            h.send_error_json(400, "invalid input type")
            return
        m = self._lookup(name)
        if m is None:
            h.send_error_json(404, f"model {_goq(name)} not found, try pulling it first")
            return
        load_ns, _ = self._load(m, body)
        if not inputs:
            h.send_json(200, {"model": name, "embeddings": []})
            return
        if body.get("truncate") is False and any(_tokens(t) > m.context_length for t in inputs):
            h.send_error_json(400, "the input length exceeds the context length")
            return
        dims = body.get("dimensions")
        vectors = []
        for text in inputs:
            vec = _embedding(text, m.embedding_dim)
            if isinstance(dims, int) and 0 < dims < len(vec):
                vec = _renormalise(vec[:dims])
            vectors.append(vec)
        tokens = sum(min(_tokens(t) + 2, m.context_length) for t in inputs)
        elapsed = max(int((time.perf_counter() - started) * 1e9), 0)
        h.send_json(
            200,
            {
                "model": name,
                "embeddings": vectors,
                "total_duration": load_ns + tokens * 120_000 + 2_000_000 + elapsed,
                "load_duration": load_ns,
                "prompt_eval_count": tokens,
            },
        )

    def _r_embeddings(self, h: _Handler, body: dict[str, Any], raw: bytes, path: str) -> None:
        name = body.get("model") or ""
        if not isinstance(name, str) or not name:
            h.send_error_json(400, "model is required")
            return
        m = self._lookup(name)
        if m is None:
            h.send_error_json(404, f"model {_goq(name)} not found, try pulling it first")
            return
        self._load(m, body)
        prompt = body.get("prompt") or ""
        h.send_json(
            200,
            {"embedding": _embedding(prompt, m.embedding_dim, normalise=False) if prompt else []},
        )

    # pull ------------------------------------------------------------------

    def _step(self, size: int) -> int:
        if self.pull_chunk_bytes:
            return max(int(self.pull_chunk_bytes), 1)
        if size < 1_048_576:
            return max(size, 1)
        return max(math.ceil(size / 10), 1)

    def _have_layer(self, digest: str) -> bool:
        with self._lock:
            if digest in self._downloaded or digest in self._blobs:
                return True
            return any(d == digest for m in self._models.values() for _, d, _ in _layers(m))

    def _pull_events(self, name: str) -> Iterator[dict[str, Any] | _StreamError]:
        key = _key(name)
        yield {"status": "pulling manifest"}
        with self._lock:
            source = self._library.get(key) or self._models.get(key)
            old = self._models.get(key)
        if source is None:
            yield _StreamError(500, "pull model manifest: file does not exist")
            return
        new = dataclasses.replace(
            source,
            name=normalize_name(source.name),
            digest=_digest(source),
            blob_digest=_blob(source),
            modified_at=_now_local(),
            families=None if source.families is None else list(source.families),
            capabilities=list(source.capabilities),
            messages=[dict(x) for x in source.messages],
            adapters=dict(source.adapters),
        )
        layers = _layers(new)
        for _, digest, size in layers:
            status = f"pulling {digest[7:19]}"
            if self._have_layer(digest):
                yield {"status": status, "digest": digest, "total": size, "completed": size}
                continue
            with self._lock:
                done = min(self._partial.get(digest, 0), size)
            first: dict[str, Any] = {"status": status, "digest": digest, "total": size}
            if done:
                first["completed"] = done
            yield first
            step = self._step(size)
            while done < size:
                done = min(size, done + step)
                yield {"status": status, "digest": digest, "total": size, "completed": done}
                with self._lock:  # runs only once the line above was handed on (i.e. sent)
                    self._partial[digest] = done
            with self._lock:
                self._partial.pop(digest, None)
                self._downloaded.add(digest)
        yield {"status": "verifying sha256 digest"}
        yield {"status": "writing manifest"}
        with self._lock:
            self._models[key] = new
            self._cache.clear()
        if old is not None and {d for _, d, _ in _layers(old)} - {d for _, d, _ in layers}:
            yield {"status": "removing unused layers"}
        yield {"status": "success"}

    def _r_pull(self, h: _Handler, body: dict[str, Any], raw: bytes, path: str) -> None:
        name = body.get("model") or body.get("name") or ""
        if not isinstance(name, str) or not name.strip():
            h.send_error_json(400, "invalid model name")
            return
        events = self._pull_events(name)
        if body.get("stream") is False:
            self._wait_for_stream(h, events)
        else:
            h.stream(events)

    def _wait_for_stream(self, h: _Handler, events: Iterable[Any]) -> None:
        latest: Any = {"status": ""}
        for item in events:
            if isinstance(item, _StreamError):
                h.send_json(item.status, {"error": item.message}, "application/json")
                return
            latest = item
        h.send_json(200, latest, "application/json")

    # create ----------------------------------------------------------------

    def _r_create(self, h: _Handler, body: dict[str, Any], raw: bytes, path: str) -> None:
        name = body.get("model") or body.get("name") or ""
        if not isinstance(name, str) or not re.match(
            r"^[A-Za-z0-9][A-Za-z0-9_.\-/:]*$", name.strip()
        ):
            h.send_error_json(400, "invalid model name")
            return
        files = body.get("files")
        adapters = body.get("adapters")
        for mapping in (files, adapters):
            if isinstance(mapping, dict) and any(not d for d in mapping.values()):
                h.send_error_json(400, "invalid digest format")
                return
        if not body.get("from") and files is None:
            h.send_error_json(400, "neither 'from' or 'files' was specified")
            return
        events = self._create_events(name, body)
        if body.get("stream") is False:
            self._wait_for_stream(h, events)
        else:
            h.stream(events)

    def _create_events(
        self, name: str, body: dict[str, Any]
    ) -> Iterator[dict[str, Any] | _StreamError]:
        target = normalize_name(name)
        from_ = body.get("from")
        files = body.get("files") or {}
        adapters = body.get("adapters") or {}
        base: EmulatedModel | None = None
        if from_:
            base = self._lookup(from_)
            if base is None:  # Ollama pulls a missing FROM model
                for item in self._pull_events(from_):
                    yield item
                    if isinstance(item, _StreamError):
                        return
                base = self._lookup(from_)
                if base is None:
                    return
        for digest in [*files.values(), *adapters.values()]:
            if not self.blob_exists(str(digest)):
                yield _StreamError(
                    500,
                    f"open {_BLOBS_DIR}/{str(digest).replace(':', '-')}: no such file or directory",
                )
                return
        if base is not None:
            new = dataclasses.replace(
                base,
                name=target,
                digest="",
                blob_digest=_blob(base),
                modified_at=_now_local(),
                families=None if base.families is None else list(base.families),
                capabilities=list(base.capabilities),
                messages=[dict(x) for x in base.messages],
                adapters=dict(base.adapters),
                template=_template(base),
                remote=base.remote,
            )
        else:
            kind = "safetensors" if any(str(f).endswith(".safetensors") for f in files) else "gguf"
            if not any(str(f).endswith((".safetensors", ".gguf")) for f in files):
                yield _StreamError(400, "unknown type")
                return
            with self._lock:
                total = sum(self._blobs.get(str(d).replace("-", ":", 1), 0) for d in files.values())
            yield {"status": "converting model" if kind == "safetensors" else "parsing GGUF"}
            new = EmulatedModel(
                name=target,
                format="gguf",
                size=max(total, 1),
                blob_digest=_sha("files:" + ",".join(sorted(map(str, files.values())))),
                modified_at=_now_local(),
                quantization_level="F16" if kind == "safetensors" else "Q4_K_M",
            )
        if adapters:
            yield {"status": "parsing GGUF"}
            new.adapters = {str(k): str(v) for k, v in adapters.items()}
        quantize = body.get("quantize") or body.get("quantization")
        if quantize:
            want = str(quantize).upper()
            source_q = new.quantization_level.upper()
            if source_q not in ("F16", "BF16", "F32"):
                yield _StreamError(
                    500, "quantization is only supported for F16, BF16 and F32 models"
                )
                return
            if want != source_q:
                status = f"quantizing {source_q} model to {want}"
                for frac in (0.0, 0.25, 0.5, 0.75, 1.0):
                    yield {
                        "status": status,
                        "digest": "0000000000000000000",
                        "total": new.size,
                        "completed": int(new.size * frac) or 12302,
                    }
                yield {"status": "verifying conversion"}
                new.size = int(new.size * _BITS.get(want, 4.85) / _BITS.get(source_q, 16.0))
                new.quantization_level = want
                new.blob_digest = _sha(f"quantized:{want}:{new.blob_digest}")
        if body.get("template"):
            new.template = str(body["template"])
        if body.get("system"):
            new.system = str(body["system"])
        lic = body.get("license")
        if isinstance(lic, list):
            new.license = "\n".join(str(x) for x in lic)
        elif isinstance(lic, str) and lic:
            new.license = lic
        params = body.get("parameters")
        if isinstance(params, dict) and params:
            new.parameters = _render_parameters(new.parameters, params)
        msgs = body.get("messages")
        if isinstance(msgs, list) and msgs:
            new.messages = [
                {"role": str(x.get("role", "user")), "content": str(x.get("content", ""))}
                for x in msgs
                if isinstance(x, dict)
            ]
        layers = _layers(new)[:-1]
        new.digest = _sha("manifest:" + ",".join(d for _, d, _ in layers) + new.format)
        for _, digest, _ in layers:
            verb = "using existing layer" if self._have_layer(digest) else "creating new layer"
            yield {"status": f"{verb} {digest}"}
        yield {"status": "writing manifest"}
        with self._lock:
            self._models[_key(target)] = new
            self._downloaded.update(d for _, d, _ in layers)
            self._cache.clear()
        yield {"status": "success"}

    # copy / delete / blobs --------------------------------------------------

    def _r_copy(self, h: _Handler, body: dict[str, Any], raw: bytes, path: str) -> None:
        source = body.get("source") or ""
        dest = body.get("destination") or ""
        if not isinstance(source, str) or not source:
            h.send_error_json(400, f"source {_goq(str(source))} is invalid")
            return
        if not isinstance(dest, str) or not dest:
            h.send_error_json(400, f"destination {_goq(str(dest))} is invalid")
            return
        with self._lock:
            src = self._models.get(_key(source))
            if src is None:
                h.send_error_json(404, f"model {_goq(source)} not found")
                return
            copy = dataclasses.replace(
                src,
                name=normalize_name(dest),
                digest=_digest(src),
                blob_digest=_blob(src),
                modified_at=_now_local(),
                families=None if src.families is None else list(src.families),
                capabilities=list(src.capabilities),
                messages=[dict(x) for x in src.messages],
                adapters=dict(src.adapters),
            )
            self._models[_key(dest)] = copy
            self._cache.clear()
        h.send_raw(200, b"", None)

    def _r_delete(self, h: _Handler, body: dict[str, Any], raw: bytes, path: str) -> None:
        name = body.get("model") or body.get("name") or ""
        if not isinstance(name, str) or not name:
            h.send_error_json(400, f"name {_goq(str(name))} is invalid")
            return
        with self._lock:
            m = self._models.pop(_key(name), None)
            if m is not None:
                self._cache.clear()
                keep = {d for other in self._models.values() for _, d, _ in _layers(other)}
                for _, d, _ in _layers(m):
                    if d not in keep:
                        self._downloaded.discard(d)
        if m is None:
            h.send_error_json(404, f"model '{name}' not found")
            return
        h.send_raw(200, b"", None)

    def _r_blob(self, h: _Handler, body: dict[str, Any], raw: bytes, path: str) -> None:
        digest = path[len("/api/blobs/") :]
        if not re.match(r"^sha256[:-][0-9a-fA-F]{64}$", digest):
            h.send_error_json(400, "invalid digest format")
            return
        if h.command == "HEAD":
            if self.blob_exists(digest):
                h.send_raw(200, b"", None)
            else:
                h.send_error_json(404, f"blob {_goq(digest)} not found")
            return
        if self.blob_exists(digest):
            h.send_raw(200, b"", None)
            return
        actual = "sha256:" + hashlib.sha256(raw).hexdigest()
        if actual != digest:
            h.send_error_json(400, f"digest mismatch, expected {_goq(digest)}, got {_goq(actual)}")
            return
        with self._lock:
            self._blobs[actual] = len(raw)
        h.send_raw(201, b"", None)

    def _r_push(self, h: _Handler, body: dict[str, Any], raw: bytes, path: str) -> None:
        name = body.get("model") or body.get("name") or ""
        m = self._lookup(name) if isinstance(name, str) and name else None
        if m is None:
            h.send_error_json(
                400 if not name else 404,
                "model is required" if not name else f"model '{name}' not found",
            )
            return

        def events() -> Iterator[dict[str, Any]]:
            yield {"status": "retrieving manifest"}
            for _, digest, size in _layers(m):
                yield {"status": f"pushing {digest[7:19]}", "digest": digest, "total": size}
                yield {
                    "status": f"pushing {digest[7:19]}",
                    "digest": digest,
                    "total": size,
                    "completed": size,
                }
            yield {"status": "pushing manifest"}
            yield {"status": "success"}

        if body.get("stream") is False:
            self._wait_for_stream(h, events())
        else:
            h.stream(events())


_Route = Any
_ROUTES: dict[str, dict[str, _Route]] = {
    "/": {"GET": OllamaEmulator._r_root, "HEAD": OllamaEmulator._r_root},
    "/api/version": {"GET": OllamaEmulator._r_version, "HEAD": OllamaEmulator._r_version},
    "/api/tags": {"GET": OllamaEmulator._r_tags, "HEAD": OllamaEmulator._r_tags},
    "/api/show": {"POST": OllamaEmulator._r_show},
    "/api/ps": {"GET": OllamaEmulator._r_ps},
    "/api/chat": {"POST": OllamaEmulator._r_chat},
    "/api/generate": {"POST": OllamaEmulator._r_generate},
    "/api/embed": {"POST": OllamaEmulator._r_embed},
    "/api/embeddings": {"POST": OllamaEmulator._r_embeddings},
    "/api/pull": {"POST": OllamaEmulator._r_pull},
    "/api/push": {"POST": OllamaEmulator._r_push},
    "/api/create": {"POST": OllamaEmulator._r_create},
    "/api/copy": {"POST": OllamaEmulator._r_copy},
    "/api/delete": {"DELETE": OllamaEmulator._r_delete},
}
_BLOB_ROUTES: dict[str, _Route] = {"HEAD": OllamaEmulator._r_blob, "POST": OllamaEmulator._r_blob}
_JSON_HANDLERS = {
    OllamaEmulator._r_show,
    OllamaEmulator._r_chat,
    OllamaEmulator._r_generate,
    OllamaEmulator._r_embed,
    OllamaEmulator._r_embeddings,
    OllamaEmulator._r_pull,
    OllamaEmulator._r_push,
    OllamaEmulator._r_create,
    OllamaEmulator._r_copy,
    OllamaEmulator._r_delete,
}


# --------------------------------------------------------------------------- model sets

_LLAMA31_TEMPLATE = (
    "{{- if or .System .Tools }}<|start_header_id|>system<|end_header_id|>\n"
    "{{- if .System }}\n\n{{ .System }}{{- end }}\n"
    "{{- if .Tools }}\n\nYou have access to the following functions:\n"
    "{{ range .Tools }}{{ . }}\n{{ end }}{{- end }}<|eot_id|>\n{{- end }}\n"
    "{{- range $i, $_ := .Messages }}<|start_header_id|>{{ .Role }}<|end_header_id|>\n\n"
    "{{ .Content }}<|eot_id|>{{ end }}<|start_header_id|>assistant<|end_header_id|>\n\n"
)
_QWEN3_TEMPLATE = (
    "{{- if .Messages }}\n{{- if or .System .Tools }}<|im_start|>system\n"
    "{{- if .System }}\n{{ .System }}\n{{- end }}\n"
    '{{- if .Tools }}\n\n# Tools\n\n<tools>\n{{- range .Tools }}\n{"type": "function", "function": {{ .Function }}}\n'
    "{{- end }}\n</tools>\n{{- end }}<|im_end|>\n{{ end }}\n"
    "{{- range $i, $_ := .Messages }}<|im_start|>{{ .Role }}\n"
    '{{- if and $.IsThinkSet (eq .Role "assistant") }}<think>{{ .Thinking }}</think>{{ end }}\n'
    "{{ .Content }}<|im_end|>\n{{ end }}<|im_start|>assistant\n"
    "{{- if and .IsThinkSet (not .Think) }}\n<think>\n\n</think>\n\n{{ end }}\n"
    "{{- else }}{{ .Prompt }}{{ end }}"
)
_LLAVA_TEMPLATE = "[INST] {{ if .System }}{{ .System }} {{ end }}{{ .Prompt }} [/INST]"
_PHI_TEMPLATE = "{{ if .System }}System: {{ .System }}\n{{ end }}User: {{ .Prompt }}\nAssistant:"


def _params(*pairs: tuple[str, str]) -> str:
    return "\n".join(f"{k:<30} {v}" for k, v in pairs)


def standard_models() -> list[EmulatedModel]:
    """Five realistic installed models, one per capability shape the app cares about."""
    return [
        EmulatedModel(
            name="nomic-embed-text:latest",
            family="nomic-bert",
            families=["nomic-bert"],
            parameter_size="137M",
            quantization_level="F16",
            size=274_302_450,
            digest="0a109f422b47e3a30ba2b10eca18548e944e8a23073ee3f3e947efcf3c45e59f",
            capabilities=["embedding"],
            parameter_count=136_727_040,
            context_length=2048,
            embedding_length=768,
            block_count=12,
            head_count=12,
            head_count_kv=12,
            parameters=_params(("num_ctx", "8192")),
            license="Apache License\nVersion 2.0, January 2004",
            modified_at="2024-05-28T09:12:44.185375-07:00",
            embedding_dim=768,
        ),
        EmulatedModel(
            name="llava:7b",
            family="llama",
            families=["llama", "clip"],
            parameter_size="7B",
            quantization_level="Q4_0",
            size=4_733_363_377,
            digest="8dd30f6b0cb19f555f2c7a7ebda861449ea2cc76bf1f44e262931f45fc81d081",
            capabilities=["completion", "vision"],
            parameter_count=7_241_732_096,
            context_length=32768,
            embedding_length=4096,
            block_count=32,
            head_count=32,
            head_count_kv=8,
            template=_LLAVA_TEMPLATE,
            parameters=_params(("stop", '"[INST]"'), ("stop", '"[/INST]"')),
            license="Apache License\nVersion 2.0, January 2004",
            modified_at="2024-06-01T18:21:02.40197-07:00",
            projector=True,
            reply="The image shows a small brown dog sitting on a wooden porch.",
        ),
        EmulatedModel(
            name="qwen3:8b",
            family="qwen3",
            families=["qwen3"],
            parameter_size="8.2B",
            quantization_level="Q4_K_M",
            size=5_225_388_164,
            digest="500a1f067a9f782620b40bee6f7b0c89e17ae61f686b92c24933e4ca4b2b8b41",
            capabilities=["completion", "tools", "thinking"],
            parameter_count=8_190_735_360,
            context_length=40960,
            embedding_length=4096,
            block_count=36,
            head_count=32,
            head_count_kv=8,
            key_length=128,
            template=_QWEN3_TEMPLATE,
            parameters=_params(
                ("repeat_penalty", "1"),
                ("stop", '"<|im_start|>"'),
                ("stop", '"<|im_end|>"'),
                ("temperature", "0.6"),
                ("top_k", "20"),
                ("top_p", "0.95"),
            ),
            license="Apache License\nVersion 2.0, January 2004",
            modified_at="2025-05-02T10:41:19.311225-07:00",
            reply="The sky looks blue because air scatters short blue wavelengths of sunlight the most.",
            thinking="The user asks a simple question. Rayleigh scattering explains it; keep it short.",
        ),
        EmulatedModel(
            name="phi:2.7b",
            family="phi2",
            families=["phi2"],
            parameter_size="3B",
            quantization_level="Q4_0",
            size=1_602_463_378,
            digest="e2fd6321a5fe6bb3ac8a4e6f1cf04477fd2dea2924cf53237a995387e152ee9c",
            capabilities=["completion"],
            parameter_count=2_779_683_840,
            context_length=2048,
            embedding_length=2560,
            block_count=32,
            head_count=32,
            head_count_kv=32,
            template=_PHI_TEMPLATE,
            system="A chat between a curious user and an artificial intelligence assistant.",
            parameters=_params(
                ("stop", '"User:"'), ("stop", '"Assistant:"'), ("stop", '"System:"')
            ),
            license="MIT License\n\nCopyright (c) Microsoft Corporation.",
            modified_at="2024-04-22T07:55:10.92311-07:00",
        ),
        EmulatedModel(
            name="llama3.1:8b",
            family="llama",
            families=["llama"],
            parameter_size="8.0B",
            quantization_level="Q4_K_M",
            size=4_920_753_328,
            digest="46e0c10c039e019119339687c3c1757cc81b9da49709a3b3924863ba87ca666e",
            capabilities=["completion", "tools"],
            parameter_count=8_030_261_248,
            context_length=131072,
            embedding_length=4096,
            block_count=32,
            head_count=32,
            head_count_kv=8,
            template=_LLAMA31_TEMPLATE,
            parameters=_params(
                ("stop", '"<|start_header_id|>"'),
                ("stop", '"<|end_header_id|>"'),
                ("stop", '"<|eot_id|>"'),
            ),
            license="LLAMA 3.1 COMMUNITY LICENSE AGREEMENT\nLlama 3.1 Version Release Date: July 23, 2024",
            modified_at="2024-08-10T12:03:55.104811-07:00",
        ),
    ]


# (name stem, family, families, caps, parameter_size, parameter_count, size, ctx, emb, blocks, heads, kv heads, key_length, projector)
_PROFILES: list[tuple[Any, ...]] = [
    ("llama", "llama", None, ["completion", "tools"], "8.0B", 8_030_261_248, 4_920_753_328, 131072, 4096, 32, 32, 8, None, False),
    ("qwen3", "qwen3", None, ["completion", "tools", "thinking"], "8.2B", 8_190_735_360, 5_225_388_164, 40960, 4096, 36, 32, 8, 128, False),
    ("gemma3", "gemma3", None, ["completion", "vision"], "4.3B", 4_300_079_472, 3_338_801_804, 131072, 2560, 34, 8, 4, 256, False),
    ("nomic-embed", "nomic-bert", None, ["embedding"], "137M", 136_727_040, 274_302_450, 2048, 768, 12, 12, 12, None, False),
    ("phi", "phi3", None, ["completion"], "3.8B", 3_821_079_552, 2_176_178_913, 131072, 3072, 32, 32, 32, None, False),
    ("mistral", "llama", None, ["completion", "tools"], "7.2B", 7_248_023_552, 4_113_301_824, 32768, 4096, 32, 32, 8, None, False),
    ("llava", "llama", ["llama", "clip"], ["completion", "vision"], "7B", 7_241_732_096, 4_733_363_377, 32768, 4096, 32, 32, 8, None, True),
    ("mxbai-embed", "bert", None, ["embedding"], "334M", 334_090_240, 669_615_493, 512, 1024, 24, 16, 16, None, False),
    ("qwen2.5-coder", "qwen2", None, ["completion", "tools", "insert"], "7.6B", 7_615_616_512, 4_683_087_332, 32768, 3584, 28, 28, 4, None, False),
    ("deepseek-r1", "qwen2", None, ["completion", "thinking"], "7.6B", 7_615_616_512, 4_683_075_271, 131072, 3584, 28, 28, 4, None, False),
    ("gpt-oss", "gptoss", None, ["completion", "tools", "thinking"], "20.9B", 20_914_757_184, 13_780_173_734, 131072, 2880, 24, 64, 8, 64, False),
    ("starcoder2", "starcoder2", None, ["completion"], "3B", 3_030_371_328, 1_709_983_232, 16384, 3072, 30, 24, 2, None, False),
]  # fmt: skip
_QUANTS = ["Q4_K_M", "Q4_0", "Q8_0", "Q4_K_M", "F16", "Q5_K_M"]


def many_models(n: int) -> list[EmulatedModel]:
    """``n`` distinct installed models with varied families, capabilities and sizes."""
    out = []
    base = datetime(2025, 6, 1, 12, 0, 0, tzinfo=UTC)
    for i in range(n):
        (
            stem,
            family,
            fams,
            caps,
            psize,
            pcount,
            size,
            ctx,
            emb,
            blocks,
            heads,
            kv,
            key_len,
            proj,
        ) = _PROFILES[i % len(_PROFILES)]
        quant = "F16" if "embedding" in caps else _QUANTS[(i // len(_PROFILES)) % len(_QUANTS)]
        scaled = int(size * _BITS.get(quant, 4.85) / 4.85) if "embedding" not in caps else size
        name = f"{stem}-{i:04d}:{psize.lower().replace('.0b', 'b')}"
        out.append(
            EmulatedModel(
                name=name,
                family=family,
                families=list(fams) if fams else None,
                parameter_size=psize,
                quantization_level=quant,
                size=scaled + i,
                digest=_sha(f"many:{i}:{name}"),
                capabilities=list(caps),
                parameter_count=pcount,
                context_length=ctx,
                embedding_length=emb,
                block_count=blocks,
                head_count=heads,
                head_count_kv=kv,
                key_length=key_len,
                projector=proj,
                modified_at=(base - timedelta(minutes=7 * i))
                .astimezone()
                .isoformat(timespec="microseconds"),
                thinking="Let me think about this step by step." if "thinking" in caps else "",
                embedding_dim=emb if "embedding" in caps else 768,
                license="Apache License\nVersion 2.0, January 2004" if i % 3 else "",
            )
        )
    return out

"""The Ollama emulator is faithful: the official ``ollama`` client (sync and async) works against
it unchanged, every JSON body and NDJSON line it sends validates against Ollama's own OpenAPI
description, its bodies have the shape of the real ones in ``../shared/protocols/ollama-fixtures``,
its error texts are Ollama's, and each fault switch does what it says.

Tests that need ``../shared/protocols`` skip (with the reason) when it is not beside the checkout.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import threading
import time
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import ollama
import pytest

from tests.servers.ollama_emulator import (
    MALFORMED_JSON,
    EmulatedModel,
    OllamaEmulator,
    many_models,
    normalize_name,
    standard_models,
)

PROTOCOLS = Path(__file__).resolve().parents[2].parent / "shared" / "protocols"
FIXTURES = PROTOCOLS / "ollama-fixtures"
NO_PROTOCOLS = (
    "../shared/protocols is not beside this checkout: no Ollama OpenAPI schema or fixtures "
    "to hold the emulator to"
)

LIBRARY_MODEL = EmulatedModel(
    name="gemma3:4b",
    family="gemma3",
    parameter_size="4.3B",
    size=3_338_801_804,
    capabilities=["completion", "vision"],
    embedding_length=2560,
    block_count=34,
    head_count=8,
    head_count_kv=4,
    key_length=256,
)
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the weather in a given city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string", "description": "The city"}},
            "required": ["city"],
        },
    },
}
HI = [{"role": "user", "content": "hi"}]


def get(url: str, **kwargs: Any) -> httpx.Response:
    """httpx.get without building a certificate store (the emulator speaks plain HTTP)."""
    return httpx.get(url, verify=False, **kwargs)


def post(url: str, **kwargs: Any) -> httpx.Response:
    return httpx.post(url, verify=False, **kwargs)


# --------------------------------------------------------------------------- capture


@dataclass
class Exchange:
    """One HTTP exchange exactly as the client received it."""

    method: str
    path: str
    status: int
    content_type: str
    body: bytearray = field(default_factory=bytearray)

    def json(self) -> Any:
        return json.loads(self.body)

    def lines(self) -> list[Any]:
        return [json.loads(line) for line in bytes(self.body).splitlines() if line.strip()]


class _TeeStream(httpx.SyncByteStream):
    def __init__(self, inner: httpx.SyncByteStream, sink: bytearray) -> None:
        self._inner, self._sink = inner, sink

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._inner:
            self._sink.extend(chunk)
            yield chunk

    def close(self) -> None:
        self._inner.close()


class _AsyncTeeStream(httpx.AsyncByteStream):
    def __init__(self, inner: httpx.AsyncByteStream, sink: bytearray) -> None:
        self._inner, self._sink = inner, sink

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            self._sink.extend(chunk)
            yield chunk

    async def aclose(self) -> None:
        await self._inner.aclose()


class TeeTransport(httpx.BaseTransport):
    """Records every response body the client reads (streams included)."""

    def __init__(self, log: list[Exchange]) -> None:
        self._inner = httpx.HTTPTransport(verify=False)
        self.log = log

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self._inner.handle_request(request)
        ex = Exchange(
            request.method,
            request.url.path,
            response.status_code,
            response.headers.get("content-type", ""),
        )
        self.log.append(ex)
        assert isinstance(response.stream, httpx.SyncByteStream)
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            stream=_TeeStream(response.stream, ex.body),
            extensions=response.extensions,
        )

    def close(self) -> None:
        self._inner.close()


class AsyncTeeTransport(httpx.AsyncBaseTransport):
    def __init__(self, log: list[Exchange]) -> None:
        self._inner = httpx.AsyncHTTPTransport(verify=False)
        self.log = log

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        ex = Exchange(
            request.method,
            request.url.path,
            response.status_code,
            response.headers.get("content-type", ""),
        )
        self.log.append(ex)
        assert isinstance(response.stream, httpx.AsyncByteStream)
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            stream=_AsyncTeeStream(response.stream, ex.body),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        await self._inner.aclose()


# --------------------------------------------------------------------------- the contract

LEGACY_EMBEDDINGS = {
    "type": "object",
    "required": ["embedding"],
    "properties": {"embedding": {"type": "array", "items": {"type": "number"}}},
    "additionalProperties": False,
}
STATUS_KEYS = {"status", "digest", "total", "completed"}


class Contract:
    """Ollama's OpenAPI description, used to validate what the emulator sends."""

    def __init__(self) -> None:
        import yaml
        from jsonschema import Draft202012Validator
        from referencing import Registry, Resource
        from referencing.jsonschema import DRAFT202012

        self.doc = yaml.safe_load((PROTOCOLS / "ollama-openapi.yaml").read_text())
        resource = Resource.from_contents(self.doc, default_specification=DRAFT202012)
        self._registry = Registry().with_resource("urn:ollama-openapi", resource)
        self._cls = Draft202012Validator
        self._validators: dict[str, Any] = {}

    def validator(self, schema_name: str) -> Any:
        if schema_name not in self._validators:
            self._validators[schema_name] = self._cls(
                {"$ref": f"urn:ollama-openapi#/components/schemas/{schema_name}"},
                registry=self._registry,
                format_checker=self._cls.FORMAT_CHECKER,
            )
        return self._validators[schema_name]

    def validate(self, schema_name: str, obj: Any) -> None:
        self.validator(schema_name).validate(obj)

    def schema_name(self, method: str, path: str, media: str) -> str | None:
        """The response schema the YAML declares for a 200 on (method, path, media type)."""
        op = self.doc["paths"].get(path, {}).get(method.lower())
        if op is None:
            return None
        content = op["responses"]["200"].get("content") or {}
        if media not in content:
            return None
        return content[media]["schema"]["$ref"].rsplit("/", 1)[-1]

    def check(self, ex: Exchange) -> None:
        where = f"{ex.method} {ex.path} -> {ex.status}"
        media = ex.content_type.split(";")[0].strip()
        if ex.status >= 400:
            if media == "text/plain":
                assert bytes(ex.body) in (b"404 page not found", b"405 method not allowed"), where
                return
            if ex.method == "HEAD":
                return
            assert media == "application/json", where
            body = ex.json()
            self.validate("ErrorResponse", body)
            assert set(body) == {"error"}, where
            return
        if ex.path.startswith("/api/blobs/") or ex.path in ("/api/copy", "/api/delete"):
            assert bytes(ex.body) == b"", where
            return
        if ex.method == "HEAD":
            return
        if ex.path == "/api/embeddings":
            from jsonschema import validate

            validate(ex.json(), LEGACY_EMBEDDINGS)
            return
        if media == "application/x-ndjson":
            name = self.schema_name(ex.method, ex.path, media)
            assert name, f"no NDJSON schema in the OpenAPI file for {where}"
            lines = ex.lines()
            assert lines, where
            for line in lines:
                if "error" in line:
                    self.validate("ErrorResponse", line)
                    assert set(line) == {"error"}, where
                    assert line is lines[-1], f"{where}: an error line must be the last"
                else:
                    self.validate(name, line)
                    if name == "StatusEvent":
                        assert set(line) <= STATUS_KEYS, (where, line)
            return
        assert media == "application/json", where
        name = self.schema_name(ex.method, ex.path, "application/json")
        assert name, f"no JSON schema in the OpenAPI file for {where}"
        self.validate(name, ex.json())

    def check_all(self, log: list[Exchange]) -> set[str]:
        for ex in log:
            self.check(ex)
        return {ex.path for ex in log}


@pytest.fixture(scope="module")
def contract() -> Contract:
    if not PROTOCOLS.is_dir():
        pytest.skip(NO_PROTOCOLS)
    return Contract()


def fixture(name: str) -> Any:
    path = FIXTURES / name
    if name.endswith(".ndjson"):
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return json.loads(path.read_text())


def shape(obj: Any, nested: tuple[str, ...] = ("details", "message")) -> set[str]:
    """Key paths of a body (one level into ``nested`` objects); keys holding null are left out
    because Go omits empty fields in current servers where old docs printed null."""
    keys = set()
    for k, v in obj.items():
        if v is None:
            continue
        keys.add(k)
        if k in nested and isinstance(v, dict):
            keys |= {f"{k}.{sub}" for sub, sv in v.items() if sv is not None}
    return keys


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
def emu() -> Iterator[OllamaEmulator]:
    with OllamaEmulator(standard_models(), library=[LIBRARY_MODEL]) as e:
        yield e


@pytest.fixture
def log() -> list[Exchange]:
    return []


@pytest.fixture
def client(emu: OllamaEmulator, log: list[Exchange]) -> Iterator[ollama.Client]:
    c = ollama.Client(emu.url, transport=TeeTransport(log))
    yield c
    c.close()


@pytest.fixture
def raw(emu: OllamaEmulator, log: list[Exchange]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emu.url, transport=TeeTransport(log)) as c:
        yield c


# --------------------------------------------------------------------------- the official client


def test_sync_client_lists_shows_and_reports_loaded_models_with_schema_valid_bodies(
    client: ollama.Client, raw: httpx.Client, log: list[Exchange], contract: Contract
) -> None:
    assert raw.get("/api/version").json() == {"version": "0.12.6"}
    listed = client.list()
    assert [m.model for m in listed.models] == [
        "qwen3:8b",
        "llama3.1:8b",
        "llava:7b",
        "nomic-embed-text:latest",
        "phi:2.7b",
    ]  # newest first, like Ollama
    for m in listed.models:
        shown = client.show(m.model)
        assert shown.details.family
        assert shown.modelinfo["general.parameter_count"] > 0
    client.chat("phi:2.7b", messages=HI)
    ps = client.ps()
    assert [m.model for m in ps.models] == ["phi:2.7b"]
    assert ps.models[0].size_vram == ps.models[0].size > 1_602_463_378
    assert ps.models[0].context_length == 2048
    assert contract.check_all(log) == {
        "/api/version",
        "/api/tags",
        "/api/show",
        "/api/chat",
        "/api/ps",
    }


def test_sync_client_chats_and_generates_streaming_and_not(
    client: ollama.Client, log: list[Exchange], contract: Contract
) -> None:
    parts = list(client.chat("llama3.1:8b", messages=HI, stream=True))
    assert "".join(p.message.content for p in parts) == "Hello! How can I help you today?"
    assert len(parts) == 8 and [p.done for p in parts].count(True) == 1
    final = parts[-1]
    assert final.done_reason == "stop" and final.message.content == ""
    for metric in ("total_duration", "load_duration", "prompt_eval_duration", "eval_duration"):
        assert getattr(final, metric) > 0
    assert final.eval_count == 7 and final.prompt_eval_count > 0

    whole = client.chat("llama3.1:8b", messages=HI, options={"temperature": 0})
    assert whole.message.content == "Hello! How can I help you today?" and whole.done

    gen = list(client.generate("phi:2.7b", "Why is the sky blue?", stream=True))
    assert "".join(g.response for g in gen) == "Hello! How can I help you today?"
    assert gen[-1].done and gen[-1].context
    one = client.generate("phi:2.7b", "Why is the sky blue?")
    assert one.response == "Hello! How can I help you today?" and one.done_reason == "stop"
    assert contract.check_all(log) == {"/api/chat", "/api/generate"}


def test_sync_client_thinks_embeds_and_pulls(
    client: ollama.Client, emu: OllamaEmulator, log: list[Exchange], contract: Contract
) -> None:
    qwen = emu.model("qwen3:8b")
    assert qwen is not None
    thought = client.chat("qwen3:8b", messages=HI, think=True)
    assert thought.message.thinking == qwen.thinking
    assert thought.message.content == qwen.reply
    streamed = list(client.generate("qwen3:8b", "hi", think=True, stream=True))
    assert "".join(g.thinking or "" for g in streamed) == qwen.thinking

    vectors = client.embed("nomic-embed-text", ["a", "b"]).embeddings
    assert len(vectors) == 2 and all(len(v) == 768 for v in vectors)
    legacy = client.embeddings("nomic-embed-text", "a").embedding
    assert len(legacy) == 768

    progress = list(client.pull("gemma3:4b", stream=True))
    assert progress[0].status == "pulling manifest" and progress[-1].status == "success"
    assert "gemma3:4b" in [m.model for m in client.list().models]
    assert contract.check_all(log) >= {"/api/chat", "/api/embed", "/api/embeddings", "/api/pull"}


def test_sync_client_creates_copies_deletes_and_uploads_blobs(
    client: ollama.Client,
    raw: httpx.Client,
    log: list[Exchange],
    contract: Contract,
    tmp_path: Path,
) -> None:
    statuses = [
        p.status
        for p in client.create(
            "mario",
            from_="llama3.1:8b",
            system="You are Mario from Super Mario Bros.",
            parameters={"temperature": 0.7, "num_ctx": 8192, "stop": ["<|eot_id|>"]},
            messages=[
                {"role": "user", "content": "Who are you?"},
                {"role": "assistant", "content": "It's a me, Mario!"},
            ],
            stream=True,
        )
    ]
    assert statuses[-2:] == ["writing manifest", "success"]
    assert any(s.startswith("using existing layer sha256:") for s in statuses)
    assert any(s.startswith("creating new layer sha256:") for s in statuses)
    assert client.create("luigi", from_="mario", system="You are Luigi.").status == "success"

    blob = tmp_path / "adapter.gguf"
    blob.write_bytes(b"GGUF" + bytes(range(256)) * 64)
    digest = client.create_blob(blob)
    assert digest == "sha256:" + hashlib.sha256(blob.read_bytes()).hexdigest()
    assert raw.head(f"/api/blobs/{digest}").status_code == 200

    assert client.copy("mario", "mario-backup").status == "success"
    assert client.delete("mario-backup").status == "success"
    names = [m.model for m in client.list().models]
    assert (
        "mario:latest" in names and "luigi:latest" in names and "mario-backup:latest" not in names
    )
    assert contract.check_all(log) >= {"/api/create", "/api/copy", "/api/delete", "/api/tags"}


def test_async_client_does_everything_the_sync_one_does(
    emu: OllamaEmulator, log: list[Exchange], contract: Contract, tmp_path: Path
) -> None:
    blob = tmp_path / "weights.gguf"
    blob.write_bytes(b"GGUF" + b"\x00" * 70_000)  # > 32 KiB: the async client uploads in chunks

    async def scenario() -> None:
        client = ollama.AsyncClient(emu.url, transport=AsyncTeeTransport(log))
        try:
            assert len((await client.list()).models) == 5
            assert (await client.show("llava:7b")).capabilities == ["completion", "vision"]
            text = ""
            async for part in await client.chat("llama3.1:8b", messages=HI, stream=True):
                text += part.message.content or ""
            assert text == "Hello! How can I help you today?"
            thinking = ""
            async for part in await client.chat("qwen3:8b", messages=HI, stream=True, think=True):
                thinking += part.message.thinking or ""
            assert thinking
            async for g in await client.generate("phi:2.7b", "hi", stream=True):
                assert g.model == "phi:2.7b"
            assert (await client.generate("phi:2.7b", "hi")).done
            assert len((await client.embed("nomic-embed-text", "x")).embeddings[0]) == 768
            assert len((await client.embeddings("nomic-embed-text", "x")).embedding) == 768
            assert {m.model for m in (await client.ps()).models} >= {"phi:2.7b", "qwen3:8b"}
            pulled = [p.status async for p in await client.pull("gemma3:4b", stream=True)]
            assert pulled[-1] == "success"
            created = [
                p.status
                async for p in await client.create(
                    "phi-pirate", from_="phi:2.7b", system="Talk like a pirate.", stream=True
                )
            ]
            assert created[-1] == "success"
            digest = await client.create_blob(blob)
            assert emu.blob_exists(digest)
            assert (await client.copy("phi-pirate", "phi-pirate-2")).status == "success"
            assert (await client.delete("phi-pirate-2")).status == "success"
        finally:
            await client.close()

    asyncio.run(scenario())
    uploads = [r for r in emu.requests if r.path.startswith("/api/blobs/")]
    assert uploads and uploads[0].headers.get("transfer-encoding") == "chunked"
    assert contract.check_all(log) >= {
        "/api/tags",
        "/api/show",
        "/api/chat",
        "/api/generate",
        "/api/embed",
        "/api/embeddings",
        "/api/ps",
        "/api/pull",
        "/api/create",
        "/api/copy",
        "/api/delete",
    }


# --------------------------------------------------------------------------- fixture parity

REPLAY_MODELS = [
    EmulatedModel(
        "llama3.2", family="llama", capabilities=["completion", "tools"], parameter_size="3.2B"
    ),
    EmulatedModel("llama3.1", family="llama", capabilities=["completion", "tools"]),
    EmulatedModel("llama3.1:8b", family="llama", capabilities=["completion", "tools"]),
    EmulatedModel(
        "llava",
        family="llama",
        families=["llama", "clip"],
        capabilities=["completion", "vision"],
        projector=True,
        parameters='num_ctx                        4096\nstop                           "</s>"',
        license="Apache License",
    ),
    EmulatedModel(
        "all-minilm",
        family="bert",
        capabilities=["embedding"],
        embedding_dim=384,
        parameter_size="23M",
    ),
    EmulatedModel("llama3.2:3b-instruct-fp16", family="llama", quantization_level="F16"),
    EmulatedModel("llama3:13b", family="llama"),
    EmulatedModel("mattw/pygmalion:latest", family="llama"),
    EmulatedModel("dummy", family="llama", capabilities=["completion", "tools"]),
    EmulatedModel("mymodel", family="llama", quantization_level="F16"),
]


def _replay_cases() -> list[str]:
    if not FIXTURES.is_dir():
        return []
    index = json.loads((FIXTURES / "index.json").read_text())
    return [f["file"] for f in index["files"] if f["kind"] == "request"]


@pytest.mark.parametrize("request_file", _replay_cases() or ["(no fixtures)"])
def test_fixture_request_replayed_gets_a_response_shaped_like_ollamas(
    request_file: str, contract: Contract
) -> None:
    index = {f["file"]: f for f in fixture("index.json")["files"]}
    meta = index[request_file]
    body = fixture(request_file)
    log: list[Exchange] = []
    with (
        OllamaEmulator(REPLAY_MODELS) as emu,
        httpx.Client(base_url=emu.url, transport=TeeTransport(log)) as http,
    ):
        for mapping in ("files", "adapters"):  # blobs are uploaded before a create names them
            for name, digest in list((body.get(mapping) or {}).items()):
                content = b"" if digest.endswith(hashlib.sha256(b"").hexdigest()) else name.encode()
                actual = "sha256:" + hashlib.sha256(content).hexdigest()
                assert http.post(f"/api/blobs/{actual}", content=content).status_code == 201
                body[mapping][name] = actual
        response = http.request(meta["method"], meta["endpoint"], json=body)
    assert response.status_code == 200, response.text
    contract.check(log[-1])
    pair = meta.get("pair")
    if not pair:
        return
    expected = fixture(pair)
    if response.headers["content-type"] == "application/x-ndjson":
        lines = [json.loads(x) for x in response.text.splitlines()]
        if isinstance(expected, list):
            assert shape(expected[0]) <= shape(lines[0]), (shape(expected[0]), shape(lines[0]))
            assert shape(expected[-1]) <= shape(lines[-1])
        else:  # docs quirk: chat_images shows one object for a request that streams
            assert request_file == "chat_images_request.json"
            assert shape(expected) - {"message.content"} <= shape(lines[-1])
    else:
        assert response.headers["content-type"] == meta_content_type(index, pair)
        got = response.json()
        assert shape(expected) <= shape(got), shape(expected) - shape(got)
        if "embeddings" in expected:
            assert len(got["embeddings"]) == len(expected["embeddings"])


def meta_content_type(index: dict[str, Any], name: str) -> str:
    return index[name]["content_type"]


ERROR_CASES = {
    # fixture: (model set, method, path, body)
    "error_chat_no_thinking.json": (
        [EmulatedModel("test")],
        "POST",
        "/api/chat",
        {"model": "test", "messages": HI, "think": True},
    ),
    "error_chat_embedding_model.json": (
        [EmulatedModel("bert", family="bert", capabilities=["embedding"])],
        "POST",
        "/api/chat",
        {"model": "bert", "messages": HI},
    ),
    "error_generate_embedding_model.json": (
        [EmulatedModel("bert", family="bert", capabilities=["embedding"])],
        "POST",
        "/api/generate",
        {"model": "bert", "prompt": "hi"},
    ),
    "error_generate_no_insert.json": (
        [EmulatedModel("test")],
        "POST",
        "/api/generate",
        {"model": "test", "prompt": "def f(", "suffix": "return x"},
    ),
    "error_model_not_found.json": ([], "DELETE", "/api/delete", {"model": "gpt-oss:20b:local"}),
    "error_generate_missing_model.json": ([], "POST", "/api/generate", {}),
    "error_chat_missing_model.json": ([], "POST", "/api/chat", {}),
    "error_top_logprobs.json": (
        [EmulatedModel("test")],
        "POST",
        "/api/chat",
        {"model": "test", "messages": HI, "top_logprobs": 25},
    ),
    "error_pull_not_found.ndjson": ([], "POST", "/api/pull", {"model": "no-such-model"}),
}


@pytest.mark.parametrize("error_file", sorted(ERROR_CASES))
def test_error_answers_carry_ollamas_status_and_text(error_file: str, contract: Contract) -> None:
    models, method, path, body = ERROR_CASES[error_file]
    index = {f["file"]: f for f in fixture("index.json")["files"]}
    log: list[Exchange] = []
    with (
        OllamaEmulator(models) as emu,
        httpx.Client(base_url=emu.url, transport=TeeTransport(log)) as http,
    ):
        response = http.request(method, path, json=body)
    assert response.status_code == index[error_file]["status"]
    if error_file.endswith(".ndjson"):
        assert [json.loads(x) for x in response.text.splitlines()] == fixture(error_file)
    else:
        assert response.json() == fixture(error_file)
    assert response.headers["content-type"] == index[error_file]["content_type"]
    contract.check(log[-1])


def test_tags_ps_and_show_have_every_field_the_real_bodies_have(contract: Contract) -> None:
    with (
        OllamaEmulator(standard_models()) as emu,
        httpx.Client(base_url=emu.url, verify=False) as http,
    ):
        tags = http.get("/api/tags").json()
        http.post("/api/chat", json={"model": "llama3.1:8b", "messages": []})  # load
        ps = http.get("/api/ps").json()
        llava = http.post("/api/show", json={"model": "llava:7b"}).json()
        phi = http.post("/api/show", json={"model": "phi:2.7b"}).json()
    real_tag = fixture("tags.json")["models"][0]
    assert all(shape(e) >= shape(real_tag) for e in tags["models"])
    assert all(set(e) <= set(real_tag) for e in tags["models"])  # nothing new before 0.30
    assert shape(ps["models"][0]) == shape(fixture("ps_context_length.json")["models"][0])
    assert shape(llava, ()) >= shape(fixture("show_llava.json"), ())
    assert shape(phi, ()) >= shape(fixture("show_gemma4.json"), ())
    assert set(fixture("show_projector.json")["projector_info"]) <= set(llava["projector_info"])
    assert llava["projector_info"]["general.architecture"] == "clip"
    for body, name in ((tags, "ListResponse"), (ps, "PsResponse"), (llava, "ShowResponse")):
        contract.validate(name, body)


def test_tags_gain_capabilities_and_context_length_from_0_30(contract: Contract) -> None:
    with OllamaEmulator(standard_models(), version="0.30.1") as emu:
        tags = get(emu.url + "/api/tags").json()
    contract.validate("ListResponse", tags)
    real = fixture("tags_with_capabilities.json")["models"][0]
    for entry in tags["models"]:
        assert shape(entry) >= shape(real)
    by_name = {e["name"]: e for e in tags["models"]}
    assert by_name["nomic-embed-text:latest"]["capabilities"] == ["embedding"]
    assert by_name["qwen3:8b"]["details"]["context_length"] == 40960


def test_the_schema_check_is_not_a_rubber_stamp(contract: Contract) -> None:
    from jsonschema import ValidationError

    with pytest.raises(ValidationError):
        contract.validate("ListResponse", {"models": [{"name": "x", "size": "big"}]})
    with pytest.raises(ValidationError):
        contract.validate("ChatResponse", {"message": {"role": "user"}})


# --------------------------------------------------------------------------- behaviour


def test_version_answers_get_and_head_and_root_says_ollama_is_running(emu: OllamaEmulator) -> None:
    with httpx.Client(base_url=emu.url, verify=False) as http:
        assert http.get("/api/version").json() == {"version": "0.12.6"}
        head = http.head("/api/version")
        assert head.status_code == 200 and head.content == b""
        assert http.get("/").text == "Ollama is running"


def test_unknown_paths_are_plain_404_and_wrong_methods_405(emu: OllamaEmulator) -> None:
    with httpx.Client(base_url=emu.url, verify=False) as http:
        missing = http.get("/api/does-not-exist")
        assert (missing.status_code, missing.text) == (404, "404 page not found")
        assert missing.headers["content-type"] == "text/plain; charset=utf-8"
        wrong = http.get("/api/show")
        assert (wrong.status_code, wrong.text) == (405, "405 method not allowed")


def test_json_is_compact_and_escapes_html_characters_like_go(emu: OllamaEmulator) -> None:
    raw = post(emu.url + "/api/show", json={"model": "llama3.1:8b"})
    assert raw.headers["content-type"] == "application/json; charset=utf-8"
    assert b"\\u003c|eot_id|\\u003e" in raw.content and b"<|eot_id|>" not in raw.content
    assert b'": ' not in raw.content[:200]
    assert '"<|eot_id|>"' in raw.json()["parameters"]


def test_show_carries_the_evidence_an_old_servers_heuristics_need(emu: OllamaEmulator) -> None:
    emu.add_model(
        EmulatedModel("gemma3:4b", family="gemma3", capabilities=["completion", "vision"])
    )
    emu.old_server = True
    emu.version = "0.5.7"

    def show(name: str) -> dict[str, Any]:
        return post(emu.url + "/api/show", json={"model": name}).json()

    embed, llava, gemma, qwen, llama = (
        show(n) for n in ("nomic-embed-text", "llava:7b", "gemma3:4b", "qwen3:8b", "llama3.1:8b")
    )
    assert all("capabilities" not in s for s in (embed, llava, gemma, qwen, llama))
    assert embed["model_info"]["nomic-bert.pooling_type"] == 1
    assert "projector_info" in llava and "llama.vision.block_count" not in llava["model_info"]
    assert gemma["model_info"]["gemma3.vision.block_count"] > 0
    assert ".Tools" in llama["template"] and ".Tools" in qwen["template"]
    assert "<think>" in qwen["template"]
    assert qwen["model_info"]["qwen3.attention.key_length"] == 128
    assert all("tensors" in s for s in (embed, llava, gemma))
    tags = get(emu.url + "/api/tags").json()["models"]
    assert all("capabilities" not in t and "context_length" not in t["details"] for t in tags)


def test_old_server_switch_drops_capabilities_while_running(emu: OllamaEmulator) -> None:
    url = emu.url + "/api/show"
    assert "capabilities" in post(url, json={"model": "phi:2.7b"}).json()
    emu.old_server = True
    assert "capabilities" not in post(url, json={"model": "phi:2.7b"}).json()


def test_show_of_unknown_model_names_the_normalised_model(client: ollama.Client) -> None:
    with pytest.raises(ollama.ResponseError) as err:
        client.show("no-such-model")
    assert (err.value.status_code, err.value.error) == (
        404,
        "model 'no-such-model:latest' not found",
    )


def test_thinking_model_thinks_first_by_default_and_not_when_told_not_to(
    client: ollama.Client, emu: OllamaEmulator
) -> None:
    parts = list(client.chat("qwen3:8b", messages=HI, stream=True))
    kinds = ["thinking" if p.message.thinking else "content" for p in parts if not p.done]
    assert kinds[0] == "thinking" and kinds[-1] == "content"
    assert kinds == sorted(kinds, key=lambda k: k != "thinking")  # all thinking before content
    quiet = client.chat("qwen3:8b", messages=HI, think=False)
    assert not quiet.message.thinking and quiet.message.content == emu.model("qwen3:8b").reply
    gen = client.generate("qwen3:8b", "hi")
    assert gen.thinking and gen.response


def test_think_and_tools_are_refused_by_models_without_them(client: ollama.Client) -> None:
    with pytest.raises(ollama.ResponseError) as no_think:
        client.chat("phi:2.7b", messages=HI, think=True)
    assert (no_think.value.status_code, no_think.value.error) == (
        400,
        '"phi:2.7b" does not support thinking',
    )
    assert client.chat("phi:2.7b", messages=HI, think=False).message.content
    with pytest.raises(ollama.ResponseError) as no_tools:
        client.chat("phi:2.7b", messages=HI, tools=[WEATHER_TOOL])
    assert no_tools.value.error == "registry.ollama.ai/library/phi:2.7b does not support tools"
    for call in (
        lambda: client.chat("nomic-embed-text", messages=HI),
        lambda: client.generate("nomic-embed-text", "hi"),
    ):
        with pytest.raises(ollama.ResponseError) as embed_only:
            call()
        assert embed_only.value.status_code == 400
        assert re.fullmatch(
            r'"nomic-embed-text" does not support (chat|generate)', embed_only.value.error
        )
    with pytest.raises(ollama.ResponseError) as missing:
        client.chat("nope:1b", messages=HI)
    assert (missing.value.status_code, missing.value.error) == (404, "model 'nope:1b' not found")
    with pytest.raises(ollama.ResponseError) as missing_embed:
        client.embed("nope:1b", "x")
    assert missing_embed.value.error == 'model "nope:1b" not found, try pulling it first'


def test_weather_question_with_tools_gets_a_tool_call_and_the_tool_result_gets_text(
    client: ollama.Client,
) -> None:
    asked = [{"role": "user", "content": "What is the weather in Toronto?"}]
    answer = client.chat("llama3.1:8b", messages=asked, tools=[WEATHER_TOOL])
    call = answer.message.tool_calls[0]
    assert call.function.name == "get_weather" and call.function.arguments == {"city": "Paris"}
    assert answer.message.content == ""
    streamed = list(client.chat("qwen3:8b", messages=asked, tools=[WEATHER_TOOL], stream=True))
    assert [p.done for p in streamed if p.message.tool_calls] == [False]
    followed = [
        *asked,
        {"role": "assistant", "content": "", "tool_calls": [call.model_dump()]},
        {"role": "tool", "content": "11 degrees celsius", "tool_name": "get_weather"},
    ]
    after = client.chat("llama3.1:8b", messages=followed, tools=[WEATHER_TOOL])
    assert after.message.content and not after.message.tool_calls
    plain = client.chat("llama3.1:8b", messages=HI, tools=[WEATHER_TOOL])
    assert plain.message.content and not plain.message.tool_calls


def test_num_predict_truncates_the_reply_and_says_length(
    client: ollama.Client, emu: OllamaEmulator
) -> None:
    short = client.chat("phi:2.7b", messages=HI, options={"num_predict": 2, "seed": 42})
    assert short.message.content == "Hello! How" and short.done_reason == "length"
    parts = list(client.generate("phi:2.7b", "hi", options={"num_predict": 3}, stream=True))
    assert (
        "".join(p.response for p in parts) == "Hello! How can" and parts[-1].done_reason == "length"
    )
    assert emu.requests[-1].body["options"] == {"num_predict": 3}


def test_structured_output_format_returns_a_json_document(client: ollama.Client) -> None:
    schema = {
        "type": "object",
        "properties": {"age": {"type": "integer"}, "available": {"type": "boolean"}},
        "required": ["age", "available"],
    }
    reply = client.chat("llama3.1:8b", messages=HI, format=schema)
    assert json.loads(reply.message.content) == {"age": 22, "available": True}
    assert isinstance(json.loads(client.generate("phi:2.7b", "hi", format="json").response), dict)


def test_chat_and_generate_load_models_into_ps_and_keep_alive_zero_unloads(
    client: ollama.Client, emu: OllamaEmulator
) -> None:
    assert client.ps().models == []
    load = client.chat("llama3.1:8b", messages=[])
    assert load.done_reason == "load"
    client.generate("phi:2.7b", "", keep_alive="1h")
    client.embed("nomic-embed-text", "x", keep_alive=-1)
    ps = {m.model: m for m in client.ps().models}
    assert set(ps) == {"llama3.1:8b", "phi:2.7b", "nomic-embed-text:latest"}
    assert ps["nomic-embed-text:latest"].expires_at.year > 2300
    assert ps["llama3.1:8b"].context_length == 4096
    assert client.generate("phi:2.7b", "", keep_alive=0).done_reason == "unload"
    assert client.chat("llama3.1:8b", messages=[], keep_alive=0).done_reason == "unload"
    client.chat("qwen3:8b", messages=HI, keep_alive=0)
    assert [m.model for m in client.ps().models] == ["nomic-embed-text:latest"]
    assert set(emu.loaded) == {"nomic-embed-text:latest"}


def test_embeddings_are_deterministic_normalised_and_truncatable(client: ollama.Client) -> None:
    a1 = client.embed("nomic-embed-text", "hello").embeddings[0]
    a2 = client.embed("nomic-embed-text", ["hello", "world"]).embeddings
    assert a2[0] == a1 and a2[1] != a1
    assert abs(sum(v * v for v in a1) - 1) < 1e-6
    small = client.embed("nomic-embed-text", "hello", dimensions=64).embeddings[0]
    assert len(small) == 64 and abs(sum(v * v for v in small) - 1) < 1e-6
    assert client.embed("llama3.1:8b", "chat models embed too").embeddings  # Ollama allows it
    assert client.embed("nomic-embed-text", []).embeddings == []
    legacy = client.embeddings("nomic-embed-text", "hello").embedding
    assert abs(sum(v * v for v in legacy) - 1) > 1e-3  # the legacy endpoint does not normalise


def test_pull_reports_growing_progress_per_layer_then_installs(
    client: ollama.Client, emu: OllamaEmulator
) -> None:
    lines = list(client.pull("gemma3:4b", stream=True))
    statuses = [p.status for p in lines]
    assert statuses[0] == "pulling manifest"
    assert statuses[-3:] == ["verifying sha256 digest", "writing manifest", "success"]
    weights = [p for p in lines if p.digest and p.total and p.total > 1_000_000]
    assert weights[0].completed is None  # Ollama omits completed while it is 0
    done = [p.completed for p in weights[1:]]
    assert done == sorted(done) and done[-1] == weights[0].total and 9 <= len(done) <= 11
    assert weights[0].status == f"pulling {weights[0].digest[7:19]}"
    assert emu.model("gemma3:4b") is not None
    again = [p for p in client.pull("gemma3:4b", stream=True) if p.digest]
    assert all(p.completed == p.total for p in again)  # every layer is already there


def test_pull_of_a_model_no_registry_has_fails_like_ollama(client: ollama.Client) -> None:
    seen = []
    with pytest.raises(ollama.ResponseError) as streamed:
        for p in client.pull("no-such-model", stream=True):
            seen.append(p.status)
    assert seen == ["pulling manifest"]
    assert (streamed.value.status_code, streamed.value.error) == (
        -1,
        "pull model manifest: file does not exist",
    )
    with pytest.raises(ollama.ResponseError) as plain:
        client.pull("no-such-model")
    assert plain.value.status_code == 500


def test_interrupted_pull_resumes_from_where_it_stopped(
    client: ollama.Client, emu: OllamaEmulator
) -> None:
    emu.disconnect_after_chunks = 4  # manifest, start of the weights layer, two progress lines
    received = []
    with pytest.raises(httpx.RemoteProtocolError):
        for p in client.pull("gemma3:4b", stream=True):
            received.append(p)
    assert len(received) == 4 and emu.model("gemma3:4b") is None
    emu.disconnect_after_chunks = None
    resumed = list(client.pull("gemma3:4b", stream=True))
    assert resumed[1].digest == received[1].digest
    assert resumed[1].completed == received[3].completed  # picks up where the drop happened
    assert resumed[-1].status == "success" and emu.model("gemma3:4b") is not None


def test_create_copies_the_base_and_applies_the_overrides(
    client: ollama.Client, emu: OllamaEmulator
) -> None:
    client.create(
        "mario",
        from_="llama3.1:8b",
        system="You are Mario.",
        template="{{ .System }} {{ .Prompt }}",
        license="MIT",
        parameters={"temperature": 0.7, "num_ctx": 8192, "stop": ["<|eot_id|>"]},
        messages=[
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": "It's a me!"},
        ],
    )
    shown = post(emu.url + "/api/show", json={"model": "mario"}).json()
    assert shown["system"] == "You are Mario." and shown["license"] == "MIT"
    assert shown["template"] == "{{ .System }} {{ .Prompt }}"
    assert shown["capabilities"] == ["completion", "tools"]
    assert shown["messages"][1] == {"role": "assistant", "content": "It's a me!"}
    params = shown["parameters"].splitlines()
    assert "temperature                    0.7" in params
    assert "num_ctx                        8192" in params
    assert [p for p in params if p.startswith("stop")] == [
        'stop                           "<|eot_id|>"'
    ]
    assert 'SYSTEM """You are Mario."""' in shown["modelfile"]
    assert (
        shown["details"]
        == post(emu.url + "/api/show", json={"model": "llama3.1:8b"}).json()["details"]
    )
    with pytest.raises(ollama.ResponseError) as quant:
        client.create("q", from_="llama3.1:8b", quantize="q8_0")
    assert quant.value.error == "quantization is only supported for F16, BF16 and F32 models"


def test_create_from_a_missing_model_pulls_it_first_or_fails_like_a_pull(
    client: ollama.Client, emu: OllamaEmulator
) -> None:
    statuses = [p.status for p in client.create("my-gemma", from_="gemma3:4b", stream=True)]
    assert statuses[0] == "pulling manifest" and statuses.count("success") == 2
    assert emu.model("gemma3:4b") is not None and emu.model("my-gemma") is not None
    with pytest.raises(ollama.ResponseError) as streamed:
        list(client.create("x", from_="no-such-model", stream=True))
    assert streamed.value.error == "pull model manifest: file does not exist"
    with pytest.raises(ollama.ResponseError) as plain:
        client.create("x", from_="no-such-model")
    assert plain.value.status_code == 500
    with pytest.raises(ollama.ResponseError) as neither:
        client.create("x")
    assert (neither.value.status_code, neither.value.error) == (
        400,
        "neither 'from' or 'files' was specified",
    )


def test_copy_keeps_the_digest_and_delete_forgets_the_model(
    client: ollama.Client, emu: OllamaEmulator
) -> None:
    client.copy("phi:2.7b", "phi-copy")
    digests = {m.model: m.digest for m in client.list().models}
    assert digests["phi-copy:latest"] == digests["phi:2.7b"] == emu.model("phi:2.7b").digest
    client.delete("phi-copy")
    assert emu.model("phi-copy") is None
    with pytest.raises(ollama.ResponseError) as gone:
        client.delete("phi-copy")
    assert (gone.value.status_code, gone.value.error) == (404, "model 'phi-copy' not found")
    with pytest.raises(ollama.ResponseError) as no_source:
        client.copy("nope", "x")
    assert (no_source.value.status_code, no_source.value.error) == (404, 'model "nope" not found')


def test_blobs_are_verified_on_upload_and_found_by_head(
    emu: OllamaEmulator, client: ollama.Client
) -> None:
    data = b"GGUF-adapter"
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    with httpx.Client(base_url=emu.url, verify=False) as http:
        assert http.head(f"/api/blobs/{digest}").status_code == 404
        wrong = http.post(f"/api/blobs/sha256:{'0' * 64}", content=data)
        assert wrong.status_code == 400 and wrong.json()["error"].startswith("digest mismatch")
        assert http.post("/api/blobs/md5:abc", content=data).json() == {
            "error": "invalid digest format"
        }
        assert http.post(f"/api/blobs/{digest}", content=data).status_code == 201
        assert http.post(f"/api/blobs/{digest}", content=data).status_code == 200
        assert http.head(f"/api/blobs/{digest}").status_code == 200
    created = client.create("from-files", files={"model.gguf": digest})
    assert created.status == "success" and emu.model("from-files") is not None
    with pytest.raises(ollama.ResponseError) as missing:
        client.create("nope", files={"model.gguf": "sha256:" + "1" * 64})
    assert missing.value.status_code == 500 and "no such file or directory" in missing.value.error


def test_remote_models_list_their_upstream(emu: OllamaEmulator) -> None:
    emu.add_model(EmulatedModel("gpt-oss:120b-cloud", family="gptoss", size=384, remote=True))
    tags = {t["name"]: t for t in get(emu.url + "/api/tags").json()["models"]}
    cloud = tags["gpt-oss:120b-cloud"]
    assert (cloud["remote_model"], cloud["remote_host"]) == (
        "gpt-oss:120b",
        "https://ollama.com:443",
    )
    shown = post(emu.url + "/api/show", json={"model": "gpt-oss:120b-cloud"}).json()
    assert shown["remote_model"] == "gpt-oss:120b" and "tensors" not in shown
    assert "remote_model" not in tags["phi:2.7b"]


def test_version_gates_follow_ollamas_history() -> None:
    asked = [{"role": "user", "content": "weather?"}]
    with OllamaEmulator(standard_models(), version="0.12.3") as old:
        c = ollama.Client(old.url, verify=False)
        inline = c.chat("qwen3:8b", messages=HI)
        assert inline.message.content.startswith("<think>") and not inline.message.thinking
        assert c.chat("qwen3:8b", messages=HI, think=True).message.thinking
        call = post(
            old.url + "/api/chat",
            json={
                "model": "llama3.1:8b",
                "messages": asked,
                "tools": [WEATHER_TOOL],
                "stream": False,
            },
        ).json()["message"]["tool_calls"][0]
        assert set(call) == {"function"} and "index" not in call["function"]
    with OllamaEmulator(standard_models(), version="0.12.10") as new:
        call = post(
            new.url + "/api/chat",
            json={
                "model": "llama3.1:8b",
                "messages": asked,
                "tools": [WEATHER_TOOL],
                "stream": False,
            },
        ).json()["message"]["tool_calls"][0]
        assert re.fullmatch(r"call_[0-9a-z]{8}", call["id"]) and call["function"]["index"] == 0
    with OllamaEmulator(standard_models(), version="0.6.0") as pre:
        post(pre.url + "/api/generate", json={"model": "phi:2.7b"})
        assert "context_length" not in get(pre.url + "/api/ps").json()["models"][0]
        assert "capabilities" not in post(pre.url + "/api/show", json={"model": "phi:2.7b"}).json()


# --------------------------------------------------------------------------- fault switches


def test_disconnect_after_chunks_cuts_the_stream_and_the_client_raises(
    client: ollama.Client, emu: OllamaEmulator
) -> None:
    emu.disconnect_after_chunks = 3
    got = []
    with pytest.raises(httpx.RemoteProtocolError):
        for part in client.chat("phi:2.7b", messages=HI, stream=True):
            got.append(part.message.content)
    assert got == ["Hello!", " How", " can"]
    emu.disconnect_after_chunks = None
    assert client.chat("phi:2.7b", messages=HI).message.content  # the server lives on


def test_malformed_paths_answer_200_with_invalid_json(
    client: ollama.Client, emu: OllamaEmulator
) -> None:
    emu.malformed_paths |= {"/api/tags", "/api/chat"}
    raw = get(emu.url + "/api/tags")
    assert raw.status_code == 200 and raw.content == MALFORMED_JSON
    with pytest.raises(json.JSONDecodeError):
        client.list()
    with pytest.raises(json.JSONDecodeError):
        list(client.chat("phi:2.7b", messages=HI, stream=True))
    emu.malformed_paths.clear()
    assert len(client.list().models) == 5


def test_errors_switch_answers_with_the_status_and_message_before_any_stream(
    client: ollama.Client, emu: OllamaEmulator
) -> None:
    emu.errors["/api/chat"] = (503, "model is overloaded")
    emu.errors["/api/tags"] = (500, "boom")
    for call in (
        lambda: client.chat("phi:2.7b", messages=HI),
        lambda: list(client.chat("phi:2.7b", messages=HI, stream=True)),
    ):
        with pytest.raises(ollama.ResponseError) as err:
            call()
        assert (err.value.status_code, err.value.error) == (503, "model is overloaded")
    with pytest.raises(ollama.ResponseError) as tags:
        client.list()
    assert (tags.value.status_code, tags.value.error) == (500, "boom")
    del emu.errors["/api/tags"]
    assert client.list().models


def test_midstream_error_arrives_as_a_last_line_after_a_200(
    client: ollama.Client, emu: OllamaEmulator
) -> None:
    emu.midstream_error = "model runner has unexpectedly stopped"
    got = []
    with pytest.raises(ollama.ResponseError) as err:
        for part in client.chat("phi:2.7b", messages=HI, stream=True):
            got.append(part.message.content)
    assert (err.value.status_code, err.value.error) == (-1, "model runner has unexpectedly stopped")
    assert got == ["Hello!", " How"]
    raw = post(emu.url + "/api/pull", json={"model": "gemma3:4b"})
    assert raw.status_code == 200
    lines = [json.loads(x) for x in raw.text.splitlines()]
    assert lines[-1] == {"error": "model runner has unexpectedly stopped"} and len(lines) == 3
    assert emu.model("gemma3:4b") is None  # the pull did not finish


def test_latency_delays_every_response(emu: OllamaEmulator, client: ollama.Client) -> None:
    client.list()  # connect first
    emu.latency_s = 0.15
    started = time.perf_counter()
    client.list()
    with pytest.raises(ollama.ResponseError):
        client.show("nope")
    assert time.perf_counter() - started >= 0.3


def test_chunk_delay_spaces_out_stream_chunks(emu: OllamaEmulator, client: ollama.Client) -> None:
    emu.chunk_delay_s = 0.03
    stamps = [time.perf_counter() for _ in client.chat("phi:2.7b", messages=HI, stream=True)]
    assert len(stamps) == 8 and stamps[-1] - stamps[0] >= 7 * 0.03 * 0.9


# --------------------------------------------------------------------------- bookkeeping & speed


def test_requests_are_logged_with_bodies_and_headers_and_counted(
    client: ollama.Client, emu: OllamaEmulator
) -> None:
    client.chat("phi:2.7b", messages=HI, options={"temperature": 0.1, "seed": 42})
    client.show("phi:2.7b")
    client.show("llava:7b")
    chat = next(r for r in emu.requests if r.path == "/api/chat")
    assert chat.method == "POST" and chat.body["options"] == {"temperature": 0.1, "seed": 42}
    assert chat.body["stream"] is False and chat.body["tools"] == []  # as the client sends it
    assert chat.headers["user-agent"].startswith("ollama-python/")
    assert emu.count("/api/show") == 2 and emu.count("/api/show", "GET") == 0
    emu.reset_counts()
    assert emu.count("/api/show") == 0 and emu.requests == []


def test_state_changes_show_up_immediately(emu: OllamaEmulator) -> None:
    url = emu.url
    emu.set_digest("phi:2.7b", "f" * 64)
    emu.remove_model("llava:7b")
    emu.add_model(
        EmulatedModel("gemma3:4b", family="gemma3", capabilities=["completion", "vision"])
    )
    tags = {t["name"]: t for t in get(url + "/api/tags").json()["models"]}
    assert tags["phi:2.7b"]["digest"] == "f" * 64 and "llava:7b" not in tags
    assert len(tags["gemma3:4b"]["digest"]) == 64 == len(emu.model("gemma3:4b").digest)
    assert post(url + "/api/show", json={"model": "llava:7b"}).status_code == 404
    with pytest.raises(KeyError):
        emu.set_digest("nope", "0" * 64)


def test_a_thousand_shows_over_eight_keep_alive_connections_are_quick() -> None:
    with OllamaEmulator(many_models(1000)) as emu:
        names = [t["name"] for t in get(emu.url + "/api/tags").json()["models"]]
        before = emu.connections
        limits = httpx.Limits(max_connections=8, max_keepalive_connections=8)
        with (
            httpx.Client(base_url=emu.url, limits=limits, verify=False) as http,
            ThreadPoolExecutor(8) as pool,
        ):
            started = time.perf_counter()
            bodies = list(
                pool.map(lambda n: http.post("/api/show", json={"model": n}).json(), names)
            )
            elapsed = time.perf_counter() - started
        assert len(bodies) == 1000 and all("model_info" in b for b in bodies)
        assert emu.connections - before <= 8
        assert emu.count("/api/show") == 1000
    assert elapsed < 5, f"1,000 shows took {elapsed:.2f}s"


def test_stop_drops_pooled_connections_and_restart_keeps_the_url() -> None:
    emu = OllamaEmulator(standard_models()).start()
    url = emu.url
    client = ollama.Client(url, verify=False)
    assert client.list().models
    emu.stop()
    with pytest.raises((ConnectionError, httpx.TransportError)):
        client.list()
    emu.start()
    try:
        assert emu.url == url and len(client.list().models) == 5
    finally:
        client.close()
        emu.stop()


def test_concurrent_streams_do_not_interfere(emu: OllamaEmulator) -> None:
    emu.chunk_delay_s = 0.01
    results: dict[str, str] = {}

    def chat(name: str) -> None:
        with ollama.Client(emu.url, verify=False) as c:
            results[name] = "".join(
                p.message.content for p in c.chat(name, messages=HI, stream=True, think=False)
            )

    names = ["phi:2.7b", "llama3.1:8b", "qwen3:8b", "llava:7b"]
    threads = [threading.Thread(target=chat, args=(n,)) for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {n: emu.model(n).reply for n in names}


def test_standard_models_cover_the_five_capability_shapes() -> None:
    models = {normalize_name(m.name): m for m in standard_models()}
    assert {n: m.capabilities for n, m in models.items()} == {
        "nomic-embed-text:latest": ["embedding"],
        "llava:7b": ["completion", "vision"],
        "qwen3:8b": ["completion", "tools", "thinking"],
        "phi:2.7b": ["completion"],
        "llama3.1:8b": ["completion", "tools"],
    }
    assert models["nomic-embed-text:latest"].family == "nomic-bert"
    assert models["llava:7b"].projector and models["qwen3:8b"].thinking
    assert all(re.fullmatch(r"[0-9a-f]{64}", m.digest) for m in models.values())


def test_many_models_are_distinct_and_varied() -> None:
    models = many_models(1000)
    assert len({m.name.lower() for m in models}) == 1000
    assert len({m.digest for m in models}) == 1000
    assert all(re.fullmatch(r"[0-9a-f]{64}", m.digest) for m in models)
    assert len({m.family for m in models}) >= 8
    caps = {c for m in models for c in m.capabilities}
    assert caps >= {"completion", "embedding", "vision", "tools", "thinking", "insert"}
    assert any(m.projector for m in models) and len({m.quantization_level for m in models}) >= 4
    with OllamaEmulator(models[:50]) as emu:
        listed = get(emu.url + "/api/tags").json()["models"]
    assert [t["name"] for t in listed] == [normalize_name(m.name) for m in models[:50]]

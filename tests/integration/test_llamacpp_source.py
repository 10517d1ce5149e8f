"""The llama.cpp source against servers that misbehave (a real socket, a hand-made server):
still loading, wrong types in /props, a huge body, and the URL forms users type.

The well-behaved path runs against the real llama-server in tests/engine.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from desktop_registry.cli import main as cli
from desktop_registry.errors import SourceProtocolError, UserInputError
from desktop_registry.sources.llamacpp import LlamaCppSource, parse_metrics, server_root

Reply = tuple[int, bytes]


class FakeLlamaServer:
    """Answers each GET path from `routes` (status, body); anything else is 404."""

    def __init__(self, routes: dict[str, Callable[[], Reply]]) -> None:
        self.routes = routes
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status, body = outer.routes.get(self.path, lambda: (404, b"{}"))()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_POST = do_GET

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def ok(body: object) -> Callable[[], Reply]:
    return lambda: (200, json.dumps(body).encode())


PROPS = {
    "default_generation_settings": {"n_ctx": 4096},
    "total_slots": 4,
    "model_alias": "m",
    "model_path": "/models/m.gguf",
    "modalities": {"vision": True},
    "chat_template": "{{ messages }}",
    "chat_template_caps": {"supports_tools": True},
}
MODELS = {"data": [{"id": "m", "owned_by": "llamacpp", "meta": {"n_ctx_train": 8192}}]}


@pytest.fixture
def fake() -> Iterator[FakeLlamaServer]:
    server = FakeLlamaServer(
        {"/health": ok({"status": "ok"}), "/props": ok(PROPS), "/v1/models": ok(MODELS)}
    )
    yield server
    server.close()


def run(capsys, home: Path, *args: str) -> tuple[int, str, str]:
    code = cli(["--db", str(home / "registry.db"), *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_url_is_kept_as_the_servers_root_whether_or_not_v1_was_typed() -> None:
    assert server_root("http://127.0.0.1:8080/v1/") == "http://127.0.0.1:8080"
    assert server_root(" http://host:8080 ") == "http://host:8080"
    source = LlamaCppSource("x", "http://host:8080/v1")
    assert source.base_url == "http://host:8080/v1" and source.server_url == "http://host:8080"


def test_metrics_text_is_read_leniently() -> None:
    text = "# HELP x\nllamacpp:requests_processing 2\nllamacpp:odd nan-ish\nwith{label=1} 3\n"
    assert parse_metrics(text) == {"requests_processing": 2.0}


def test_reported_vision_and_tools_become_categories_marked_as_reported(
    capsys, data_home: Path, fake: FakeLlamaServer
) -> None:
    assert run(capsys, data_home, "endpoint", "add", "lc", fake.url, "--kind", "llamacpp")[0] == 0
    _, out, err = run(capsys, data_home, "sync", "--ollama-url", "http://127.0.0.1:9")
    assert "lc" in out + err
    _, out, _ = run(capsys, data_home, "show", "lc/m", "--json")
    shown = json.loads(out)
    assert shown["category"] == "multimodal" and shown["category_source"] == "server"
    assert "function_calling" in shown["categories"] and "tools" in shown["capabilities"]
    assert shown["details"]["context_length"] == 4096 and shown["details"]["slots"] == 4


def test_a_server_still_loading_its_model_is_shown_loading_and_loses_no_row(
    capsys, data_home: Path, fake: FakeLlamaServer
) -> None:
    run(capsys, data_home, "endpoint", "add", "lc", fake.url, "--kind", "llamacpp")
    run(capsys, data_home, "sync", "--ollama-url", "http://127.0.0.1:9")
    fake.routes["/health"] = lambda: (503, b'{"error":{"code":503,"message":"Loading model"}}')
    run(capsys, data_home, "sync", "--ollama-url", "http://127.0.0.1:9")
    code, out, _err = run(capsys, data_home, "show", "lc/m")
    assert code == 0
    assert "loading the model" in out and "available" in out


@pytest.mark.parametrize(
    ("props", "field"),
    [
        ({"default_generation_settings": {"n_ctx": "lots"}}, "default_generation_settings.n_ctx"),
        ({"total_slots": [1]}, "total_slots"),
        ({"modalities": "vision"}, "modalities"),
    ],
)
def test_props_of_the_wrong_shape_are_refused_naming_the_field(
    fake: FakeLlamaServer, props: dict, field: str
) -> None:
    fake.routes["/props"] = ok(props)

    async def go() -> None:
        source = LlamaCppSource("lc", fake.url)
        try:
            await source.props()
        finally:
            await source.aclose()

    with pytest.raises(SourceProtocolError) as caught:
        asyncio.run(go())
    assert f"`{field}`" in str(caught.value) and "lc" in str(caught.value)


def test_a_huge_props_body_is_refused_not_read_whole(fake: FakeLlamaServer) -> None:
    blob = b'{"chat_template": "' + b"x" * (9 << 20) + b'"}'
    fake.routes["/props"] = lambda: (200, blob)

    async def go() -> None:
        source = LlamaCppSource("lc", fake.url)
        try:
            await source.props()
        finally:
            await source.aclose()

    with pytest.raises(SourceProtocolError, match="more than 8 MB"):
        asyncio.run(go())


def test_an_unknown_option_is_refused_by_name_before_any_request() -> None:
    source = LlamaCppSource("lc", "http://127.0.0.1:9")
    with pytest.raises(UserInputError, match="num_gpu"):
        source.request_fields({"temperature": 0.1, "num_gpu": 99})
    fields = source.request_fields({"temperature": 0.1, "top_k": 5, "num_predict": 9})
    assert fields == {"temperature": 0.1, "extra_body": {"top_k": 5, "n_predict": 9}}


def test_an_unknown_endpoint_kind_is_refused(capsys, data_home: Path) -> None:
    from desktop_registry.services.endpoints.store import EndpointStore
    from desktop_registry.sources.credentials import SecretStore

    store = EndpointStore(data_home, SecretStore(data_home))
    with pytest.raises(UserInputError, match="not an endpoint kind"):
        store.add("x", "http://127.0.0.1:1", kind="vllm")
    assert store.list() == []

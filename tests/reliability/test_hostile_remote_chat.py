"""A hostile GitHub Models or OpenAI-compatible chat reply: a message, exit 2, the partial reply kept.

Real emulators on real sockets, the real CLI `chat`. Whatever a server sends as a chat reply, a
stream or a whole completion, the user sees what arrived and a sentence saying what went wrong.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from desktop_registry.cli import main as cli
from tests.reliability.conftest import registry_rows
from tests.servers.github_models_emulator import GitHubModelsEmulator, RawReply

DEEP = b"[" * 100_000 + b"]" * 100_000
FIFTY_MB = 50 << 20
SSE = "text/event-stream"
MODEL = "openai/gpt-4.1"


def sse(*events: Any, done: bool = True) -> bytes:
    """SSE `data:` events (objects are sent as JSON, bytes as they are)."""
    out = b"".join(
        b"data: " + (e if isinstance(e, bytes) else json.dumps(e).encode()) + b"\n\n"
        for e in events
    )
    return out + (b"data: [DONE]\n\n" if done else b"")


def piece(text: str) -> dict[str, Any]:
    return {
        "object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": {"content": text}}],
    }


STOP = {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}


def stream(body: bytes, **kw: Any) -> RawReply:
    return RawReply(body, content_type=SSE, chunked=True, **kw)


@pytest.fixture(params=["github", "endpoint"])
def remote(
    request: pytest.FixtureRequest,
    registry_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Iterator[tuple[GitHubModelsEmulator, str, str]]:
    """(emulator, chat path, registry name) for GitHub Models or an endpoint 'lab', synced."""
    with GitHubModelsEmulator(openai_compatible=request.param == "endpoint") as emu:
        monkeypatch.setenv("DESKTOP_REGISTRY_GITHUB_MODELS_SYNC", "never")
        monkeypatch.setenv("OLLAMA_HOST", "http://127.0.0.1:1")
        monkeypatch.setenv("DESKTOP_REGISTRY_REQUEST_TIMEOUT_S", "2")
        db = ["--db", str(registry_path)]
        if request.param == "github":
            monkeypatch.setenv("DESKTOP_REGISTRY_GITHUB_MODELS_SYNC", "always")
            monkeypatch.setenv("DESKTOP_REGISTRY_GITHUB_MODELS_URL", emu.url)
            monkeypatch.setenv("GH_TOKEN", emu.token or "")
            path, name = "/inference/chat/completions", MODEL
        else:
            monkeypatch.setattr("sys.stdin", io.StringIO(f"{emu.token}\n"))
            assert cli([*db, "endpoint", "add", "lab", emu.v1_url, "--api-key-stdin"]) == 0
            path, name = "/v1/chat/completions", f"lab/{MODEL}"
        cli([*db, "sync"])  # Ollama is down on purpose: only the remote side matters here
        capsys.readouterr()
        yield emu, path, name


def chat(registry_path: Path, name: str, capsys: pytest.CaptureFixture[str], *extra: str):
    code = cli(["--db", str(registry_path), "chat", name, "hi", *extra])
    out, err = capsys.readouterr()
    return code, out, err


NOT_A_REPLY = [
    ("null", RawReply(b"null"), "a reply is null"),
    ("a_list", RawReply(b"[1,2,3]"), "a reply is a list"),
    ("invalid_utf8", RawReply(b'{"x":"\xff"}'), "not UTF-8"),
    ("nested_100000_deep", RawReply(DEEP), "nests too deep"),
    ("html_with_200", RawReply(b"<html>hi</html>", content_type="text/html"), "text/html"),
    ("fifty_mb_json", RawReply(b'{"a":"' + b"a" * FIFTY_MB + b'"}'), "reading stopped"),
    ("event_null", stream(sse(None)), "a stream event is null"),
    ("event_a_list", stream(sse([1, 2, 3])), "a stream event is a list"),
    ("choices_text", stream(sse({"choices": "abc"})), "`choices` is text"),
    ("delta_a_list", stream(sse({"choices": [{"delta": [1]}]})), "`choices[0].delta` is a list"),
    ("content_a_number", stream(sse({"choices": [{"delta": {"content": 5}}]})), "is a number"),
    ("fifty_mb_event", stream(sse(piece("a" * FIFTY_MB))), "reading stopped"),
    ("an_error_event", stream(sse({"error": {"message": "overloaded"}})), "overloaded"),
]


@pytest.mark.parametrize(("case", "reply", "said"), NOT_A_REPLY, ids=[c[0] for c in NOT_A_REPLY])
def test_a_chat_reply_that_is_not_openais_format_is_the_servers_error_with_no_traceback(
    case, reply, said, remote, registry_path, capsys
):
    emu, path, name = remote
    before = registry_rows(registry_path)
    emu.raw_replies[path] = reply
    code, out, err = chat(registry_path, name, capsys)
    assert code == 2, err
    assert out == "" and said in err and "Traceback" not in err
    assert registry_rows(registry_path) == before


BROKEN_MID_STREAM = [
    ("invalid_utf8", sse(piece("hel"), b'{"choices":[{"delta":{"content":"\xff"}}]}'), "UTF-8"),
    ("nested_deep", sse(piece("hel"), DEEP), "nests too deep"),
    ("cut_inside_an_event", sse(piece("hel"), done=False) + b'data: {"choices":[{"del', "middle"),
    ("ends_unfinished", sse(piece("hel"), done=False), "stopped replying"),
    ("error_event", sse(piece("hel"), {"error": {"message": "upstream died"}}), "upstream died"),
]


@pytest.mark.parametrize(
    ("case", "body", "said"), BROKEN_MID_STREAM, ids=[c[0] for c in BROKEN_MID_STREAM]
)
def test_a_stream_broken_midway_keeps_what_arrived_and_says_so(
    case, body, said, remote, registry_path, capsys
):
    emu, path, name = remote
    emu.raw_replies[path] = stream(body)
    code, out, err = chat(registry_path, name, capsys)
    assert code == 2, err
    assert out == "hel\n"
    assert said in err and "The partial reply is kept." in err and "Traceback" not in err


def test_a_stream_that_stalls_midway_keeps_the_partial_reply_and_says_how_much_came(
    remote, registry_path, capsys
):
    emu, path, name = remote
    first = sse(piece("partial "), done=False)
    emu.raw_replies[path] = stream(
        first + sse(piece("never seen"), STOP),
        piece_bytes=len(first),
        stall_after_bytes=len(first),
        stall_s=5,
    )
    code, out, err = chat(registry_path, name, capsys)
    assert code == 2, err
    assert out == "partial \n"
    assert "stalled" in err and f"after {len(first)} bytes" in err
    assert "The partial reply is kept." in err and "Traceback" not in err


def test_a_reply_whose_first_byte_never_comes_says_it_did_not_start(remote, registry_path, capsys):
    emu, path, name = remote
    emu.raw_replies[path] = stream(sse(piece("late"), STOP), first_byte_s=5)
    code, out, err = chat(registry_path, name, capsys)
    assert code == 2 and out == ""
    assert "did not start within 2 s" in err and "Traceback" not in err


def test_a_stream_sent_as_text_plain_is_still_read(remote, registry_path, capsys):
    emu, path, name = remote
    emu.raw_replies[path] = RawReply(sse(piece("hello"), STOP), content_type="text/plain")
    code, out, _err = chat(registry_path, name, capsys)
    assert (code, out) == (0, "hello\n")


def test_a_whole_completion_answered_to_a_stream_request_is_shown(remote, registry_path, capsys):
    emu, path, name = remote
    whole = {"choices": [{"message": {"content": "all at once"}, "finish_reason": "stop"}]}
    emu.raw_replies[path] = RawReply(json.dumps(whole).encode())
    code, out, _err = chat(registry_path, name, capsys)
    assert (code, out) == (0, "all at once\n")


NOT_A_COMPLETION = [
    ("null", RawReply(b"null"), "a reply is null"),
    ("a_list", RawReply(b"[1,2,3]"), "a reply is a list"),
    ("no_choices", RawReply(b'{"id":"x"}'), "no `choices`"),
    ("html_with_200", RawReply(b"<html>hi</html>", content_type="text/html"), "not JSON"),
    ("nested_100000_deep", RawReply(DEEP), "nests too deep"),
]


@pytest.mark.parametrize(
    ("case", "reply", "said"), NOT_A_COMPLETION, ids=[c[0] for c in NOT_A_COMPLETION]
)
def test_a_non_streamed_reply_that_is_not_a_completion_is_an_error_not_an_empty_answer(
    case, reply, said, remote, registry_path, capsys
):
    emu, path, name = remote
    emu.raw_replies[path] = reply
    code, out, err = chat(registry_path, name, capsys, "--no-stream")
    assert code == 2, err
    assert out == "" and said in err and "Traceback" not in err


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_retried_then_named_with_exit_2(status, remote, registry_path, capsys):
    emu, path, name = remote
    emu.raw_replies[path] = RawReply(b"<html>down</html>", status=status, content_type="text/html")
    code, out, err = chat(registry_path, name, capsys)
    assert code == 2 and out == ""
    assert f"answered {status}" in err and "no details" in err and "Traceback" not in err
    assert emu.count(path, "POST") > 1  # retried before giving up


def test_a_429_storm_ends_in_a_rate_limit_message_after_bounded_retries(
    remote, registry_path, capsys
):
    emu, path, name = remote
    emu.raw_replies[path] = RawReply(
        b'{"error":{"code":"RateLimitReached","message":"slow down"}}',
        status=429,
        headers=(("Retry-After", "99999"),),
    )
    code, out, err = chat(registry_path, name, capsys)
    assert code == 2 and out == ""
    assert "rate limit" in err and "Traceback" not in err
    assert emu.count(path, "POST") == 1  # a wait past the limit is reported, not slept


NOT_EMBEDDINGS = [
    ("null", b"null", "an embeddings reply is null"),
    ("data_text", b'{"data":"x"}', "`data` is text"),
    ("too_few", b'{"data":[]}', "0 embeddings came for 2 inputs"),
    ("not_numbers", b'{"data":[{"embedding":["a"]},{"embedding":[1]}]}', "not a number"),
    ("entry_a_list", b'{"data":[[1],[2]]}', "`data[0]` is a list"),
    ("nested_100000_deep", DEEP, "nests too deep"),
]


@pytest.mark.parametrize(
    ("case", "body", "said"), NOT_EMBEDDINGS, ids=[c[0] for c in NOT_EMBEDDINGS]
)
def test_an_embeddings_reply_that_is_not_vectors_is_the_servers_error(case, body, said):
    import asyncio

    from desktop_registry.errors import SourceError
    from desktop_registry.sources.github_models import GitHubModelsSource

    async def embed(emu: GitHubModelsEmulator) -> list[list[float]]:
        source = GitHubModelsSource(emu.url, token=lambda: emu.token)
        try:
            return await source.embed("openai/text-embedding-3-small", ["one", "two"])
        finally:
            await source.aclose()

    with GitHubModelsEmulator() as emu:
        good = asyncio.run(embed(emu))
        assert len(good) == 2 and all(isinstance(x, float) for x in good[0])
        emu.raw_replies["/inference/embeddings"] = RawReply(body)
        with pytest.raises(SourceError) as caught:
            asyncio.run(embed(emu))
    assert said in str(caught.value)

"""One serving interface for local and remote models: streaming, usage, statuses and clear errors.

Real sockets to the Ollama and GitHub Models emulators; the official SDKs unchanged underneath.
"""

from __future__ import annotations

import asyncio
import io
import json
import re
from pathlib import Path

import pytest

from desktop_registry.app import build_context
from desktop_registry.cli import main as cli
from desktop_registry.config import Settings
from desktop_registry.domain import ModelStatus
from desktop_registry.domain.chat import ChatChunk, ChatMessage
from desktop_registry.errors import RegistryError
from tests.servers.github_models_emulator import GitHubModelsEmulator

HI = [ChatMessage(role="user", content="Say hello")]


@pytest.fixture
def github(github: GitHubModelsEmulator, monkeypatch: pytest.MonkeyPatch) -> GitHubModelsEmulator:
    monkeypatch.setenv("GH_TOKEN", github.token)
    return github


@pytest.fixture
def synced(capsys, data_home: Path, ollama, github) -> Path:
    assert cli(["--db", str(data_home / "registry.db"), "sync", "--ollama-url", ollama.url]) == 0
    capsys.readouterr()
    return data_home


def run(capsys, home: Path, *args: str) -> tuple[int, str, str]:
    code = cli(["--db", str(home / "registry.db"), *args])
    out, err = capsys.readouterr()
    return code, out, err


def chat(home: Path, ollama_url: str, model: str) -> tuple[list[ChatChunk], RegistryError | None]:
    """Chat through the app's one ServingService; returns what arrived and the error, if any."""

    async def go() -> tuple[list[ChatChunk], RegistryError | None]:
        ctx = build_context(Settings(ollama_url=ollama_url), db_path=home / "registry.db")
        chunks: list[ChatChunk] = []
        try:
            async for chunk in ctx.serving().chat(model, HI):
                chunks.append(chunk)
        except RegistryError as exc:
            return chunks, exc
        finally:
            await ctx.aclose()
            ctx.close()
        return chunks, None

    return asyncio.run(go())


def test_chat_streams_from_a_local_and_a_remote_model_with_usage_filled_for_both(
    synced, ollama, github
):
    for model, reply in (
        ("phi:2.7b", ollama.model("phi:2.7b").reply),
        ("openai/gpt-4.1", None),
    ):
        chunks, error = chat(synced, ollama.url, model)
        assert error is None
        assert len(chunks) > 2  # streamed, not one blob
        text = "".join(c.content for c in chunks)
        if reply is not None:
            assert text == reply
        assert text.strip()
        final = chunks[-1]
        assert final.done and final.usage is not None
        usage = final.usage
        assert usage.prompt_tokens and usage.completion_tokens
        assert usage.ttft_s is not None and usage.ttft_s >= 0
        assert usage.tokens_per_s is not None and usage.tokens_per_s > 0


def test_the_chat_command_streams_to_stdout_and_reports_usage_on_stderr(
    capsys, synced, ollama, github
):
    for model in ("phi:2.7b", "openai/gpt-4o-mini"):
        code, out, err = run(capsys, synced, "--ollama-url", ollama.url, "chat", model, "Hi")
        assert code == 0, err
        assert out.strip()
        assert re.search(r"usage: \d+ tokens in · \d+ out · first token [\d.]+ s", err)


def test_a_successful_call_turns_a_listed_model_available_and_counts_requests(
    capsys, synced, ollama, github
):
    before = json.loads(run(capsys, synced, "show", "openai/gpt-4.1", "--json")[1])
    assert before["status"] == "listed"
    chat(synced, ollama.url, "openai/gpt-4.1")
    after = json.loads(run(capsys, synced, "show", "openai/gpt-4.1", "--json")[1])
    assert after["status"] == "available"
    ctx = build_context(Settings(), db_path=synced / "registry.db")
    status = ctx.serving().status("openai/gpt-4.1")
    ctx.close()
    assert status["total_requests"] == 1 and status["failed_requests"] == 0


def test_a_rejected_token_says_so_clearly(capsys, monkeypatch, synced, ollama, github):
    monkeypatch.setenv("GH_TOKEN", "ghp_wrong_token_value")
    code, _, err = run(capsys, synced, "--ollama-url", ollama.url, "chat", "openai/gpt-4.1", "Hi")
    assert code == 2
    assert "token rejected or lacks models permission" in err
    assert "ghp_wrong_token_value" not in err


def test_without_a_token_chat_explains_how_to_set_one(capsys, monkeypatch, synced, ollama):
    monkeypatch.delenv("GH_TOKEN")
    code, _, err = run(capsys, synced, "--ollama-url", ollama.url, "chat", "openai/gpt-4.1", "Hi")
    assert code == 2 and "token set" in err


@pytest.mark.parametrize(
    ("status", "body", "text", "model_status"),
    [
        (
            404,
            {"error": {"code": "unknown_model", "message": "Unknown model: openai/gpt-4.1"}},
            "model not available to this account",
            ModelStatus.UNAVAILABLE,
        ),
        (
            400,
            {"error": {"code": "unavailable_model", "message": "Unavailable model: gpt-4.1"}},
            "model not available to this account",
            ModelStatus.UNAVAILABLE,
        ),
        (
            413,
            {
                "error": {
                    "code": "tokens_limit_reached",
                    "message": "Request body too large for gpt-4.1 model. Max size: 8000 tokens.",
                }
            },
            "retrying will not help",
            ModelStatus.LISTED,
        ),
        (
            403,
            {"error": {"code": "no_access", "message": "No access to model: openai/gpt-4.1"}},
            "token rejected or lacks models permission",
            ModelStatus.LISTED,
        ),
    ],
)
def test_refusals_give_a_clear_message_and_the_right_model_status(
    capsys, synced, ollama, github, status, body, text, model_status
):
    github.fail_next.append((status, json.dumps(body), {"content-type": "application/json"}))
    _chunks, error = chat(synced, ollama.url, "openai/gpt-4.1")
    assert error is not None and text in str(error)
    shown = json.loads(run(capsys, synced, "show", "openai/gpt-4.1", "--json")[1])
    assert shown["status"] == model_status.value


def test_a_daily_limit_says_until_when_instead_of_failing_vaguely(synced, ollama, github):
    body = {
        "error": {
            "code": "RateLimitReached",
            "message": "Rate limit of 50 per 86400s exceeded for UserByModelByDay. "
            "Please wait 5631 seconds before retrying.",
        }
    }
    headers = {
        "content-type": "application/json",
        "retry-after": "5631",
        "x-ratelimit-timeremaining": "5631",
        "x-ratelimit-type": "UserByModelByDay",
    }
    github.fail_next.append((429, json.dumps(body), headers))
    _, error = chat(synced, ollama.url, "openai/gpt-4.1")
    assert error is not None
    assert re.search(r"rate limited until (\w{3} )?\d\d:\d\d", str(error))


def test_a_server_error_is_retried_and_the_user_gets_the_reply(synced, ollama, github):
    github.fail_next.append((503, json.dumps({"error": {"message": "busy"}}), {}))
    chunks, error = chat(synced, ollama.url, "openai/gpt-4.1")
    assert error is None and "".join(c.content for c in chunks).strip()


def test_a_dropped_stream_keeps_the_partial_reply(synced, ollama, github):
    github.disconnect_after_chunks = 3
    chunks, error = chat(synced, ollama.url, "openai/gpt-4.1")
    assert error is not None and "kept" in str(error)
    assert "".join(c.content for c in chunks)


def test_a_malformed_stream_is_reported_not_crashed_on(synced, ollama, github):
    github.malformed_sse = True
    _, error = chat(synced, ollama.url, "openai/gpt-4.1")
    assert error is not None and "format" in str(error)


def test_embeddings_come_from_local_and_remote_models(synced, ollama, github):
    async def go() -> tuple[list[list[float]], list[list[float]]]:
        ctx = build_context(Settings(ollama_url=ollama.url), db_path=synced / "registry.db")
        service = ctx.serving()
        try:
            local = await service.embed("nomic-embed-text", ["a", "b"])
            remote = await service.embed("openai/text-embedding-3-small", ["a", "b"])
        finally:
            await ctx.aclose()
            ctx.close()
        return local, remote

    local, remote = asyncio.run(go())
    assert len(local) == 2 and len(remote) == 2 and len(remote[0]) > 0


def test_an_organisation_setting_sends_inference_to_the_org_attributed_endpoint(
    monkeypatch, synced, ollama, github
):
    monkeypatch.setenv("DESKTOP_REGISTRY_GITHUB_ORG", "acme")
    _, error = chat(synced, ollama.url, "openai/gpt-4.1")
    assert error is None
    assert github.count("/orgs/acme/inference/chat/completions") == 1


def test_an_endpoint_model_chats_through_the_same_service(capsys, monkeypatch, synced, ollama):
    with GitHubModelsEmulator(openai_compatible=True) as server:
        monkeypatch.setattr("sys.stdin", io.StringIO(server.token + "\n"))
        assert (
            run(capsys, synced, "endpoint", "add", "lab", server.v1_url, "--api-key-stdin")[0] == 0
        )
        assert run(capsys, synced, "sync", "--ollama-url", ollama.url)[0] == 0
        chunks, error = chat(synced, ollama.url, "lab/openai/gpt-4.1")
    assert error is None
    assert "".join(c.content for c in chunks).strip()
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens


def test_a_health_check_records_a_healthy_remote_model(synced, ollama, github):
    async def go() -> tuple[bool, dict]:
        ctx = build_context(Settings(ollama_url=ollama.url), db_path=synced / "registry.db")
        service = ctx.serving()
        try:
            healthy = await service.health_check("openai/gpt-4.1")
            return healthy, service.status("openai/gpt-4.1")
        finally:
            await ctx.aclose()
            ctx.close()

    healthy, status = asyncio.run(go())
    assert healthy and status["healthy"] and status["last_health_check"] is not None
    sent = [r.body for r in github.requests if r.path.endswith("/chat/completions")]
    assert sent[-1]["max_tokens"] == 1  # a one-token probe, not a full reply

"""The app against a real llama-server: add + sync, chat (streamed, stopped, whole), embeddings,
an evaluation suite, a benchmark, and a server killed mid-reply and restarted.

Everything goes through the product (the CLI's commands and the one ServingService), never
around it; the only thing not ours is the engine itself.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest

from desktop_registry.app import build_context
from desktop_registry.cli import main as cli
from desktop_registry.config import Settings
from desktop_registry.domain.chat import ChatChunk, ChatMessage
from desktop_registry.errors import RegistryError, StreamInterruptedError, UserInputError
from tests.engine.conftest import LlamaServer
from tests.servers.ollama_emulator import OllamaEmulator, standard_models

MODEL = "tiny/tiny-llama"
QUESTION = [ChatMessage(role="user", content="What is the capital of the small island?")]


@pytest.fixture
def ollama() -> Iterator[OllamaEmulator]:
    with OllamaEmulator(standard_models()) as emu:
        yield emu


def run(capsys: pytest.CaptureFixture[str], home: Path, *args: str) -> tuple[int, str, str]:
    code = cli(["--db", str(home / "registry.db"), *args])
    out, err = capsys.readouterr()
    return code, out, err


def add_and_sync(capsys, home: Path, ollama: OllamaEmulator, servers: dict[str, str]) -> None:
    for name, url in servers.items():
        code, _, err = run(capsys, home, "endpoint", "add", name, url, "--kind", "llamacpp")
        assert code == 0, err
    code, _out, err = run(capsys, home, "sync", "--ollama-url", ollama.url)
    assert code == 0, err


def show(capsys, home: Path, name: str) -> dict:
    code, out, err = run(capsys, home, "show", name, "--json")
    assert code == 0, err
    return json.loads(out)


def context(home: Path, ollama: OllamaEmulator):
    return build_context(Settings(ollama_url=ollama.url), db_path=home / "registry.db")


async def collect(ctx, model: str, messages, **kw) -> tuple[list[ChatChunk], RegistryError | None]:
    chunks: list[ChatChunk] = []
    try:
        async for chunk in ctx.serving().chat(model, messages, **kw):
            chunks.append(chunk)
    except RegistryError as exc:
        return chunks, exc
    return chunks, None


def text_of(chunks: list[ChatChunk]) -> str:
    return "".join(c.content for c in chunks)


# ----- add + sync ---------------------------------------------------------------------------
def test_sync_reads_context_slots_and_categories_the_server_reports(
    capsys, data_home: Path, ollama, chat_server: LlamaServer, embed_server: LlamaServer
) -> None:
    add_and_sync(
        capsys,
        data_home,
        ollama,
        {"tiny": chat_server.url + "/v1", "emb": embed_server.url},
    )
    chat = show(capsys, data_home, MODEL)
    assert chat["details"]["engine"] == "llamacpp"
    assert chat["details"]["context_length"] == 1024  # -c 2048 shared by -np 2 slots
    assert chat["details"]["trained_context_length"] == 2048
    assert chat["details"]["slots"] == 2
    assert chat["category"] == "general" and chat["category_source"] == "server"
    assert chat["endpoint"] == chat_server.url  # the /v1 the user typed is not kept
    embed = show(capsys, data_home, "emb/tiny-embed")
    assert embed["category"] == "embedding" and "embedding" in embed["capabilities"]
    assert embed["category_source"] == "server"

    _code, out, _ = run(capsys, data_home, "show", MODEL)
    assert "Context per slot  1,024 tokens (trained on 2,048)" in out
    assert "ready · 0 of 2 slots busy" in out


# ----- chat ---------------------------------------------------------------------------------
def test_streamed_chat_gives_the_engines_greedy_reply_and_stop_keeps_the_partial_text(
    capsys, data_home: Path, ollama, chat_server: LlamaServer
) -> None:
    add_and_sync(capsys, data_home, ollama, {"tiny": chat_server.url})
    bare = openai.OpenAI(base_url=chat_server.url + "/v1", api_key="x")
    expected = bare.chat.completions.create(
        model="tiny-llama",
        messages=[{"role": "user", "content": QUESTION[0].content}],
        temperature=0,
        max_tokens=24,
    )
    want = expected.choices[0].message.content
    assert want

    async def go() -> tuple[list[ChatChunk], list[ChatChunk]]:
        ctx = context(data_home, ollama)
        try:
            whole, error = await collect(
                ctx, MODEL, QUESTION, options={"temperature": 0, "num_predict": 24}
            )
            assert error is None
            stopped: list[ChatChunk] = []
            stream = ctx.serving().chat(
                MODEL, QUESTION, options={"temperature": 0, "num_predict": 400}
            )
            async for chunk in stream:  # the user presses Stop after three pieces
                stopped.append(chunk)
                if len(stopped) == 3:
                    break
            await stream.aclose()
            return whole, stopped
        finally:
            await ctx.aclose()
            ctx.close()

    whole, stopped = asyncio.run(go())
    assert text_of(whole) == want  # the app adds nothing to and loses nothing of the reply
    last = whole[-1]
    assert last.done and last.usage is not None
    assert last.usage.completion_tokens == expected.usage.completion_tokens
    assert last.usage.tokens_per_s and last.usage.tokens_per_s > 0
    assert len(stopped) == 3 and not stopped[-1].done
    assert want.startswith(text_of(stopped))  # what arrived before Stop is the reply's start


def test_a_whole_reply_without_streaming_equals_the_streamed_one(
    capsys, data_home: Path, ollama, chat_server: LlamaServer
) -> None:
    add_and_sync(capsys, data_home, ollama, {"tiny": chat_server.url})
    options = {"temperature": 0, "num_predict": 16, "seed": 7, "top_k": 1}
    code, streamed, err = run(
        capsys, data_home, "chat", MODEL, "Hello", *[f"-o{k}={v}" for k, v in options.items()]
    )
    assert code == 0, err
    code, whole, err = run(
        capsys,
        data_home,
        "chat",
        MODEL,
        "Hello",
        "--no-stream",
        *[f"-o{k}={v}" for k, v in options.items()],
    )
    assert code == 0, err
    assert whole == streamed and whole.strip()
    assert "16 out" in err


def test_options_the_server_does_not_take_are_refused_by_name(
    capsys, data_home: Path, ollama, chat_server: LlamaServer
) -> None:
    add_and_sync(capsys, data_home, ollama, {"tiny": chat_server.url})
    code, _out, err = run(capsys, data_home, "chat", MODEL, "Hi", "-o", "num_ctx=4096")
    assert code == 1
    assert "does not take the option(s) num_ctx" in err and "Traceback" not in err

    async def go() -> RegistryError | None:
        ctx = context(data_home, ollama)
        try:
            _, error = await collect(ctx, MODEL, QUESTION, options={"mirostatt": 2})
            return error
        finally:
            await ctx.aclose()
            ctx.close()

    error = asyncio.run(go())
    assert isinstance(error, UserInputError) and "mirostatt" in str(error)


def test_sampling_options_pass_through_and_change_the_reply(
    capsys, data_home: Path, ollama, chat_server: LlamaServer
) -> None:
    """top_k / seed are llama.cpp's own options: the same seed repeats, another seed differs."""
    add_and_sync(capsys, data_home, ollama, {"tiny": chat_server.url})

    async def go() -> list[str]:
        ctx = context(data_home, ollama)
        try:
            replies = []
            for seed in (11, 11, 12):
                chunks, error = await collect(
                    ctx,
                    MODEL,
                    QUESTION,
                    options={"temperature": 1.5, "top_k": 200, "seed": seed, "num_predict": 32},
                )
                assert error is None
                replies.append(text_of(chunks))
            return replies
        finally:
            await ctx.aclose()
            ctx.close()

    first, again, other = asyncio.run(go())
    assert first == again
    assert first != other


# ----- embeddings ---------------------------------------------------------------------------
def test_embeddings_have_the_models_dimension_and_identical_texts_match(
    capsys, data_home: Path, ollama, embed_server: LlamaServer
) -> None:
    add_and_sync(capsys, data_home, ollama, {"emb": embed_server.url})

    async def go() -> list[list[float]]:
        ctx = context(data_home, ollama)
        try:
            return await ctx.serving().embed(
                "emb/tiny-embed", ["the river runs", "the river runs", "red lanterns"]
            )
        finally:
            await ctx.aclose()
            ctx.close()

    a, b, c = asyncio.run(go())
    assert len(a) == len(b) == len(c) == 64  # the tiny model's hidden size

    def cosine(x: list[float], y: list[float]) -> float:
        dot = sum(p * q for p, q in zip(x, y, strict=True))
        return dot / (math.sqrt(sum(p * p for p in x)) * math.sqrt(sum(q * q for q in y)))

    assert cosine(a, b) == pytest.approx(1.0, abs=1e-6)
    assert cosine(a, c) < 0.999


# ----- evaluation and benchmark -------------------------------------------------------------
def test_an_evaluation_suite_scores_the_engines_answers_deterministically(
    capsys, tmp_path: Path, data_home: Path, ollama, chat_server: LlamaServer
) -> None:
    add_and_sync(capsys, data_home, ollama, {"tiny": chat_server.url})
    bare = openai.OpenAI(base_url=chat_server.url + "/v1", api_key="x")
    greedy = (
        bare.chat.completions.create(
            model="tiny-llama",
            messages=[{"role": "user", "content": "Name a colour."}],
            temperature=0,
            max_tokens=8,
        )
        .choices[0]
        .message.content
    )
    suite = tmp_path / "engine.prompt.yml"
    suite.write_text(
        "name: Engine exact\n"
        "modelParameters:\n  temperature: 0\n  maxTokens: 8\n"
        "messages:\n  - role: user\n    content: '{{input}}'\n"
        "testData:\n"
        f"  - input: Name a colour.\n    expected: {json.dumps(greedy)}\n"
        "  - input: Name a colour.\n    expected: a reply a random model never gives\n"
        "evaluators:\n  - name: exact\n    string:\n      equals: '{{expected}}'\n",
        encoding="utf-8",
    )
    scores = []
    for _ in range(2):
        code, out, err = run(
            capsys, data_home, "eval", "run", str(suite), "--models", MODEL, "--json"
        )
        assert code == 0, err
        summary = json.loads(out)["models"][0]
        scores.append((summary["pass_rate"], summary["mean_score"]))
    assert scores[0] == scores[1] == (0.5, 0.5)


def test_a_benchmark_measures_real_tokens_per_second(
    capsys, data_home: Path, ollama, chat_server: LlamaServer
) -> None:
    add_and_sync(capsys, data_home, ollama, {"tiny": chat_server.url})
    code, out, err = run(
        capsys, data_home, "benchmark", "--models", MODEL, "--repeats", "1", "--json"
    )
    assert code == 0, err
    report = json.loads(out)[0]
    assert report["model"] == MODEL and not report["errors"]
    assert report["metrics"]["tokens_per_s"] > 100  # the tiny model streams thousands a second
    code, out, err = run(capsys, data_home, "compare", MODEL, "--metric", "tokens_per_s", "--json")
    assert code == 0 and json.loads(out)["models"][0]["value"] > 100


# ----- the server dies and comes back -------------------------------------------------------
def test_a_server_killed_mid_reply_keeps_the_partial_text_and_a_restart_recovers(
    capsys, data_home: Path, ollama, own_server: LlamaServer
) -> None:
    add_and_sync(capsys, data_home, ollama, {"tiny": own_server.url})

    async def go() -> tuple[list[ChatChunk], RegistryError | None, RegistryError | None, list]:
        ctx = context(data_home, ollama)
        try:
            partial: list[ChatChunk] = []
            error: RegistryError | None = None
            try:
                async for chunk in ctx.serving().chat(
                    MODEL, QUESTION, options={"temperature": 0, "num_predict": 1000}
                ):
                    partial.append(chunk)
                    if len(partial) == 2:
                        own_server.kill()  # SIGKILL while the reply is streaming
            except RegistryError as exc:
                error = exc
            down, down_error = await collect(ctx, MODEL, QUESTION, options={"num_predict": 4})
            own_server.start()  # same port, same app context: no restart of ours
            back, back_error = await collect(ctx, MODEL, QUESTION, options={"num_predict": 4})
            assert not down and back_error is None
            return partial, error, down_error, back
        finally:
            await ctx.aclose()
            ctx.close()

    partial, error, down_error, back = asyncio.run(go())
    assert isinstance(error, StreamInterruptedError)
    assert "partial reply is kept" in str(error) or "is kept" in str(error)
    assert text_of(partial)  # what arrived before the kill is still there
    assert down_error is not None and "not answering" in str(down_error)
    assert back and back[-1].done and text_of(back)

    code, _out, err = run(capsys, data_home, "sync", "--ollama-url", ollama.url)
    assert code == 0, err
    assert "ready" in run(capsys, data_home, "show", MODEL)[1]

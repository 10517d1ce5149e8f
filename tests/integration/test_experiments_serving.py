"""Experiments served like any model: ensembles (vote, judge, JSON) and remote variants.

Through the app's own ServingService (AppContext.serving) against the Ollama and GitHub
Models emulators on real sockets.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop_registry.app import AppContext, build_context
from desktop_registry.config import Settings
from desktop_registry.domain import Kind, Source
from desktop_registry.domain.chat import ChatChunk, ChatMessage
from desktop_registry.errors import SourceError, UserInputError
from tests.servers.github_models_emulator import GitHubModelsEmulator
from tests.servers.ollama_emulator import EmulatedModel, OllamaEmulator

QUESTION = [ChatMessage(role="user", content="What is the capital of France? One word.")]


def voter(name: str, reply: str) -> EmulatedModel:
    return EmulatedModel(name, parameter_size="1.0B", reply=reply)


@pytest.fixture
def ollama() -> Iterator[OllamaEmulator]:
    models = [
        voter("alpha:1b", "Paris"),
        voter("beta:1b", "paris."),
        voter("gamma:1b", "Lyon, surely"),
        voter("jsonish:1b", '```json\n{"capital": "Paris"}\n```'),
        voter("judge:1b", "Answer 3 is the best one."),
    ]
    with OllamaEmulator(models) as emu:
        yield emu


def context(home: Path, ollama: OllamaEmulator) -> AppContext:
    return build_context(Settings(home=home, ollama_url=ollama.url), db_path=home / "registry.db")


def run(home: Path, ollama: OllamaEmulator, work) -> object:
    async def go() -> object:
        ctx = context(home, ollama)
        try:
            return await work(ctx)
        finally:
            await ctx.aclose()
            ctx.close()

    return asyncio.run(go())


async def ask(ctx: AppContext, model: str, messages=QUESTION) -> list[ChatChunk]:
    return [c async for c in ctx.serving().chat(model, messages)]


@pytest.fixture
def home(tmp_path: Path, ollama: OllamaEmulator) -> Path:
    run(tmp_path, ollama, lambda ctx: ctx.ollama_sync().run())
    return tmp_path


def make(home: Path, ollama: OllamaEmulator, recipe: dict, *, tracked: bool = False):
    return run(home, ollama, lambda ctx: ctx.experiments(tracked=tracked).create(recipe))


def test_ensemble_of_three_returns_the_majority_answer(home, ollama):
    record = make(
        home,
        ollama,
        {
            "type": "ensemble",
            "name": "capital-vote",
            "members": ["alpha:1b", "gamma:1b", "beta:1b"],
            "rule": "majority_vote",
        },
        tracked=True,
    )
    assert record.kind is Kind.EXPERIMENTAL
    assert record.parameters["mlflow"]["experiment"] == "ensembles"
    chunks = run(home, ollama, lambda ctx: ask(ctx, "capital-vote"))
    assert "".join(c.content for c in chunks) == "Paris"
    assert chunks[-1].done and chunks[-1].usage is not None
    asked = {r.body["model"] for r in ollama.requests if r.path == "/api/chat"}
    assert asked == {"alpha:1b", "beta:1b", "gamma:1b"}


def test_judge_rule_returns_the_answer_the_judge_model_names(home, ollama):
    make(
        home,
        ollama,
        {
            "type": "ensemble",
            "name": "capital-judged",
            "members": ["alpha:1b", "beta:1b", "gamma:1b"],
            "rule": "judge",
            "judge": "judge:1b",
        },
    )
    chunks = run(home, ollama, lambda ctx: ask(ctx, "capital-judged"))
    assert "".join(c.content for c in chunks) == "Lyon, surely"  # the judge said "Answer 3"
    judge_call = next(
        r.body for r in ollama.requests if r.path == "/api/chat" and r.body["model"] == "judge:1b"
    )
    prompt = judge_call["messages"][-1]["content"]
    assert "Answer 1:\nParis" in prompt and "Answer 3:\nLyon, surely" in prompt


def test_first_valid_json_rule_skips_prose_answers(home, ollama):
    make(
        home,
        ollama,
        {
            "type": "ensemble",
            "name": "capital-json",
            "members": ["alpha:1b", "jsonish:1b"],
            "rule": "first_valid_json",
        },
    )
    chunks = run(home, ollama, lambda ctx: ask(ctx, "capital-json"))
    assert '"capital": "Paris"' in "".join(c.content for c in chunks)


def test_ensemble_keeps_answering_when_one_member_fails_and_says_so(home, ollama):
    make(
        home,
        ollama,
        {
            "type": "ensemble",
            "name": "capital-flaky",
            "members": ["alpha:1b", "beta:1b", "gamma:1b"],
        },
    )
    ollama.remove_model("gamma:1b")
    chunks = run(home, ollama, lambda ctx: ask(ctx, "capital-flaky"))
    assert "".join(c.content for c in chunks) == "Paris"
    assert "gamma:1b" in chunks[0].thinking  # the failure is shown, not hidden


def test_ensemble_with_no_answering_member_is_an_error(home, ollama):
    make(home, ollama, {"type": "ensemble", "name": "dead", "members": ["alpha:1b", "beta:1b"]})
    ollama.remove_model("alpha:1b")
    ollama.remove_model("beta:1b")
    with pytest.raises(SourceError, match="No member of dead answered"):
        run(home, ollama, lambda ctx: ask(ctx, "dead"))


def test_bad_ensembles_are_refused_naming_the_field(home, ollama):
    cases = [
        ({"members": ["alpha:1b"]}, "members"),
        ({"members": ["alpha:1b", "nope:1b"]}, "members[1]"),
        ({"members": ["alpha:1b", "beta:1b"], "rule": "judge"}, "judge"),
        ({"members": [f"m{i}" for i in range(6)]}, "members"),
    ]
    for recipe, field in cases:
        with pytest.raises(UserInputError) as caught:
            make(home, ollama, {"type": "ensemble", "name": "bad", **recipe})
        assert caught.value.message.split("valid: ")[-1].startswith(f"{field}:"), caught.value


def test_variant_of_a_remote_model_applies_its_recipe_at_request_time(
    home, ollama, monkeypatch: pytest.MonkeyPatch
):
    with GitHubModelsEmulator() as github:
        monkeypatch.setenv("DESKTOP_REGISTRY_GITHUB_MODELS_URL", github.url)
        monkeypatch.setenv("DESKTOP_REGISTRY_GITHUB_MODELS_SYNC", "always")
        monkeypatch.setenv("GH_TOKEN", github.token)
        run(home, ollama, lambda ctx: ctx.sync_all().run())
        record = make(
            home,
            ollama,
            {
                "type": "prompt_engineering",
                "name": "mini-terse",
                "base": "openai/gpt-4o-mini",
                "system": "Answer in {{n}} words.",
                "variables": {"n": "three"},
                "few_shot": [{"user": "Sky colour?", "assistant": "Blue, usually."}],
                "options": {"temperature": 0.1},
            },
        )
        assert record.source is Source.MLFLOW and record.kind is Kind.VARIANT
        assert not [r for r in ollama.requests if r.path == "/api/create"]  # nothing to create
        chunks = run(home, ollama, lambda ctx: ask(ctx, "mini-terse"))
        assert "".join(c.content for c in chunks)
        sent = [r.body for r in github.requests if r.path.endswith("/chat/completions")][-1]
        assert sent["model"].lower() == "openai/gpt-4o-mini"
        assert [m["role"] for m in sent["messages"]] == ["system", "user", "assistant", "user"]
        assert sent["messages"][0]["content"] == "Answer in three words."
        assert sent["temperature"] == 0.1

"""Variants of a local model: /api/create on the emulator, chat through serving, an MLflow run.

Real parts only: the Ollama emulator on a socket, a SQLite registry and a real MLflow store
under tmp_path, read back with `mlflow.search_runs`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop_registry.domain import Kind, Source
from desktop_registry.domain.chat import ChatMessage
from desktop_registry.errors import UserInputError
from desktop_registry.services.experiments.service import ExperimentService
from desktop_registry.services.serving.service import ServingService
from desktop_registry.services.sync.ollama import OllamaSync
from desktop_registry.sources.ollama import OllamaSource
from desktop_registry.storage import Database, ModelRepository
from desktop_registry.tracking.mlflow import MlflowTracker, default_tracking_uri
from tests.servers.ollama_emulator import OllamaEmulator, standard_models


class Lab:
    """An emulated Ollama, a synced registry, the factory and serving over them."""

    def __init__(self, tmp_path: Path, emu: OllamaEmulator) -> None:
        self.emu = emu
        self.db = Database.open(tmp_path / "registry.db")
        self.repo = ModelRepository(self.db)
        self.uri = default_tracking_uri(tmp_path)
        self.tracker = MlflowTracker(self.uri, artifact_root=tmp_path / "mlartifacts")

    def run(self, coro_factory):  # one event loop per step, like the CLI
        async def main():
            async with OllamaSource(self.emu.url) as source:
                return await coro_factory(source)

        return asyncio.run(main())

    def sync(self) -> None:
        self.run(lambda source: OllamaSync(source, self.repo).run())

    def create(self, recipe: dict):
        return self.run(
            lambda source: ExperimentService(self.repo, source, self.tracker).create(recipe)
        )

    def chat(self, model: str, text: str = "Say hi") -> str:
        async def go(source):
            serving = ServingService(self.repo, {Source.OLLAMA: source})
            parts = []
            async for chunk in serving.chat(model, [ChatMessage(role="user", content=text)]):
                parts.append(chunk.content)
            return "".join(parts)

        return self.run(go)


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    with OllamaEmulator(standard_models()) as emu:
        lab = Lab(tmp_path, emu)
        lab.sync()
        yield lab
        lab.db.dispose()


def mlflow_runs(uri: str, experiment: str) -> list:
    import mlflow

    mlflow.set_tracking_uri(uri)
    try:
        return mlflow.search_runs(experiment_names=[experiment], output_format="list")
    finally:
        mlflow.set_tracking_uri(None)


def create_bodies(emu: OllamaEmulator) -> list[dict]:
    return [r.body for r in emu.requests if r.path == "/api/create"]


def test_parameter_variant_becomes_an_ollama_model_that_chats_and_is_tracked(lab):
    record = lab.create(
        {
            "type": "parameter_tuning",
            "name": "llama-cold",
            "base": "llama3.1:8b",
            "options": {"temperature": 0.2, "top_k": 20, "stop": ["</end>"]},
        }
    )
    (body,) = create_bodies(lab.emu)
    assert body["model"] == "llama-cold"
    assert body["from"] == "llama3.1:8b"
    assert body["parameters"] == {"temperature": 0.2, "top_k": 20, "stop": ["</end>"]}
    # `ollama run llama-cold` would work: the server now lists it with the options baked in
    assert lab.emu.model("llama-cold:latest") is not None
    assert "temperature" in lab.emu.model("llama-cold:latest").parameters

    assert record.name == "llama-cold:latest"
    assert record.kind is Kind.VARIANT
    assert record.parent_id == lab.repo.resolve("llama3.1:8b").id
    assert record.parameters["experiment"]["options"]["temperature"] == 0.2

    assert lab.chat("llama-cold") == lab.emu.model("llama3.1:8b").reply
    chat = [r.body for r in lab.emu.requests if r.path == "/api/chat"][-1]
    assert chat["model"] == "llama-cold:latest"
    assert chat["options"]["temperature"] == 0.2

    (run,) = mlflow_runs(lab.uri, "llama3.1:8b")
    assert run.info.run_id == record.parameters["mlflow"]["run_id"]
    assert run.data.params["options.temperature"] == "0.2"
    assert run.data.params["options.top_k"] == "20"
    assert run.data.params["type"] == "parameter_tuning"
    assert run.data.tags["base"] == "llama3.1:8b"
    assert run.data.tags["experiment_type"] == "parameter_tuning"
    assert run.data.tags["source"] == "ollama"
    assert "PARAMETER temperature 0.2" in lab.tracker.artifact_text(run.info.run_id, "Modelfile")
    assert record.parameters["mlflow"]["model_version"] == "1"
    lab.sync()  # the next Ollama sync sees it unchanged and keeps kind, lineage and recipe
    again = lab.repo.resolve("llama-cold")
    assert (again.kind, again.parent_id, again.parameters) == (
        Kind.VARIANT,
        record.parent_id,
        record.parameters,
    )


def test_prompt_variant_sends_system_and_few_shot_messages_and_is_tracked(lab):
    record = lab.create(
        {
            "type": "prompt_engineering",
            "name": "qwen-pirate",
            "base": "qwen3:8b",
            "system": "You are a {{persona}}. Answer in one line.",
            "variables": {"persona": "pirate"},
            "few_shot": [{"user": "Hello", "assistant": "Ahoy!"}],
        }
    )
    (body,) = create_bodies(lab.emu)
    assert body["from"] == "qwen3:8b"
    assert body["system"] == "You are a pirate. Answer in one line."
    assert body["messages"] == [
        {"role": "user", "content": "Hello"},
        {"role": "assistant", "content": "Ahoy!"},
    ]
    assert record.system == "You are a pirate. Answer in one line."
    assert lab.chat("qwen-pirate:latest") == lab.emu.model("qwen3:8b").reply

    (run,) = mlflow_runs(lab.uri, "qwen3:8b")
    assert run.data.params["system"] == "You are a {{persona}}. Answer in one line."
    assert run.data.params["variables.persona"] == "pirate"
    assert run.data.tags["experiment_type"] == "prompt_engineering"


def test_exported_modelfile_recreates_the_variant(lab):
    lab.create(
        {
            "type": "prompt_engineering",
            "name": "phi-brief",
            "base": "phi:2.7b",
            "system": "Be brief.",
            "options": {"num_ctx": 4096},
        }
    )
    text = ExperimentService(lab.repo, local=None).modelfile("phi-brief")  # no server needed
    assert "FROM phi:2.7b" in text
    assert "PARAMETER num_ctx 4096" in text
    assert "SYSTEM Be brief." in text


@pytest.mark.parametrize(
    ("recipe", "field"),
    [
        ({"options": {"temperature": -1}}, "options.temperature"),
        ({"options": {"temprature": 0.5}}, "options.temprature"),
        ({"base": "no-such-model:1b"}, "base"),
    ],
)
def test_bad_recipes_are_refused_naming_the_field_and_nothing_is_created(lab, recipe, field):
    full = {
        "type": "parameter_tuning",
        "name": "bad-one",
        "base": "llama3.1:8b",
        "options": {"temperature": 0.5},
        **recipe,
    }
    before = lab.repo.count()
    with pytest.raises(UserInputError) as caught:
        lab.create(full)
    assert caught.value.message.split("valid: ")[-1].startswith(field)
    assert create_bodies(lab.emu) == []
    assert lab.repo.count() == before


def test_a_variant_name_already_taken_is_refused(lab):
    recipe = {
        "type": "parameter_tuning",
        "name": "llama-cold",
        "base": "llama3.1:8b",
        "options": {"seed": 7},
    }
    lab.create(recipe)
    with pytest.raises(UserInputError, match=r"^name: "):
        lab.create(recipe)
    assert len(create_bodies(lab.emu)) == 1


def test_an_embedding_model_cannot_get_a_prompt_variant(lab):
    with pytest.raises(UserInputError, match=r"^base: nomic-embed-text"):
        lab.create(
            {
                "type": "prompt_engineering",
                "name": "nomic-x",
                "base": "nomic-embed-text",
                "system": "hi",
            }
        )


def test_fine_tune_adapter_is_uploaded_and_registered_with_its_lineage_and_metrics(lab, tmp_path):
    adapter = tmp_path / "adapter.gguf"
    adapter.write_bytes(b"GGUF" + bytes(range(256)) * 64)
    record = lab.create(
        {
            "type": "fine_tuning",
            "name": "llama-support",
            "base": "llama3.1:8b",
            "adapter_path": str(adapter),
            "dataset": "support-tickets.jsonl",
            "metrics": {"eval_loss": 0.37},
        }
    )
    (body,) = create_bodies(lab.emu)
    digest = body["adapters"]["adapter.gguf"]
    assert digest.startswith("sha256:") and lab.emu.blob_exists(digest)
    assert body["from"] == "llama3.1:8b"
    assert record.kind is Kind.EXPERIMENTAL
    assert record.parent_id == lab.repo.resolve("llama3.1:8b").id
    assert lab.chat("llama-support") == lab.emu.model("llama3.1:8b").reply
    (run,) = mlflow_runs(lab.uri, "llama3.1:8b")
    assert run.data.metrics == {"eval_loss": 0.37}
    assert run.data.params["dataset"] == "support-tickets.jsonl"
    assert run.data.tags["experiment_type"] == "fine_tuning"


def test_fine_tune_of_a_missing_adapter_file_is_refused_naming_the_field(lab, tmp_path):
    with pytest.raises(UserInputError, match=r"^adapter_path: "):
        lab.create(
            {
                "type": "fine_tuning",
                "name": "llama-x",
                "base": "llama3.1:8b",
                "adapter_path": str(tmp_path / "nope.gguf"),
            }
        )
    assert create_bodies(lab.emu) == []

"""A suite's responseFormat becomes OpenAI's `response_format` and Ollama's `format`, and reaches
the model through the serving layer, variants and ensembles included."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from desktop_registry.domain import ModelRecord, Serving, Source
from desktop_registry.domain.chat import ChatChunk, ChatMessage
from desktop_registry.services.evaluation.suite import parse_prompt_yml
from desktop_registry.services.serving.service import ServingService
from desktop_registry.sources.ollama import ollama_format

SCHEMA = {"type": "object", "required": ["age"], "properties": {"age": {"type": "integer"}}}


def suite_text(fmt: str | None, schema: dict[str, Any] | None = None) -> str:
    lines = ["name: S", "messages:", "  - role: user", "    content: hi"]
    if fmt:
        lines.append(f"responseFormat: {fmt}")
    if schema is not None:
        lines.append(f"jsonSchema: '{json.dumps(schema)}'")
    return "\n".join(lines) + "\n"


def test_json_schema_suite_asks_for_openais_response_format_with_the_files_schema():
    wanted = {"name": "person", "strict": True, "schema": SCHEMA}
    suite = parse_prompt_yml(suite_text("json_schema", wanted))
    assert suite.request_format() == {"type": "json_schema", "json_schema": wanted}
    assert ollama_format(suite.request_format()) == SCHEMA


def test_json_object_suite_asks_for_json_and_text_or_nothing_asks_for_nothing():
    assert parse_prompt_yml(suite_text("json_object")).request_format() == {"type": "json_object"}
    assert ollama_format({"type": "json_object"}) == "json"
    assert parse_prompt_yml(suite_text("text")).request_format() is None
    assert parse_prompt_yml(suite_text(None)).request_format() is None
    assert ollama_format(None) is None and ollama_format({"type": "text"}) is None


def test_a_schema_format_without_a_schema_still_asks_ollama_for_json():
    assert ollama_format({"type": "json_schema", "json_schema": {"name": "x"}}) == "json"


class RecordingBackend:
    """Stands in for a source (Ollama here): records the format each chat was asked for."""

    def __init__(self) -> None:
        self.formats: list[Mapping[str, Any] | None] = []
        self.models: list[str] = []

    async def chat(
        self,
        model: str,
        messages: Sequence[ChatMessage],
        *,
        options: Mapping[str, Any] | None = None,
        think: bool | None = None,
        tools: Sequence[Mapping[str, Any]] | None = None,
        response_format: Mapping[str, Any] | None = None,
    ) -> AsyncIterator[ChatChunk]:
        self.formats.append(response_format)
        self.models.append(model)
        yield ChatChunk(content="{}", done=True)

    async def embed(self, model: str, inputs: str | Sequence[str]) -> list[list[float]]:
        return []


def collect(service: ServingService, model: ModelRecord, **kw: Any) -> list[ChatChunk]:
    async def go() -> list[ChatChunk]:
        messages = [ChatMessage(role="user", content="hi")]
        return [c async for c in service.chat(model, messages, **kw)]

    return asyncio.run(go())


def test_the_serving_layer_passes_the_format_to_the_backend():
    backend = RecordingBackend()
    service = ServingService(None, {Source.OLLAMA: backend})  # type: ignore[arg-type]
    model = ModelRecord(name="llama3.1:8b", source=Source.OLLAMA, serving=Serving.LOCAL)
    collect(service, model, response_format={"type": "json_object"})
    collect(service, model)
    assert backend.formats == [{"type": "json_object"}, None]


def test_a_parameter_variant_and_an_ensemble_pass_the_format_on_to_the_models_they_call(repo):
    from desktop_registry.services.experiments.service import RECIPE_KEY
    from desktop_registry.services.serving.ensemble import ExperimentBackend

    local = RecordingBackend()
    service = ServingService(repo, {Source.OLLAMA: local})  # type: ignore[arg-type]
    service.backends[Source.MLFLOW] = ExperimentBackend(service, repo)
    bases = [
        repo.register(ModelRecord(name=n, source=Source.OLLAMA, serving=Serving.LOCAL))
        for n in ("llama3.1:8b", "qwen3:8b", "phi4:14b")
    ]
    recipe = {"type": "parameter_tuning", "name": "cold", "base": "llama3.1:8b",
              "options": {"temperature": 0.1}}  # fmt: skip
    variant = repo.register(
        ModelRecord(name="llama-cold", source=Source.MLFLOW, serving=Serving.LOCAL,
                    parent_id=bases[0].id, parameters={RECIPE_KEY: recipe})
    )  # fmt: skip
    wanted = {"type": "json_schema", "json_schema": {"name": "p", "schema": SCHEMA}}
    collect(service, variant, response_format=wanted)
    assert local.formats == [wanted] and local.models == ["llama3.1:8b"]

    ensemble = {"type": "ensemble", "name": "trio", "rule": "majority_vote",
                "members": [b.name for b in bases]}  # fmt: skip
    trio = repo.register(
        ModelRecord(name="trio", source=Source.MLFLOW, serving=Serving.LOCAL,
                    parameters={RECIPE_KEY: ensemble})
    )  # fmt: skip
    local.formats.clear()
    collect(service, trio, response_format={"type": "json_object"})
    assert local.formats == [{"type": "json_object"}] * 3

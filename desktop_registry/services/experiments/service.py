"""The variant factory: one generator per experiment type, each producing a registry model.

Local bases become real Ollama models (/api/create) so `ollama run <variant>` works outside
the app; remote bases become registry variants applied at request time. Never loses a
created variant because tracking failed: the failure is recorded on the variant instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from desktop_registry.domain import Category, Kind, ModelRecord, Serving, Source
from desktop_registry.domain.chat import ChatMessage
from desktop_registry.domain.local import LocalModelSummary
from desktop_registry.errors import NotFoundError, RegistryError, UserInputError
from desktop_registry.services.experiments.recipes import (
    EnsembleRecipe,
    ExperimentType,
    FineTuningRecipe,
    ParameterTuningRecipe,
    PromptEngineeringRecipe,
    Recipe,
    modelfile,
    parse_recipe,
)
from desktop_registry.storage.repository import ModelRepository
from desktop_registry.tracking.mlflow import ENSEMBLE_EXPERIMENT, MlflowTracker

RECIPE_KEY = "experiment"  # ModelRecord.parameters[RECIPE_KEY] holds the full recipe
TRACKING_KEY = "mlflow"  # ModelRecord.parameters[TRACKING_KEY]: run id, URI, version (or error)
ADAPTER_FILE = "adapter.gguf"
Records = list[ModelRecord]  # alias: `list` is shadowed inside the class body


class LocalModelFactory(Protocol):
    """What materialising a variant needs from Ollama (sources/ollama.py provides it)."""

    async def create(
        self,
        name: str,
        *,
        from_: str,
        system: str | None = None,
        template: str | None = None,
        parameters: Mapping[str, Any] | None = None,
        messages: Sequence[ChatMessage] | None = None,
        adapters: Mapping[str, str] | None = None,
        license: str | None = None,
    ) -> list[str]: ...

    async def list_models(self) -> list[LocalModelSummary]: ...

    async def describe(self, summary: LocalModelSummary) -> ModelRecord: ...

    async def upload_blob(self, path: Path) -> str: ...


def ollama_name(name: str) -> str:
    """The name Ollama lists a created model under (`:latest` when no tag is given)."""
    return name if ":" in name else f"{name}:latest"


def recipe_of(record: ModelRecord) -> Recipe | None:
    data = record.parameters.get(RECIPE_KEY)
    return parse_recipe(data) if isinstance(data, Mapping) else None


class ExperimentService:
    """Creates, lists and exports experiments; `local` materialises variants of Ollama models."""

    def __init__(
        self,
        repository: ModelRepository,
        local: LocalModelFactory,
        tracker: MlflowTracker | None = None,
    ) -> None:
        self.repository = repository
        self.local = local
        self.tracker = tracker

    async def create(self, recipe: Recipe | Mapping[str, Any]) -> ModelRecord:
        """Validate, build and register one experiment, then track it in MLflow."""
        if isinstance(recipe, Mapping):
            recipe = parse_recipe(recipe)
        if isinstance(recipe, ParameterTuningRecipe | PromptEngineeringRecipe):
            record, base = await self._variant(recipe)
        elif isinstance(recipe, EnsembleRecipe):
            record, base = self._ensemble(recipe), None
        else:
            record, base = await self._fine_tune(recipe)
        # MLflow's client blocks (SQLite, files, HTTP): keep it off the event loop.
        return await asyncio.to_thread(self._track, record, recipe, base)

    # ----- generators -------------------------------------------------------------------
    async def _variant(
        self, recipe: ParameterTuningRecipe | PromptEngineeringRecipe
    ) -> tuple[ModelRecord, ModelRecord]:
        base = self._model("base", recipe.base)
        if "completion" not in base.capabilities and base.capabilities:
            raise UserInputError(
                f"base: {base.name} cannot generate text ({', '.join(base.capabilities)}), "
                "so generation options and prompts do not apply to it."
            )
        options = recipe.options.as_dict()
        system = recipe.rendered_system() if isinstance(recipe, PromptEngineeringRecipe) else ""
        parameters = {**options, RECIPE_KEY: recipe.model_dump(mode="json")}
        kind = Kind.VARIANT
        if base.serving is Serving.LOCAL and base.source is Source.OLLAMA:
            name = self._free_name(recipe.name, Source.OLLAMA)
            few_shot = recipe.few_shot if isinstance(recipe, PromptEngineeringRecipe) else []
            template = recipe.template if isinstance(recipe, PromptEngineeringRecipe) else ""
            await self.local.create(
                name,
                from_=base.ollama_name or base.name,
                system=system or None,
                template=template or None,
                parameters=options or None,
                messages=_few_shot_messages(few_shot) or None,
            )
            record = await self._describe_created(name, base)
            record = record.model_copy(
                update={"kind": kind, "parameters": parameters, "system": system}
            )
        else:
            record = self._request_time_variant(recipe.name, base, kind, parameters, system)
        record = record.model_copy(
            update={"description": recipe.description or f"{recipe.type} of {base.name}"}
        )
        return self.repository.register(record), base

    def _ensemble(self, recipe: EnsembleRecipe) -> ModelRecord:
        members = [self._model(f"members[{i}]", m) for i, m in enumerate(recipe.members)]
        judge = self._model("judge", recipe.judge) if recipe.judge else None
        for i, member in enumerate([*members, *([judge] if judge else [])]):
            if "completion" not in member.capabilities and member.capabilities:
                field = f"members[{i}]" if i < len(members) else "judge"
                raise UserInputError(f"{field}: {member.name} cannot chat, so it cannot answer.")
        everyone = [*members, *([judge] if judge else [])]
        local = all(m.serving is Serving.LOCAL for m in everyone)
        name = self._free_name(recipe.name, Source.MLFLOW)
        record = ModelRecord(
            name=name,
            source=Source.MLFLOW,  # lives in the registry + MLflow only; no source sync touches it
            serving=Serving.LOCAL if local else Serving.REMOTE,
            kind=Kind.EXPERIMENTAL,
            category=Category.GENERAL,
            categories=[Category.GENERAL],
            capabilities=["completion"],
            parameters={**recipe.options.as_dict(), RECIPE_KEY: recipe.model_dump(mode="json")},
            description=recipe.description
            or f"{recipe.rule.value.replace('_', ' ')} over {', '.join(m.name for m in members)}",
            tags=["experiment", "ensemble"],
        )
        return self.repository.register(record)

    async def _fine_tune(self, recipe: FineTuningRecipe) -> tuple[ModelRecord, ModelRecord]:
        base = self._model("base", recipe.base)
        if base.source is not Source.OLLAMA:
            raise UserInputError(
                f"base: {base.name} is a remote model; an adapter can only be applied to a "
                "local Ollama model."
            )
        digest = recipe.adapter_digest.replace("sha256-", "sha256:", 1)
        data = recipe.model_dump(mode="json")
        filename = ADAPTER_FILE
        if recipe.adapter_path:
            path = Path(recipe.adapter_path).expanduser().resolve()
            if not path.is_file():
                raise UserInputError(f"adapter_path: {path} is not a file on this machine.")
            digest = await self.local.upload_blob(path)
            # Absolute, so the exported Modelfile's ADAPTER line works from any folder.
            data["adapter_path"] = str(path)
            filename = path.name  # Ollama tells GGUF from safetensors by the file name
        name = self._free_name(recipe.name, Source.OLLAMA)
        await self.local.create(
            name,
            from_=base.ollama_name or base.name,
            system=recipe.system or None,
            adapters={filename: digest},  # /api/create: file name → blob digest
        )
        record = await self._describe_created(name, base)
        data["adapter_digest"] = digest
        record = record.model_copy(
            update={
                "kind": Kind.EXPERIMENTAL,
                "parameters": {RECIPE_KEY: data},
                "description": recipe.description
                or f"{recipe.method} fine-tune of {base.name}"
                + (f" on {recipe.dataset}" if recipe.dataset else ""),
            }
        )
        return self.repository.register(record), base

    # ----- helpers ----------------------------------------------------------------------
    def _model(self, field: str, name: str) -> ModelRecord:
        try:
            return self.repository.resolve(name)
        except NotFoundError:
            raise UserInputError(
                f"{field}: no model named {name!r} in the registry. Sync first, or check the "
                "name with `desktop-registry-cli list`."
            ) from None

    def _free_name(self, name: str, source: Source) -> str:
        full = ollama_name(name) if source is Source.OLLAMA else name
        if self.repository.find(full, source=source.value) is not None:
            raise UserInputError(f"name: a model named {full!r} already exists; choose another.")
        return name

    async def _describe_created(self, name: str, base: ModelRecord) -> ModelRecord:
        wanted = ollama_name(name)
        for summary in await self.local.list_models():
            if summary.name == wanted:
                record = await self.local.describe(summary)
                return record.model_copy(
                    update={"parent_id": base.id, "tags": ["experiment", *record.tags]}
                )
        raise RegistryError(f"Ollama reported {wanted} created but does not list it.")

    @staticmethod
    def _request_time_variant(
        name: str, base: ModelRecord, kind: Kind, parameters: dict[str, Any], system: str
    ) -> ModelRecord:
        return ModelRecord(
            name=name,
            source=Source.MLFLOW,  # applied at request time; served through its base's source
            provider=base.provider,
            serving=base.serving,
            kind=kind,
            category=base.category,
            categories=list(base.categories),
            category_source=base.category_source,
            capabilities=list(base.capabilities),
            parameters=parameters,
            details=base.details,
            parent_id=base.id,
            system=system,
            tags=["experiment", "request-time"],
        )

    def _track(self, record: ModelRecord, recipe: Recipe, base: ModelRecord | None) -> ModelRecord:
        if self.tracker is None:
            return record
        assert record.id is not None
        try:
            run = self.tracker.track_variant(
                experiment=base.name if base else ENSEMBLE_EXPERIMENT,
                model_name=record.name,
                experiment_type=recipe.type,
                source=(base.source.value if base else record.source.value),
                recipe=recipe.model_dump(mode="json"),
                modelfile=self.modelfile(record) if recipe.type != "ensemble" else None,
                metrics=recipe.metrics if isinstance(recipe, FineTuningRecipe) else None,
            )
            tracking: dict[str, Any] = {
                "run_id": run.run_id,
                "experiment_id": run.experiment_id,
                "experiment": run.experiment_name,
                "tracking_uri": run.tracking_uri,
                "registered_model": run.registered_model,
                "model_version": run.model_version,
            }
        except RegistryError as exc:
            tracking = {"error": str(exc), "tracking_uri": self.tracker.uri}
            self.repository.add_history(
                "tracking_failed", model_id=record.id, detail={"error": str(exc)}, actor="app"
            )
        return self.repository.update(
            record.id, parameters={**record.parameters, TRACKING_KEY: tracking}
        )

    # ----- reading ----------------------------------------------------------------------
    def list(self) -> Records:
        """Every experiment the app made, oldest first."""
        found = [
            r
            for kind in (Kind.VARIANT, Kind.EXPERIMENTAL)
            for r in self.repository.list(kind=kind.value)
            if RECIPE_KEY in r.parameters
        ]
        return sorted(found, key=lambda r: r.id or 0)

    def lineage(self, record: ModelRecord) -> Records:
        """The record, its parent, its parent's parent … up to a base model."""
        chain = [record]
        seen = {record.id}
        while chain[-1].parent_id is not None and chain[-1].parent_id not in seen:
            seen.add(chain[-1].parent_id)
            chain.append(self.repository.get(chain[-1].parent_id))
        return chain

    def modelfile(self, model: ModelRecord | str) -> str:
        """The Ollama Modelfile of a variant (what `ollama show --modelfile` would print)."""
        record = model if isinstance(model, ModelRecord) else self.repository.resolve(model)
        recipe = recipe_of(record)
        if recipe is None:
            raise UserInputError(f"{record.name} is not an experiment made here; it has no recipe.")
        if isinstance(recipe, EnsembleRecipe):
            raise UserInputError(
                f"{record.name} is an ensemble: it combines several models at request time "
                "and has no Ollama Modelfile."
            )
        parent = self.repository.get(record.parent_id) if record.parent_id else None
        base = (parent.ollama_name or parent.github_models_id or parent.name) if parent else ""
        base = base or recipe.base
        comment = f"{record.name}: {recipe.type} made by Desktop Registry"
        if record.source is not Source.OLLAMA:
            comment += "\nFROM is a remote model: the app applies this recipe at request time"
        if isinstance(recipe, FineTuningRecipe):
            # ADAPTER takes a file path (`ollama create` hashes and uploads it itself); a blob
            # digest is only valid in /api/create's `adapters` map.
            adapter = recipe.adapter_path
            if not adapter:
                comment += (
                    f"\nThe adapter is Ollama blob {recipe.adapter_digest}; no file path was "
                    "given.\nPut the adapter file's path on the ADAPTER line before "
                    f"`ollama create -f`,\nor copy it from `ollama show --modelfile {record.name}`."
                )
                adapter = f"./{ADAPTER_FILE}"
            return modelfile(base, system=recipe.system, adapter=adapter, comment=comment)
        few_shot = recipe.few_shot if isinstance(recipe, PromptEngineeringRecipe) else []
        return modelfile(
            base,
            options=recipe.options.as_dict(),
            system=recipe.rendered_system() if isinstance(recipe, PromptEngineeringRecipe) else "",
            template=recipe.template if isinstance(recipe, PromptEngineeringRecipe) else "",
            messages=[(m.role, m.content) for m in _few_shot_messages(few_shot)],
            comment=comment,
        )


def _few_shot_messages(examples: Sequence[Any]) -> list[ChatMessage]:
    messages: list[ChatMessage] = []
    for example in examples:
        messages.append(ChatMessage(role="user", content=example.user))
        messages.append(ChatMessage(role="assistant", content=example.assistant))
    return messages


__all__ = ["ExperimentService", "ExperimentType", "ollama_name", "recipe_of"]

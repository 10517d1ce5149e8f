"""Experiment recipes (pydantic, with Ollama's option ranges) and the Modelfile they make.

Pure validation and text: never does I/O; every refusal names the field that is wrong.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from desktop_registry.domain.enums import CombinationRule as CombinationRule
from desktop_registry.domain.enums import ExperimentType as ExperimentType
from desktop_registry.errors import UserInputError

# Ollama model names: letters, digits, `_.-`, an optional `:tag` (no spaces, no slashes here).
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}(:[A-Za-z0-9_.\-]{1,80})?$")
_VARIABLE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
ADAPTER_DIGEST = re.compile(r"^sha256[:-][0-9a-f]{64}$")  # a blob Ollama holds, not a file


class GenerationOptions(BaseModel):
    """The generation options Ollama accepts, with the ranges it treats as meaningful."""

    model_config = ConfigDict(extra="forbid")

    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    top_k: int | None = Field(default=None, ge=0, le=1000)
    min_p: float | None = Field(default=None, ge=0, le=1)
    repeat_penalty: float | None = Field(default=None, ge=0, le=10)
    repeat_last_n: int | None = Field(default=None, ge=-1)
    num_ctx: int | None = Field(default=None, ge=1, le=2_097_152)
    num_predict: int | None = Field(default=None, ge=-2)
    seed: int | None = None
    stop: list[str] | None = Field(default=None, max_length=16)
    presence_penalty: float | None = Field(default=None, ge=-2, le=2)
    frequency_penalty: float | None = Field(default=None, ge=-2, le=2)

    def as_dict(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


OPTION_NAMES = tuple(GenerationOptions.model_fields)


class _Recipe(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    description: str = ""

    @model_validator(mode="after")
    def _name_is_an_ollama_name(self) -> _Recipe:
        if not _NAME.match(self.name):
            raise ValueError(
                f"name {self.name!r}: use letters, digits, '_', '.', '-' and an optional ':tag'"
            )
        return self


class ParameterTuningRecipe(_Recipe):
    type: Literal["parameter_tuning"] = "parameter_tuning"
    base: str = Field(min_length=1)
    options: GenerationOptions

    @model_validator(mode="after")
    def _some_option(self) -> ParameterTuningRecipe:
        if not self.options.as_dict():
            raise ValueError("options: set at least one generation option")
        return self


class FewShotExample(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user: str = Field(min_length=1)
    assistant: str = Field(min_length=1)


class PromptEngineeringRecipe(_Recipe):
    type: Literal["prompt_engineering"] = "prompt_engineering"
    base: str = Field(min_length=1)
    system: str = ""
    template: str = ""  # an Ollama prompt template replacing the base's
    variables: dict[str, str] = Field(default_factory=dict)  # filled into {{name}} in `system`
    few_shot: list[FewShotExample] = Field(default_factory=list)
    options: GenerationOptions = Field(default_factory=GenerationOptions)

    @model_validator(mode="after")
    def _complete(self) -> PromptEngineeringRecipe:
        if not self.system.strip() and not self.few_shot and not self.template:
            raise ValueError("system: give a system prompt, few-shot examples or a template")
        unfilled = sorted(set(_VARIABLE.findall(self.system)) - set(self.variables))
        if unfilled:
            raise ValueError(
                f"variables: no value for {', '.join(unfilled)} used in the system prompt"
            )
        texts = [("system", self.rendered_system()), ("template", self.template)]
        for i, shot in enumerate(self.few_shot):
            texts += [
                (f"few_shot.{i}.user", shot.user),
                (f"few_shot.{i}.assistant", shot.assistant),
            ]
        for field, text in texts:
            problem = modelfile_problem(text)
            if problem:
                raise ValueError(f"{field}: {problem}")
        return self

    def rendered_system(self) -> str:
        return _VARIABLE.sub(lambda m: self.variables[m.group(1)], self.system)


class EnsembleRecipe(_Recipe):
    type: Literal["ensemble"] = "ensemble"
    members: list[str] = Field(min_length=2, max_length=5)
    rule: CombinationRule = CombinationRule.MAJORITY_VOTE
    judge: str | None = None
    options: GenerationOptions = Field(default_factory=GenerationOptions)

    @model_validator(mode="after")
    def _judge_when_judged(self) -> EnsembleRecipe:
        if len(set(self.members)) != len(self.members):
            raise ValueError("members: each member model may appear only once")
        if self.rule is CombinationRule.JUDGE and not self.judge:
            raise ValueError("judge: the judge rule needs a judge model")
        return self


class FineTuningRecipe(_Recipe):
    type: Literal["fine_tuning"] = "fine_tuning"
    base: str = Field(min_length=1)
    adapter_path: str = ""  # a GGUF or safetensors adapter on this machine, uploaded as a blob
    adapter_digest: str = ""  # or a blob Ollama already holds (sha256:<hex>)
    method: str = "lora"
    dataset: str = ""
    training: dict[str, float | int | str] = Field(default_factory=dict)
    job_id: str = ""
    metrics: dict[str, float] = Field(default_factory=dict)
    system: str = ""

    @model_validator(mode="after")
    def _has_adapter(self) -> FineTuningRecipe:
        if not self.adapter_path and not self.adapter_digest:
            raise ValueError("adapter_path: name the adapter file the fine-tune produced")
        if self.adapter_digest and not ADAPTER_DIGEST.match(self.adapter_digest):
            raise ValueError("adapter_digest: expected sha256:<64 hex digits>")
        if _LINE_BREAK.search(self.adapter_path):
            raise ValueError("adapter_path: a file path may not contain a line break")
        problem = modelfile_problem(self.system)
        if problem:
            raise ValueError(f"system: {problem}")
        return self


Recipe = Annotated[
    ParameterTuningRecipe | PromptEngineeringRecipe | EnsembleRecipe | FineTuningRecipe,
    Field(discriminator="type"),
]
_RECIPE: TypeAdapter[Recipe] = TypeAdapter(Recipe)


def _describe(error: Mapping[str, Any]) -> str:
    path = [str(p) for p in error.get("loc", ())]
    if path and path[0] in {t.value for t in ExperimentType}:
        path = path[1:]  # the discriminator tag pydantic puts first
    loc = ".".join(path)
    kind = error.get("type", "")
    if kind == "extra_forbidden":
        if path[:1] == ["options"]:
            return f"{loc}: not an option Ollama accepts (known: {', '.join(OPTION_NAMES)})"
        return f"{loc}: not a field of this recipe"
    if kind == "missing":
        return f"{loc}: required"
    if kind == "value_error":
        return str(error.get("msg", "")).removeprefix("Value error, ")
    message = str(error.get("msg", "invalid value"))
    message = message[0].lower() + message[1:]
    got = error.get("input")
    suffix = f" (got {json.dumps(got, default=str)})" if got is not None else ""
    return f"{loc}: {message}{suffix}" if loc else message + suffix


def recipe_error(exc: ValidationError, what: str = "The recipe") -> UserInputError:
    lines = [_describe(e) for e in exc.errors()]
    return UserInputError(f"{what} is not valid: " + "; ".join(lines))


def parse_recipe(data: Mapping[str, Any]) -> Recipe:
    """A recipe from plain data (CLI, dialog, JSON); a clear UserInputError naming the field."""
    if data.get("type") not in {t.value for t in ExperimentType}:
        raise UserInputError(
            f"type: {data.get('type')!r} is not an experiment type "
            f"(choose {', '.join(t.value for t in ExperimentType)})"
        )
    try:
        return _RECIPE.validate_python(dict(data))
    except ValidationError as exc:
        raise recipe_error(exc) from None


def parse_options(data: Mapping[str, Any]) -> GenerationOptions:
    try:
        return GenerationOptions.model_validate(dict(data))
    except ValidationError as exc:
        raise recipe_error(exc, "The options") from None


# ----- Modelfile ------------------------------------------------------------------------
_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # Ollama's Modelfile parser counts \r as a line break


def modelfile_problem(text: str) -> str | None:
    """Why `text` cannot be one Modelfile value, or None. Ollama's parser has no escapes: a
    \"\"\"-quoted value ends at the first line break that follows three double quotes, so
    such a line would end the value early and the rest would be read as new instructions."""
    for line in _LINE_BREAK.split(text)[:-1]:
        if line.rstrip().endswith('"""'):
            return (
                'a line may not end with three double quotes (""") before another line: '
                "Ollama's Modelfile would end the text there"
            )
    return None


def _dropped_character(text: str) -> str | None:
    """The first character Ollama's Modelfile parser silently drops (it keeps only what Go calls
    printable, plus spaces and line breaks inside a value), or None."""
    for at, ch in enumerate(text):
        if ch not in " \t\r\n" and unicodedata.category(ch)[0] not in "LMNPS":
            return f"U+{ord(ch):04X} (character {at + 1})"
    return None


def _checked(field: str, text: str) -> str:
    problem = modelfile_problem(text)
    if problem:
        raise UserInputError(f"{field}: {problem}")
    dropped = _dropped_character(text)
    if dropped:
        raise UserInputError(
            f"{field}: {dropped} is a control or invisible character that Ollama's Modelfile "
            "drops, so the model would get a different text; remove it"
        )
    return text


def _one_line(field: str, text: str) -> str:
    if _LINE_BREAK.search(text):
        raise UserInputError(f"{field}: {text!r} may not contain a line break")
    return text


def _quoted(field: str, text: str) -> str:
    _checked(field, text)
    # Unquoted, Ollama trims the value: spaces at its edges survive only inside quotes.
    plain = not _LINE_BREAK.search(text) and '"' not in text and text == text.strip()
    return text if plain else f'"""{text}"""'


def _path_argument(path: str) -> str:
    """A file path as Ollama's parser reads it back: edge spaces survive only when quoted."""
    if path != path.strip():
        return f'"""{path}"""' if '"' in path else f'"{path}"'
    return path


def _parameter_lines(options: Mapping[str, Any]) -> list[str]:
    lines = []
    for key, value in options.items():
        values = value if isinstance(value, list) else [value]
        for item in values:
            shown = json.dumps(item) if isinstance(item, str) else str(item)
            lines.append(f"PARAMETER {key} {shown}")
    return lines


def modelfile(
    base: str,
    *,
    options: Mapping[str, Any] | None = None,
    system: str = "",
    template: str = "",
    messages: list[tuple[str, str]] | None = None,
    adapter: str = "",
    comment: str = "",
) -> str:
    """The Ollama Modelfile equivalent of a create request (`ollama create -f` accepts it).

    `adapter` is the adapter's file path, absolute or relative to the Modelfile: `ollama create`
    reads and hashes that file itself, so a blob digest (what /api/create takes) cannot go here.
    """
    if adapter and ADAPTER_DIGEST.match(adapter):
        raise UserInputError(
            f"adapter: {adapter} is a blob digest; a Modelfile's ADAPTER line needs the adapter "
            "file's path (GGUF or safetensors)."
        )
    lines = [f"# {line}" for line in comment.splitlines()] + [f"FROM {_one_line('base', base)}"]
    if adapter:
        lines.append(f"ADAPTER {_path_argument(_one_line('adapter', adapter))}")
    lines += _parameter_lines(options or {})
    if template:
        lines.append(f'TEMPLATE """{_checked("template", template)}"""')
    if system:
        lines.append(f"SYSTEM {_quoted('system', system)}")
    for i, (role, content) in enumerate(messages or []):
        lines.append(f"MESSAGE {role} {_quoted(f'few_shot message {i + 1}', content)}")
    return "\n".join(lines) + "\n"

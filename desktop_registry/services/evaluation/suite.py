"""Reads and writes the `.prompt.yml` files `gh models eval` uses, so suites travel both ways.

Never rewrites what a user brought: export gives back the file's own text (every key, order
and comment) unless the suite was built here, in which case only the keys it has are written.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from desktop_registry.errors import UserInputError
from desktop_registry.services.evaluation.prompt_yaml import (
    MAX_BYTES,
    decode_prompt_bytes,
    load_yaml,
)

ROLES = ("system", "user", "assistant")
STRING_CHECKS = ("contains", "equals", "startsWith", "endsWith")
RESPONSE_FORMATS = ("text", "json_object", "json_schema")
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][\w.-]*)\s*\}\}")


def render(template: str, variables: Mapping[str, Any]) -> str:
    """`{{name}}` → value, exactly as gh-models does: unknown placeholders stay as they are."""
    out = template
    for key, value in variables.items():
        text = value if isinstance(value, str) else _go_text(value)
        out = out.replace("{{" + str(key) + "}}", text)
    return out


def _go_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


@dataclass(frozen=True)
class PromptMessage:
    role: str
    content: str


@dataclass(frozen=True)
class EvaluatorSpec:
    """One entry of `evaluators`: a string check, an `llm` judge, or `uses:` a named scorer.

    `uses` names gh-models built-ins (`github/similarity`, …) or our own scorers
    (`desktop-registry/regex`, …) whose settings sit under `with:` (gh-models ignores it).
    """

    name: str
    string: dict[str, str] = field(default_factory=dict)
    llm: dict[str, Any] = field(default_factory=dict)
    uses: str = ""
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return "string" if self.string else "llm" if self.llm else "uses"


@dataclass
class EvalSuite:
    name: str
    description: str = ""
    model: str = ""
    model_parameters: dict[str, Any] = field(default_factory=dict)
    response_format: str | None = None
    json_schema: dict[str, Any] | None = None
    messages: list[PromptMessage] = field(default_factory=list)
    test_data: list[dict[str, Any]] = field(default_factory=list)
    evaluators: list[EvaluatorSpec] = field(default_factory=list)
    tools: list[dict[str, Any]] = field(default_factory=list)  # our extension (function calling)
    raw: dict[str, Any] = field(default_factory=dict)  # the mapping as read, every key kept
    source_text: str = ""  # the file as brought; export gives it back unchanged

    def rows(self) -> list[dict[str, Any]]:
        """Test rows; a suite without testData runs its prompt once with no variables."""
        return self.test_data or [{}]

    def chat_messages(self, row: Mapping[str, Any]) -> list[PromptMessage]:
        return [PromptMessage(m.role, render(m.content, row)) for m in self.messages]

    def options(self) -> dict[str, Any]:
        """modelParameters in the serving layer's (Ollama) option names."""
        names = {
            "temperature": "temperature",
            "maxTokens": "num_predict",
            "topP": "top_p",
            "seed": "seed",  # ours: gh-models has no seed, a fixed one makes sampled runs repeat
        }
        return {names[k]: v for k, v in self.model_parameters.items() if k in names}

    def request_format(self) -> dict[str, Any] | None:
        """responseFormat/jsonSchema as gh-models sends them: OpenAI's `response_format`.

        None for plain text (every API's default); the Ollama adapter turns the rest into `format`.
        """
        if self.response_format in (None, "text"):
            return None
        wanted: dict[str, Any] = {"type": self.response_format}
        if self.response_format == "json_schema" and self.json_schema is not None:
            wanted["json_schema"] = self.json_schema
        return wanted


def _fail(where: str, message: str) -> UserInputError:
    return UserInputError(f"{where}: {message}")


def _evaluator(where: str, item: Any) -> EvaluatorSpec:
    if not isinstance(item, dict):
        raise _fail(where, "each evaluator is a mapping with a name and string, llm or uses.")
    name = item.get("name")
    if not isinstance(name, str) or not name.strip():
        raise _fail(where, "an evaluator needs a name.")
    present = [k for k in ("string", "llm", "uses") if item.get(k)]
    if len(present) != 1:
        raise _fail(where, f"evaluator {name!r} needs exactly one of string, llm or uses.")
    settings = item.get("with") or {}
    if not isinstance(settings, dict):
        raise _fail(where, f"evaluator {name!r}: `with` must be a mapping.")
    if present[0] == "string":
        check = item["string"]
        if not isinstance(check, dict) or not any(check.get(k) for k in STRING_CHECKS):
            raise _fail(
                where, f"evaluator {name!r}: string needs one of {', '.join(STRING_CHECKS)}."
            )
        return EvaluatorSpec(
            name, string={k: str(v) for k, v in check.items() if v}, settings=settings
        )
    if present[0] == "llm":
        llm = item["llm"]
        if not isinstance(llm, dict) or not isinstance(llm.get("prompt"), str):
            raise _fail(where, f"evaluator {name!r}: llm needs a prompt.")
        choices = llm.get("choices") or []
        if not isinstance(choices, list) or not all(
            isinstance(c, dict) and "choice" in c and isinstance(c.get("score"), int | float)
            for c in choices
        ):
            raise _fail(where, f"evaluator {name!r}: llm choices are {{choice, score}} pairs.")
        return EvaluatorSpec(name, llm=dict(llm), settings=settings)
    uses = item["uses"]
    if not isinstance(uses, str):
        raise _fail(where, f"evaluator {name!r}: uses must be a name like github/similarity.")
    return EvaluatorSpec(name, uses=uses, settings=settings)


def parse_prompt_yml(text: str, *, origin: str = "prompt file") -> EvalSuite:
    """Parse and check a `.prompt.yml`; errors name the field so the user can fix the file."""
    data = load_yaml(text, origin)
    if not isinstance(data, dict):
        raise UserInputError(f"{origin}: a prompt file is a mapping with name, model, messages….")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise _fail(origin, "`name` is missing; the suite is known by it.")
    messages: list[PromptMessage] = []
    for i, m in enumerate(data.get("messages") or []):
        if not isinstance(m, dict) or m.get("role") not in ROLES:
            raise _fail(f"{origin}: messages[{i}]", f"role must be one of {', '.join(ROLES)}.")
        messages.append(PromptMessage(str(m["role"]), str(m.get("content") or "")))
    if not messages:
        raise _fail(origin, "`messages` is empty; there is nothing to send to a model.")
    rows = data.get("testData") or []
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise _fail(origin, "`testData` is a list of mappings (one per test row).")
    evaluators = [
        _evaluator(f"{origin}: evaluators[{i}]", e)
        for i, e in enumerate(data.get("evaluators") or [])
    ]
    fmt = data.get("responseFormat")
    if fmt is not None and fmt not in RESPONSE_FORMATS:
        raise _fail(origin, f"responseFormat {fmt!r} must be one of {', '.join(RESPONSE_FORMATS)}.")
    schema: dict[str, Any] | None = None
    if data.get("jsonSchema") is not None:
        try:
            parsed = json.loads(str(data["jsonSchema"]))
        except ValueError as exc:
            raise _fail(origin, f"jsonSchema is not valid JSON ({exc}).") from None
        except RecursionError:
            raise _fail(origin, "jsonSchema is nested too deeply to read.") from None
        schema = parsed if isinstance(parsed, dict) else None
    if fmt == "json_schema" and (schema is None or "name" not in schema or "schema" not in schema):
        raise _fail(origin, "responseFormat json_schema needs a jsonSchema with name and schema.")
    params = data.get("modelParameters") or {}
    tools = data.get("tools") or []
    if not isinstance(params, dict) or not isinstance(tools, list):
        raise _fail(origin, "modelParameters is a mapping and tools a list.")
    return EvalSuite(
        name=name.strip(),
        description=str(data.get("description") or ""),
        model=str(data.get("model") or ""),
        model_parameters=dict(params),
        response_format=fmt,
        json_schema=schema,
        messages=messages,
        test_data=[dict(r) for r in rows],
        evaluators=evaluators,
        tools=[dict(t) for t in tools if isinstance(t, dict)],
        raw=data,
        source_text=text,
    )


def load_prompt_yml(path: Path) -> EvalSuite:
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)  # never more than the limit into memory
    except OSError as exc:
        raise UserInputError(f"Cannot read {path}: {exc.strerror or exc}.") from None
    return parse_prompt_yml(decode_prompt_bytes(data, path.name), origin=path.name)


class _BlockDumper(yaml.SafeDumper):
    pass


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_BlockDumper.add_representer(str, _str)


def dump_prompt_yml(suite: EvalSuite) -> str:
    """The suite as a prompt file: the original text when it came from one, else its keys."""
    if suite.source_text:
        return suite.source_text
    text = yaml.dump(suite.raw, Dumper=_BlockDumper, sort_keys=False, allow_unicode=True, width=100)
    return str(text)


def equivalent(a: str, b: str) -> bool:
    """Two prompt files say the same thing (same keys and values; layout may differ)."""
    return bool(yaml.safe_load(a) == yaml.safe_load(b))

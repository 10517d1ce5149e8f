"""Property: whatever text a user imports as a `.prompt.yml`, the importer answers with a suite
or a UserInputError naming the place at fault, never a Python traceback.

Arbitrary text, arbitrary YAML documents (nan/inf, huge ints, unicode) and randomly mutated copies
of the real suites in resources/eval_suites and ../shared/protocols/gh-models-prompts. In-process.
"""

from __future__ import annotations

import contextlib
import math
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from desktop_registry.errors import RegistryError
from desktop_registry.services.evaluation.suite import EvalSuite, parse_prompt_yml
from tests.conftest import REPO_ROOT, SHARED

FUZZ = settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SUITE_DIRS = (REPO_ROOT / "resources" / "eval_suites", SHARED / "protocols" / "gh-models-prompts")


class _Dumper(yaml.SafeDumper):
    """Writes ints past Python's 4,300-digit str() limit in hex, which YAML reads back."""


def _int(dumper: yaml.SafeDumper, value: int) -> yaml.ScalarNode:
    text = hex(value) if value.bit_length() > 14_000 else str(value)
    return dumper.represent_scalar("tag:yaml.org,2002:int", text)


_Dumper.add_representer(int, _int)


def _dump(document: Any) -> str:
    return yaml.dump(document, Dumper=_Dumper, allow_unicode=True)


def _sample_texts() -> list[str]:
    paths: list[Path] = []
    for folder in SUITE_DIRS:
        if folder.is_dir():
            paths += sorted(folder.glob("*.prompt.yml")) + sorted(folder.glob("*_prompt.yml"))
    return [p.read_text(encoding="utf-8") for p in paths] or ["name: x\nmessages: []\n"]


SAMPLES = _sample_texts()


def _imports_or_refuses(text: str) -> EvalSuite | None:
    """The property itself: a suite, or one of our errors (a message a user can act on)."""
    try:
        suite = parse_prompt_yml(text, origin="fuzz.prompt.yml")
    except RegistryError as exc:
        assert str(exc).startswith("fuzz.prompt.yml"), str(exc)
        return None
    assert suite.name and suite.messages
    return suite


def test_every_shipped_sample_suite_imports() -> None:
    assert len(SAMPLES) >= 4
    for text in SAMPLES:
        assert _imports_or_refuses(text) is not None


# Scalars YAML can hold, including the ones that used to escape as ValueError/RecursionError.
_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=10**4300, max_value=10**5000),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(["system", "user", "assistant", "json_schema", "text", "{{input}}"]),
)
_keys = st.one_of(
    st.sampled_from(
        [
            "name",
            "description",
            "model",
            "messages",
            "role",
            "content",
            "testData",
            "evaluators",
            "string",
            "llm",
            "uses",
            "with",
            "contains",
            "prompt",
            "choices",
            "choice",
            "score",
            "responseFormat",
            "jsonSchema",
            "modelParameters",
            "tools",
        ]
    ),
    st.text(max_size=10),
    st.integers(),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_keys, inner, max_size=5)),
    max_leaves=25,
)


@FUZZ
@given(st.text(max_size=400))
@example("a: 2020-02-30")  # was ValueError: day is out of range for month
@example("a: " + "1" * 5000)  # was ValueError: Exceeds the limit (4300 digits)
@example("name: x\nmessages:\n- role: user\n  content: 0x" + "f" * 5000)  # was ValueError (str)
@example('name: x\nmessages: [{role: user}]\njsonSchema: "' + "[" * 100_000 + '"')  # RecursionError
@example("a: !!timestamp 2001-13-01")
@example("a: &x [*x]")
@example("? " + "0x" + "f" * 5000 + "\n: 1")
def test_arbitrary_text_imports_or_is_refused(text: str) -> None:
    _imports_or_refuses(text)


@FUZZ
@given(st.dictionaries(_keys, _values, max_size=8))
def test_arbitrary_yaml_documents_import_or_are_refused(document: dict[Any, Any]) -> None:
    _imports_or_refuses(_dump(document))


@FUZZ
@given(
    st.fixed_dictionaries(
        {
            "name": _values,
            "messages": st.lists(
                st.fixed_dictionaries(
                    {"role": st.sampled_from(["system", "user", "assistant"]), "content": _values}
                ),
                max_size=3,
            ),
            "testData": _values,
            "evaluators": st.lists(st.dictionaries(_keys, _values, max_size=4), max_size=3),
            "responseFormat": _values,
            "jsonSchema": _values,
            "modelParameters": _values,
        }
    )
)
def test_nearly_valid_suites_import_or_are_refused(document: dict[str, Any]) -> None:
    suite = _imports_or_refuses(_dump(document))
    if suite is not None:
        for value in suite.model_parameters.values():
            assert not (isinstance(value, float) and not math.isfinite(value))


_MUTATIONS = st.sampled_from(["delete", "insert", "replace", "duplicate", "swap"])


@FUZZ
@given(
    st.sampled_from(range(len(SAMPLES))),
    st.lists(
        st.tuples(_MUTATIONS, st.integers(0, 10**6), st.text(max_size=12)), min_size=1, max_size=6
    ),
)
def test_mutated_sample_suites_import_or_are_refused(
    which: int, mutations: list[tuple[str, int, str]]
) -> None:
    text = SAMPLES[which]
    for kind, at, piece in mutations:
        lines = text.splitlines(keepends=True) or [""]
        i = at % len(lines)
        if kind == "delete":
            text = text[: at % (len(text) + 1)] + text[at % (len(text) + 1) + len(piece) + 1 :]
        elif kind == "insert":
            cut = at % (len(text) + 1)
            text = text[:cut] + piece + text[cut:]
        elif kind == "replace":
            lines[i] = piece + "\n"
            text = "".join(lines)
        elif kind == "duplicate":
            lines.insert(i, lines[i])
            text = "".join(lines)
        else:
            j = (at // 7) % len(lines)
            lines[i], lines[j] = lines[j], lines[i]
            text = "".join(lines)
    with contextlib.suppress(RegistryError):
        _imports_or_refuses(text)

"""Scorers: string checks (as gh-models), exact match, regex, JSON, schema, numbers, tool calls,
embedding similarity and an LLM judge.

A scorer never raises for what a model or a judge said: anything it cannot score becomes a
Score with `error` set, which the runner reports row by row.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from desktop_registry.domain.chat import ToolCall
from desktop_registry.errors import RegistryError
from desktop_registry.services.evaluation.judge import (
    BUILTIN_JUDGES,
    JudgeVerdict,
    parse_choice,
    parse_pass_fail,
    parse_scale,
)
from desktop_registry.services.evaluation.suite import EvaluatorSpec, render

OURS = "desktop-registry/"
NUMBER = re.compile(r"[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?")


@dataclass(frozen=True)
class Reply:
    """What the model under test answered."""

    text: str
    tool_calls: list[ToolCall] = field(default_factory=list)


@dataclass(frozen=True)
class Score:
    evaluator: str
    score: float
    passed: bool
    details: str = ""
    error: str = ""  # set when the scorer could not score (malformed judge reply, no embedder)

    def as_json(self) -> dict[str, Any]:
        return {
            "evaluatorName": self.evaluator,
            "score": self.score,
            "passed": self.passed,
            "details": self.details,
            **({"error": self.error} if self.error else {}),
        }


class ScoringHelper(Protocol):
    """What model-graded scorers need: ask a judge model, embed texts."""

    async def complete(self, model: str, system: str, prompt: str) -> str: ...

    async def embed(self, model: str, texts: Sequence[str]) -> list[list[float]]: ...


def _verdict(name: str, passed: bool, details: str, score: float | None = None) -> Score:
    return Score(name, (1.0 if passed else 0.0) if score is None else score, passed, details)


# ----- pure scorers -------------------------------------------------------------------------
def string_check(name: str, check: Mapping[str, str], row: Mapping[str, Any], text: str) -> Score:
    """gh-models semantics: equals is exact; the others ignore case."""
    if check.get("equals"):
        want = render(check["equals"], row)
        return _verdict(name, text == want, f"Expected exact match: '{want}'")
    lower = text.lower()
    for key, label in (
        ("contains", "contain"),
        ("startsWith", "start with"),
        ("endsWith", "end with"),
    ):
        if check.get(key):
            want = render(check[key], row)
            w = want.lower()
            ok = (
                w in lower
                if key == "contains"
                else lower.startswith(w)
                if key == "startsWith"
                else lower.endswith(w)
            )
            return _verdict(name, ok, f"Expected to {label}: '{want}'")
    return Score(name, 0.0, False, error="string evaluator has no check")


def exact_match(name: str, text: str, expected: str, *, ignore_case: bool = True) -> Score:
    a, b = " ".join(text.split()), " ".join(expected.split())
    if ignore_case:
        a, b = a.casefold(), b.casefold()
    return _verdict(name, a == b, f"Expected (whitespace-normalised): '{expected}'")


def regex_match(name: str, text: str, pattern: str, *, flags: str = "") -> Score:
    bits = 0
    for letter, flag in (("i", re.IGNORECASE), ("m", re.MULTILINE), ("s", re.DOTALL)):
        if letter in flags:
            bits |= flag
    try:
        found = re.search(pattern, text, bits)
    except re.error as exc:
        return Score(name, 0.0, False, error=f"invalid regular expression {pattern!r}: {exc}")
    return _verdict(name, found is not None, f"Expected to match /{pattern}/")


def _json_payload(text: str) -> Any:
    """The JSON in a reply, also when wrapped in a ```json fence."""
    stripped = text.strip()
    fence = re.match(r"^```(?:json)?\s*(.*?)\s*```$", stripped, re.DOTALL)
    return json.loads(fence.group(1) if fence else stripped)


def json_valid(name: str, text: str) -> Score:
    try:
        _json_payload(text)
    except ValueError as exc:
        return _verdict(name, False, f"Not valid JSON: {exc}")
    return _verdict(name, True, "Valid JSON")


def json_schema_valid(name: str, text: str, schema: Mapping[str, Any]) -> Score:
    import jsonschema

    try:
        payload = _json_payload(text)
    except ValueError as exc:
        return _verdict(name, False, f"Not valid JSON: {exc}")
    try:
        validator_cls = jsonschema.validators.validator_for(schema)
        validator_cls.check_schema(schema)
        errors = sorted(validator_cls(schema).iter_errors(payload), key=lambda e: list(e.path))
    except jsonschema.SchemaError as exc:
        return Score(name, 0.0, False, error=f"the schema itself is invalid: {exc.message}")
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in first.path) or "(root)"
        return _verdict(name, False, f"Schema violation at {where}: {first.message}")
    return _verdict(name, True, "Matches the schema")


def numeric_tolerance(
    name: str, text: str, expected: float, *, tolerance: float = 0.0, relative: bool = False
) -> Score:
    """The last number in the reply (models explain first, answer last) within tolerance."""
    found = NUMBER.findall(text)
    if not found:
        return _verdict(name, False, f"No number in the reply; expected {expected:g}")
    value = float(found[-1].replace(",", ""))
    allowed = abs(expected) * tolerance if relative else tolerance
    ok = math.isclose(value, expected, rel_tol=0.0, abs_tol=allowed) or value == expected
    return _verdict(name, ok, f"Got {value:g}, expected {expected:g} ± {allowed:g}")


def tool_call(
    name: str, calls: Sequence[ToolCall], function: str, arguments: Mapping[str, Any] | None
) -> Score:
    """Right function, and every expected argument equal (extra arguments are allowed)."""
    if not calls:
        return _verdict(name, False, f"No tool call; expected {function}()")
    for call in calls:
        if call.name != function:
            continue
        wrong = {
            k: call.arguments.get(k)
            for k, v in (arguments or {}).items()
            if _loose(call.arguments.get(k)) != _loose(v)
        }
        if not wrong:
            return _verdict(name, True, f"Called {function} with the expected arguments")
        return _verdict(
            name,
            False,
            f"Called {function} but {json.dumps(wrong)} differ from {json.dumps(arguments)}",
            score=0.5,
        )
    names = ", ".join(c.name for c in calls)
    return _verdict(name, False, f"Called {names}; expected {function}")


def _loose(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip().casefold()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return value


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    if len(a) != len(b):
        raise ValueError(f"vectors differ in length ({len(a)} vs {len(b)})")
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    na, nb = math.sqrt(sum(x * x for x in a)), math.sqrt(sum(y * y for y in b))
    return dot / (na * nb) if na and nb else 0.0


# ----- dispatch ----------------------------------------------------------------------------
async def score(
    spec: EvaluatorSpec,
    row: Mapping[str, Any],
    reply: Reply,
    helper: ScoringHelper | None,
    *,
    suite_schema: Mapping[str, Any] | None = None,
    judge_model: str | None = None,
) -> Score:
    """Score one reply with one evaluator; never raises for a model's or a judge's output."""
    try:
        return await _score(spec, row, reply, helper, suite_schema, judge_model)
    except RegistryError as exc:  # the judge or the embedder failed: reported, not fatal
        return Score(spec.name, 0.0, False, error=f"{spec.uses or 'llm'}: {exc}")
    except (ValueError, TypeError, KeyError) as exc:
        return Score(spec.name, 0.0, False, error=f"cannot score: {exc}")


async def _score(
    spec: EvaluatorSpec,
    row: Mapping[str, Any],
    reply: Reply,
    helper: ScoringHelper | None,
    suite_schema: Mapping[str, Any] | None,
    judge_model: str | None,
) -> Score:
    text, name = reply.text, spec.name
    settings = {k: render(v, row) if isinstance(v, str) else v for k, v in spec.settings.items()}
    if spec.string:
        return string_check(name, spec.string, row, text)
    if spec.llm:
        return await _llm_choices(spec, row, text, helper, judge_model)
    uses = spec.uses
    if uses.startswith("github/"):
        builtin = BUILTIN_JUDGES.get(uses.removeprefix("github/"))
        if builtin is None:
            return Score(name, 0.0, False, error=f"Plugin evaluator '{uses}' not found")
        llm = {**builtin, **({"modelId": judge_model} if judge_model else {})}
        return await _llm_choices(EvaluatorSpec(name, llm=llm), row, text, helper, None)
    if not uses.startswith(OURS):
        return Score(name, 0.0, False, error=f"Plugin evaluator '{uses}' not found")
    kind = uses.removeprefix(OURS)
    if kind == "exact-match":
        return exact_match(
            name,
            text,
            str(settings["expected"]),
            ignore_case=bool(settings.get("ignore_case", True)),
        )
    if kind == "regex":
        return regex_match(
            name, text, str(settings["pattern"]), flags=str(settings.get("flags", ""))
        )
    if kind == "json-valid":
        return json_valid(name, text)
    if kind == "json-schema":
        schema = settings.get("schema")
        if isinstance(schema, str):
            schema = json.loads(schema)
        if schema is None and suite_schema is not None:
            schema = suite_schema.get("schema", suite_schema)
        if not isinstance(schema, dict):
            return Score(
                name,
                0.0,
                False,
                error="json-schema needs `with: {schema: …}` or the suite's jsonSchema",
            )
        return json_schema_valid(name, text, schema)
    if kind == "numeric":
        return numeric_tolerance(
            name,
            text,
            float(settings["expected"]),
            tolerance=float(settings.get("tolerance", 0.0)),
            relative=bool(settings.get("relative", False)),
        )
    if kind == "tool-call":
        args = settings.get("arguments")
        if isinstance(args, str):
            args = json.loads(args)
        args = {k: render(v, row) if isinstance(v, str) else v for k, v in (args or {}).items()}
        return tool_call(name, reply.tool_calls, str(settings["function"]), args)
    if kind == "embedding-similarity":
        return await _embedding_similarity(name, text, settings, helper)
    if kind == "judge":
        return await _rubric_judge(name, row, text, settings, helper, judge_model)
    return Score(name, 0.0, False, error=f"Plugin evaluator '{uses}' not found")


async def _embedding_similarity(
    name: str, text: str, settings: Mapping[str, Any], helper: ScoringHelper | None
) -> Score:
    model = str(settings.get("model") or "")
    if helper is None or not model:
        return Score(
            name, 0.0, False, error="embedding-similarity needs `with: {model: <embedding model>}`"
        )
    threshold = float(settings.get("threshold", 0.8))
    reply_vec, ref_vec = await helper.embed(model, [text, str(settings["reference"])])
    similarity = cosine(reply_vec, ref_vec)
    return Score(
        name,
        max(0.0, similarity),
        similarity >= threshold,
        f"Cosine similarity {similarity:.3f} (pass at {threshold:g}) with {model}",
    )


async def _llm_choices(
    spec: EvaluatorSpec,
    row: Mapping[str, Any],
    text: str,
    helper: ScoringHelper | None,
    judge_model: str | None,
) -> Score:
    llm = spec.llm
    model = judge_model or str(llm.get("modelId") or "")
    if helper is None or not model:
        return Score(spec.name, 0.0, False, error="an llm evaluator needs a judge model (modelId)")
    prompt = render(str(llm["prompt"]), {**row, "completion": text})
    answer = await helper.complete(model, str(llm.get("systemPrompt") or ""), prompt)
    return _from_verdict(spec.name, parse_choice(answer, llm.get("choices") or []), model)


async def _rubric_judge(
    name: str,
    row: Mapping[str, Any],
    text: str,
    settings: Mapping[str, Any],
    helper: ScoringHelper | None,
    judge_model: str | None,
) -> Score:
    model = judge_model or str(settings.get("model") or "")
    if helper is None or not model:
        return Score(name, 0.0, False, error="judge needs a model: `with: {model: …}` or --judge")
    scale = str(settings.get("scale", "1-5"))
    rubric = str(settings.get("rubric") or "Rate how well the answer serves the question.")
    ask = (
        "Answer with one integer from 1 (worst) to 5 (best) as `Score: N`."
        if scale == "1-5"
        else "Answer with `Verdict: PASS` or `Verdict: FAIL`."
    )
    question = render(str(settings.get("question", "{{input}}")), row)
    prompt = f"Rubric: {rubric}\n\nQuestion: {question}\n\nAnswer to grade:\n{text}\n\n{ask}"
    answer = await helper.complete(model, "You are a strict, fair grader.", prompt)
    if scale == "1-5":
        verdict = parse_scale(answer, pass_at=int(settings.get("pass_at", 4)))
    else:
        verdict = parse_pass_fail(answer)
    return _from_verdict(name, verdict, model)


def _from_verdict(name: str, verdict: JudgeVerdict, model: str) -> Score:
    if verdict.error:
        return Score(name, 0.0, False, details=f"judge {model}", error=verdict.error)
    return Score(name, verdict.score, verdict.passed, f"judge {model}: {verdict.details}")

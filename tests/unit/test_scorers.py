"""Every scorer passes a right answer and fails a wrong one; odd judge replies are errors."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from desktop_registry.domain.chat import ToolCall
from desktop_registry.errors import SourceUnreachableError
from desktop_registry.services.evaluation import scorers
from desktop_registry.services.evaluation.judge import parse_choice, parse_pass_fail, parse_scale
from desktop_registry.services.evaluation.scorers import Reply, score
from desktop_registry.services.evaluation.suite import EvaluatorSpec


class ScriptedHelper:
    """Judge and embedder standing in for models: the judge replies with a fixed text and the
    embedder maps words to fixed vectors (real judges are tested against the emulators)."""

    def __init__(self, judge_reply: str = "", vectors: dict[str, list[float]] | None = None):
        self.judge_reply = judge_reply
        self.vectors = vectors or {}
        self.prompts: list[str] = []

    async def complete(self, model: str, system: str, prompt: str) -> str:
        self.prompts.append(prompt)
        return self.judge_reply

    async def embed(self, model: str, texts: Sequence[str]) -> list[list[float]]:
        return [self.vectors[t] for t in texts]


def run_score(spec: EvaluatorSpec, text: str, row=None, helper=None, **kw):
    return asyncio.run(score(spec, row or {}, Reply(text, kw.pop("calls", [])), helper, **kw))


def uses(kind: str, **settings) -> EvaluatorSpec:
    return EvaluatorSpec("check", uses=f"desktop-registry/{kind}", settings=settings)


@pytest.mark.parametrize(
    ("check", "reply", "passed"),
    [
        ({"contains": "{{city}}"}, "It is PARIS.", True),
        ({"contains": "{{city}}"}, "It is Lyon.", False),
        ({"startsWith": "yes"}, "Yes, it is.", True),
        ({"startsWith": "yes"}, "No.", False),
        ({"endsWith": "paris."}, "The answer is Paris.", True),
        ({"endsWith": "paris."}, "Paris is the answer", False),
        ({"equals": "{{city}}"}, "Paris", True),
        ({"equals": "{{city}}"}, "paris", False),  # gh-models: equals is case-sensitive
    ],
)
def test_string_checks_follow_gh_models_templating_and_case_rules(check, reply, passed):
    result = run_score(EvaluatorSpec("s", string=check), reply, {"city": "Paris"})
    assert result.passed is passed and result.score == (1.0 if passed else 0.0)


def test_exact_match_ignores_case_and_spacing_but_not_words():
    assert run_score(uses("exact-match", expected="New  York"), " new york ").passed
    assert not run_score(uses("exact-match", expected="New York"), "New York City").passed


def test_regex_matches_and_reports_a_bad_pattern_as_an_error():
    assert run_score(uses("regex", pattern=r"^\d{3}-\d{4}$"), "555-1234").passed
    assert not run_score(uses("regex", pattern=r"^\d{3}-\d{4}$"), "call 555-1234").passed
    broken = run_score(uses("regex", pattern="(unclosed"), "x")
    assert broken.error and "invalid regular expression" in broken.error


def test_json_valid_accepts_fenced_json_and_rejects_prose():
    assert run_score(uses("json-valid"), '```json\n{"a": 1}\n```').passed
    failed = run_score(uses("json-valid"), "Sure! here is {a: 1}")
    assert not failed.passed and "Not valid JSON" in failed.details


def test_json_schema_names_the_field_that_breaks_the_schema():
    schema = {"type": "object", "required": ["age"], "properties": {"age": {"type": "integer"}}}
    assert run_score(uses("json-schema", schema=schema), '{"age": 34}').passed
    failed = run_score(uses("json-schema", schema=schema), '{"age": "34"}')
    assert not failed.passed and "age" in failed.details


def test_json_schema_falls_back_to_the_suites_json_schema():
    suite_schema = {"name": "x", "schema": {"type": "object", "required": ["name"]}}
    assert run_score(uses("json-schema"), '{"name": "Rex"}', suite_schema=suite_schema).passed
    assert not run_score(uses("json-schema"), "{}", suite_schema=suite_schema).passed


def test_numeric_tolerance_reads_the_last_number_of_the_reply():
    spec = uses("numeric", expected="{{answer}}", tolerance=0.01)
    assert run_score(spec, "Step 1: 2+2. The result is 3.14159", {"answer": 3.14}).passed
    assert not run_score(spec, "I think it is 3.2", {"answer": 3.14}).passed
    assert not run_score(spec, "no idea", {"answer": 3.14}).passed
    relative = uses("numeric", expected=1000, tolerance=0.05, relative=True)
    assert run_score(relative, "about 1,040 people").passed


def test_tool_call_needs_the_right_function_and_arguments():
    spec = uses("tool-call", function="get_weather", arguments={"city": "{{city}}"})
    row = {"city": "Tokyo"}
    right = [ToolCall(name="get_weather", arguments={"city": "tokyo", "unit": "c"})]
    wrong_args = [ToolCall(name="get_weather", arguments={"city": "Paris"})]
    wrong_fn = [ToolCall(name="get_time", arguments={"city": "Tokyo"})]
    assert run_score(spec, "", row, calls=right).passed
    partly = run_score(spec, "", row, calls=wrong_args)
    assert not partly.passed and partly.score == 0.5 and "Paris" in partly.details
    assert not run_score(spec, "", row, calls=wrong_fn).passed
    assert not run_score(spec, "It is sunny", row).passed


def test_embedding_similarity_compares_reply_and_reference_vectors():
    helper = ScriptedHelper(
        vectors={"a cat": [1.0, 0.0], "a kitten": [0.9, 0.1], "a car": [0.0, 1.0]}
    )
    spec = uses("embedding-similarity", reference="{{ref}}", model="embed", threshold=0.8)
    assert run_score(spec, "a kitten", {"ref": "a cat"}, helper).passed
    assert not run_score(spec, "a car", {"ref": "a cat"}, helper).passed


def test_embedding_similarity_without_a_model_is_an_error_not_a_crash():
    result = run_score(uses("embedding-similarity", reference="x"), "y", helper=ScriptedHelper())
    assert result.error and "model" in result.error


@pytest.mark.parametrize(
    ("reply", "score_value", "passed"),
    [
        ("Score: 5", 1.0, True),
        ("<think>maybe 2?</think>\nRating: 4/5", 0.75, True),
        ('{"score": 2, "reason": "vague"}', 0.25, False),
        ("3", 0.5, False),
        ("**Score:** [[4]]", 0.75, True),
    ],
)
def test_judge_one_to_five_is_read_from_many_reply_shapes(reply, score_value, passed):
    spec = uses("judge", model="judge", rubric="Is it correct?")
    result = run_score(spec, "Paris", {"input": "Capital of France?"}, ScriptedHelper(reply))
    assert not result.error and result.score == score_value and result.passed is passed


@pytest.mark.parametrize(
    "reply",
    ["I cannot grade this.", "Score: 9", "Score: 2 ... actually Score: 5", "", "Score: 3.5"],
)
def test_malformed_judge_output_is_scored_as_an_error_and_reported(reply):
    spec = uses("judge", model="judge")
    result = run_score(spec, "Paris", {"input": "Capital?"}, ScriptedHelper(reply))
    assert result.error and not result.passed and result.score == 0.0
    assert "judge" in result.error


def test_pass_fail_judge_passes_fails_and_rejects_contradictions():
    spec = uses("judge", model="judge", scale="pass/fail")
    assert run_score(spec, "x", helper=ScriptedHelper("Verdict: PASS")).passed
    assert not run_score(spec, "x", helper=ScriptedHelper('{"verdict": "fail"}')).passed
    both = run_score(spec, "x", helper=ScriptedHelper("PASS? no, FAIL"))
    assert both.error
    assert parse_pass_fail("The answer passed all checks.").passed


def test_gh_models_builtin_judge_uses_the_row_and_completion_in_its_prompt():
    helper = ScriptedHelper("5")
    spec = EvaluatorSpec("similar", uses="github/similarity")
    row = {"input": "Capital of France?", "expected": "Paris"}
    result = run_score(spec, "It is Paris", row, helper, judge_model="judge")
    assert result.passed and result.score == 1.0
    assert "correct answer: Paris" in helper.prompts[0]
    assert "predicted answer: It is Paris" in helper.prompts[0]


def test_llm_choices_follow_gh_models_and_no_match_is_an_error():
    choices = [{"choice": "good", "score": 1.0}, {"choice": "bad", "score": 0.0}]
    assert parse_choice("GOOD answer", choices).score == 1.0
    assert parse_choice("bad", choices).passed is False
    assert parse_choice("unsure", choices).error
    assert parse_scale("Stars: 1").score == 0.0


def test_a_prompt_files_llm_evaluator_scores_by_choice_and_an_unmatched_reply_is_an_error():
    llm = {
        "modelId": "judge",
        "prompt": "Is '{{completion}}' the capital of {{country}}? Answer yes or no.",
        "choices": [{"choice": "yes", "score": 1.0}, {"choice": "no", "score": 0.0}],
    }
    spec = EvaluatorSpec("capital", llm=llm)
    row = {"country": "France"}
    yes = ScriptedHelper("Yes.")
    assert run_score(spec, "Paris", row, yes).passed
    assert yes.prompts == ["Is 'Paris' the capital of France? Answer yes or no."]
    failed = run_score(spec, "Lyon", row, ScriptedHelper("No, it is not."))
    assert not failed.passed and failed.score == 0.0 and not failed.error
    unsure = run_score(spec, "Lyon", row, ScriptedHelper("Hard to say."))
    assert unsure.error and "none of the choices" in unsure.error


class FailingJudge(ScriptedHelper):
    async def complete(self, model: str, system: str, prompt: str) -> str:
        raise SourceUnreachableError("Ollama is not running at http://localhost:11434.")


def test_a_judge_model_that_cannot_be_reached_is_an_error_on_the_row_not_a_crash():
    result = run_score(uses("judge", model="judge"), "Paris", {"input": "Capital?"}, FailingJudge())
    assert result.error and "not running" in result.error and not result.passed


def test_unknown_plugin_is_reported_by_name():
    result = run_score(EvaluatorSpec("x", uses="acme/magic"), "y")
    assert result.error == "Plugin evaluator 'acme/magic' not found"


def test_cosine_of_unequal_vectors_is_refused():
    with pytest.raises(ValueError):
        scorers.cosine([1.0], [1.0, 0.0])

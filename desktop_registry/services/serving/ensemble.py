"""Serves experiments applied at request time: ensembles and variants of remote models.

Registered with ServingService as the backend of `source=mlflow` records, so callers chat with
an ensemble like with any model. Never hides a member's failure when no answer is left.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import Counter
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from desktop_registry.domain import ModelRecord, Source
from desktop_registry.domain.chat import ChatChunk, ChatMessage, ChatUsage
from desktop_registry.errors import RegistryError, SourceError, UserInputError
from desktop_registry.services.experiments.recipes import (
    CombinationRule,
    EnsembleRecipe,
    ParameterTuningRecipe,
    PromptEngineeringRecipe,
)
from desktop_registry.services.experiments.service import recipe_of
from desktop_registry.services.serving.service import ServingService
from desktop_registry.storage.repository import ModelRepository

JUDGE_SYSTEM = (
    "You compare candidate answers to a question. Reply with the number of the best answer "
    "and nothing else."
)


@dataclass(frozen=True)
class MemberAnswer:
    model: str
    text: str
    usage: ChatUsage | None


def normalise(answer: str) -> str:
    """What counts as "the same answer" in a vote: case, spacing and end punctuation ignored."""
    return re.sub(r"\s+", " ", answer).strip().strip(".!").strip().lower()


def majority(answers: Sequence[MemberAnswer]) -> MemberAnswer:
    """The most common answer; a tie goes to the member listed first."""
    counts = Counter(normalise(a.text) for a in answers)
    best = max(counts.values())
    return next(a for a in answers if counts[normalise(a.text)] == best)


def first_valid_json(answers: Sequence[MemberAnswer]) -> MemberAnswer | None:
    for answer in answers:
        text = answer.text.strip()
        fenced = re.match(r"^```(?:json)?\s*(.*?)\s*```$", text, re.S)
        try:
            json.loads(fenced.group(1) if fenced else text)
        except ValueError:
            continue
        return answer
    return None


def judged(reply: str, answers: Sequence[MemberAnswer]) -> MemberAnswer | None:
    """The candidate a judge's reply names: "Answer 2", a member's name, or a bare number."""

    def pick(numbers: list[str]) -> MemberAnswer | None:
        for number in numbers:
            if 1 <= int(number) <= len(answers):
                return answers[int(number) - 1]
        return None

    labelled = re.findall(r"(?:answer|candidate|option|number|#)\s*#?(\d+)", reply, re.I)
    found = pick(labelled)
    if found is not None:
        return found
    lowered = reply.lower()
    for answer in answers:
        if answer.model.lower() in lowered:
            return answer
    return pick(re.findall(r"(?<![\w.:])(\d+)(?![\w.:])", reply))


def judge_prompt(messages: Sequence[ChatMessage], answers: Sequence[MemberAnswer]) -> str:
    question = next((m.content for m in reversed(messages) if m.role == "user"), "")
    parts = [f"Question:\n{question}"]
    parts += [f"Answer {i}:\n{a.text}" for i, a in enumerate(answers, 1)]
    parts.append("Which answer is best? Reply with its number only.")
    return "\n\n".join(parts)


class ExperimentBackend:
    """A ChatBackend for `source=mlflow` records: it resolves the recipe and calls real models."""

    def __init__(self, serving: ServingService, repository: ModelRepository) -> None:
        self.serving = serving
        self.repository = repository

    def _record(self, name: str) -> ModelRecord:
        record = self.repository.find(name, source=Source.MLFLOW.value)
        return record or self.repository.resolve(name)

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
        record = self._record(model)
        recipe = recipe_of(record)
        if isinstance(recipe, EnsembleRecipe):
            if tools:
                raise UserInputError(f"{record.name} is an ensemble; ensembles do not call tools.")
            async for chunk in self._ensemble(recipe, messages, options, response_format):
                yield chunk
            return
        if isinstance(recipe, ParameterTuningRecipe | PromptEngineeringRecipe):
            base = self.repository.get(record.parent_id) if record.parent_id else None
            if base is None:
                raise UserInputError(f"The base model of {record.name} is no longer registered.")
            stream = self.serving.chat(
                base,
                _with_recipe(recipe, messages),
                options=options,
                think=think,
                tools=tools,
                response_format=response_format,
            )
            async for chunk in stream:
                yield chunk
            return
        raise UserInputError(
            f"{record.name} was tracked in MLflow outside Desktop Registry; it has no recipe "
            "the app can serve. Open it in MLflow instead."
        )

    async def embed(self, model: str, inputs: str | Sequence[str]) -> list[list[float]]:
        record = self._record(model)
        recipe = recipe_of(record)
        if isinstance(recipe, ParameterTuningRecipe | PromptEngineeringRecipe) and record.parent_id:
            return await self.serving.embed(self.repository.get(record.parent_id), inputs)
        raise UserInputError(f"{record.name} cannot make embeddings.")

    # ----- ensembles ----------------------------------------------------------------------
    async def answer(
        self,
        model: str,
        messages: Sequence[ChatMessage],
        options: Mapping[str, Any] | None,
        response_format: Mapping[str, Any] | None = None,
    ) -> MemberAnswer:
        parts: list[str] = []
        usage: ChatUsage | None = None
        stream = self.serving.chat(
            model, messages, options=options, response_format=response_format
        )
        async for chunk in stream:
            parts.append(chunk.content)
            if chunk.done:
                usage = chunk.usage
        return MemberAnswer(model, "".join(parts), usage)

    async def _ensemble(
        self,
        recipe: EnsembleRecipe,
        messages: Sequence[ChatMessage],
        options: Mapping[str, Any] | None,
        response_format: Mapping[str, Any] | None = None,
    ) -> AsyncIterator[ChatChunk]:
        # Members are asked in the suite's format; the judge answers in prose.
        results = await asyncio.gather(
            *(self.answer(m, messages, options, response_format) for m in recipe.members),
            return_exceptions=True,
        )
        answers = [r for r in results if isinstance(r, MemberAnswer) and r.text.strip()]
        failures = [
            f"{m}: {r}"
            for m, r in zip(recipe.members, results, strict=True)
            if isinstance(r, BaseException)
        ]
        for result in results:
            if isinstance(result, BaseException) and not isinstance(result, RegistryError):
                raise result
        if not answers:
            raise SourceError(
                f"No member of {recipe.name} answered. " + "; ".join(failures), source="ensemble"
            )
        note = f"{len(failures)} member(s) failed: " + "; ".join(failures) if failures else ""
        chosen: MemberAnswer | None
        if recipe.rule is CombinationRule.MAJORITY_VOTE:
            chosen = majority(answers)
        elif recipe.rule is CombinationRule.FIRST_VALID_JSON:
            chosen = first_valid_json(answers)
            if chosen is None:
                raise SourceError(
                    f"None of the {len(answers)} answers to {recipe.name} is valid JSON.",
                    source="ensemble",
                )
        else:
            assert recipe.judge is not None
            verdict = await self.answer(
                recipe.judge,
                [
                    ChatMessage(role="system", content=JUDGE_SYSTEM),
                    ChatMessage(role="user", content=judge_prompt(messages, answers)),
                ],
                {"temperature": 0},
            )
            chosen = judged(verdict.text, answers)
            if chosen is None:
                chosen = majority(answers)
                note = (note + "; " if note else "") + (
                    f"the judge's reply ({verdict.text[:80]!r}) named no answer: majority vote used"
                )
        yield ChatChunk(content=chosen.text, thinking=note)
        yield ChatChunk(
            done=True,
            usage=ChatUsage(
                prompt_tokens=_total(a.usage.prompt_tokens if a.usage else None for a in answers),
                completion_tokens=chosen.usage.completion_tokens if chosen.usage else None,
                done_reason="stop",
            ),
        )


def _total(values: Any) -> int | None:
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def _with_recipe(
    recipe: ParameterTuningRecipe | PromptEngineeringRecipe, messages: Sequence[ChatMessage]
) -> list[ChatMessage]:
    """The request a remote base gets: our system prompt (unless the caller has one) + shots."""
    if not isinstance(recipe, PromptEngineeringRecipe):
        return list(messages)
    prefix: list[ChatMessage] = []
    system = recipe.rendered_system()
    if system and not any(m.role == "system" for m in messages):
        prefix.append(ChatMessage(role="system", content=system))
    for shot in recipe.few_shot:
        prefix.append(ChatMessage(role="user", content=shot.user))
        prefix.append(ChatMessage(role="assistant", content=shot.assistant))
    head = [m for m in messages if m.role == "system"]
    rest = [m for m in messages if m.role != "system"]
    return [*head, *prefix, *rest]

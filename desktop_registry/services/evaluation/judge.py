"""Reads an LLM judge's reply into a verdict: a 1–5 score, pass/fail, or one of a file's choices.

Never guesses: a reply with no clear verdict (or two different ones) is an error, not a score.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

THINK = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)
LABELLED = re.compile(
    r"(?:score|rating|stars?|grade)\s*[:=]?\s*\**\s*\[*\s*(\d+(?:\.\d+)?)\s*\]*\s*(?:/\s*5|out of 5)?",
    re.IGNORECASE,
)
OUT_OF_FIVE = re.compile(r"\b(\d+(?:\.\d+)?)\s*(?:/\s*5|out of 5)\b", re.IGNORECASE)
BARE = re.compile(r"^\W*(\d+(?:\.\d+)?)\W*$")
VERDICT = re.compile(r"(?:verdict|result|decision)\s*[:=]?\s*\**\s*(pass|fail)", re.IGNORECASE)
WORD = re.compile(r"\b(pass(?:ed)?|fail(?:ed)?)\b", re.IGNORECASE)


@dataclass(frozen=True)
class JudgeVerdict:
    score: float = 0.0
    passed: bool = False
    details: str = ""
    error: str = ""


def _clean(reply: str) -> str:
    return THINK.sub("", reply).strip()


def _short(reply: str) -> str:
    text = " ".join(reply.split())
    return text if len(text) <= 120 else text[:117] + "…"


def _json_field(text: str, *keys: str) -> Any:
    match = re.search(r"\{.*\}", text, re.DOTALL)
    if not match:
        return None
    try:
        data = json.loads(match.group(0))
    except ValueError:
        return None
    if isinstance(data, dict):
        for key in keys:
            if key in data:
                return data[key]
    return None


def parse_scale(reply: str, *, pass_at: int = 4) -> JudgeVerdict:
    """A 1–5 rating → score (rating-1)/4; passes at `pass_at` or above."""
    text = _clean(reply)
    found: list[float] = []
    value = _json_field(text, "score", "rating", "stars")
    if isinstance(value, int | float) and not isinstance(value, bool):
        found = [float(value)]
    else:
        found = [float(m) for m in LABELLED.findall(text)] or [
            float(m) for m in OUT_OF_FIVE.findall(text)
        ]
        if not found:
            bare = BARE.match(text)
            found = [float(bare.group(1))] if bare else []
    if not found:
        return JudgeVerdict(error=f"judge reply has no 1–5 score: {_short(reply)!r}")
    if len(set(found)) > 1:
        return JudgeVerdict(error=f"judge reply gives several scores {found}: {_short(reply)!r}")
    rating = found[0]
    if not 1 <= rating <= 5 or rating != int(rating):
        return JudgeVerdict(error=f"judge score {rating:g} is not an integer from 1 to 5")
    return JudgeVerdict((rating - 1) / 4, rating >= pass_at, f"rated {int(rating)}/5")


def parse_pass_fail(reply: str) -> JudgeVerdict:
    text = _clean(reply)
    value = _json_field(text, "verdict", "result", "pass", "passed")
    if isinstance(value, bool):
        words = ["pass" if value else "fail"]
    elif isinstance(value, str) and value.lower() in ("pass", "fail"):
        words = [value.lower()]
    else:
        words = [w.lower() for w in VERDICT.findall(text)] or [
            w.lower()[:4] for w in WORD.findall(text)
        ]
    if not words:
        return JudgeVerdict(error=f"judge reply has no PASS/FAIL verdict: {_short(reply)!r}")
    if len(set(words)) > 1:
        return JudgeVerdict(error=f"judge reply says both PASS and FAIL: {_short(reply)!r}")
    passed = words[0] == "pass"
    return JudgeVerdict(1.0 if passed else 0.0, passed, "PASS" if passed else "FAIL")


def parse_choice(reply: str, choices: Sequence[Mapping[str, Any]]) -> JudgeVerdict:
    """gh-models semantics (first choice contained in the reply, case-insensitive); no match is
    an error here rather than a silent 0."""
    text = _clean(reply).lower()
    for choice in choices:
        label = str(choice.get("choice", "")).lower()
        if label and label in text:
            value = float(choice.get("score", 0.0))
            return JudgeVerdict(value, value > 0, f"matched choice '{choice.get('choice')}'")
    return JudgeVerdict(error=f"judge reply matched none of the choices: {_short(reply)!r}")


_FIVE = [{"choice": str(i), "score": (i - 1) / 4} for i in range(1, 6)]
_SYSTEM = (
    "You are an AI assistant grading answers. Return a single integer from 1 to 5 and nothing else."
)


def _builtin(definition: str, inputs: str) -> dict[str, Any]:
    return {
        "modelId": "openai/gpt-4o",
        "systemPrompt": _SYSTEM,
        "prompt": f"{definition}\nRate from 1 (not at all) to 5 (completely).\n\n{inputs}\nstars:",
        "choices": _FIVE,
    }


# gh-models' built-ins (github/<name>), condensed; same inputs, same 1–5 → 0..1 scores.
BUILTIN_JUDGES: dict[str, dict[str, Any]] = {
    "similarity": _builtin(
        "Equivalence measures how similar the predicted answer is to the correct answer.",
        "question: {{input}}\ncorrect answer: {{expected}}\npredicted answer: {{completion}}",
    ),
    "coherence": _builtin(
        "Coherence: ideas are presented logically and in order, easy to follow.",
        "query: {{input}}\nresponse: {{completion}}",
    ),
    "fluency": _builtin(
        "Fluency: grammar, vocabulary and readability of the response.",
        "response: {{completion}}",
    ),
    "relevance": _builtin(
        "Relevance: the response addresses the query with pertinent information.",
        "query: {{input}}\nresponse: {{completion}}",
    ),
    "groundedness": _builtin(
        "Groundedness: every claim in the response is supported by the context.",
        "context: {{expected}}\nquery: {{input}}\nresponse: {{completion}}",
    ),
}

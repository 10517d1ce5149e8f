"""Search spaces: the defaults per model type, the CLI's `NAME=LOW:HIGH[:STEP]` spelling, checks.

Never lets a bad space reach Optuna: every refusal is a UserInputError naming the field.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from desktop_registry.domain.optimization import ModelType, ParameterRange
from desktop_registry.errors import UserInputError

# Options each kind of server accepts (by the app's Ollama names), with meaningful bounds.
OLLAMA_BOUNDS: dict[str, tuple[float, float]] = {
    "temperature": (0.0, 2.0),
    "top_p": (0.0, 1.0),
    "top_k": (0, 1000),
    "min_p": (0.0, 1.0),
    "repeat_penalty": (0.0, 10.0),
    "repeat_last_n": (-1, 4096),
    "num_ctx": (1, 2_097_152),
    "num_predict": (-2, 131_072),
    "seed": (0, 2**31 - 1),
    "presence_penalty": (-2.0, 2.0),
    "frequency_penalty": (-2.0, 2.0),
}
OPENAI_OPTIONS = ("temperature", "top_p", "num_predict", "seed", "presence_penalty",
                  "frequency_penalty")  # fmt: skip
LLAMACPP_OPTIONS = (*OPENAI_OPTIONS, "top_k", "min_p", "repeat_penalty", "repeat_last_n")
INTEGER_OPTIONS = frozenset({"top_k", "repeat_last_n", "num_ctx", "num_predict", "seed"})


def accepted_options(source: str) -> tuple[str, ...]:
    """The options a model's server takes: `ollama`, `llamacpp`, anything OpenAI-compatible."""
    if source in ("ollama", "mlflow"):  # request-time variants are served through their base
        return tuple(OLLAMA_BOUNDS)
    if source == "llamacpp":
        return LLAMACPP_OPTIONS
    return OPENAI_OPTIONS


def _r(
    name: str, low: float, high: float, step: float | None = None, log: bool = False
) -> ParameterRange:
    return ParameterRange(
        name=name, low=low, high=high, step=step, log=log, integer=name in INTEGER_OPTIONS
    )  # fmt: skip


DEFAULT_SPACES: dict[ModelType, list[ParameterRange]] = {
    ModelType.GENERAL: [_r("temperature", 0.0, 1.2, 0.1), _r("top_p", 0.5, 1.0, 0.05),
                        _r("top_k", 10, 100, 10)],
    ModelType.CODE: [_r("temperature", 0.0, 0.6, 0.05), _r("top_p", 0.7, 1.0, 0.05),
                     _r("repeat_penalty", 1.0, 1.3, 0.05)],
    ModelType.CREATIVE: [_r("temperature", 0.6, 1.6, 0.1), _r("top_p", 0.8, 1.0, 0.02),
                         _r("min_p", 0.0, 0.2, 0.02), _r("repeat_penalty", 1.0, 1.5, 0.05)],
    ModelType.ANALYSIS: [_r("temperature", 0.0, 0.8, 0.1), _r("top_p", 0.6, 1.0, 0.05),
                         _r("num_ctx", 2048, 16384, 2048)],
}  # fmt: skip


def default_space(model_type: ModelType, source: str = "ollama") -> list[ParameterRange]:
    """The model type's starting space, less what the model's server does not accept."""
    allowed = set(accepted_options(source))
    return [p.model_copy() for p in DEFAULT_SPACES[model_type] if p.name in allowed]


def _number(field: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise UserInputError(f"space {field}: {text!r} is not a number.") from None
    if not math.isfinite(value):
        raise UserInputError(f"space {field}: {text!r} is not a finite number.")
    return value


def _choice(text: str) -> Any:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return {"true": True, "false": False}.get(text.lower(), text)


def parse_range(spec: str) -> ParameterRange:
    """`temperature=0:1.2:0.1`, `top_p=0.8:1`, `top_k=20,40,80` → a ParameterRange."""
    name, sep, rest = spec.partition("=")
    name = name.strip()
    if not sep or not name:
        raise UserInputError(
            f"space {spec!r}: write NAME=LOW:HIGH[:STEP] or NAME=a,b,c (e.g. temperature=0:1:0.1)."
        )
    rest = rest.strip()
    if ":" in rest:
        parts = rest.split(":")
        if len(parts) not in (2, 3):
            raise UserInputError(f"space {name}: {rest!r} is LOW:HIGH or LOW:HIGH:STEP.")
        low = _number(f"{name}.low", parts[0])
        high = _number(f"{name}.high", parts[1])
        step = _number(f"{name}.step", parts[2]) if len(parts) == 3 else None
        return ParameterRange(
            name=name, low=low, high=high, step=step, integer=name in INTEGER_OPTIONS
        )
    choices = [_choice(c.strip()) for c in rest.split(",") if c.strip()]
    return ParameterRange(name=name, choices=choices)


def merge_space(
    base: Sequence[ParameterRange], edits: Iterable[ParameterRange]
) -> list[ParameterRange]:
    """The user's ranges replace the defaults of the same name and add new ones after them."""
    out = {p.name: p for p in base}
    for p in edits:
        out[p.name] = p
    return list(out.values())


def validate_space(space: Sequence[ParameterRange], source: str = "ollama") -> list[ParameterRange]:
    """Refuse an empty space, unknown options, low > high, steps that miss HIGH, empty choices."""
    if not space:
        raise UserInputError("space: name at least one option to search (e.g. temperature=0:1).")
    allowed = accepted_options(source)
    seen: set[str] = set()
    for p in space:
        if p.name in seen:
            raise UserInputError(f"space {p.name}: named twice; give each option once.")
        seen.add(p.name)
        if p.name not in allowed:
            raise UserInputError(
                f"space {p.name}: not an option this model's server ({source}) accepts; "
                f"known: {', '.join(allowed)}."
            )
        if p.choices is not None:
            if not p.choices:
                raise UserInputError(f"space {p.name}: a list of choices needs at least one value.")
            continue
        _check_numeric(p)
    return list(space)


def _check_numeric(p: ParameterRange) -> None:
    if p.low is None or p.high is None:
        raise UserInputError(f"space {p.name}: give both low and high (or a list of choices).")
    if p.low > p.high:
        raise UserInputError(f"space {p.name}: low {p.low:g} is above high {p.high:g}.")
    lo, hi = OLLAMA_BOUNDS[p.name]
    if p.low < lo or p.high > hi:
        raise UserInputError(f"space {p.name}: {p.low:g}..{p.high:g} leaves {lo:g}..{hi:g}.")
    if p.log and p.low <= 0:
        raise UserInputError(f"space {p.name}: a log range needs low above 0.")
    if p.step is not None:
        if p.step <= 0:
            raise UserInputError(f"space {p.name}: step {p.step:g} must be above 0.")
        if p.log:
            raise UserInputError(f"space {p.name}: a log range cannot also have a step.")
        count = (p.high - p.low) / p.step
        if abs(count - round(count)) > 1e-6:
            raise UserInputError(
                f"space {p.name}: step {p.step:g} does not divide {p.low:g}..{p.high:g} "
                "evenly; choose a step that lands on high."
            )
    if p.integer and any(
        v is not None and not float(v).is_integer() for v in (p.low, p.high, p.step)
    ):
        raise UserInputError(f"space {p.name}: takes whole numbers only.")


def fit_num_ctx(
    space: Sequence[ParameterRange], fits: Callable[[int], str | None] | None
) -> tuple[list[ParameterRange], list[str]]:
    """Leave out the num_ctx values whose estimated memory does not fit this machine.

    `fits(num_ctx)` answers None when it fits, else why not; returns the space and notes."""
    if fits is None:
        return list(space), []
    out: list[ParameterRange] = []
    notes: list[str] = []
    for p in space:
        if p.name != "num_ctx":
            out.append(p)
            continue
        values = grid_values(p)
        kept = [v for v in values if fits(int(v)) is None]
        for v in values:
            if v not in kept:
                notes.append(f"num_ctx {int(v)} left out: {fits(int(v))}")
        if not kept:
            notes.append("num_ctx left out of the space: no value fits this machine")
            continue
        out.append(p if len(kept) == len(values) else ParameterRange(name="num_ctx", choices=kept))
    return out, notes


GRID_POINTS = 5  # a range without a step is searched at this many evenly spaced points by grid


def grid_values(p: ParameterRange) -> list[Any]:
    """The values grid search visits for one option."""
    if p.choices is not None:
        return list(p.choices)
    assert p.low is not None and p.high is not None
    if p.step is not None:
        n = round((p.high - p.low) / p.step)
        values: list[Any] = [round(p.low + i * p.step, 10) for i in range(n + 1)]
    elif p.low == p.high:
        values = [p.low]
    else:
        values = [p.low + (p.high - p.low) * i / (GRID_POINTS - 1) for i in range(GRID_POINTS)]
    if p.integer:
        values = sorted({round(v) for v in values})
    return values

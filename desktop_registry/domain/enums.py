"""The domain's closed vocabularies: where a model comes from, its kind and status, the library's
categories and sizes, the experiment types.

Plain enums, free of pydantic: the command line builds its parser (choices) from them without
paying for the models that use them.
"""

from __future__ import annotations

from enum import StrEnum


class Source(StrEnum):
    OLLAMA = "ollama"
    GITHUB_MODELS = "github_models"
    OPENAI_COMPATIBLE = "openai_compatible"
    MLFLOW = "mlflow"


class Serving(StrEnum):
    LOCAL = "local"
    REMOTE = "remote"


class Kind(StrEnum):
    BASE = "base"
    EXPERIMENTAL = "experimental"
    VARIANT = "variant"


class ModelStatus(StrEnum):
    AVAILABLE = "available"  # present at its source and usable
    MISSING = "missing"  # was synced before, no longer reported by its source
    LISTED = "listed"  # in a remote catalog; not yet known to be callable by this account
    UNAVAILABLE = "unavailable"  # the source refused to serve it (403, unavailable_model)


class LibraryCategory(StrEnum):
    """The library's browsing categories (coarser than the registry's Category)."""

    GENERAL = "general"
    CODE = "code"
    VISION = "vision"
    MATH = "math"
    EMBEDDING = "embedding"
    REASONING = "reasoning"
    FUNCTION_CALLING = "function_calling"
    CLOUD = "cloud"


class SizeClass(StrEnum):
    """tiny < 2B ≤ small < 8B ≤ medium < 30B ≤ large < 100B ≤ huge."""

    TINY = "tiny"
    SMALL = "small"
    MEDIUM = "medium"
    LARGE = "large"
    HUGE = "huge"


class ExperimentType(StrEnum):
    PARAMETER_TUNING = "parameter_tuning"
    PROMPT_ENGINEERING = "prompt_engineering"
    ENSEMBLE = "ensemble"
    FINE_TUNING = "fine_tuning"


class CombinationRule(StrEnum):
    MAJORITY_VOTE = "majority_vote"  # short or classification answers
    JUDGE = "judge"  # a chosen judge model picks the best answer
    FIRST_VALID_JSON = "first_valid_json"  # the first member whose answer parses as JSON

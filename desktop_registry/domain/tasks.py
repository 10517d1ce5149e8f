"""The tasks recommendations are made for, and what each asks of a model.

Pure data, no pydantic (the command line lists the task names in its parser).
"""

from __future__ import annotations

from dataclasses import dataclass

from desktop_registry.domain.enums import LibraryCategory


@dataclass(frozen=True)
class TaskProfile:
    label: str
    requires: str | None  # capability a model must have
    prefers: tuple[LibraryCategory, ...]  # categories that earn a bonus
    avoids: tuple[LibraryCategory, ...] = ()  # specialists that do this task poorly


C = LibraryCategory
TASKS: dict[str, TaskProfile] = {
    "code_generation": TaskProfile("code generation", "completion", (C.CODE,), (C.EMBEDDING,)),
    "creative_writing": TaskProfile("creative writing", "completion", (C.GENERAL,), (C.CODE, C.MATH)),
    "analysis": TaskProfile("analysis", "completion", (C.REASONING, C.GENERAL), (C.CODE,)),
    "chat": TaskProfile("chat", "completion", (C.GENERAL,), (C.CODE, C.MATH)),
    "embedding": TaskProfile("embedding / retrieval", "embedding", (C.EMBEDDING,)),
    "vision": TaskProfile("vision / captioning", "vision", (C.VISION,)),
    "function_calling": TaskProfile("function calling", "tools", (C.FUNCTION_CALLING,), (C.CODE,)),
    "reasoning": TaskProfile("reasoning", "completion", (C.REASONING,), (C.CODE,)),
    "math": TaskProfile("math", "completion", (C.MATH, C.REASONING), (C.CODE,)),
}  # fmt: skip
TASK_ALIASES = {"retrieval": "embedding", "captioning": "vision", "code": "code_generation"}

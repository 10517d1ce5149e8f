"""What a local model server reports beyond the model record: tags entries, loaded models, progress.

Pure data filled by sources/ollama.py.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class LocalModelSummary(BaseModel):
    """One `/api/tags` entry: cheap to list, enough to tell whether a model changed."""

    name: str
    digest: str
    size_bytes: int | None = None
    modified_at: datetime | None = None
    family: str | None = None
    families: list[str] = Field(default_factory=list)
    parameter_size: str | None = None
    quantization_level: str | None = None
    format: str | None = None
    context_length: int | None = None
    capabilities: list[str] | None = None  # only servers >= 0.30 list them here
    remote_host: str | None = None


class LoadedModel(BaseModel):
    """One `/api/ps` entry: a model held in memory right now."""

    name: str
    digest: str = ""
    size_bytes: int = 0  # total bytes in memory
    size_vram: int = 0  # bytes of that on the GPU
    expires_at: datetime | None = None
    context_length: int | None = None

    @property
    def vram_share(self) -> float:
        return self.size_vram / self.size_bytes if self.size_bytes else 0.0


class PullProgress(BaseModel):
    status: str
    digest: str = ""
    total: int | None = None
    completed: int | None = None

    @property
    def fraction(self) -> float | None:
        if self.total and self.completed is not None:
            return min(1.0, self.completed / self.total)
        return None


class ServerInfo(BaseModel):
    url: str
    version: str
    reachable: bool = True

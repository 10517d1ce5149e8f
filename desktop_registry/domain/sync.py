"""What a sync did, reported to the CLI, the status bar and the jobs log.

Pure data; the sync service fills it.
"""

from __future__ import annotations

from pydantic import BaseModel, Field


class SourceSyncError(BaseModel):
    source: str
    message: str
    model: str = ""


class SkippedSource(BaseModel):
    """A configured source the sync left out on purpose: why, and how to bring it in."""

    source: str
    reason: str  # a sentence naming the source, e.g. "GitHub Models were skipped because …"
    fix: str = ""  # what the user can do about it

    def message(self) -> str:
        return f"{self.reason}. {self.fix}".strip()


class SyncReport(BaseModel):
    """What one sync did. `source` names the sources that synced (comma-separated); `failed`
    the ones that did not sync at all (their reasons are in `errors`)."""

    source: str = ""
    failed: list[str] = Field(default_factory=list)
    added: list[str] = Field(default_factory=list)
    updated: list[str] = Field(default_factory=list)
    unchanged: int = 0
    missing: list[str] = Field(default_factory=list)
    restored: list[str] = Field(default_factory=list)
    per_category: dict[str, int] = Field(default_factory=dict)
    duration_s: float = 0.0
    show_calls: int = 0
    errors: list[SourceSyncError] = Field(default_factory=list)
    skipped: list[SkippedSource] = Field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def outcome(self) -> str:
        """ "Synced ollama: 3 added, …" — or which sources failed, and what synced before them."""
        synced = f"Synced {self.source}: {self.counts()}" if self.source else "Nothing synced"
        if not self.failed:
            return synced
        return f"{synced}; failed: {', '.join(self.failed)}"

    def counts(self) -> str:
        """ "3 added, 1 updated, 40 unchanged, 0 missing" — the CLI's and the jobs log's line."""
        line = (
            f"{len(self.added)} added, {len(self.updated)} updated, "
            f"{self.unchanged} unchanged, {len(self.missing)} missing"
        )
        return line + (f", {len(self.restored)} back" if self.restored else "")

    def merge(self, other: SyncReport) -> SyncReport:
        """Combine reports of several sources into one."""
        per_category = dict(self.per_category)
        for key, value in other.per_category.items():
            per_category[key] = per_category.get(key, 0) + value
        return SyncReport(
            source=",".join(s for s in (self.source, other.source) if s),
            failed=[*self.failed, *other.failed],
            added=[*self.added, *other.added],
            updated=[*self.updated, *other.updated],
            unchanged=self.unchanged + other.unchanged,
            missing=[*self.missing, *other.missing],
            restored=[*self.restored, *other.restored],
            per_category=per_category,
            duration_s=max(self.duration_s, other.duration_s),
            show_calls=self.show_calls + other.show_calls,
            errors=[*self.errors, *other.errors],
            skipped=[*self.skipped, *other.skipped],
        )

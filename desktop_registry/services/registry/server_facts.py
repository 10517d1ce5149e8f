"""What a model's server says of itself, as label/value rows for the inspector and `show`.

Formats only what the registry already holds (details and the last serving status); never asks
the server anything and never invents a value it did not report.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from desktop_registry.domain import ModelRecord


def parameter_size(count: int | None) -> str | None:
    """125248 → "125K", 7_241_732_096 → "7.2B" (the way Ollama prints sizes)."""
    if not count or count <= 0:
        return None
    for scale, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if count >= scale:
            value = count / scale
            return f"{value:.1f}{suffix}" if value < 10 else f"{value:.0f}{suffix}"
    return str(count)


def server_state(status: Mapping[str, Any] | None) -> str:
    """ "ready · 1 of 4 slots busy" / "loading the model" / "not checked yet"."""
    if not status or status.get("healthy") is None:
        return "not checked yet (run a sync)"
    if not status.get("healthy"):
        error = str(status.get("last_error") or "")
        return "loading the model" if error.startswith("loading") else f"not ready: {error}"
    return "ready"


def server_facts(record: ModelRecord, status: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """Rows for a llama.cpp server's model; [] for every other kind of model."""
    d = record.details
    if d.engine != "llamacpp":
        return []
    state = server_state(status)
    if d.slots:
        busy = int((status or {}).get("concurrent_requests") or 0)
        state += f" · {busy} of {d.slots} slot{'s' if d.slots != 1 else ''} busy"
    rows = [("Engine", "llama.cpp server (llama-server)"), ("Server", state)]
    if d.context_length:
        trained = f" (trained on {d.trained_context_length:,})" if d.trained_context_length else ""
        rows.append(("Context per slot", f"{d.context_length:,} tokens{trained}"))
    if d.model_path:
        rows.append(("Model file", d.model_path))
    return rows

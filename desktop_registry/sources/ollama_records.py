"""Turns Ollama's JSON (tags entries, /api/show bodies, Modelfile parameters) into domain types.

Pure functions; never does I/O. Also used to estimate memory from a saved /api/show file.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from desktop_registry.domain import (
    CategorySource,
    ModelDetails,
    ModelRecord,
    Serving,
    Source,
    categories_for_capabilities,
)
from desktop_registry.domain.categories import guess_capabilities
from desktop_registry.domain.local import LocalModelSummary


def parse_time(value: Any) -> datetime | None:
    if not value or not isinstance(value, str) or value.startswith("0001-"):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        # Go prints nanoseconds; Python reads at most microseconds.
        head, dot, rest = value.partition(".")
        if not dot:
            return None
        digits = "".join(ch for ch in rest if ch.isdigit())
        zone = rest[len(digits) :]
        try:
            return datetime.fromisoformat(f"{head}.{digits[:6]}{zone}")
        except ValueError:
            return None


def as_int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def summary_from_tag(entry: Mapping[str, Any]) -> LocalModelSummary:
    details = entry.get("details") or {}
    return LocalModelSummary(
        name=str(entry.get("name") or entry.get("model") or ""),
        digest=str(entry.get("digest") or ""),
        size_bytes=as_int(entry.get("size")),
        modified_at=parse_time(entry.get("modified_at")),
        family=details.get("family") or None,
        families=list(details.get("families") or []),
        parameter_size=details.get("parameter_size") or None,
        quantization_level=details.get("quantization_level") or None,
        format=details.get("format") or None,
        context_length=as_int(details.get("context_length")),
        capabilities=entry.get("capabilities"),
        remote_host=entry.get("remote_host") or None,
    )


def details_from_show(show: Mapping[str, Any]) -> ModelDetails:
    """ModelDetails from an /api/show body: `details` plus the GGUF keys in `model_info`."""
    details = show.get("details") or {}
    info = show.get("model_info") or {}
    arch = str(info.get("general.architecture") or details.get("family") or "")

    def arch_key(suffix: str) -> int | None:
        return as_int(info.get(f"{arch}.{suffix}")) if arch else None

    head_count = arch_key("attention.head_count")
    projector = show.get("projector_info") or {}
    return ModelDetails(
        format=details.get("format") or None,
        family=details.get("family") or None,
        families=list(details.get("families") or []),
        parent_model=details.get("parent_model") or None,
        parameter_size=details.get("parameter_size") or None,
        parameter_count=as_int(info.get("general.parameter_count")),
        quantization_level=details.get("quantization_level") or None,
        architecture=arch or None,
        context_length=arch_key("context_length"),
        embedding_length=arch_key("embedding_length"),
        block_count=arch_key("block_count"),
        head_count=head_count,
        head_count_kv=arch_key("attention.head_count_kv") or head_count,
        key_length=arch_key("attention.key_length"),
        value_length=arch_key("attention.value_length"),
        has_projector=bool(projector) or any(k.endswith(".vision.block_count") for k in info),
        projector_bytes=as_int(projector.get("general.parameter_count")) if projector else None,
    )


def record_from_show(
    summary: LocalModelSummary, show: Mapping[str, Any], endpoint: str
) -> ModelRecord:
    """The registry record for one local model, from its tags entry and its /api/show body."""
    details = details_from_show(show)
    if details.context_length is None and summary.context_length:
        details.context_length = summary.context_length
    reported = show.get("capabilities")
    if reported is None:
        reported = summary.capabilities
    if reported is not None:
        capabilities = [str(c) for c in reported]
        category_source = CategorySource.SERVER
    else:
        capabilities = [
            c.value
            for c in guess_capabilities(
                name=summary.name,
                family=details.family or "",
                families=details.families,
                template=str(show.get("template") or ""),
                model_info_keys=(show.get("model_info") or {}).keys(),
                has_projector=details.has_projector,
            )
        ]
        category_source = CategorySource.HEURISTIC
    categories = categories_for_capabilities(capabilities)
    return ModelRecord(
        name=summary.name,
        version="latest",
        source=Source.OLLAMA,
        serving=Serving.LOCAL if not summary.remote_host else Serving.REMOTE,
        category=categories[0],
        categories=categories,
        category_source=category_source,
        capabilities=capabilities,
        parameters=parse_modelfile_parameters(str(show.get("parameters") or "")),
        endpoint=endpoint,
        digest=summary.digest,
        size_bytes=summary.size_bytes,
        details=details,
        ollama_name=summary.name,
        template=str(show.get("template") or ""),
        system=str(show.get("system") or ""),
        license=_license_text(show.get("license")),
        modified_at=summary.modified_at,
        description=_description(summary.name, details),
        tags=[t for t in (details.parameter_size, details.quantization_level) if t],
    )


def _license_text(value: Any) -> str:
    if isinstance(value, list):
        return "\n".join(str(v) for v in value)
    return str(value or "")


def _description(name: str, details: ModelDetails) -> str:
    parts = [details.family or name.split(":")[0]]
    if details.parameter_size:
        parts.append(details.parameter_size)
    if details.quantization_level:
        parts.append(details.quantization_level)
    return " · ".join(parts)


def parse_modelfile_parameters(text: str) -> dict[str, Any]:
    """The `parameters` text of /api/show ('stop "<|eot|>"\\ntemperature 0.7') as a dict."""
    out: dict[str, Any] = {}
    for line in text.splitlines():
        key, _, raw = line.strip().partition(" ")
        raw = raw.strip()
        if not key or not raw:
            continue
        value: Any = raw
        if raw.startswith('"') and raw.endswith('"'):
            value = raw[1:-1]
        else:
            for cast in (int, float):
                try:
                    value = cast(raw)
                    break
                except ValueError:
                    continue
        if key in out:
            existing = out[key]
            out[key] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            out[key] = [value] if key == "stop" else value
    return out

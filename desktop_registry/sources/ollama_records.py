"""Turns Ollama's JSON (tags entries, /api/show bodies, Modelfile parameters) into domain types.

Pure functions; never does I/O, never lets a wrong JSON type through as anything but a
ReplyShapeError. Also used to estimate memory from a saved /api/show file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
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
from desktop_registry.domain.text import kind_of
from desktop_registry.sources.ollama_json import (
    ReplyShapeError,
    as_int,
    document,
    entries,
    int_field,
    obj,
    obj_field,
    optional_text,
    text_field,
    text_list_field,
    valid_text,
)

__all__ = [
    "ListingProblem",
    "ModelListing",
    "as_int",
    "details_from_show",
    "listing_from_tags",
    "parse_modelfile_parameters",
    "parse_time",
    "record_from_show",
    "summary_from_tag",
]


def parse_time(value: Any) -> datetime | None:
    """Ollama's RFC 3339 time (nanoseconds allowed); None for anything unreadable."""
    parsed = _parse_time(value)
    if parsed is not None and parsed.tzinfo is not None:
        try:
            parsed.astimezone(UTC)  # year 9999 minus an offset cannot be stored
        except (OverflowError, ValueError):
            return None
    return parsed


def _parse_time(value: Any) -> datetime | None:
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


@dataclass(frozen=True)
class ListingProblem:
    """One /api/tags entry that could not be read: its name when it had one, its position."""

    position: int
    name: str  # "" when the entry has no usable name (then it could be any model)
    problem: str


@dataclass
class ModelListing:
    """What /api/tags said: the entries that could be read, and what was wrong with the rest."""

    models: list[LocalModelSummary] = field(default_factory=list)
    problems: list[ListingProblem] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """Every entry is accounted for by name, so an absent model really is absent."""
        return all(p.name for p in self.problems)

    @property
    def listed_names(self) -> set[str]:
        return {m.name for m in self.models} | {p.name for p in self.problems if p.name}


def _entry_name(entry: Mapping[str, Any]) -> str:
    for key in ("name", "model"):
        value = entry.get(key)
        if isinstance(value, str) and value.strip():
            try:
                return valid_text(value, key)
            except ReplyShapeError:
                return ""
    return ""


def listing_from_tags(body: Any) -> ModelListing:
    """An /api/tags body as a listing; one bad entry is that entry's problem, but a body that is
    not a model list at all (not an object, no `models` list, no entry with a name) raises."""
    if not isinstance(body, dict):
        raise ReplyShapeError(f"the model list is {kind_of(body)}, not an object: not a model list")
    raw = body.get("models")
    if not isinstance(raw, list):
        raise ReplyShapeError(f"`models` is {kind_of(raw)}, not a list: not a model list")
    listing = ModelListing()
    for position, entry in entries(raw, "models"):
        if not isinstance(entry, dict):
            listing.problems.append(
                ListingProblem(position, "", f"entry {position} is {kind_of(entry)}, not a model")
            )
            continue
        name = _entry_name(entry)
        if not name:
            listing.problems.append(
                ListingProblem(position, "", f"entry {position} has no usable `name`")
            )
            continue
        try:
            listing.models.append(summary_from_tag(entry))
        except ReplyShapeError as exc:
            listing.problems.append(ListingProblem(position, name, str(exc)))
    if raw and not listing.models and not any(p.name for p in listing.problems):
        raise ReplyShapeError(f"none of its {len(raw)} entries has a usable name: not a model list")
    return listing


def summary_from_tag(entry: Any) -> LocalModelSummary:
    """One /api/tags entry; a field of the wrong type raises ReplyShapeError naming it."""
    entry = obj(entry, "models[]")
    name = _entry_name(entry)
    if not name:
        raise ReplyShapeError("the entry has no usable `name`")
    details = obj_field(entry, "details")
    return LocalModelSummary(
        name=name,
        digest=text_field(entry, "digest"),
        size_bytes=int_field(entry, "size"),
        modified_at=parse_time(entry.get("modified_at")),
        family=optional_text(details, "family", "details."),
        families=text_list_field(details, "families", "details.") or [],
        parameter_size=optional_text(details, "parameter_size", "details."),
        quantization_level=optional_text(details, "quantization_level", "details."),
        format=optional_text(details, "format", "details."),
        context_length=int_field(details, "context_length", "details."),
        capabilities=text_list_field(entry, "capabilities"),
        remote_host=optional_text(entry, "remote_host"),
    )


def details_from_show(show: Any) -> ModelDetails:
    """ModelDetails from an /api/show body: `details` plus the GGUF keys in `model_info`."""
    show = document(show, "the description")
    details = obj_field(show, "details")
    info = obj_field(show, "model_info")
    arch = optional_text(info, "general.architecture", "model_info.") or optional_text(
        details, "family", "details."
    )
    arch = arch or ""

    def arch_key(suffix: str) -> int | None:
        # GGUF metadata types vary by converter: a value that is not a number is just unknown.
        return as_int(info.get(f"{arch}.{suffix}")) if arch else None

    head_count = arch_key("attention.head_count")
    projector = obj_field(show, "projector_info")
    return ModelDetails(
        format=optional_text(details, "format", "details."),
        family=optional_text(details, "family", "details."),
        families=text_list_field(details, "families", "details.") or [],
        parent_model=optional_text(details, "parent_model", "details."),
        parameter_size=optional_text(details, "parameter_size", "details."),
        parameter_count=as_int(info.get("general.parameter_count")),
        quantization_level=optional_text(details, "quantization_level", "details."),
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


def record_from_show(summary: LocalModelSummary, show: Any, endpoint: str) -> ModelRecord:
    """The registry record for one local model, from its tags entry and its /api/show body."""
    show = document(show, "the description")
    details = details_from_show(show)
    if details.context_length is None and summary.context_length:
        details.context_length = summary.context_length
    reported = text_list_field(show, "capabilities")
    if reported is None:
        reported = summary.capabilities
    template = text_field(show, "template")
    if reported is not None:
        capabilities = list(reported)
        category_source = CategorySource.SERVER
    else:
        capabilities = [
            c.value
            for c in guess_capabilities(
                name=summary.name,
                family=details.family or "",
                families=details.families,
                template=template,
                model_info_keys=obj_field(show, "model_info").keys(),
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
        parameters=parse_modelfile_parameters(text_field(show, "parameters")),
        endpoint=endpoint,
        digest=summary.digest,
        size_bytes=summary.size_bytes,
        details=details,
        ollama_name=summary.name,
        template=template,
        system=text_field(show, "system"),
        license=_license_text(show.get("license")),
        modified_at=summary.modified_at,
        description=_description(summary.name, details),
        tags=[t for t in (details.parameter_size, details.quantization_level) if t],
    )


def _license_text(value: Any) -> str:
    """Ollama sends one licence as text, several as a list of texts."""
    if isinstance(value, list):
        return "\n".join(text_list_field({"license": value}, "license") or [])
    return text_field({"license": value}, "license")


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

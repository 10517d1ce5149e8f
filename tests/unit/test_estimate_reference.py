"""The reference set bench/estimate_accuracy.py scores: what issue 18 asks of it and of each point.

Every point must say where its figure and its model's metadata came from, so it can be checked again.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from desktop_registry.services.library.memory_rules import accounting_for_version
from desktop_registry.services.library.memory_spec import ModelSpec

REFERENCE = Path(__file__).resolve().parents[1] / "data" / "estimate_reference"
PROVENANCE = ("source", "ollama_version", "context_source", "metadata_source", "family")
COMPARES = {"total", "weights+kv", "total-partial"}


def _reference() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((REFERENCE / "points.json").read_text())
    return data


def _scored() -> list[dict[str, Any]]:
    return [p for p in _reference()["points"] if not p.get("excluded")]


def test_every_point_names_its_source_version_context_and_metadata() -> None:
    for point in _reference()["points"]:
        missing = [field for field in PROVENANCE if not str(point.get(field, "")).strip()]
        assert not missing, f"{point['model']} at {point['num_ctx']}: no {missing}"
        assert point.get("compare", "total") in COMPARES, point["model"]
        assert point["reported_size_bytes"] > 0 and point["num_ctx"] > 0 and point["parallel"] > 0
        spec = ModelSpec.from_show(json.loads((REFERENCE / point["show"]).read_text()))
        assert spec.architecture == point["family"], point["model"]


def test_reported_parts_never_add_up_to_more_than_the_figure_they_break_down() -> None:
    for point in _scored():
        parts = point.get("reported_parts", {})
        assert set(parts) <= {"weights", "kv", "graph"}, point["model"]
        # A figure printed to one decimal (e.g. "20.1 GiB") is good to half a unit either way.
        slack = 0.06 * 1024**3
        assert sum(parts.values()) <= point["reported_size_bytes"] + slack, point["model"]


def test_the_set_meets_issue_18s_floor_of_30_points_8_families_both_accountings() -> None:
    scored = _scored()
    assert len(scored) >= 30
    assert len({p["family"] for p in scored}) >= 8
    accountings = {accounting_for_version(p["ollama_version"]) for p in scored}
    assert {"old", "new"} <= accountings
    tokens = [p["num_ctx"] * p["parallel"] for p in scored]
    assert min(tokens) <= 512 and max(tokens) >= 128 * 1024


def test_every_candidate_left_out_says_where_it_was_and_why() -> None:
    rejected = _reference()["rejected_candidates"]
    assert rejected
    for entry in rejected:
        assert entry["source"].strip() and entry["candidate"].strip() and entry["reason"].strip()

"""Recommendations for a task on a given machine: only models that fit, explained and ranked."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop_registry.domain import ModelRecord, PerformanceMetric, Serving, Source
from desktop_registry.domain.library import SizeClass
from desktop_registry.errors import UserInputError
from desktop_registry.services.library.catalog import LibraryService
from desktop_registry.services.library.compatibility import CompatibilityService, Fit
from desktop_registry.services.library.hardware import GIB, HardwareProbe, HardwareProfile
from desktop_registry.services.library.recommend import RecommendationService
from desktop_registry.storage import Database, ModelRepository
from desktop_registry.storage.library_index import LibraryIndex

LAPTOP = HardwareProfile.describe(ram_gb=8)  # 8 GB RAM, no GPU
DESKTOP = HardwareProfile.describe(ram_gb=32, gpu_vram_gb=24, gpu_name="NVIDIA RTX 3090")


@pytest.fixture
def parts(tmp_path: Path) -> Iterator[tuple[RecommendationService, ModelRepository]]:
    db = Database.open(tmp_path / "registry.db")
    repo = ModelRepository(db)
    library = LibraryService(LibraryIndex(db), repo)
    yield RecommendationService(library, CompatibilityService(HardwareProbe(), library)), repo
    db.dispose()


def test_on_8gb_without_gpu_only_models_that_fit_are_recommended(parts) -> None:  # type: ignore[no-untyped-def]
    service, _repo = parts
    result = service.recommend("code_generation", hardware=LAPTOP)
    assert result.recommendations, "some small code model fits 8 GB"
    for rec in result.recommendations:
        assert rec.fit is Fit.CPU_ONLY and rec.memory_bytes < 8 * GIB
        assert rec.reason and "CPU" in rec.reason
    excluded = {e.model: e.reason for e in result.excluded}
    assert "qwen2.5-coder:32b" in excluded and "codestral:22b" in excluded
    assert "no GPU" in excluded["qwen2.5-coder:32b"] and "needs" in excluded["qwen2.5-coder:32b"]
    assert not {r.model for r in result.recommendations} & set(excluded)


def test_a_24gb_gpu_changes_the_recommendations(parts) -> None:  # type: ignore[no-untyped-def]
    service, _repo = parts
    laptop = service.recommend("code_generation", hardware=LAPTOP)
    desktop = service.recommend("code_generation", hardware=DESKTOP)
    assert [r.model for r in laptop.recommendations] != [r.model for r in desktop.recommendations]
    assert all(r.fit is Fit.FULL_GPU for r in desktop.recommendations)
    assert "qwen2.5-coder:32b" in {r.model for r in desktop.recommendations}
    assert len(desktop.excluded) < len(laptop.excluded)


def test_each_recommendation_has_confidence_performance_alternatives_and_trade_off(parts) -> None:  # type: ignore[no-untyped-def]
    service, _repo = parts
    result = service.recommend("chat", hardware=DESKTOP, limit=3)
    assert [r.rank for r in result.recommendations] == [1, 2, 3]
    for rec in result.recommendations:
        assert 0 < rec.confidence <= 1
        assert rec.expected_performance.source == "prior"
        assert rec.alternatives and rec.model not in rec.alternatives
        assert rec.trade_off


def test_only_embedding_models_are_recommended_for_retrieval(parts) -> None:  # type: ignore[no-untyped-def]
    service, _repo = parts
    result = service.recommend("retrieval", hardware=LAPTOP)
    assert result.task == "embedding"
    assert {r.model for r in result.recommendations} >= {
        "qwen3-embedding:0.6b"
    } or result.recommendations
    assert all(
        "embed" in r.model or "bge" in r.model or "minilm" in r.model
        for r in result.recommendations
    )


def test_recorded_benchmarks_outrank_catalog_priors(parts) -> None:  # type: ignore[no-untyped-def]
    service, repo = parts
    record = repo.register(
        ModelRecord(name="qwen2.5-coder:1.5b", source=Source.OLLAMA, serving=Serving.LOCAL,
                    capabilities=["completion", "tools", "insert"])
    )  # fmt: skip
    repo.record_performance(
        record.id or 0, [PerformanceMetric(metric="humaneval_pass_rate", value=0.97)]
    )
    result = service.recommend("code_generation", hardware=DESKTOP)
    top = result.recommendations[0]
    assert top.model == "qwen2.5-coder:1.5b" and top.installed
    assert top.expected_performance.source == "recorded" and "recorded score 0.97" in top.reason
    chat = service.recommend("chat", hardware=DESKTOP, limit=10)
    assert "qwen2.5-coder:1.5b" not in {
        r.model for r in chat.recommendations[:3]
    }  # a code score says little about chat


def test_a_preferred_size_moves_that_size_up(parts) -> None:  # type: ignore[no-untyped-def]
    service, _repo = parts
    small = service.recommend("chat", hardware=DESKTOP, preferred_size=SizeClass.SMALL)
    assert small.recommendations[0].model in {
        e.name for e in service.library.entries() if e.size_class is SizeClass.SMALL
    }


def test_an_unknown_task_names_the_valid_ones(parts) -> None:  # type: ignore[no-untyped-def]
    service, _repo = parts
    with pytest.raises(UserInputError, match="code_generation"):
        service.recommend("poetry slam", hardware=LAPTOP)


def _claimed_lighter(trade_off: str) -> list[tuple[str, float]]:
    """(model, GiB) for every alternative a trade-off calls lighter."""
    import re

    return [
        (m.group(1), float(m.group(2)))
        for m in re.finditer(r"(\S+) is (?:faster and )?lighter \((\d+\.\d) GiB\)", trade_off)
    ]


def test_a_trade_off_calls_an_alternative_lighter_only_when_it_needs_less_memory(parts) -> None:  # type: ignore[no-untyped-def]
    service, _repo = parts
    pair = [service.library.get("starcoder2:7b"), service.library.get("deepseek-coder:6.7b")]
    result = service.recommend("code_generation", hardware=DESKTOP, candidates=pair)
    starcoder = next(r for r in result.recommendations if r.model == "starcoder2:7b")
    deepseek = next(r for r in result.recommendations if r.model == "deepseek-coder:6.7b")
    assert deepseek.memory_bytes > starcoder.memory_bytes  # 6.7B, but the heavier download
    assert "deepseek-coder:6.7b" in starcoder.trade_off
    assert "lighter" not in starcoder.trade_off and "faster" not in starcoder.trade_off
    assert "more memory" in starcoder.trade_off
    for hardware in (LAPTOP, DESKTOP):
        for task in ("code_generation", "chat"):
            for rec in service.recommend(task, hardware=hardware, limit=10).recommendations:
                for _name, gib in _claimed_lighter(rec.trade_off):
                    assert gib < round(rec.memory_bytes / GIB, 1), rec.trade_off


def test_a_cloud_model_is_said_to_run_on_the_providers_servers_not_on_a_gpu(parts) -> None:  # type: ignore[no-untyped-def]
    service, repo = parts
    repo.register(
        ModelRecord(name="openai/gpt-4.1-mini", source=Source.GITHUB_MODELS,
                    serving=Serving.REMOTE, capabilities=["completion", "tools"])
    )  # fmt: skip
    result = service.recommend("chat", hardware=LAPTOP, include_remote=True, limit=50)
    cloud = next(r for r in result.recommendations if r.model == "openai/gpt-4.1-mini")
    said = f"{cloud.fit.label} {cloud.reason}".lower()
    assert "gpu" not in said and "0.0 gib" not in said, said
    assert "provider's servers" in said and "nothing to load here" in said
    assert cloud.fit.value == "remote"
    for rec in result.recommendations:
        assert "gpu" not in f"{rec.fit.label} {rec.reason}".lower()  # this laptop has none

"""Library search over the shipped catalog and a real registry synced from the Ollama emulator."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from desktop_registry.cli import main as cli
from desktop_registry.domain import PerformanceMetric
from desktop_registry.domain.library import LibraryCategory, LibraryQuery, SizeClass
from desktop_registry.errors import UserInputError
from desktop_registry.services.library.catalog import LibraryService
from desktop_registry.storage import Database, ModelRepository
from desktop_registry.storage.library_index import LibraryIndex
from tests.servers.ollama_emulator import OllamaEmulator, standard_models


@pytest.fixture
def synced(registry_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    with OllamaEmulator(standard_models()) as emu:
        assert cli(["--db", str(registry_path), "--ollama-url", emu.url, "sync"]) == 0
    capsys.readouterr()
    return registry_path


@pytest.fixture
def library(synced: Path, tmp_path: Path):  # type: ignore[no-untyped-def]
    db = Database.open(synced)
    yield LibraryService(
        LibraryIndex(db),
        ModelRepository(db),
        imported_catalog_path=tmp_path / "lib" / "catalog.json",
    )
    db.dispose()


def names(library: LibraryService, **query: object) -> list[str]:
    return [r.entry.name for r in library.search(LibraryQuery(**query))]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("query", "expected", "unexpected"),
    [
        ({"text": "coder", "category": LibraryCategory.CODE}, {"qwen2.5-coder:7b", "qwen2.5-coder:32b"}, {"llama3.1:8b"}),
        ({"text": "qwen", "size_class": SizeClass.SMALL}, {"qwen2.5:7b", "qwen3:4b"}, {"qwen2.5:32b", "qwen2.5:0.5b"}),
        ({"text": "", "category": LibraryCategory.EMBEDDING}, {"nomic-embed-text:v1.5", "bge-m3:567m"}, {"llava:7b"}),
        ({"text": "llava", "capability": "vision"}, {"llava:7b", "llava:13b", "llava-llama3:8b"}, {"llama3.1:8b"}),
        ({"text": "deepseek", "category": LibraryCategory.REASONING, "max_parameters": 15_000_000_000}, {"deepseek-r1:7b", "deepseek-r1:14b"}, {"deepseek-r1:32b", "deepseek-coder:6.7b"}),
        ({"text": "gemma", "size_class": SizeClass.TINY}, {"gemma3:1b", "gemma3:270m"}, {"gemma3:27b"}),
        ({"text": "cloud", "remote": True}, {"gpt-oss:120b-cloud", "qwen3-coder:480b-cloud"}, {"gpt-oss:20b"}),
        ({"text": "gpt-oss", "remote": False}, {"gpt-oss:20b", "gpt-oss:120b"}, {"gpt-oss:120b-cloud"}),
        ({"text": "lama"}, {"llama3.1:8b", "tinyllama:1.1b", "codellama:7b"}, set()),
    ],
)  # fmt: skip
def test_search_returns_the_expected_models_for_each_query_and_filter(
    library: LibraryService, query: dict[str, object], expected: set[str], unexpected: set[str]
) -> None:
    found = set(names(library, **query))
    assert expected <= found
    assert not unexpected & found


def test_results_are_ranked_by_relevance_with_the_name_weighted_most(
    library: LibraryService,
) -> None:
    results = library.search(LibraryQuery(text="mistral"))
    assert results[0].entry.name.startswith("mistral")
    assert all(0 < r.relevance <= 1 for r in results)
    assert [r.relevance for r in results] == sorted((r.relevance for r in results), reverse=True)


def test_installed_ollama_models_merge_into_their_catalog_entries(library: LibraryService) -> None:
    installed = {
        r.entry.name: r.entry for r in library.search(LibraryQuery(installed=True, limit=500))
    }
    # the emulator serves llama3.1:8b, qwen3:8b, llava:7b, phi:2.7b and nomic-embed-text:latest
    assert {"llama3.1:8b", "qwen3:8b", "llava:7b", "phi:2.7b"} <= set(installed)
    assert "nomic-embed-text:v1.5" in installed  # :latest is the catalog's v1.5
    assert installed["llama3.1:8b"].model_id is not None
    assert installed["llama3.1:8b"].description.startswith("Meta's 8B")  # catalog text kept
    not_installed = names(library, text="llama3.1", installed=False)
    assert "llama3.1:70b" in not_installed and "llama3.1:8b" not in not_installed


def test_min_performance_uses_recorded_benchmarks(library: LibraryService) -> None:
    entry = library.get("llama3.1:8b")
    library.models.record_performance(
        entry.model_id or 0, [PerformanceMetric(metric="eval_accuracy", value=0.72)]
    )
    assert names(library, min_performance=0.7) == ["llama3.1:8b"]  # index rebuilt: metric changed
    assert names(library, min_performance=0.8) == []


def test_an_imported_catalog_replaces_the_shipped_one_and_a_bad_file_changes_nothing(
    library: LibraryService, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(UserInputError, match="not readable JSON"):
        library.import_catalog(bad)
    assert "qwen2.5:7b" in names(library, text="qwen2.5")
    good = tmp_path / "mine.json"
    good.write_text(json.dumps({"format": "desktop-registry-library/1", "models": [
        {"name": "acme-coder:3b", "family": "llama", "description": "House code model",
         "capabilities": ["completion", "insert"], "tags": ["code"], "parameter_size": "3.0B",
         "size_bytes": 2_000_000_000, "context_length": 16384, "quantization": "Q4_K_M"}]}))  # fmt: skip
    assert library.import_catalog(good) == 1
    assert names(library, text="acme", category=LibraryCategory.CODE) == ["acme-coder:3b"]
    assert names(library, text="qwen2.5-coder") == []  # the shipped catalog is no longer used
    assert "llama3.1:8b" in names(library, text="llama3.1")  # installed models stay


def test_cli_search_and_estimate_from_show(
    synced: Path, capsys: pytest.CaptureFixture[str], shared_protocols: Path
) -> None:
    assert (
        cli(
            [
                "--db",
                str(synced),
                "library",
                "search",
                "coder",
                "--category",
                "code",
                "--size-class",
                "small",
                "--json",
            ]
        )
        == 0
    )
    found = {m["name"] for m in json.loads(capsys.readouterr().out)}
    assert {"qwen2.5-coder:7b", "deepseek-coder:6.7b"} <= found and "qwen2.5-coder:32b" not in found
    show = shared_protocols / "ollama-fixtures" / "show_llava.json"
    assert (
        cli(["--db", str(synced), "estimate", "--from-show", str(show), "--ctx", "4096", "--json"])
        == 0
    )
    report = json.loads(capsys.readouterr().out)
    assert {"total_bytes", "weights_bytes", "kv_cache_bytes", "overhead_bytes", "fit"} <= set(
        report
    )
    assert (
        report["total_bytes"]
        == report["weights_bytes"] + report["kv_cache_bytes"] + report["overhead_bytes"]
    )
    assert report["kv_cache_bytes"] == 2 * 32 * 4096 * 8 * 128 * 2


def test_cli_estimate_of_a_model_nobody_knows_is_a_user_error(
    synced: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(["--db", str(synced), "estimate", "no-such-model:1b"]) == 1
    assert "not in the library" in capsys.readouterr().err


def test_estimate_reference_points_stay_within_ten_percent_median() -> None:
    """The same comparison as bench/estimate_accuracy.py: excluded points are left out, and a
    point Ollama only partly counted is compared on the parts it counted (`compare`)."""
    import statistics

    from desktop_registry.services.library.compatibility import CompatibilityService
    from desktop_registry.services.library.hardware import HardwareProbe, HardwareProfile

    parts = {
        "total": ("total_bytes",),
        "weights+kv": ("weights_bytes", "kv_cache_bytes"),
        # Ollama <= 0.11 with layers left on the CPU counts the partial-offload graph instead.
        "total-partial": ("total_bytes", "partial_graph_bytes"),
    }
    ref = Path(__file__).resolve().parents[1] / "data" / "estimate_reference"
    points = json.loads((ref / "points.json").read_text())["points"]
    service = CompatibilityService(HardwareProbe())
    errors = []
    for p in points:
        if p.get("excluded"):
            continue
        hw = HardwareProfile.describe(ram_gb=256, gpu_vram_gb=256 if p["device"] == "gpu" else None)
        service.ollama_version = p["ollama_version"]  # the accounting that server reported with
        report = service.check_show(
            json.loads((ref / p["show"]).read_text()),
            p["num_ctx"],
            parallel=p["parallel"],
            hardware=hw,
        )
        compare = p.get("compare", "total")
        estimated = sum(getattr(report.estimate, part) for part in parts[compare])
        if compare == "total-partial":
            estimated -= report.estimate.graph_bytes
        errors.append(abs(estimated - p["reported_size_bytes"]) / p["reported_size_bytes"])
    assert len(errors) >= 10
    assert len(points) >= 5 and all(p["source"] for p in points)
    assert statistics.median(errors) <= 0.10

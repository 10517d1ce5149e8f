"""Benchmarks against the emulators: retrieval recall@k known by construction, the embedding
slot upgrade demo, text speed figures, captions, and `compare` reading them back."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop_registry.cli import main as cli
from desktop_registry.services.evaluation.catalog import retrieval_set
from tests.servers.ollama_emulator import EmulatedModel, OllamaEmulator, _embedding, standard_models

# A second embedding model that, like most, embeds queries and documents the same way.
BGE = EmulatedModel(
    "bge-m3:567m",
    family="bert",
    parameter_size="567M",
    capabilities=["embedding"],
    embedding_length=1024,
    embedding_dim=1024,
)


@pytest.fixture
def emulator() -> Iterator[OllamaEmulator]:
    with OllamaEmulator([*standard_models(), BGE]) as emu:
        yield emu


@pytest.fixture
def home(tmp_path: Path, emulator: OllamaEmulator, capsys) -> Path:
    assert cli(["--db", str(tmp_path / "registry.db"), "sync", "--ollama-url", emulator.url]) == 0
    capsys.readouterr()
    return tmp_path


def run(capsys, home: Path, emulator: OllamaEmulator, *args: str) -> tuple[int, str, str]:
    code = cli(["--db", str(home / "registry.db"), "--ollama-url", emulator.url, *args])
    out, err = capsys.readouterr()
    return code, out, err


def expected_nomic_ranks() -> list[int]:
    """Rank of each query's duplicate when queries and documents get nomic's prefixes, computed
    here straight from the emulator's own hashing (independently of the benchmark code)."""
    data = retrieval_set()
    docs = data["documents"]
    ranks = []
    for query in data["queries"]:
        q = _embedding("search_query: " + query["text"], 768)
        sims = []
        for i, d in enumerate(docs):
            v = _embedding("search_document: " + d["text"], 768)
            dot = sum(a * b for a, b in zip(q, v, strict=True))
            sims.append((-dot / (math.hypot(*q) * math.hypot(*v)), i))
        order = [i for _, i in sorted(sims)]
        wanted = next(i for i, d in enumerate(docs) if d["id"] == query["relevant"][0])
        ranks.append(order.index(wanted) + 1)
    return ranks


def test_retrieval_recall_is_exact_on_a_set_whose_answers_are_known(capsys, home, emulator):
    code, out, _ = run(
        capsys, home, emulator, "benchmark", "--models", "bge-m3:567m,nomic-embed-text", "--json"
    )
    assert code == 0
    reports = {r["model"]: r["metrics"] for r in json.loads(out)}
    bge = reports["bge-m3:567m"]
    # every query's exact duplicate is in the set: a symmetric model ranks it first
    assert (bge["recall@1"], bge["recall@5"], bge["recall@10"], bge["mrr"]) == (1.0, 1.0, 1.0, 1.0)
    assert bge["embed_texts_per_s"] > 0
    ranks = expected_nomic_ranks()
    nomic = reports["nomic-embed-text:latest"]
    assert nomic["recall@1"] == sum(r <= 1 for r in ranks) / len(ranks) < 1.0
    assert nomic["recall@10"] == sum(r <= 10 for r in ranks) / len(ranks)
    assert nomic["mrr"] == pytest.approx(sum(1 / r for r in ranks) / len(ranks))


def test_embedding_slot_upgrade_shows_recall_improving_across_versions(capsys, home, emulator):
    from desktop_registry.app import build_context
    from desktop_registry.config import Settings

    ctx = build_context(Settings(home=home / "h"), db_path=home / "registry.db")
    versions = ctx.versions(tracked=False)
    versions.create_slot("text embedding", "embedding")
    versions.add_version("text embedding", "nomic-embed-text", "1.0.0")
    versions.add_version("text embedding", "bge-m3:567m", "2.0.0")
    ctx.close()
    code, out, _ = run(capsys, home, emulator, "benchmark", "--slot", "text embedding", "--json")
    assert code == 0
    by_version = {r["version"]: r["metrics"]["recall@1"] for r in json.loads(out)}
    assert by_version["2.0.0"] == 1.0 > by_version["1.0.0"]

    ctx = build_context(Settings(home=home / "h"), db_path=home / "registry.db")
    bge = ctx.models.resolve("bge-m3:567m")
    rows = ctx.models.performance(bge.id or 0, "recall@1")
    assert [(r.version, r.value, r.notes) for r in rows] == [("2.0.0", 1.0, "slot text embedding")]
    ctx.close()


def test_text_benchmark_reports_latency_ttft_and_tokens_per_second(capsys, home, emulator):
    emulator.latency_s = 0.01
    code, out, _ = run(
        capsys,
        home,
        emulator,
        "benchmark",
        "--models",
        "llama3.1:8b,llava:7b",
        "--repeats",
        "1",
        "--json",
    )
    assert code == 0
    reports = {r["model"]: r for r in json.loads(out)}
    llama = reports["llama3.1:8b"]["metrics"]
    assert llama["latency_ms"] >= 10 and llama["ttft_ms"] > 0 and llama["error_rate"] == 0
    # Ollama's own eval_count / eval_duration: the emulator spends 19.5 ms per token
    assert llama["tokens_per_s"] == pytest.approx(1 / 0.0195)
    assert llama["tokens_per_s_wall"] > 0
    llava = reports["llava:7b"]
    assert "multimodal" in llava["kinds"] and 0 <= llava["metrics"]["caption_score"] < 0.5

    code, out, _ = run(
        capsys, home, emulator, "compare", "llama3.1:8b", "llava:7b", "--metric", "latency_ms"
    )
    assert code == 0 and "llama3.1:8b" in out and "← best" in out


def test_benchmark_counts_failures_in_the_error_rate(capsys, home, emulator):
    emulator.errors["/api/chat"] = (500, "model runner has unexpectedly stopped")
    code, out, err = run(
        capsys, home, emulator, "benchmark", "--models", "phi:2.7b", "--repeats", "1", "--json"
    )
    assert code == 2
    assert json.loads(out)[0]["metrics"]["error_rate"] == 1.0
    assert "unexpectedly stopped" in err


def test_compare_without_figures_names_the_metrics_there_are(capsys, home, emulator):
    code, _, err = run(capsys, home, emulator, "compare", "phi:2.7b", "qwen3:8b", "--metric", "mrr")
    assert code == 1 and "benchmark" in err

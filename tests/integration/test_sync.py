"""Sync against the Ollama emulator on a real socket, through the real CLI entry point."""

from __future__ import annotations

import asyncio
import json

import pytest

from desktop_registry.cli import main as cli
from desktop_registry.domain import ModelStatus
from desktop_registry.services.sync.ollama import OllamaSync
from desktop_registry.sources.ollama import OllamaSource
from desktop_registry.storage import Database, ModelRepository
from tests.servers.ollama_emulator import EmulatedModel, OllamaEmulator, standard_models


@pytest.fixture
def emulator():
    with OllamaEmulator(standard_models()) as emu:
        yield emu


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = cli(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def listed(capsys, db, *extra: str) -> dict[str, dict]:
    code, out, _ = run_cli(capsys, "--db", str(db), "list", "--json", *extra)
    assert code == 0
    return {m["name"]: m for m in json.loads(out)}


def test_sync_puts_each_model_in_the_categories_its_server_reports(capsys, emulator, registry_path):
    code, out, err = run_cli(
        capsys, "--db", str(registry_path), "sync", "--ollama-url", emulator.url
    )
    assert code == 0, err
    assert "5 added" in out
    models = listed(capsys, registry_path)
    assert models["nomic-embed-text:latest"]["category"] == "embedding"
    assert models["llava:7b"]["category"] == "multimodal"
    assert models["qwen3:8b"]["categories"] == ["reasoning", "function_calling"]
    assert models["phi:2.7b"]["category"] == "general"
    assert models["llama3.1:8b"]["category"] == "function_calling"
    assert all(m["category_source"] == "server" for m in models.values())
    assert all(m["source"] == "ollama" and m["serving"] == "local" for m in models.values())
    # the tree shows a tools+thinking model under both categories
    assert set(listed(capsys, registry_path, "--category", "function_calling")) == {
        "qwen3:8b",
        "llama3.1:8b",
    }
    assert set(listed(capsys, registry_path, "--category", "reasoning")) == {"qwen3:8b"}


def test_sync_keeps_the_models_metadata(capsys, emulator, registry_path):
    assert run_cli(capsys, "--db", str(registry_path), "sync", "--ollama-url", emulator.url)[0] == 0
    code, out, _ = run_cli(capsys, "--db", str(registry_path), "show", "qwen3", "--json")
    assert code == 0
    qwen = json.loads(out)
    emulated = emulator.model("qwen3:8b")
    assert qwen["capabilities"] == ["completion", "tools", "thinking"]
    assert qwen["details"]["context_length"] == emulated.context_length
    assert qwen["details"]["block_count"] == emulated.block_count
    assert qwen["details"]["head_count_kv"] == emulated.head_count_kv
    assert qwen["details"]["parameter_count"] == emulated.parameter_count
    assert qwen["digest"] == emulated.digest
    assert qwen["size_bytes"] == emulated.size
    assert qwen["endpoint"] == emulator.url


def test_resync_changes_nothing_and_calls_show_zero_times(capsys, emulator, registry_path):
    assert run_cli(capsys, "--db", str(registry_path), "sync", "--ollama-url", emulator.url)[0] == 0
    before = listed(capsys, registry_path)
    emulator.reset_counts()
    code, out, _ = run_cli(capsys, "--db", str(registry_path), "sync", "--ollama-url", emulator.url)
    assert code == 0
    assert "0 added, 0 updated, 5 unchanged, 0 missing" in out
    assert emulator.count("/api/show") == 0
    assert emulator.count("/api/tags") == 1
    assert listed(capsys, registry_path) == before


def test_old_server_without_capabilities_falls_back_to_marked_heuristics(capsys, registry_path):
    with OllamaEmulator(standard_models(), version="0.5.7", old_server=True) as emu:
        code, _, err = run_cli(capsys, "--db", str(registry_path), "sync", "--ollama-url", emu.url)
    assert code == 0, err
    models = listed(capsys, registry_path)
    assert models["nomic-embed-text:latest"]["category"] == "embedding"
    assert models["llava:7b"]["category"] == "multimodal"
    assert models["phi:2.7b"]["category"] == "general"
    assert all(m["category_source"] == "heuristic" for m in models.values())
    code, out, _ = run_cli(capsys, "--db", str(registry_path), "list")
    assert "category guessed" in out


def test_changed_digest_is_refetched_and_vanished_models_are_marked_missing(
    emulator, registry_path
):
    db = Database.open(registry_path)
    repo = ModelRepository(db)

    async def sync():
        async with OllamaSource(emulator.url) as source:
            return await OllamaSync(source, repo).run()

    asyncio.run(sync())
    emulator.set_digest("phi:2.7b", "f" * 64)
    emulator.remove_model("llava:7b")
    emulator.add_model(
        EmulatedModel(name="gemma3:4b", family="gemma3", capabilities=["completion", "vision"])
    )
    emulator.reset_counts()
    report = asyncio.run(sync())
    assert report.added == ["gemma3:4b"]
    assert report.updated == ["phi:2.7b"]
    assert report.missing == ["llava:7b"]
    assert emulator.count("/api/show") == 2
    llava = repo.find("llava:7b")
    assert llava is not None and llava.status is ModelStatus.MISSING
    assert repo.find("phi:2.7b").digest == "f" * 64
    # it comes back: available again, without losing its id
    emulator.add_model(
        EmulatedModel(
            name="llava:7b",
            family="llama",
            capabilities=["completion", "vision"],
            projector=True,
            digest=llava.digest,
        )
    )
    report = asyncio.run(sync())
    assert report.restored == ["llava:7b"]
    again = repo.find("llava:7b")
    assert again.id == llava.id and again.status is ModelStatus.AVAILABLE
    db.dispose()


def test_sync_never_deletes_a_base_that_variants_point_at(emulator, registry_path):
    from desktop_registry.domain import Kind, ModelRecord, Serving, Source

    db = Database.open(registry_path)
    repo = ModelRepository(db)

    async def sync():
        async with OllamaSource(emulator.url) as source:
            return await OllamaSync(source, repo).run()

    asyncio.run(sync())
    base = repo.find("llama3.1:8b")
    repo.register(
        ModelRecord(
            name="llama3.1-precise",
            source=Source.MLFLOW,
            serving=Serving.LOCAL,
            kind=Kind.EXPERIMENTAL,
            parent_id=base.id,
            parameters={"temperature": 0.1},
        )
    )
    emulator.remove_model("llama3.1:8b")
    asyncio.run(sync())
    kept = repo.get(base.id)
    assert kept.status is ModelStatus.MISSING
    assert repo.find("llama3.1-precise").parent_id == base.id
    db.dispose()


def test_data_home_variable_chooses_where_the_registry_lives(capsys, emulator, data_home):
    code, _, err = run_cli(capsys, "sync", "--ollama-url", emulator.url)
    assert code == 0, err
    assert (data_home / "registry.db").is_file()
    code, out, _ = run_cli(capsys, "categories", "--json")
    assert code == 0
    assert json.loads(out) == {
        "embedding": 1,
        "function_calling": 2,
        "general": 1,
        "multimodal": 1,
        "reasoning": 1,
    }


def test_unknown_model_is_a_user_error_with_exit_code_1(capsys, registry_path):
    code, _, err = run_cli(capsys, "--db", str(registry_path), "show", "no-such-model")
    assert code == 1
    assert "No model named 'no-such-model'" in err and "sync" in err


def test_a_variants_kind_lineage_and_recipe_survive_a_digest_change(emulator, registry_path):
    from desktop_registry.domain import Kind

    db = Database.open(registry_path)
    repo = ModelRepository(db)

    async def sync():
        async with OllamaSource(emulator.url) as source:
            return await OllamaSync(source, repo).run()

    emulator.add_model(
        EmulatedModel(
            name="llama3.1-precise:latest", family="llama", capabilities=["completion", "tools"]
        )
    )
    asyncio.run(sync())
    base = repo.find("llama3.1:8b")
    variant = repo.find("llama3.1-precise:latest")
    recipe = {"type": "parameter_tuning", "temperature": 0.1}
    repo.update(variant.id, kind=Kind.VARIANT, parent_id=base.id, parameters=recipe)
    emulator.set_digest("llama3.1-precise:latest", "e" * 64)
    report = asyncio.run(sync())
    assert report.updated == ["llama3.1-precise:latest"]
    after = repo.get(variant.id)
    assert after.digest == "e" * 64
    assert (after.kind, after.parent_id, after.parameters) == (Kind.VARIANT, base.id, recipe)
    db.dispose()

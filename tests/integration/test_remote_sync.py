"""`sync` brings Ollama, GitHub Models and OpenAI-compatible endpoints into one registry.

Real sockets to the Ollama and GitHub Models emulators, the real CLI entry point, real SQLite.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

from desktop_registry.cli import main as cli
from tests.servers.github_models_emulator import CatalogEntry, GitHubModelsEmulator


def run(capsys, home: Path, *args: str) -> tuple[int, str, str]:
    code = cli(["--db", str(home / "registry.db"), *args])
    out, err = capsys.readouterr()
    return code, out, err


def listed(capsys, home: Path, *extra: str) -> dict[str, dict]:
    code, out, _ = run(capsys, home, "list", "--json", *extra)
    assert code == 0
    return {m["name"]: m for m in json.loads(out)}


def test_sync_puts_each_provider_in_the_briefs_category_and_keeps_capabilities(
    capsys, monkeypatch, data_home, ollama, github
):
    monkeypatch.setenv("GH_TOKEN", github.token)  # a token: GitHub Models is synced
    code, _out, err = run(capsys, data_home, "sync", "--ollama-url", ollama.url)
    assert code == 0, err
    models = listed(capsys, data_home)

    remote = {n: m for n, m in models.items() if m["source"] == "github_models"}
    assert len(remote) == 11
    assert remote["openai/gpt-4.1"]["category"] == "cloud_text"
    assert {"tools", "vision"} <= set(remote["openai/gpt-4.1"]["capabilities"])
    assert remote["meta/Llama-3.3-70B-Instruct"]["category"] == "cloud_text"
    assert remote["deepseek/DeepSeek-R1"]["category"] == "cloud_code"
    assert "thinking" in remote["deepseek/DeepSeek-R1"]["capabilities"]
    assert remote["microsoft/Phi-4-multimodal-instruct"]["category"] == "cloud_multimodal"
    assert "vision" in remote["microsoft/Phi-4-multimodal-instruct"]["capabilities"]
    assert remote["mistral-ai/Codestral-2501"]["category"] == "cloud_general"
    assert remote["xai/grok-3"]["category"] == "cloud_general"
    assert remote["openai/text-embedding-3-small"]["capabilities"] == ["embedding"]
    assert all(m["serving"] == "remote" and m["status"] == "listed" for m in remote.values())

    # Local and remote side by side in one list.
    local = {n: m for n, m in models.items() if m["source"] == "ollama"}
    assert {"qwen3:8b", "llava:7b", "nomic-embed-text:latest"} <= set(local)
    assert all(m["serving"] == "local" for m in local.values())

    # Capability filters work across sources.
    with_vision = listed(capsys, data_home, "--capability", "vision")
    assert {"llava:7b", "openai/gpt-4.1"} <= set(with_vision)


def test_list_filters_remote_models_by_source_and_category(
    capsys, monkeypatch, data_home, ollama, github
):
    monkeypatch.setenv("GH_TOKEN", github.token)
    assert run(capsys, data_home, "sync", "--ollama-url", ollama.url)[0] == 0
    code_models = listed(capsys, data_home, "--source", "github_models", "--category", "cloud_code")
    assert set(code_models) == {"deepseek/DeepSeek-R1", "deepseek/DeepSeek-V3-0324"}


def test_the_catalog_is_synced_without_a_token_when_asked_and_stays_listed(
    capsys, monkeypatch, data_home, ollama, github
):
    monkeypatch.setenv("DESKTOP_REGISTRY_GITHUB_MODELS_SYNC", "always")
    code, _, err = run(capsys, data_home, "sync", "--ollama-url", ollama.url)
    assert code == 0, err
    remote = listed(capsys, data_home, "--source", "github_models")
    assert len(remote) == 11 and {m["status"] for m in remote.values()} == {"listed"}
    assert github.count("/catalog/models") == 1
    assert not any("authorization" in {k.lower() for k in r.headers} for r in github.requests)


def test_without_a_token_auto_mode_syncs_ollama_only(capsys, data_home, ollama, github):
    code, _, err = run(capsys, data_home, "sync", "--ollama-url", ollama.url)
    assert code == 0, err
    assert github.count("/catalog/models") == 0
    assert listed(capsys, data_home, "--source", "github_models") == {}
    assert len(listed(capsys, data_home, "--source", "ollama")) == 5


def test_a_failing_source_is_reported_and_the_others_still_sync(
    capsys, monkeypatch, data_home, github
):
    monkeypatch.setenv("GH_TOKEN", github.token)
    code, _, err = run(capsys, data_home, "sync", "--ollama-url", "http://127.0.0.1:9")
    assert code == 2
    assert "Ollama is not running" in err and "Traceback" not in err
    assert len(listed(capsys, data_home, "--source", "github_models")) == 11


def test_the_cached_catalog_fills_the_registry_when_github_is_unreachable(
    capsys, monkeypatch, data_home, ollama, github
):
    monkeypatch.setenv("GH_TOKEN", github.token)
    assert run(capsys, data_home, "sync", "--ollama-url", ollama.url)[0] == 0
    github.stop()
    fresh_db = data_home / "second.db"
    code = cli(["--db", str(fresh_db), "sync", "--ollama-url", ollama.url])
    err = capsys.readouterr().err
    assert code == 2  # GitHub failed, and says so
    assert "not reachable" in err and "cached" in err
    cli(["--db", str(fresh_db), "list", "--json", "--source", "github_models"])
    assert len(json.loads(capsys.readouterr().out)) == 11


def test_a_model_gone_from_the_catalog_is_marked_missing_not_deleted(
    capsys, monkeypatch, data_home, github
):
    monkeypatch.setenv("GH_TOKEN", github.token)
    monkeypatch.setenv("DESKTOP_REGISTRY_OLLAMA_URL", "http://127.0.0.1:9")
    run(capsys, data_home, "sync")
    smaller = [CatalogEntry(id="openai/gpt-4.1", name="OpenAI GPT-4.1", publisher="OpenAI")]
    with GitHubModelsEmulator(smaller, token=github.token) as second:
        monkeypatch.setenv("DESKTOP_REGISTRY_GITHUB_MODELS_URL", second.url)
        code, out, _ = run(capsys, data_home, "sync", "--json")
    report = json.loads(out)
    assert code == 2  # Ollama is down in this test
    assert len(report["missing"]) == 10
    remote = listed(capsys, data_home, "--source", "github_models")
    assert len(remote) == 11
    assert remote["xai/grok-3"]["status"] == "missing"
    assert remote["openai/gpt-4.1"]["status"] == "listed"


def test_an_openai_compatible_endpoint_adds_its_models_under_its_own_name(
    capsys, monkeypatch, data_home, ollama
):
    with GitHubModelsEmulator(openai_compatible=True) as server:
        monkeypatch.setattr("sys.stdin", io.StringIO(server.token + "\n"))
        code, _, err = run(
            capsys, data_home, "endpoint", "add", "lab", server.url + "/v1", "--api-key-stdin"
        )
        assert code == 0, err
        assert server.token not in (data_home / "endpoints.json").read_text()
        code, _, err = run(capsys, data_home, "sync", "--ollama-url", ollama.url)
        assert code == 0, err
    models = listed(capsys, data_home, "--source", "openai_compatible")
    assert models and all(name.startswith("lab/") for name in models)
    assert {m["provider"] for m in models.values()} == {"lab"}
    code, out, _ = run(capsys, data_home, "providers", "--json")
    rows = {r["name"]: r for r in json.loads(out)}
    assert rows["lab"]["credentials"] == "API key in keyring"
    assert sum(rows["lab"]["models"].values()) == len(models)


def test_catalog_capabilities_and_tags_stay_on_the_record_beside_the_provider_category(
    capsys, monkeypatch, data_home, ollama, github
):
    monkeypatch.setenv("GH_TOKEN", github.token)
    assert run(capsys, data_home, "sync", "--ollama-url", ollama.url)[0] == 0
    models = listed(capsys, data_home, "--source", "github_models")
    # The provider rule still picks the cloud category ...
    assert models["mistral-ai/Codestral-2501"]["category"] == "cloud_general"
    assert models["openai/text-embedding-3-small"]["category"] == "cloud_text"
    # ... and what the catalog says the model is for is kept and shown beside it.
    assert "code" in models["mistral-ai/Codestral-2501"]["categories"]
    assert "embedding" in models["openai/text-embedding-3-small"]["categories"]
    assert "openai/text-embedding-3-small" in listed(capsys, data_home, "--capability", "embedding")
    assert "mistral-ai/Codestral-2501" in listed(capsys, data_home, "--category", "code")

    code, out, _ = run(capsys, data_home, "show", "mistral-ai/Codestral-2501")
    assert code == 0
    shown = {line.split("  ", 1)[0]: line.split("  ", 1)[1].strip() for line in out.splitlines()}
    assert shown["Also under"] == "code" and shown["Tags"] == "coding, tier:low"
    code, out, _ = run(capsys, data_home, "show", "openai/text-embedding-3-small")
    assert "embedding" in out.split("Capabilities", 1)[1].splitlines()[0]

    code, out, _ = run(
        capsys, data_home, "library", "search", "--category", "code", "--remote", "--json"
    )
    assert code == 0 and "mistral-ai/Codestral-2501" in out
    code, out, _ = run(
        capsys, data_home, "library", "search", "--capability", "embedding", "--remote", "--json"
    )
    assert code == 0 and "openai/text-embedding-3-small" in out

from __future__ import annotations

import pytest

from desktop_registry.config import Settings, normalise_ollama_host


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", "http://localhost:11434"),
        ("gpu-box", "http://gpu-box:11434"),
        ("gpu-box:8080", "http://gpu-box:8080"),
        ("0.0.0.0", "http://127.0.0.1:11434"),
        ("https://ollama.example.com", "https://ollama.example.com:443"),
        ("http://10.0.0.5:11434/", "http://10.0.0.5:11434"),
    ],
)
def test_ollama_host_is_read_the_way_ollama_reads_it(value, expected):
    assert normalise_ollama_host(value) == expected


def test_ollama_host_environment_variable_sets_the_default_url(monkeypatch):
    monkeypatch.setenv("OLLAMA_HOST", "studio.local:11500")
    assert Settings().ollama_url == "http://studio.local:11500"


def test_explicit_url_wins_over_ollama_host(monkeypatch):
    monkeypatch.setenv("OLLAMA_HOST", "studio.local")
    assert Settings(ollama_url="http://other:1").ollama_url == "http://other:1"


def test_data_dir_is_overridable(monkeypatch, tmp_path):
    monkeypatch.setenv("DESKTOP_REGISTRY_HOME", str(tmp_path / "reg"))
    settings = Settings()
    assert settings.db_path == tmp_path / "reg" / "registry.db"

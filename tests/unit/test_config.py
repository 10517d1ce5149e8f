from __future__ import annotations

import pytest

from desktop_registry.config import (
    Settings,
    looks_like_secret,
    normalise_ollama_host,
    settings_path,
)


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


def test_no_setting_is_named_like_a_secret():
    # Secrets live in the keyring; a setting named like one would end up in settings.json.
    assert [key for key in Settings.model_fields if looks_like_secret(key)] == []
    assert looks_like_secret("github_token") and looks_like_secret("OPENAI_API_KEY")


def test_settings_json_lives_in_desktop_registry_home_else_the_default_data_dir(
    monkeypatch, tmp_path, private_data_dir
):
    monkeypatch.delenv("DESKTOP_REGISTRY_HOME", raising=False)
    assert settings_path() == private_data_dir / "settings.json"
    monkeypatch.setenv("DESKTOP_REGISTRY_HOME", str(tmp_path / "reg"))
    assert settings_path() == tmp_path / "reg" / "settings.json"


def test_the_theme_is_a_setting_with_three_choices(monkeypatch):
    monkeypatch.delenv("DESKTOP_REGISTRY_THEME", raising=False)
    assert Settings().theme == "system"
    monkeypatch.setenv("DESKTOP_REGISTRY_THEME", "dark")
    assert Settings().theme == "dark"

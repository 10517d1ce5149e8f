"""`desktop-registry-cli config list|get|set|unset`: one settings.json, environment variables win.

Real files in the test's own data folder (the autouse private_data_dir), the real CLI entry point,
and once the CLI as a subprocess to see exactly what a user sees on stderr.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from desktop_registry.app import build_context
from desktop_registry.cli import main as cli
from desktop_registry.config import Settings, settings_path
from desktop_registry.services.events import Topic

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def no_setting_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("DESKTOP_REGISTRY_"):
            monkeypatch.delenv(name)
    monkeypatch.delenv("OLLAMA_HOST", raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_config_set_ollama_url_then_get_prints_it(capsys):
    code, out, _ = run(capsys, "config", "set", "ollama_url", "http://gpu-box:11434")
    assert code == 0
    assert str(settings_path()) in out
    assert run(capsys, "config", "get", "ollama_url") == (0, "http://gpu-box:11434\n", "")
    assert Settings().ollama_url == "http://gpu-box:11434"  # what `sync` and the window use


def test_config_set_eval_concurrency_zero_fails_naming_the_field(capsys):
    code, _, err = run(capsys, "config", "set", "eval_concurrency", "0")
    assert code == 1
    assert "eval_concurrency" in err
    assert "from 1 to 64" in err  # what is accepted
    assert "Traceback" not in err
    assert not settings_path().exists()  # nothing was written


def test_config_set_a_word_where_a_choice_is_expected_lists_the_choices(capsys):
    code, _, err = run(capsys, "config", "set", "theme", "blue")
    assert code == 1
    assert "theme" in err and "system, light, dark" in err


def test_config_list_and_get_json_output_parses(capsys):
    run(capsys, "config", "set", "theme", "dark")
    code, out, _ = run(capsys, "config", "list", "--json")
    assert code == 0
    listing = json.loads(out)
    assert listing["file"] == str(settings_path())
    rows = {row["key"]: row for row in listing["settings"]}
    assert rows["theme"]["value"] == "dark" and rows["theme"]["origin"] == "file"
    assert rows["eval_concurrency"] == {
        "key": "eval_concurrency",
        "value": 4,
        "origin": "default",
        "variable": None,
        "description": "Evaluation requests at once per source",
    }
    code, out, _ = run(capsys, "config", "get", "theme", "--json")
    assert code == 0
    assert json.loads(out)["value"] == "dark"


def test_config_list_shows_every_setting_with_where_it_comes_from(capsys, monkeypatch):
    run(capsys, "config", "set", "sync_concurrency", "12")
    monkeypatch.setenv("DESKTOP_REGISTRY_GITHUB_ORG", "acme")
    code, out, _ = run(capsys, "config", "list")
    assert code == 0
    lines = {line.split()[0]: line for line in out.splitlines() if line.strip()}
    assert lines["sync_concurrency"].split()[1:] == ["12", "file"]
    assert lines["github_org"].split()[1:] == [
        "acme",
        "environment",
        "(DESKTOP_REGISTRY_GITHUB_ORG)",
    ]
    assert lines["request_timeout_s"].split()[1:] == ["30.0", "default"]


def test_config_unset_returns_the_default(capsys):
    run(capsys, "config", "set", "ollama_url", "http://gpu-box:11434")
    code, out, _ = run(capsys, "config", "unset", "ollama_url")
    assert code == 0
    assert "http://localhost:11434 (default)" in out
    assert run(capsys, "config", "get", "ollama_url")[1] == "http://localhost:11434\n"
    assert "ollama_url" not in json.loads(settings_path().read_text())


def test_an_empty_value_unsets_the_setting(capsys):
    run(capsys, "config", "set", "mlflow_tracking_uri", "http://mlflow.team:5000")
    assert run(capsys, "config", "set", "mlflow_tracking_uri", "")[0] == 0
    assert Settings().mlflow_tracking_uri is None


def test_an_environment_variable_wins_over_the_file(capsys, monkeypatch):
    run(capsys, "config", "set", "eval_concurrency", "7")
    monkeypatch.setenv("DESKTOP_REGISTRY_EVAL_CONCURRENCY", "9")
    code, out, _ = run(capsys, "config", "get", "eval_concurrency", "--json")
    assert code == 0
    got = json.loads(out)
    assert (got["value"], got["origin"]) == (9, "environment")
    assert got["variable"] == "DESKTOP_REGISTRY_EVAL_CONCURRENCY"
    assert Settings().eval_concurrency == 9
    code, out, _ = run(capsys, "config", "set", "eval_concurrency", "5")  # saved, and said so
    assert code == 0
    assert "DESKTOP_REGISTRY_EVAL_CONCURRENCY is set in the environment" in out
    assert json.loads(settings_path().read_text())["eval_concurrency"] == 5


def test_ollama_host_wins_over_the_file_and_a_flag_wins_over_both(capsys, monkeypatch):
    run(capsys, "config", "set", "ollama_url", "http://gpu-box:11434")
    monkeypatch.setenv("OLLAMA_HOST", "studio.local:11500")
    assert Settings().ollama_url == "http://studio.local:11500"
    got = json.loads(run(capsys, "config", "get", "ollama_url", "--json")[1])
    assert (got["value"], got["variable"]) == ("http://studio.local:11500", "OLLAMA_HOST")
    _, out, _ = run(capsys, "config", "set", "ollama_url", "http://other:1")
    assert "OLLAMA_HOST is set in the environment" in out
    assert Settings(ollama_url="http://flag:2").ollama_url == "http://flag:2"  # --ollama-url


def test_config_get_of_an_unknown_key_exits_1_naming_the_known_keys(capsys):
    code, out, err = run(capsys, "config", "get", "olama_url")
    assert code == 1
    assert out == ""
    assert "olama_url" in err and "ollama_url" in err and "eval_concurrency" in err
    assert "Traceback" not in err


def test_secret_like_keys_are_refused_and_never_written(capsys):
    for key in ("github_token", "api_key", "mlflow_password"):
        code, _, err = run(capsys, "config", "set", key, "ghp_not_a_real_token")
        assert code == 1
        assert "secret" in err and "keyring" in err
    assert not settings_path().exists()


def test_an_mlflow_uri_with_a_password_is_refused_on_set(capsys):
    code, _, err = run(
        capsys, "config", "set", "mlflow_tracking_uri", "https://ana:hunter2@mlflow.example.com"
    )
    assert code == 1
    assert "mlflow_tracking_uri" in err and "MLFLOW_TRACKING_PASSWORD" in err
    assert "hunter2" not in err
    assert not settings_path().exists()


def test_a_secret_hand_written_into_the_file_is_ignored_and_dropped_on_the_next_save(capsys):
    settings_path().parent.mkdir(parents=True)
    settings_path().write_text(json.dumps({"github_token": "ghp_handwritten", "theme": "dark"}))
    assert Settings().theme == "dark"
    code, out, _ = run(capsys, "config", "set", "eval_concurrency", "6")
    assert code == 0
    assert "github_token was removed" in out
    saved = settings_path().read_text()
    assert "ghp_handwritten" not in saved
    assert json.loads(saved) == {"eval_concurrency": 6, "theme": "dark"}


def test_the_settings_file_is_replaced_whole_and_private_to_the_user(capsys):
    run(capsys, "config", "set", "theme", "light")
    run(capsys, "config", "set", "github_rate_limits", '{"high": {"requests_per_minute": 20}}')
    assert json.loads(settings_path().read_text()) == {
        "github_rate_limits": {"high": {"requests_per_minute": 20}},
        "theme": "light",
    }
    if os.name == "posix":
        assert stat.S_IMODE(settings_path().stat().st_mode) == 0o600
    # No temp file of the atomic write is left; the registry's schema-upgrade lock stays by design
    # (storage/upgrade_lock.py never deletes it: another program may hold it).
    left = [p.name for p in settings_path().parent.iterdir() if p.name.startswith(".")]
    assert [name for name in left if not name.endswith(".upgrade-lock")] == []


def test_home_in_the_file_moves_the_registry_but_not_the_file(capsys, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    code, out, _ = run(capsys, "config", "set", "home", str(elsewhere))
    assert code == 0
    assert "next start" in out
    assert Settings().home == elsewhere
    assert run(capsys, "list", "--json")[0] == 0  # the next command opens the registry there
    assert (elsewhere / "registry.db").exists()
    assert not (elsewhere / "settings.json").exists()
    assert run(capsys, "config", "get", "home")[1] == f"{elsewhere}\n"  # still read from here


def test_a_malformed_settings_file_leaves_cli_list_working_with_a_warning(capsys, caplog):
    settings_path().parent.mkdir(parents=True)
    settings_path().write_text('{"ollama_url": "http://gpu-box:11434",')  # cut short
    code, out, err = run(capsys, "config", "list")
    assert code == 0
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines() if line.strip()}
    assert rows["ollama_url"] == ["http://localhost:11434", "default"]
    assert "Traceback" not in err
    warned = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any(str(settings_path()) in m and "not valid JSON" in m for m in warned)


def test_a_settings_value_the_app_cannot_use_is_ignored_with_a_warning(capsys, caplog):
    settings_path().parent.mkdir(parents=True)
    settings_path().write_text(json.dumps({"eval_concurrency": 0, "theme": "dark"}))
    settings = Settings()
    assert (settings.eval_concurrency, settings.theme) == (4, "dark")
    assert any("eval_concurrency is ignored" in r.getMessage() for r in caplog.records)


def test_the_warning_about_a_malformed_file_is_on_stderr_without_a_traceback(tmp_path):
    home = tmp_path / "data"
    home.mkdir()
    (home / "settings.json").write_text("theme = dark\n")  # not JSON at all
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "DESKTOP_REGISTRY_HOME": str(home)}
    done = subprocess.run(
        [sys.executable, "-m", "desktop_registry.cli", "config", "list"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0
    assert done.stderr.startswith(f"warning: {home / 'settings.json'} is ignored")
    assert "Traceback" not in done.stderr
    assert "theme                 system" in done.stdout


def test_set_reaches_the_running_context_and_announces_the_change(tmp_path):
    ctx = build_context(Settings(), db_path=tmp_path / "r.db")
    heard: list[object] = []
    ctx.events.subscribe(Topic.SETTINGS_CHANGED, heard.append)
    try:
        ctx.settings_store().set_many({"eval_concurrency": 6, "ollama_url": "gpu-box"})
        assert ctx.settings.eval_concurrency == 6
        assert ctx.evaluation(tracked=False).limit_for("ollama") == 6
        assert ctx.ollama().base_url == "http://gpu-box:11434"
        assert heard == [{"eval_concurrency", "ollama_url"}]
        ctx.settings_store().set("eval_concurrency", 6)  # no change: nothing announced
        assert len(heard) == 1
        ctx.settings_store().unset("eval_concurrency")
        assert ctx.settings.eval_concurrency == 4
        assert heard[-1] == {"eval_concurrency"}
    finally:
        ctx.close()

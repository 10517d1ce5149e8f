"""With GitHub sync on "auto" and no token stored, `sync` says GitHub Models were skipped and how
to set a token, instead of leaving them out silently; the window's sync job says the same.

Real sockets to the Ollama and GitHub Models emulators, the real CLI entry point, real SQLite;
each test has its own file keyring (tests/conftest.py), so no token is stored to begin with.
"""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path

from desktop_registry.app import build_context
from desktop_registry.cli import main as cli
from desktop_registry.config import Settings
from desktop_registry.domain.jobs import JobState

HOW_TO = "desktop-registry-cli token set"


def sync(capsys, home: Path, ollama_url: str, *extra: str) -> tuple[int, str, str]:
    code = cli(["--db", str(home / "registry.db"), "sync", "--ollama-url", ollama_url, *extra])
    out, err = capsys.readouterr()
    return code, out, err


def test_sync_without_a_token_says_github_models_were_skipped_and_how_to_set_one(
    capsys, data_home, ollama, github
):
    code, out, err = sync(capsys, data_home, ollama.url)
    assert code == 0, err  # skipping is not a failure
    assert out.splitlines()[0].startswith("Synced ollama: 5 added")
    (note,) = [line for line in out.splitlines() if line.startswith("note: ")]
    assert "GitHub Models were skipped because no GitHub token is set" in note
    assert f"`{HOW_TO}`" in note
    assert github.count("/catalog/models") == 0  # still skipped: "auto" needs a token

    code, out, _ = sync(capsys, data_home, ollama.url, "--json")
    assert code == 0
    (skipped,) = json.loads(out)["skipped"]
    assert skipped["source"] == "github_models"
    assert "no GitHub token is set" in skipped["reason"] and HOW_TO in skipped["fix"]


def test_the_token_command_named_in_the_note_is_the_real_one(
    capsys, monkeypatch, data_home, ollama, github
):
    monkeypatch.setattr("sys.stdin", io.StringIO("ghp_example\n"))
    assert cli(["--db", str(data_home / "registry.db"), *HOW_TO.split()[1:], "--stdin"]) == 0
    assert "GitHub token stored" in capsys.readouterr().out
    code, out, err = sync(capsys, data_home, ollama.url)  # with it, GitHub Models are synced
    assert code == 0, err
    assert "note:" not in out and github.count("/catalog/models") == 1


def test_no_note_when_github_models_are_synced_or_switched_off(
    capsys, monkeypatch, data_home, ollama, github
):
    monkeypatch.setenv("GH_TOKEN", github.token)
    code, out, err = sync(capsys, data_home, ollama.url, "--json")
    assert code == 0, err
    assert json.loads(out)["skipped"] == []
    monkeypatch.delenv("GH_TOKEN")
    monkeypatch.setenv("DESKTOP_REGISTRY_GITHUB_MODELS_SYNC", "never")  # the user's own choice
    code, out, err = sync(capsys, data_home, ollama.url)
    assert code == 0, err
    assert "note:" not in out


def test_the_sync_job_the_window_runs_reports_the_skip_and_how_to_fix_it(tmp_path, ollama):
    settings = Settings(home=tmp_path / "home", ollama_url=ollama.url, github_models_sync="auto")
    ctx = build_context(settings, db_path=tmp_path / "registry.db")

    async def go():
        jobs = ctx.jobs()
        queued = jobs.submit("sync", {}, "Sync all sources")
        try:
            assert queued.id is not None
            return await jobs.wait(queued.id)
        finally:
            await ctx.aclose()

    try:
        job = asyncio.run(go())
    finally:
        ctx.close()
    assert job.state is JobState.SUCCEEDED
    assert "GitHub Models were skipped because no GitHub token is set" in job.message
    assert HOW_TO in job.message and "Settings" in job.message
    assert any(line.startswith("note: GitHub Models were skipped") for line in job.log)

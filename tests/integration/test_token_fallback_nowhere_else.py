"""Without a keyring the GitHub token sits in one 0600 file, and nowhere else: not the registry,
the MLflow store, an exported Modelfile, the CLI's output, the logs or an error.

Real sockets to the Ollama and GitHub Models emulators, the real CLI, real SQLite and MLflow.
"""

from __future__ import annotations

import io
import logging
import os
import stat

from desktop_registry.cli import main as cli
from tests.servers.github_models_emulator import GitHubModelsEmulator
from tests.servers.ollama_emulator import OllamaEmulator, standard_models


def test_the_fallback_file_is_the_only_place_the_token_is_written(
    capsys, caplog, monkeypatch, data_home, no_keyring
):
    caplog.set_level(logging.DEBUG)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    token = "github_pat_" + "Fb7" * 14
    outputs: list[str] = []

    def run(*args: str, stdin: str = "") -> str:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        code = cli(["--db", str(data_home / "registry.db"), *args])
        out, err = capsys.readouterr()
        assert code == 0, err
        outputs.extend([out, err])
        return out

    with (
        GitHubModelsEmulator(token=token) as github,
        OllamaEmulator(standard_models()) as ollama,
    ):
        monkeypatch.setenv("DESKTOP_REGISTRY_GITHUB_MODELS_URL", github.url)
        run("token", "set", stdin=token)
        run("sync", "--ollama-url", ollama.url, "--json")
        run("--ollama-url", ollama.url, "chat", "openai/gpt-4.1", "Hi")
        # A remote variant: tracked in MLflow, served at request time, exportable.
        run(
            "--ollama-url", ollama.url, "experiment", "create", "--type", "prompt_engineering",
            "--base", "openai/gpt-4.1", "--system", "Be brief.", "--name", "brief-gpt",
        )  # fmt: skip
        run("--ollama-url", ollama.url, "chat", "brief-gpt", "Hi")
        exported = run("export-modelfile", "brief-gpt")
        for args in (("list", "--json"), ("providers", "--json"), ("token", "status", "--json")):
            run(*args)
        assert github.count("/inference/chat/completions") == 2  # the token was really used

    secret_file = data_home / "github_token"
    assert secret_file.read_text() == token
    assert stat.S_IMODE(os.stat(secret_file).st_mode) == 0o600
    assert "FROM openai/gpt-4.1" in exported
    assert (data_home / "mlflow.db").is_file()  # the MLflow store was written, and is searched

    texts = (
        outputs + [r.getMessage() for r in caplog.records] + [str(r.args) for r in caplog.records]
    )
    for path in data_home.rglob("*"):
        if path.is_file() and path != secret_file:
            texts.append(path.read_bytes().decode("utf-8", errors="replace"))
    assert [t[:80] for t in texts if token in t] == []

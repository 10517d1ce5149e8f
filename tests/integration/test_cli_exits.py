"""The command line's promises, through real processes and pipes: a message and the README's
exit codes (0 ok, 1 user error, 2 server, 130 interrupted), never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from desktop_registry.domain import ModelRecord, Serving, Source
from desktop_registry.storage import Database, ModelRepository

ROOT = Path(__file__).resolve().parents[2]


def cli(
    *args: str, env: dict[str, str], stdout: int | None = subprocess.PIPE
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "desktop_registry.cli", *args],
        cwd=ROOT,
        env=env,
        stdout=stdout,
        stderr=subprocess.PIPE,
    )


def environment(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("OLLAMA_HOST",)}
    env.update(DESKTOP_REGISTRY_HOME=str(home), **extra)
    return env


def test_a_reader_that_stops_early_ends_the_listing_quietly(tmp_path: Path):
    home = tmp_path / "home"
    home.mkdir()
    db = Database.open(home / "registry.db")
    repo = ModelRepository(db)
    for i in range(400):  # far more JSON than a pipe holds
        repo.register(
            ModelRecord(
                name=f"model-{i:03}:latest",
                source=Source.OLLAMA,
                serving=Serving.LOCAL,
                description="x" * 200,
            )
        )
    db.dispose()
    process = cli("list", env=environment(home))  # a table: one write a row
    assert process.stdout is not None and process.stderr is not None
    head = process.stdout.read(100)  # `| head -c 100`
    process.stdout.close()
    err = process.stderr.read().decode()
    assert process.wait(timeout=60) == 0
    assert head.startswith(b"NAME")
    assert "Traceback" not in err and "BrokenPipe" not in err, err


def run(*args: str, env: dict[str, str]) -> tuple[int, str]:
    process = cli(*args, env=env)
    _out, err = process.communicate(timeout=60)
    return process.returncode, err.decode()


def test_a_usage_error_exits_1_not_the_servers_2(tmp_path: Path):
    code, err = run("list", "--no-such-flag", env=environment(tmp_path / "home"))
    assert code == 1
    assert "unrecognized arguments: --no-such-flag" in err


def test_an_ollama_host_with_an_impossible_port_is_a_message_not_a_crash(tmp_path: Path):
    code, err = run("list", env=environment(tmp_path / "home", OLLAMA_HOST="localhost:99999"))
    assert code == 1
    assert "ollama_url (from OLLAMA_HOST" in err and "port '99999'" in err
    assert "Traceback" not in err


def test_a_data_folder_that_is_a_file_is_a_message_not_a_crash(tmp_path: Path):
    not_a_folder = tmp_path / "registry-here"
    not_a_folder.write_text("I am a file")
    code, err = run("list", env=environment(not_a_folder))
    assert code == 1
    assert f"The data folder {not_a_folder} cannot be used: is a file, not a folder" in err
    assert "Traceback" not in err

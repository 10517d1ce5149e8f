"""Long work ends with the README's exit codes: a study against a dead server stops, a user's slip is 1.

Real processes (`python -m desktop_registry.cli`) against the Ollama emulator on a real socket. Failed
trials do not spend a study's budget, so a study whose server is down used to ask for trials for
ever (trial 701 of 2 after 40 s); a fine-tune that named weights not on this machine exited 2.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.servers.ollama_emulator import OllamaEmulator, standard_models

SUITE = Path(__file__).resolve().parents[2] / "resources" / "eval_suites" / "general_qa.prompt.yml"
MODEL = "llama3.1:8b"


def cli(home: Path, url: str, *args: str) -> tuple[int, str]:
    env = dict(
        os.environ, DESKTOP_REGISTRY_HOME=str(home), OLLAMA_HOST=url,
        DESKTOP_REGISTRY_GITHUB_MODELS_SYNC="never", MLFLOW_TRACKING_URI="",
    )  # fmt: skip
    env.pop("MLFLOW_TRACKING_URI")
    done = subprocess.run(
        [sys.executable, "-m", "desktop_registry.cli", *args],
        env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    return done.returncode, done.stdout + done.stderr


def failed_trials(home: Path) -> int:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = f"sqlite:///{home / 'optuna.db'}"
    (summary,) = optuna.get_all_study_summaries(storage)
    study = optuna.load_study(study_name=summary.study_name, storage=storage)
    return sum(t.state is optuna.trial.TrialState.FAIL for t in study.trials)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def test_a_study_whose_server_is_down_stops_at_once_with_exit_2(home):
    with OllamaEmulator(standard_models()) as emu:
        url = emu.url
        assert cli(home, url, "sync")[0] == 0
    code, text = cli(home, url, "optimize", "run", MODEL, "--suite", str(SUITE), "--trials", "3")
    assert code == 2, text
    assert "Ollama is not running" in text and "stopped after 1 failed trial" in text
    assert "optimize resume" in text and "Traceback" not in text
    assert failed_trials(home) == 1


def test_a_finetune_whose_base_weights_are_not_here_is_a_user_error_exit_1(home, tmp_path):
    from desktop_registry.services.finetune.run import trainer_missing

    if trainer_missing():
        pytest.skip("the finetune extra (torch, transformers, peft) is not installed")
    data = tmp_path / "train.jsonl"
    row = '{"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"yo"}]}\n'
    data.write_text(row * 20, encoding="utf-8")
    with OllamaEmulator(standard_models()) as emu:
        assert cli(home, emu.url, "sync")[0] == 0
        env_home = {"HF_HUB_CACHE": str(tmp_path / "empty-hf-cache")}
        os.environ.update(env_home)
        try:
            code, text = cli(
                home, emu.url, "finetune", "start", "--base", MODEL, "--name", "ft1",
                "--data", str(data),
            )  # fmt: skip
        finally:
            for key in env_home:
                os.environ.pop(key)
    assert code == 1, text
    assert "not in the Hugging Face cache" in text and "Traceback" not in text

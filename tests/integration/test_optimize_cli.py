"""`optimize run|resume|best|list|variant` exactly as scripts use them, and what a study leaves
behind: a variant with lineage to the study, and the study's summary in MLflow."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop_registry.cli import main as cli
from tests.integration.optimize_setup import MODEL, SPACE, registry_with_model, tunable_emulator
from tests.servers.ollama_emulator import OllamaEmulator


@pytest.fixture
def emu() -> Iterator[OllamaEmulator]:
    with tunable_emulator() as emulator:
        yield emulator


@pytest.fixture
def base(tmp_path: Path, emu: OllamaEmulator, capsys) -> list[str]:
    db = registry_with_model(tmp_path, emu, rows=6)
    capsys.readouterr()
    return ["--db", str(db), "--ollama-url", emu.url, "optimize"]


def last_json(capsys) -> dict:
    lines = capsys.readouterr().out.strip().splitlines()
    return json.loads(lines[-1])


def run_args(*extra: str) -> list[str]:
    spaces = [f"--space={s}" for s in SPACE]
    return ["run", MODEL, "--suite", "Echo", "--seed", "4", *spaces, *extra]


def test_run_with_json_ends_with_one_object_naming_study_storage_trials_and_best(
    base, capsys, tmp_path
):
    args = ["run", MODEL, "--suite", "Echo", "--strategy", "grid", "--trials", "9", "--study",
            "g", "--space", "temperature=0.6:0.8:0.2", "--space", "top_p=0.6:1:0.2", "--json"]  # fmt: skip
    assert cli([*base, *args]) == 0
    out = last_json(capsys)
    assert out["study"] == "g" and out["storage"] == f"sqlite:///{tmp_path / 'optuna.db'}"
    assert out["trials"] == 6 and out["best_value"] == 1.0  # the 2 x 3 grid, then it stops
    assert "grid has 6 points: 9 trials capped at 6" in out["notes"]
    assert set(out["best_params"]) == {"temperature", "top_p"}


def test_two_objectives_report_best_values_and_a_pareto_front(base, capsys):
    args = run_args("--strategy", "evolutionary", "--objective", "maximize_quality",
                    "--objective", "minimize_latency", "--trials", "6", "--json")  # fmt: skip
    assert cli([*base, *args]) == 0
    out = last_json(capsys)
    assert out["best_value"] is None and len(out["best_values"]) == 2
    assert out["pareto"] and out["units"] == ["score", "ms"]


def test_a_suite_file_path_works_as_the_suite(base, capsys, tmp_path):
    args = [*run_args("--strategy", "random", "--trials", "2", "--json")]
    args[args.index("Echo")] = str(tmp_path / "echo.prompt.yml")
    assert cli([*base, *args]) == 0
    assert last_json(capsys)["suite"] == "Echo"


def test_resume_adds_trials_and_best_and_list_read_the_study(base, capsys):
    assert cli([*base, *run_args("--strategy", "random", "--trials", "3", "--study", "r")]) == 0
    assert cli([*base, "resume", "r", "--trials", "2", "--json"]) == 0
    assert last_json(capsys)["trials"] == 5
    assert cli([*base, "best", "r", "--json"]) == 0
    best = last_json(capsys)
    assert best["trials"] == 5 and best["best_params"]
    assert cli([*base, "best", "r"]) == 0
    text = capsys.readouterr().out
    assert "best parameters: temperature=" in text and "5 finished" in text
    assert cli([*base, "list", "--json"]) == 0
    listed = last_json(capsys)
    assert [s["study"] for s in listed["studies"]] == ["r"]
    assert listed["studies"][0]["trials"] == 5


def test_an_unknown_study_and_a_bad_space_are_user_errors(base, capsys):
    assert cli([*base, "best", "nope"]) == 1
    assert "No study named 'nope'" in capsys.readouterr().err
    assert (
        cli([*base, "run", MODEL, "--suite", "Echo", "--trials", "2", "--space", "top_p=1:0"]) == 1
    )
    assert "space top_p: low 1 is above high 0" in capsys.readouterr().err
    assert cli([*base, "run", MODEL, "--suite", "Echo", "--trials", "2", "--strategy",
                "hyperband", "--objective", "balance_quality_speed"]) == 1  # fmt: skip
    assert "hyperband" in capsys.readouterr().err


def test_variant_from_best_is_a_parameter_tuning_variant_with_lineage_to_the_study(
    base, capsys, tmp_path
):
    assert cli([*base, *run_args("--strategy", "random", "--trials", "4", "--study", "v")]) == 0
    assert cli([*base, "best", "v", "--json"]) == 0
    best = last_json(capsys)
    assert cli([*base, "variant", "v", "--name", "tunable-tuned", "--json"]) == 0
    made = last_json(capsys)
    assert made["options"] == best["best_params"]
    assert cli([base[0], base[1], "show", "tunable-tuned:latest", "--json"]) == 0
    shown = last_json_object(capsys)
    assert shown["kind"] == "variant"
    assert shown["parameters"]["optimization_study"]["study"] == "v"
    assert shown["parameters"]["optimization_study"]["trial"] == best["best_trial"]
    assert shown["parameters"]["experiment"]["type"] == "parameter_tuning"
    assert shown["parent_id"] is not None


def last_json_object(capsys) -> dict:
    return json.loads(capsys.readouterr().out)


def test_the_study_summary_is_logged_to_mlflow(base, capsys, tmp_path, monkeypatch):
    uri = f"sqlite:///{tmp_path / 'tracking' / 'mlflow.db'}"  # a chosen store: used
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    assert (
        cli([*base, *run_args("--strategy", "random", "--trials", "3", "--study", "m", "--json")])
        == 0
    )
    captured = capsys.readouterr()
    out = json.loads(captured.out.strip().splitlines()[-1])
    assert "mlflow_run_id" in out, captured.err[-2000:]
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    run = client.get_run(out["mlflow_run_id"])
    assert run.data.params["study"] == "m"
    assert run.data.params["model"] == MODEL
    assert run.data.metrics["trials"] == 3
    assert run.data.metrics["best_value"] == out["best_value"]


def test_the_optuna_storage_setting_is_where_a_study_goes_without_storage(base, capsys, tmp_path):
    team = tmp_path / "team" / "studies.db"
    team.parent.mkdir()
    assert cli(["config", "set", "optuna_storage", f"sqlite:///{team}"]) == 0
    capsys.readouterr()
    assert cli([*base, *run_args("--strategy", "random", "--trials", "2", "--json")]) == 0
    assert last_json(capsys)["storage"] == f"sqlite:///{team}"
    assert team.stat().st_size > 0 and not (tmp_path / "optuna.db").exists()

"""`desktop-registry-cli finetune validate|presets` as a real process: `line N: reason` for each
bad row and exit 1, a clean file exits 0, --json for scripts, never a traceback, no registry."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "finetune"


def cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "OLLAMA_HOST"}
    env["DESKTOP_REGISTRY_HOME"] = str(home)
    return subprocess.run(
        [sys.executable, "-m", "desktop_registry.cli", "finetune", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_bad_rows_are_listed_as_line_and_reason_and_exit_1(tmp_path: Path):
    done = cli(tmp_path, "validate", str(DATA / "bad.jsonl"), "--context", "512")
    assert done.returncode == 1, done.stderr
    listed = [line for line in done.stdout.splitlines() if line.startswith("line ")]
    assert [int(line.split(":")[0].split()[1]) for line in listed] == [
        2,
        3,
        4,
        5,
        7,
        8,
        10,
        11,
        12,
        13,
    ]
    assert "line 3: missing field 'completion'" in listed
    assert "duplicate: line 9 repeats line 1" in done.stdout
    assert "Traceback" not in done.stderr


def test_a_clean_file_exits_0_with_counts_and_split(tmp_path: Path):
    done = cli(tmp_path, "validate", str(DATA / "clean.jsonl"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("clean.jsonl: 7 rows, 7 good, 0 bad, 0 duplicates")
    assert "split (seed 42, 10% validation)" in done.stdout
    assert not (tmp_path / "registry.db").exists()  # validating touches no registry


def test_json_gives_rows_bad_lines_and_duplicates(tmp_path: Path):
    done = cli(tmp_path, "validate", str(DATA / "bad.jsonl"), "--context", "512", "--json")
    assert done.returncode == 1
    body = json.loads(done.stdout)
    assert body["rows"] == 13
    assert body["bad"][0] == {"line": 2, "reason": body["bad"][0]["reason"]}
    assert body["bad"][0]["reason"].startswith("invalid JSON")
    assert body["duplicates"] == [{"line": 9, "duplicate_of": 1}]
    assert body["train_rows"] + body["validation_rows"] == body["good"] - body["duplicate_count"]
    assert sum(b["count"] for b in body["token_histogram"]) == 4


def test_csv_columns_are_chosen_on_the_command_line(tmp_path: Path):
    done = cli(
        tmp_path,
        "validate",
        str(DATA / "bad.csv"),
        "--columns",
        "prompt=question,completion=answer",
    )
    assert done.returncode == 1
    assert "line 4: expected 2 columns, found 3" in done.stdout.splitlines()


def test_a_csv_without_the_default_columns_says_which_flag_chooses_them(tmp_path: Path):
    done = cli(tmp_path, "validate", str(DATA / "clean.csv"))
    assert done.returncode == 1
    assert "--columns prompt=COL,completion=COL" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_conversation_format_is_chosen_with_format(tmp_path: Path):
    done = cli(tmp_path, "validate", str(DATA / "conversation.jsonl"), "--format", "conversation")
    assert done.returncode == 1
    assert "line 5: missing field 'conversations'" in done.stdout


def test_a_missing_file_is_a_message_not_a_traceback(tmp_path: Path):
    done = cli(tmp_path, "validate", str(tmp_path / "nope.jsonl"))
    assert done.returncode == 1
    assert done.stderr.startswith("error: no training data at")


def test_a_tokenizer_file_counts_the_tokens_instead_of_the_estimate(tmp_path: Path):
    tokenizers = pytest.importorskip("tokenizers")
    models, pre, trainers = (
        tokenizers.models,
        tokenizers.pre_tokenizers,
        tokenizers.trainers,
    )
    tokenizer = tokenizers.Tokenizer(models.WordLevel(unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre.Whitespace()
    tokenizer.train_from_iterator(
        ["the capital of atlantis is poseidonia"],
        trainers.WordLevelTrainer(special_tokens=["[UNK]"]),
    )
    tokenizer.save(str(tmp_path / "tokenizer.json"))
    data = tmp_path / "rows.jsonl"
    data.write_text('{"prompt": "the capital of atlantis", "completion": "is poseidonia"}\n')
    done = cli(tmp_path, "validate", str(data), "--tokenizer", str(tmp_path), "--json")
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    assert body["token_count"] == "tokenizer"
    assert body["max_tokens"] == 6 + 2 * 4  # six words, plus the template's tokens for two turns


def test_presets_list_the_three_with_the_briefs_learning_rates(tmp_path: Path):
    done = cli(tmp_path, "presets", "--json")
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    assert [(p["name"], p["learning_rate"]) for p in body] == [
        ("efficient", 2e-5),
        ("balanced", 1e-5),
        ("high_quality", 5e-6),
    ]


def test_a_preset_edit_is_previewed_and_a_bad_one_names_the_field(tmp_path: Path):
    done = cli(tmp_path, "presets", "balanced", "--set", "lora.rank=16", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)[0]["lora"]["rank"] == 16
    bad = cli(tmp_path, "presets", "balanced", "--set", "lora.rank=0")
    assert bad.returncode == 1
    assert bad.stderr.startswith("error: invalid training settings: lora.rank:")

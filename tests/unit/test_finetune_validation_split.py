"""The clean-example iterator a trainer consumes: a deterministic seeded split, duplicates found
at any size (also once they spill to disk), and no training on bad rows unless dropped explicitly."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from desktop_registry.domain.finetune import DataSplit
from desktop_registry.errors import UserInputError
from desktop_registry.services.finetune.data_validation import training_examples, validate_file

DATA = Path(__file__).resolve().parents[1] / "data" / "finetune"


def write_rows(path: Path, count: int, *, repeat_every: int = 0) -> Path:
    with path.open("w") as out:
        for i in range(count):
            n = i % repeat_every if repeat_every and i >= repeat_every else i
            out.write(json.dumps({"prompt": f"question {n}", "completion": f"answer {n}"}) + "\n")
    return path


def test_the_split_is_the_same_on_every_run_with_the_same_seed(tmp_path: Path):
    path = write_rows(tmp_path / "rows.jsonl", 400)
    split = DataSplit(validation_fraction=0.25, seed=7)
    first = [
        e.line for e in training_examples(validate_file(path, split=split), split="validation")
    ]
    again = [
        e.line for e in training_examples(validate_file(path, split=split), split="validation")
    ]
    assert first == again
    assert 60 < len(first) < 140  # about a quarter of 400


def test_another_seed_holds_out_other_rows(tmp_path: Path):
    path = write_rows(tmp_path / "rows.jsonl", 400)
    seven = validate_file(path, split=DataSplit(validation_fraction=0.25, seed=7))
    eight = validate_file(path, split=DataSplit(validation_fraction=0.25, seed=8))
    lines7 = {e.line for e in training_examples(seven, split="validation")}
    lines8 = {e.line for e in training_examples(eight, split="validation")}
    assert lines7 != lines8


def test_train_and_validation_partition_the_first_occurrences(tmp_path: Path):
    path = write_rows(tmp_path / "rows.jsonl", 300, repeat_every=100)  # 100 distinct rows
    report = validate_file(path, split=DataSplit(validation_fraction=0.2))
    train = [e.line for e in training_examples(report, split="train")]
    validation = [e.line for e in training_examples(report, split="validation")]
    assert report.duplicate_count == 200
    assert (len(train), len(validation)) == (report.train_rows, report.validation_rows)
    assert sorted(train + validation) == list(range(1, 101))


def test_duplicates_can_be_kept_for_training_when_asked(tmp_path: Path):
    path = write_rows(tmp_path / "rows.jsonl", 30, repeat_every=10)
    report = validate_file(path)
    assert len(list(training_examples(report, split="all"))) == 10
    assert len(list(training_examples(report, split="all", drop_duplicates=False))) == 30


def test_duplicates_spilled_to_disk_are_found_exactly_as_in_memory(tmp_path: Path):
    path = write_rows(tmp_path / "rows.jsonl", 3000, repeat_every=700)
    in_memory = validate_file(path)
    spilled = validate_file(path, spill_at=97)
    assert spilled.duplicate_count == in_memory.duplicate_count == 2300
    assert spilled.duplicates == in_memory.duplicates
    assert (spilled.train_rows, spilled.validation_rows) == (
        in_memory.train_rows,
        in_memory.validation_rows,
    )
    assert spilled.duplicates[0].line == 701 and spilled.duplicates[0].duplicate_of == 1


def test_a_report_lists_at_most_its_limit_but_counts_every_bad_row(tmp_path: Path):
    path = tmp_path / "rows.jsonl"
    path.write_text("not json\n" * 50)
    report = validate_file(path, listed_limit=10)
    assert report.bad_count == 50
    assert [r.line for r in report.bad] == list(range(1, 11))


def test_a_file_with_bad_rows_is_refused_for_training_unless_they_are_dropped():
    report = validate_file(DATA / "bad.jsonl", context_tokens=512)
    with pytest.raises(UserInputError, match=r"10 bad rows \(first: line 2: invalid JSON"):
        next(training_examples(report))
    kept = list(training_examples(report, split="all", drop_bad_rows=True))
    assert [e.line for e in kept] == [1, 14]  # line 9 repeats line 1


def test_a_row_too_long_for_the_context_is_never_handed_to_the_trainer():
    report = validate_file(DATA / "bad.jsonl", context_tokens=512)
    lines = [e.line for e in training_examples(report, split="all", drop_bad_rows=True)]
    assert 8 not in lines
    assert all(e.tokens <= 512 for e in training_examples(report, split="all", drop_bad_rows=True))


def test_a_file_changed_after_validation_must_be_validated_again(tmp_path: Path):
    path = write_rows(tmp_path / "rows.jsonl", 5)
    report = validate_file(path)
    with path.open("a") as out:
        out.write("not json\n")
    os.utime(path, ns=(report.file_mtime_ns + 10**9, report.file_mtime_ns + 10**9))
    with pytest.raises(UserInputError, match="changed since it was validated"):
        list(training_examples(report))


def test_no_validation_fraction_puts_every_row_in_training(tmp_path: Path):
    path = write_rows(tmp_path / "rows.jsonl", 50)
    report = validate_file(path, split=DataSplit(validation_fraction=0.0))
    assert (report.train_rows, report.validation_rows) == (50, 0)
    assert list(training_examples(report, split="validation")) == []

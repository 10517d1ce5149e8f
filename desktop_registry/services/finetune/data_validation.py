"""Validating a training-data file, and the clean examples a trainer consumes from it.

Streams the file (memory does not grow with its size). Never hands a trainer an example from a
file with bad rows unless the caller drops the bad rows explicitly (`drop_bad_rows=True`).
"""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Literal

from desktop_registry.domain.finetune import (
    BYTES_PER_TOKEN_ESTIMATE,
    HISTOGRAM_EDGES,
    TEMPLATE_TOKENS_PER_TURN,
    BadRow,
    ChatTurn,
    CsvColumns,
    DataFormat,
    DataSplit,
    DuplicateRow,
    HistogramBin,
    TrainingExample,
    ValidationReport,
)
from desktop_registry.errors import UserInputError
from desktop_registry.services.finetune.data_formats import Example, Problem, format_for, read_rows
from desktop_registry.services.finetune.duplicates import DuplicateFinder

TokenCounter = Callable[[str], int]
Split = Literal["train", "validation", "all"]


def estimate_tokens(text: str) -> int:
    """The documented estimate used without a tokenizer: one token per 4 bytes of UTF-8."""
    return -(-len(text.encode("utf-8")) // BYTES_PER_TOKEN_ESTIMATE)


def example_tokens(example: Example, count: TokenCounter) -> int:
    texts = example.texts()
    return sum(count(text) for text in texts) + TEMPLATE_TOKENS_PER_TURN * len(texts)


def _digest(example: Example) -> int:
    return int.from_bytes(hashlib.blake2b(example.key(), digest_size=8).digest(), "big")


class _Side:
    """A row's side of the split (True: validation): a seeded hash of its content, so reruns
    agree and exact duplicates always fall on the same side."""

    def __init__(self, split: DataSplit) -> None:
        self._key = split.seed.to_bytes(8, "big")
        self._threshold = int(split.validation_fraction * 2**64)

    def __call__(self, digest: int) -> bool:
        if not self._threshold:
            return False
        keyed = hashlib.blake2b(digest.to_bytes(8, "big"), digest_size=8, key=self._key)
        return int.from_bytes(keyed.digest(), "big") < self._threshold


def _open(path: Path) -> tuple[Path, int, int]:
    path = path.expanduser()
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise UserInputError(f"no training data at {path}") from None
    except OSError as exc:
        raise UserInputError(f"cannot read {path}: {exc.strerror}") from None
    if not path.is_file():
        raise UserInputError(f"{path} is not a file; choose a .jsonl, .csv or .txt file")
    return path.resolve(), stat.st_size, stat.st_mtime_ns


class _Lengths:
    def __init__(self) -> None:
        self.bins = [0] * (len(HISTOGRAM_EDGES) + 1)
        self.count = 0
        self.total = 0
        self.max = 0

    def add(self, tokens: int) -> None:
        self.bins[bisect.bisect_left(HISTOGRAM_EDGES, tokens)] += 1
        self.count += 1
        self.total += tokens
        self.max = max(self.max, tokens)

    def histogram(self) -> list[HistogramBin]:
        edges: list[int | None] = [*HISTOGRAM_EDGES, None]
        return [HistogramBin(up_to=e, count=c) for e, c in zip(edges, self.bins, strict=True)]


def validate_file(
    path: Path,
    *,
    format: DataFormat | None = None,
    columns: CsvColumns | None = None,
    context_tokens: int = 2048,
    split: DataSplit | None = None,
    count_tokens: TokenCounter | None = None,
    listed_limit: int = 10_000,
    spill_at: int = 250_000,
) -> ValidationReport:
    """Read the whole file once and report on it. A bad row is any that a trainer must not see."""
    if context_tokens < 1:
        raise UserInputError(f"context must be at least 1 token (got {context_tokens})")
    path, size, mtime = _open(path)
    fmt = format_for(path, format)
    split = split or DataSplit()
    count = count_tokens or estimate_tokens
    report = ValidationReport(
        file=str(path),
        format=fmt,
        columns=columns if fmt is DataFormat.CSV else None,
        context_tokens=context_tokens,
        token_count="tokenizer" if count_tokens else "estimate",
        split=split,
        listed_limit=listed_limit,
        file_size=size,
        file_mtime_ns=mtime,
    )
    lengths = _Lengths()
    finder = DuplicateFinder(spill_at=spill_at)
    sides = [0, 0]
    side = _Side(split)
    rows = good = bad = 0  # plain counters: the report's fields are slow to bump per row
    try:
        with path.open("rb") as stream:
            for row in read_rows(stream, fmt, columns, tabs=path.suffix.lower() == ".tsv"):
                rows += 1
                problem = row if isinstance(row, Problem) else None
                if isinstance(row, Example):
                    tokens = example_tokens(row, count)
                    lengths.add(tokens)
                    if tokens > context_tokens:
                        problem = Problem(row.line, _too_long(tokens, context_tokens, count_tokens))
                    else:
                        digest = _digest(row)
                        finder.add(digest, row.line)
                        sides[side(digest)] += 1
                        good += 1
                if problem is not None:
                    bad += 1
                    if len(report.bad) < listed_limit:
                        report.bad.append(BadRow(line=problem.line, reason=problem.reason))
        report.rows, report.good, report.bad_count = rows, good, bad
        report.duplicate_count, listed = finder.duplicates(
            listed_limit, lambda digest: _untally(sides, side(digest))
        )
    except OSError as exc:
        raise UserInputError(f"cannot read {path}: {exc.strerror}") from None
    finally:
        finder.close()
    for line, first in listed:
        report.duplicates.append(DuplicateRow(line=line, duplicate_of=first))
    report.train_rows, report.validation_rows = sides  # first occurrences: what trains
    report.token_histogram = lengths.histogram()
    report.max_tokens = lengths.max
    report.total_tokens = lengths.total
    report.mean_tokens = round(lengths.total / lengths.count, 2) if lengths.count else 0.0
    return report


def _untally(sides: list[int], side: bool) -> None:
    sides[side] -= 1


def _too_long(tokens: int, context: int, tokenizer: TokenCounter | None) -> str:
    how = "" if tokenizer else " (estimated)"
    return f"longer than the context: {tokens} tokens{how} > {context}"


def _good_examples(
    path: Path, report: ValidationReport, count: TokenCounter
) -> Iterator[tuple[Example, int]]:
    with path.open("rb") as stream:
        tabs = path.suffix.lower() == ".tsv"
        for row in read_rows(stream, report.format, report.columns, tabs=tabs):
            if isinstance(row, Example) and example_tokens(row, count) <= report.context_tokens:
                yield row, _digest(row)


def training_examples(
    report: ValidationReport,
    *,
    split: Split = "train",
    drop_bad_rows: bool = False,
    drop_duplicates: bool = True,
    count_tokens: TokenCounter | None = None,
) -> Iterator[TrainingExample]:
    """The clean, normalized examples of a validated file, in file order, for one side.

    Refuses (UserInputError) a file with bad rows unless `drop_bad_rows`, and a file that
    changed since it was validated. Pass the same `count_tokens` the report was made with.
    """
    if report.bad_count and not drop_bad_rows:
        first = report.bad[0] if report.bad else None
        shown = f" (first: line {first.line}: {first.reason})" if first else ""
        raise UserInputError(
            f"{Path(report.file).name} has {report.bad_count} bad rows{shown}; fix them, or "
            "drop them explicitly to train on the rest"
        )
    path, size, mtime = _open(Path(report.file))
    if (size, mtime) != (report.file_size, report.file_mtime_ns):
        raise UserInputError(f"{path.name} changed since it was validated; validate it again")
    return _examples(path, report, split, drop_duplicates, count_tokens or estimate_tokens)


def _examples(
    path: Path, report: ValidationReport, split: Split, drop_duplicates: bool, count: TokenCounter
) -> Iterator[TrainingExample]:
    # The report lists every duplicate's line unless there were too many; then remember digests.
    listed_all = len(report.duplicates) == report.duplicate_count
    skip = {row.line for row in report.duplicates} if listed_all else set()
    seen: set[int] = set()
    side = _Side(report.split)
    for example, digest in _good_examples(path, report, count):
        if drop_duplicates:
            if example.line in skip:
                continue
            if not listed_all:
                if digest in seen:
                    continue
                seen.add(digest)
        if split != "all" and side(digest) != (split == "validation"):
            continue
        yield to_training_example(example, example_tokens(example, count))


def to_training_example(example: Example, tokens: int) -> TrainingExample:
    if example.messages is not None:
        turns = tuple(ChatTurn(role=role, content=content) for role, content in example.messages)
        return TrainingExample(line=example.line, messages=turns, tokens=tokens)
    return TrainingExample(
        line=example.line, prompt=example.prompt, completion=example.completion, tokens=tokens
    )

"""The Fine-tune panel's validation report: counts, each bad row as `line N: reason`, exact
duplicates, the token-length histogram, the train/validation split and "drop bad rows".

Shows a ValidationReport it is given; never reads the file, and never ticks "drop bad rows"
for the user (nothing trains on failing data unless they do).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QLabel,
    QListWidget,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from desktop_registry.domain.finetune import ValidationReport
from desktop_registry.ui.finetune_charts import TokenHistogram

SHOWN_DUPLICATES = 200  # the list names this many; the count is always exact


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def summary_text(report: ValidationReport) -> str:
    tokens = "counted" if report.token_count == "tokenizer" else "estimated at 4 bytes each"
    return (
        f"{Path(report.file).name} ({report.format.value}): {plural(report.rows, 'row')}, "
        f"{report.good} good, {report.bad_count} bad, "
        f"{plural(report.duplicate_count, 'exact duplicate')}. Tokens {tokens}; "
        f"longest {report.max_tokens}, mean {report.mean_tokens:g}."
    )


def split_text(report: ValidationReport) -> str:
    fraction = report.split.validation_fraction
    return (
        f"Split (seed {report.split.seed}, {fraction:.0%} held out): "
        f"{report.train_rows} train, {report.validation_rows} validation"
        + (" (duplicates train once)" if report.duplicate_count else "")
    )


class ValidationView(QWidget):
    """Emits `changed` when "drop bad rows" is ticked or unticked."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.report: ValidationReport | None = None
        self.summary = QLabel("Choose or drop a data file to validate it.")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.bad_title = QLabel("Bad rows")
        self.bad_title.setObjectName("sectionTitle")
        self.bad_rows = QListWidget()
        self.bad_rows.setWordWrap(True)
        self.bad_rows.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.bad_rows.setToolTip("Each row a trainer must not see, by its line in the file")
        self.duplicates = QLabel("")
        self.duplicates.setWordWrap(True)
        self.split = QLabel("")
        self.split.setWordWrap(True)
        self.drop_bad = QCheckBox("Drop bad rows and train on the rest")
        self.drop_bad.setToolTip("Without this, a file with any bad row does not train")
        self.drop_bad.setEnabled(False)
        self.drop_bad.toggled.connect(lambda _: self.changed.emit())
        self.histogram = TokenHistogram()
        self.histogram.setMinimumHeight(140)

        rows = QWidget()
        rv = QVBoxLayout(rows)
        rv.setContentsMargins(0, 0, 0, 0)
        rv.addWidget(self.bad_title)
        rv.addWidget(self.bad_rows, 1)
        rv.addWidget(self.duplicates)
        self.body = QSplitter()  # bad rows beside the histogram
        self.body.addWidget(rows)
        self.body.addWidget(self.histogram)
        self.body.setStretchFactor(0, 1)
        self.body.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.summary)
        layout.addWidget(self.body, 1)
        layout.addWidget(self.split)
        layout.addWidget(self.drop_bad)
        self.clear()

    def clear(self, message: str = "Choose or drop a data file to validate it.") -> None:
        self.report = None
        self.summary.setText(message)
        self.bad_rows.clear()
        self.bad_title.setText("Bad rows")
        self.duplicates.setText("")
        self.split.setText("")
        self.drop_bad.setChecked(False)
        self.drop_bad.setEnabled(False)
        self.histogram._last = None
        self.histogram.reset("Validate a file to see its token lengths.")
        self.changed.emit()

    def show_report(self, report: ValidationReport) -> None:
        self.report = report
        self.summary.setText(summary_text(report))
        self.bad_rows.clear()
        self.bad_rows.addItems([f"line {row.line}: {row.reason}" for row in report.bad])
        more = report.bad_count - len(report.bad)
        if more > 0:
            self.bad_rows.addItem(f"… and {more} more bad rows")
        self.bad_title.setText(
            f"Bad rows ({report.bad_count})" if report.bad_count else "Bad rows: none"
        )
        self.duplicates.setText(self._duplicates_text(report))
        self.split.setText(split_text(report))
        self.drop_bad.setChecked(False)  # a new file: the user decides again
        self.drop_bad.setEnabled(report.bad_count > 0 and report.good > 0)
        self.histogram.show_bins(report.token_histogram, report.context_tokens)
        self.changed.emit()

    @staticmethod
    def _duplicates_text(report: ValidationReport) -> str:
        if not report.duplicate_count:
            return "No exact duplicates."
        shown = ", ".join(
            f"line {d.line} repeats line {d.duplicate_of}"
            for d in report.duplicates[:SHOWN_DUPLICATES]
        )
        rest = report.duplicate_count - min(SHOWN_DUPLICATES, len(report.duplicates))
        return f"Duplicates (train once): {shown}" + (f", … and {rest} more" if rest > 0 else "")

    def bad_lines(self) -> list[str]:
        return [self.bad_rows.item(i).text() for i in range(self.bad_rows.count())]

    def problem(self) -> str:
        """Why this file cannot train now ('' when it can)."""
        report = self.report
        if report is None:
            return "Validate a data file first."
        if report.good == 0:
            return f"{Path(report.file).name} has no usable training rows."
        if report.bad_count and not self.drop_bad.isChecked():
            return (
                f"{Path(report.file).name} has {plural(report.bad_count, 'bad row')}: fix them, "
                'or tick "Drop bad rows" to train on the other '
                f"{plural(report.good, 'row')}."
            )
        if report.train_rows == 0:
            return "Every clean row fell in the validation split; add rows."
        return ""

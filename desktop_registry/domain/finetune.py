"""Fine-tuning as the user sees it: data formats, a validation report, examples and presets.

Pure data; services/finetune/ reads files and trains. Never does I/O or imports torch.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

# Without a tokenizer a row's length is estimated: one token per 4 bytes of UTF-8 (about right
# for English with Llama/GPT tokenizers, an overestimate for code, an underestimate for some
# scripts), plus a few tokens per turn for the chat template's role markers.
BYTES_PER_TOKEN_ESTIMATE = 4
TEMPLATE_TOKENS_PER_TURN = 4

# The token-length histogram's upper bin edges; the last bin holds everything longer.
HISTOGRAM_EDGES = (16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768)


class DataFormat(StrEnum):
    JSONL = "jsonl"  # prompt/completion, instruction/input/output, chat `messages`, or `text`
    CSV = "csv"  # a prompt column and a completion column chosen by the user
    TEXT = "text"  # plain text; one example per paragraph (blank-line separated)
    CONVERSATION = "conversation"  # ShareGPT: `conversations` of {from, value}, one per line


class CsvColumns(BaseModel):
    """Which CSV columns hold the prompt and the completion (a header name or a 1-based number)."""

    model_config = ConfigDict(frozen=True)

    prompt: str = "prompt"
    completion: str = "completion"
    system: str | None = None


class ChatTurn(BaseModel):
    model_config = ConfigDict(frozen=True)

    role: Literal["system", "user", "assistant"]
    content: str


class TrainingExample(BaseModel):
    """One clean, normalized row the trainer consumes: a chat or a prompt/completion pair.

    Plain text becomes a completion with an empty prompt (the model learns all of it).
    """

    model_config = ConfigDict(frozen=True)

    line: int  # where it starts in the file (1-based)
    messages: tuple[ChatTurn, ...] | None = None
    prompt: str | None = None
    completion: str | None = None
    tokens: int = 0

    @property
    def is_chat(self) -> bool:
        return self.messages is not None


class BadRow(BaseModel):
    model_config = ConfigDict(frozen=True)

    line: int
    reason: str


class DuplicateRow(BaseModel):
    model_config = ConfigDict(frozen=True)

    line: int
    duplicate_of: int  # the line of its first occurrence


class HistogramBin(BaseModel):
    model_config = ConfigDict(frozen=True)

    up_to: int | None  # tokens, inclusive; None for the last, open-ended bin
    count: int


class DataSplit(BaseModel):
    """A deterministic train/validation split: a row's side depends on its content and the seed
    only, so exact duplicates always land on the same side (no leak into validation)."""

    model_config = ConfigDict(frozen=True)

    validation_fraction: float = Field(default=0.1, ge=0.0, lt=1.0)
    seed: int = Field(default=42, ge=0)


class ValidationReport(BaseModel):
    """What validating a data file found. `bad` lists at most `listed_limit` rows; the counts
    are always exact."""

    file: str
    format: DataFormat
    columns: CsvColumns | None = None  # for csv: which columns were read
    context_tokens: int
    token_count: Literal["tokenizer", "estimate"]
    rows: int = 0  # every row read (blank lines are not rows)
    good: int = 0
    bad_count: int = 0
    bad: list[BadRow] = Field(default_factory=list)
    duplicate_count: int = 0
    duplicates: list[DuplicateRow] = Field(default_factory=list)
    listed_limit: int = 10_000
    train_rows: int = 0  # good rows, first occurrences only
    validation_rows: int = 0
    split: DataSplit = Field(default_factory=DataSplit)
    token_histogram: list[HistogramBin] = Field(default_factory=list)
    max_tokens: int = 0
    mean_tokens: float = 0.0
    total_tokens: int = 0
    file_size: int = 0
    file_mtime_ns: int = 0

    @property
    def ok(self) -> bool:
        return self.bad_count == 0 and self.good > 0


class LoraSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    rank: int = Field(default=8, ge=1, le=1024)
    alpha: float = Field(default=16.0, gt=0, le=4096)
    dropout: float = Field(default=0.05, ge=0.0, lt=1.0)
    target_modules: tuple[str, ...] = ("q_proj", "k_proj", "v_proj", "o_proj")

    @field_validator("target_modules")
    @classmethod
    def _named_modules(cls, modules: tuple[str, ...]) -> tuple[str, ...]:
        if not modules:
            raise ValueError("name at least one module, e.g. q_proj,v_proj")
        for name in modules:
            if not name or not all(c.isalnum() or c in "_." for c in name):
                raise ValueError(f"{name!r} is not a module name (letters, digits, _ and .)")
        return modules


class TrainingPreset(BaseModel):
    """A LoRA run's hyperparameters. The three named presets are the brief's; every field can
    be edited (services/finetune/presets.py names the field at fault)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    name: str = "custom"
    learning_rate: float = Field(gt=0, le=1)
    batch_size: int = Field(ge=1, le=4096)
    epochs: int = Field(ge=1, le=1000)
    warmup_steps: int = Field(ge=0)
    max_steps: int | None = Field(default=None, ge=1)  # stops early; None runs every epoch
    gradient_accumulation_steps: int = Field(default=1, ge=1, le=1024)
    seed: int = Field(default=42, ge=0)
    lora: LoraSettings = Field(default_factory=LoraSettings)

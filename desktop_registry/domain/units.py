"""How sizes and durations read to a person: "4.7 GB", "3m 05s".

Pure functions, shared by the window, the command line and the job logs; decimal units as
Ollama and LM Studio show model sizes.
"""

from __future__ import annotations


def human_bytes(size: int | float | None, *, empty: str | None = None) -> str:
    """Decimal units (1 KB = 1000 B); `empty`, when given, stands for an unknown or zero size
    (a model list shows "-"), else zero reads "0 B" (a download that has not started)."""
    if not size and empty is not None:
        return empty
    value = float(size or 0)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000:
            return f"{int(value)} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} TB"


def human_duration(seconds_f: float) -> str:
    seconds = round(seconds_f)
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m {seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"

"""Evaluation suites (`.prompt.yml`), scorers, the multi-model runner and benchmarks.

Nothing here imports Qt; the compare view and the CLI drive these services.
"""

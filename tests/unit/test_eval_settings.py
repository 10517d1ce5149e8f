"""Evaluation concurrency is a user setting (Settings.eval_concurrency, or the environment);
`eval run --concurrency` overrides it for one run."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from desktop_registry.app import build_context
from desktop_registry.config import Settings
from desktop_registry.services.evaluation.runner import DEFAULT_LIMITS, per_source_limits


def test_eval_concurrency_defaults_to_four_and_is_read_from_the_environment(monkeypatch):
    monkeypatch.delenv("DESKTOP_REGISTRY_EVAL_CONCURRENCY", raising=False)
    assert Settings().eval_concurrency == 4
    monkeypatch.setenv("DESKTOP_REGISTRY_EVAL_CONCURRENCY", "9")
    assert Settings().eval_concurrency == 9


@pytest.mark.parametrize("value", [0, 65, -1])
def test_eval_concurrency_outside_one_to_sixty_four_is_refused(value):
    with pytest.raises(ValidationError, match="eval_concurrency"):
        Settings(eval_concurrency=value)


def test_one_number_bounds_every_source_and_a_mapping_overrides_only_its_sources():
    assert per_source_limits(3) == {key: 3 for key in DEFAULT_LIMITS}
    assert per_source_limits({"ollama": 7}) == {**DEFAULT_LIMITS, "ollama": 7}
    assert per_source_limits(None) == DEFAULT_LIMITS


def test_the_apps_evaluation_runner_uses_the_setting(tmp_path: Path):
    settings = Settings(home=tmp_path / "home", eval_concurrency=6)
    ctx = build_context(settings, db_path=tmp_path / "registry.db")
    try:
        runner = ctx.evaluation(tracked=False)
        assert runner.limit_for("ollama") == 6
        assert runner.limit_for("github_models") == 6
        assert runner.limit_for("openai_compatible:lab-server") == 6
    finally:
        ctx.close()

"""The suites a user has: shipped samples, imported `.prompt.yml` files, and export back out.

Never changes an imported file's text; a re-import under the same name replaces the suite.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from desktop_registry.errors import NotFoundError
from desktop_registry.resources_path import resource
from desktop_registry.services.evaluation.suite import EvalSuite, load_prompt_yml, parse_prompt_yml
from desktop_registry.storage.evaluation_repository import EvaluationRepository


def shipped_dir() -> Path:
    return resource("eval_suites")


@dataclass(frozen=True)
class SuiteInfo:
    name: str
    description: str
    rows: int
    evaluators: int
    origin: str


class SuiteCatalog:
    def __init__(self, store: EvaluationRepository, shipped: Path | None = None) -> None:
        self.store = store
        self.shipped = shipped or shipped_dir()

    def import_file(self, path: Path) -> EvalSuite:
        suite = load_prompt_yml(path)
        self.store.save_suite(suite.name, suite.description, suite.source_text, str(path))
        return suite

    def import_text(self, text: str, origin: str = "") -> EvalSuite:
        suite = parse_prompt_yml(text, origin=origin or "prompt file")
        self.store.save_suite(suite.name, suite.description, suite.source_text, origin)
        return suite

    def ensure_shipped(self) -> None:
        """Shipped samples appear without an import; a user's own suite of that name wins."""
        for path in sorted(self.shipped.glob("*.prompt.yml")):
            suite = load_prompt_yml(path)
            stored = self.store.suite(suite.name)
            ours = stored is None or stored.origin.startswith("shipped:")
            if ours and (stored is None or stored.source_text != suite.source_text):
                self.store.save_suite(
                    suite.name, suite.description, suite.source_text, f"shipped:{path.name}"
                )

    def export(self, name: str) -> str:
        stored = self.store.suite(name)
        if stored is None:
            raise NotFoundError(f"No suite named {name!r}. `eval list` shows the suites.")
        return stored.source_text

    def list(self) -> list[SuiteInfo]:
        self.ensure_shipped()
        out = []
        for stored in self.store.suites():
            suite = parse_prompt_yml(stored.source_text, origin=stored.name)
            out.append(
                SuiteInfo(
                    suite.name,
                    suite.description,
                    len(suite.rows()),
                    len(suite.evaluators),
                    stored.origin,
                )
            )
        return out


def retrieval_set(name: str = "faq-retrieval") -> dict[str, object]:
    """A shipped labelled query/document set (JSON): documents, queries with relevant ids."""
    path = shipped_dir() / f"{name}.retrieval.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise NotFoundError(
            f"Retrieval set {name!r} could not be read from {path}: {exc}"
        ) from None
    if not isinstance(data, dict):
        raise NotFoundError(f"Retrieval set {path} is not a JSON object.")
    return data

"""The user's OpenAI-compatible endpoints: names and URLs in a JSON file, API keys in the keyring.

Never writes an API key into the JSON file, a log or a message.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Literal
from urllib.parse import urlparse

from pydantic import BaseModel, ValidationError

from desktop_registry.errors import NotFoundError, StorageError, UserInputError
from desktop_registry.sources.credentials import SecretStore

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")
ENDPOINT_KINDS = ("openai", "llamacpp")
RESERVED_NAMES = frozenset({"ollama", "github_models", "github", "mlflow"})


class Endpoint(BaseModel):
    """One configured server; `name` prefixes its models in the registry (`<name>/<model id>`)."""

    name: str
    base_url: str  # the OpenAI base URL; for a llama.cpp server its root (the API is under /v1)
    kind: Literal["openai", "llamacpp"] = "openai"

    @property
    def secret_key(self) -> str:
        return f"endpoint-{self.name}"


Endpoints = list[Endpoint]  # the store's `list` method shadows the builtin in its body


class EndpointStore:
    """Add, list and remove endpoints; `<home>/endpoints.json` holds everything but the keys."""

    def __init__(self, home: Path, secrets: SecretStore) -> None:
        self.path = home / "endpoints.json"
        self.secrets = secrets

    def list(self) -> list[Endpoint]:
        if not self.path.is_file():
            return []
        try:
            body = json.loads(self.path.read_text(encoding="utf-8"))
            return [Endpoint.model_validate(item) for item in body.get("endpoints", [])]
        except (ValueError, AttributeError, ValidationError) as exc:
            raise StorageError(
                f"{self.path} is not a readable endpoint list ({type(exc).__name__}). Fix or "
                "remove the file, then add the endpoints again."
            ) from None

    def get(self, name: str) -> Endpoint:
        for endpoint in self.list():
            if endpoint.name == name:
                return endpoint
        raise NotFoundError(
            f"No endpoint named {name!r}. `desktop-registry-cli endpoint list` shows them."
        )

    def add(
        self, name: str, base_url: str, api_key: str | None = None, kind: str = "openai"
    ) -> Endpoint:
        if not _NAME.match(name) or name.lower() in RESERVED_NAMES:
            raise UserInputError(
                f"{name!r} cannot name an endpoint: use letters, digits, '.', '_' or '-' "
                "(and not ollama, github_models or mlflow)."
            )
        parsed = urlparse(base_url.strip())
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise UserInputError(
                f"{base_url!r} is not an http(s) URL. Give the server's OpenAI base URL, "
                "e.g. http://localhost:1234/v1."
            )
        if kind not in ENDPOINT_KINDS:
            raise UserInputError(
                f"{kind!r} is not an endpoint kind: use {' or '.join(ENDPOINT_KINDS)}."
            )
        url = base_url.strip().rstrip("/")
        if kind == "llamacpp" and url.endswith("/v1"):
            url = url[: -len("/v1")]  # llama-server's own endpoints (/props, /slots) are at root
        endpoint = Endpoint(name=name, base_url=url, kind=kind)
        others = [e for e in self.list() if e.name != name]
        if api_key:
            self.secrets.set(endpoint.secret_key, api_key)
        self._write([*others, endpoint])
        return endpoint

    def remove(self, name: str) -> None:
        endpoint = self.get(name)
        self.secrets.delete(endpoint.secret_key)
        self._write([e for e in self.list() if e.name != name])

    def api_key(self, name: str) -> str | None:
        return self.secrets.get(f"endpoint-{name}")[0]

    def has_api_key(self, name: str) -> bool:
        return self.api_key(name) is not None

    def _write(self, endpoints: Endpoints) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        body = {"endpoints": [e.model_dump() for e in endpoints]}
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(body, indent=2), encoding="utf-8")
        tmp.replace(self.path)

"""The Settings dialog's "Test" button: does an Ollama answer at this URL, and with how much?

Opens its own short-lived client (the URL is not saved yet) and always closes it.
"""

from __future__ import annotations

from dataclasses import dataclass

from desktop_registry.config import normalise_ollama_host
from desktop_registry.errors import UserInputError
from desktop_registry.sources.ollama import OllamaSource


@dataclass(frozen=True)
class OllamaCheck:
    url: str
    version: str
    models: int

    def message(self) -> str:
        return f"Ollama {self.version} at {self.url}: {self.models} models."


async def check_ollama(
    url_text: str, *, timeout_s: float = 5, connect_timeout_s: float = 3
) -> OllamaCheck:
    """Raises the adapter's RegistryError (unreachable, refused …) with a message to show."""
    try:
        url = normalise_ollama_host(url_text)
    except ValueError as exc:
        raise UserInputError(f"{url_text.strip()!r} is not a valid Ollama URL: {exc}.") from None
    source = OllamaSource(url, timeout_s=timeout_s, connect_timeout_s=connect_timeout_s)
    try:
        info = await source.version()
        models = await source.list_models()
    finally:
        await source.aclose()
    return OllamaCheck(url, info.version, len(models))

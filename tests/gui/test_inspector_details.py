"""The inspector reads well: performance as a table grouped by suite with units, where a
category came from (an ensemble is not "reported by the server"), "In memory" following a chat,
and local models marked unavailable while Ollama is down."""

from __future__ import annotations

import socket

from desktop_registry.domain import Category, Kind, ModelRecord, PerformanceMetric, Serving, Source
from desktop_registry.domain.chat import ChatMessage
from tests.gui.conftest import run, until
from tests.servers.ollama_emulator import OllamaEmulator, standard_models


def test_performance_is_a_table_grouped_by_suite_with_units(synced_window):
    window = synced_window
    llama = window.ctx.models.find("llama3.1:8b")
    window.ctx.models.record_performance(
        llama.id,
        [
            PerformanceMetric(metric="eval/General QA/pass_rate", value=0.8),
            PerformanceMetric(metric="eval/General QA/latency_ms", value=412.4),
            PerformanceMetric(metric="latency_ms", value=1234.0),
            PerformanceMetric(metric="tokens_per_s", value=38.14),
            PerformanceMetric(metric="error_rate", value=0.0),
        ],
    )
    window.browser.select_model(llama.id)
    inspector = window.inspector
    assert inspector.performance.rows() == [
        ("General QA", "Latency (median), ms", "412 ms"),
        ("General QA", "Passed, %", "80 %"),
        ("Benchmark", "Errors, %", "0.0 %"),
        ("Benchmark", "Latency (median), ms", "1,234 ms"),
        ("Benchmark", "Generation speed, tok/s", "38.1 tok/s"),
    ]
    assert inspector.performance.isVisibleTo(inspector)
    assert "5 measurements" in inspector.fields["performance"].text()
    assert "eval/" not in inspector.fields["performance"].text()


def test_an_ensemble_says_it_answers_like_its_members_not_that_a_server_reported_it(
    synced_window,
):
    window = synced_window
    trio = window.ctx.models.register(
        ModelRecord(
            name="trio",
            source=Source.MLFLOW,
            serving=Serving.LOCAL,
            kind=Kind.EXPERIMENTAL,
            category=Category.GENERAL,
            categories=[Category.GENERAL],
            capabilities=["completion"],
            tags=["experiment", "ensemble"],
        )
    )
    window.events.flush()
    window.refresh_models()
    assert window.browser.select_model(trio.id)
    category = window.inspector.fields["category"].text()
    assert "server" not in category and "ensemble" in category


def test_in_memory_follows_a_chat_without_reselecting_the_model(synced_window, loop):
    window = synced_window
    llama = window.ctx.models.find("llama3.1:8b")
    window.browser.select_model(llama.id)
    memory = window.inspector.fields["memory"]
    until(loop, lambda: memory.text() == "not loaded")

    async def chat() -> None:
        messages = [ChatMessage(role="user", content="hi")]
        async for _chunk in window.serving().chat("llama3.1:8b", messages):
            pass

    run(loop, chat())
    until(loop, lambda: memory.text().startswith("loaded"))
    assert window.inspector.unload_button.isEnabled()


def test_local_models_read_unavailable_while_ollama_is_down_and_recover(open_window, loop):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with OllamaEmulator(standard_models(), port=port) as emulator:
        window = open_window(emulator.url)
        window.sync()
        until(loop, lambda: len(window.entries) == 5)
    window.retry_ollama()  # the emulator has stopped: Ollama is down
    until(loop, lambda: window.banner.isVisible())
    llama = window.ctx.models.find("llama3.1:8b")
    assert window.browser.select_model(llama.id)
    inspector = window.inspector
    assert inspector.fields["status"].text().startswith("unavailable")
    assert not inspector.chat_button.isEnabled()
    index = window.browser.model.first_index_of(llama.id)
    from desktop_registry.ui.model_tree_badges import BADGES_ROLE

    assert ("offline", "offline") in index.data(BADGES_ROLE)
    with OllamaEmulator(standard_models(), port=port):
        window.banner.retry.click()
        until(loop, lambda: not window.banner.isVisible())
        assert inspector.fields["status"].text() == "available"
        assert inspector.chat_button.isEnabled()
        assert ("offline", "offline") not in index.data(BADGES_ROLE)

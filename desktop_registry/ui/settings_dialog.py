"""Settings: Ollama URL (with Test), GitHub token, endpoints, MLflow URI, data dir, theme.

Reads and saves settings through the context's SettingsStore (settings.json, the file the CLI
reads too). Secrets go to the keyring through TokenStore/EndpointStore only; never shown back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
)

from desktop_registry.config import normalise_ollama_host
from desktop_registry.errors import RegistryError
from desktop_registry.services.settings.ollama_check import check_ollama
from desktop_registry.ui.theme import THEMES

if TYPE_CHECKING:
    from desktop_registry.ui.window_api import SettingsOwner


class SettingsDialog(QDialog):
    def __init__(self, window: SettingsOwner) -> None:
        super().__init__(window.window())
        self.window_ = window
        ctx = window.ctx
        self.store = ctx.settings_store()
        # What the store says now (settings.json, or the environment where it wins): a change
        # made with `desktop-registry-cli config set` shows here too. Save writes only edits.
        self.shown = {item.key: item for item in self.store.list()}
        self.setWindowTitle("Settings")
        self.setMinimumWidth(560)
        layout = QVBoxLayout(self)

        ollama = QGroupBox("Ollama")
        form = QFormLayout(ollama)
        self.ollama_url = QLineEdit(self._shown("ollama_url"))
        self.test_button = QPushButton("Test")
        self.test_result = QLabel("")
        self.test_result.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(self.ollama_url, 1)
        row.addWidget(self.test_button)
        form.addRow("URL", row)
        form.addRow("", self.test_result)
        layout.addWidget(ollama)

        github = QGroupBox("GitHub Models")
        form = QFormLayout(github)
        self.token = QLineEdit()
        self.token.setEchoMode(QLineEdit.EchoMode.Password)
        self.token_state = QLabel("")
        self.token_state.setWordWrap(True)
        self.clear_token = QPushButton("Remove token")
        row = QHBoxLayout()
        row.addWidget(self.token, 1)
        row.addWidget(self.clear_token)
        form.addRow("Token", row)
        form.addRow("", self.token_state)
        layout.addWidget(github)

        endpoints = QGroupBox("OpenAI-compatible and llama.cpp servers")
        box = QVBoxLayout(endpoints)
        self.endpoint_list = QListWidget()
        self.endpoint_list.setMaximumHeight(90)
        box.addWidget(self.endpoint_list)
        row = QHBoxLayout()
        self.endpoint_name = QLineEdit()
        self.endpoint_name.setPlaceholderText("name (e.g. lmstudio)")
        self.endpoint_url = QLineEdit()
        self.endpoint_url.setPlaceholderText("http://localhost:1234/v1")
        self.endpoint_kind = QComboBox()
        self.endpoint_kind.addItem("OpenAI-compatible", "openai")
        self.endpoint_kind.addItem("llama.cpp server", "llamacpp")
        self.endpoint_kind.setToolTip(
            "llama.cpp server: a llama-server started by you (or by LM Studio/Jan); its context "
            "size, slots and health are read as well as its models."
        )
        self.endpoint_kind.currentIndexChanged.connect(self._endpoint_kind_changed)
        self.endpoint_key = QLineEdit()
        self.endpoint_key.setPlaceholderText("API key (optional)")
        self.endpoint_key.setEchoMode(QLineEdit.EchoMode.Password)
        self.add_endpoint = QPushButton("Add")
        self.remove_endpoint = QPushButton("Remove selected")
        for w in (
            self.endpoint_kind,
            self.endpoint_name,
            self.endpoint_url,
            self.endpoint_key,
            self.add_endpoint,
        ):
            row.addWidget(w)
        box.addLayout(row)
        box.addWidget(self.remove_endpoint)
        layout.addWidget(endpoints)

        experiments = QGroupBox("Experiments")
        form = QFormLayout(experiments)
        self.mlflow_uri = QLineEdit(self._shown("mlflow_tracking_uri"))
        self.mlflow_uri.setPlaceholderText(ctx.default_mlflow_tracking_uri())
        form.addRow("MLflow tracking URI", self.mlflow_uri)
        mlflow_variable = self.shown["mlflow_tracking_uri"].variable
        self.mlflow_note = QLabel(
            f"{mlflow_variable} is set in the environment and is used instead."
            if mlflow_variable
            else "Empty: mlflow.db beside the registry. Or a team server: http://host:5000"
        )
        self.mlflow_note.setObjectName("muted")
        self.mlflow_note.setWordWrap(True)
        form.addRow("", self.mlflow_note)
        self.eval_concurrency = QSpinBox()
        self.eval_concurrency.setRange(1, 64)
        self.eval_concurrency.setValue(int(self.shown["eval_concurrency"].value))
        self.eval_concurrency.setToolTip(
            "How many evaluation requests go to one source (Ollama, GitHub Models, an endpoint) "
            "at the same time. GitHub Models' own rate limits still apply."
        )
        form.addRow("Evaluation requests at once", self.eval_concurrency)
        layout.addWidget(experiments)

        general = QGroupBox("General")
        form = QFormLayout(general)
        self.data_dir = QLineEdit(self._shown("home"))
        self.data_dir.setReadOnly(True)
        self.choose_dir = QPushButton("Change…")
        row = QHBoxLayout()
        row.addWidget(self.data_dir, 1)
        row.addWidget(self.choose_dir)
        form.addRow("Data directory", row)
        self.data_note = QLabel("")
        self.data_note.setObjectName("muted")
        form.addRow("", self.data_note)
        self.theme = QComboBox()
        self.theme.addItems(list(THEMES))
        self.theme.setCurrentText(self._shown("theme"))
        form.addRow("Theme", self.theme)
        layout.addWidget(general)

        self.message = QLabel(self.store.problem() or "")  # e.g. a settings.json that is broken
        self.message.setWordWrap(True)
        layout.addWidget(self.message)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        layout.addWidget(buttons)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        self.test_button.clicked.connect(
            lambda: window.tasks.spawn(self.test_ollama(), "testing Ollama")
        )
        self.clear_token.clicked.connect(self._clear_token)
        self.add_endpoint.clicked.connect(self._add_endpoint)
        self.remove_endpoint.clicked.connect(self._remove_endpoint)
        self.choose_dir.clicked.connect(self._choose_dir)
        self._refresh_token_state()
        self._refresh_endpoints()

    def _shown(self, key: str) -> str:
        value = self.shown[key].value
        return "" if value is None else str(value)

    # ----- Ollama ------------------------------------------------------------------------
    async def test_ollama(self) -> bool:
        self.test_result.setText(f"Testing {self.ollama_url.text().strip()}…")
        try:
            found = await check_ollama(self.ollama_url.text())
        except RegistryError as exc:
            self.test_result.setText(str(exc))
            return False
        self.test_result.setText(found.message())
        return True

    # ----- GitHub token ------------------------------------------------------------------
    def _refresh_token_state(self) -> None:
        try:
            status = self.window_.ctx.token_store().status()
        except RegistryError as exc:
            self.token_state.setText(str(exc))
            return
        text = {
            "env": "Using GH_TOKEN/GITHUB_TOKEN from the environment (not stored).",
            "keyring": "A token is stored in the system keyring.",
            "file": "A token is stored in a private file. " + status.fallback_warning,
            "none": "No token: GitHub Models are listed but cannot be called.",
        }[status.source]
        self.token_state.setText(text)
        self.token.setPlaceholderText(
            "paste a new token to replace it"
            if status.source != "none"
            else "ghp_… or github_pat_…"
        )
        self.clear_token.setEnabled(status.source in ("keyring", "file"))

    def _clear_token(self) -> None:
        try:
            self.window_.ctx.token_store().clear()
        except RegistryError as exc:
            self.message.setText(str(exc))
        self._refresh_token_state()

    # ----- endpoints ---------------------------------------------------------------------
    def _refresh_endpoints(self) -> None:
        self.endpoint_list.clear()
        try:
            store = self.window_.ctx.endpoints()
            for e in store.list():
                key = " · key stored" if store.has_api_key(e.name) else ""
                kind = " · llama.cpp" if e.kind == "llamacpp" else ""
                self.endpoint_list.addItem(f"{e.name}  {e.base_url}{kind}{key}")
        except RegistryError as exc:
            self.message.setText(str(exc))

    def _add_endpoint(self) -> None:
        try:
            self.window_.ctx.endpoints().add(
                self.endpoint_name.text().strip(),
                self.endpoint_url.text().strip(),
                self.endpoint_key.text().strip() or None,
                kind=str(self.endpoint_kind.currentData()),
            )
        except RegistryError as exc:
            self.message.setText(str(exc))
            return
        for w in (self.endpoint_name, self.endpoint_url, self.endpoint_key):
            w.clear()
        self.message.setText("Endpoint added. Sync (Ctrl+R) to bring in its models.")
        self._refresh_endpoints()

    def _endpoint_kind_changed(self) -> None:
        llamacpp = self.endpoint_kind.currentData() == "llamacpp"
        self.endpoint_url.setPlaceholderText(
            "http://127.0.0.1:8080" if llamacpp else "http://localhost:1234/v1"
        )
        self.endpoint_name.setPlaceholderText(
            "name (e.g. llamacpp)" if llamacpp else "name (e.g. lmstudio)"
        )

    def _remove_endpoint(self) -> None:
        item = self.endpoint_list.currentItem()
        if item is None:
            return
        try:
            self.window_.ctx.endpoints().remove(item.text().split()[0])
        except RegistryError as exc:
            self.message.setText(str(exc))
        self._refresh_endpoints()

    # ----- data dir ----------------------------------------------------------------------
    def _choose_dir(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, "Data directory", self.data_dir.text())
        if chosen:
            self.data_dir.setText(chosen)
            self.data_note.setText("Takes effect the next time Desktop Registry starts.")

    # ----- save --------------------------------------------------------------------------
    def save(self) -> None:
        """Check everything first (the store names what is wrong), then save what was edited."""
        edited: dict[str, str | int] = {}
        mlflow_uri = self.mlflow_uri.text().strip()
        if mlflow_uri != self._shown("mlflow_tracking_uri"):
            edited["mlflow_tracking_uri"] = mlflow_uri  # empty: back to mlflow.db
        if self.eval_concurrency.value() != self.shown["eval_concurrency"].value:
            edited["eval_concurrency"] = self.eval_concurrency.value()
        try:
            ollama_url = normalise_ollama_host(self.ollama_url.text())
        except ValueError as exc:
            self.message.setText(f"Ollama URL: {exc}.")
            return
        try:
            for key, value in {**edited, "ollama_url": ollama_url}.items():
                if value != "":
                    self.store.validate(key, value)
        except RegistryError as exc:
            self.message.setText(str(exc))
            return
        token = self.token.text().strip()
        if token:
            try:
                status = self.window_.ctx.token_store().set(token)
            except RegistryError as exc:
                self.message.setText(str(exc))
                return
            if status.fallback_warning:
                self.window_.report(status.fallback_warning)
        # The store applies them to the running context too (ctx.tracker() reads the URI on
        # each use, the evaluation runner the concurrency), and the CLI reads the same file.
        try:
            change = self.store.set_many(edited)
        except RegistryError as exc:
            self.message.setText(str(exc))
            return
        if change.notes:
            self.window_.report(" ".join(change.notes))
        self.window_.apply_settings(
            ollama_url=ollama_url, data_dir=self.data_dir.text(), theme=self.theme.currentText()
        )
        self.accept()

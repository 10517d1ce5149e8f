"""One chat message on screen: who wrote it, collapsible thinking, the Markdown body, its figures
and its actions (copy, regenerate, edit and resend, branch, delete).

Only shows and asks: what an action does to the conversation is the chat pane's business. Never
renders per token: streamed text is drawn at most ~30 times a second.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop_registry.ui.chat_markdown import MarkdownView, WrappedLabel

FRAME_MS = 33  # ~30 frames a second while a reply streams

# (action, button text, tooltip, roles it applies to)
ACTIONS = (
    ("copy", "Copy", "Copy this message", ("user", "assistant")),
    ("regenerate", "Regenerate", "Ask the model again for this reply", ("assistant",)),
    ("edit", "Edit", "Change this message and send it again", ("user",)),
    ("branch", "Branch", "Continue in a new chat from this message", ("user", "assistant")),
    ("delete", "Delete", "Remove this message from the chat", ("user", "assistant")),
)


class MessageView(QFrame):
    """A bubble. `action(name)` asks for copy is handled here; the others go to the pane."""

    action = Signal(str)
    edited = Signal(str)  # the new text of an edited user message, to resend

    def __init__(self, role: str, title: str = "", *, actions: bool = False) -> None:
        super().__init__()
        self.role = role
        self.setObjectName("bubble_user" if role == "user" else "bubble_assistant")
        # Minimum, not Maximum: a wrapped label needs its height-for-width, or text is clipped.
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        self.who = QLabel(title or ("You" if role == "user" else "Assistant"))
        self.who.setObjectName("muted")
        layout.addWidget(self.who)
        self.thinking_toggle = QToolButton()
        self.thinking_toggle.setText("Thinking")
        self.thinking_toggle.setCheckable(True)
        self.thinking_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.thinking_toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.thinking_toggle.setStyleSheet("QToolButton { border: none; }")
        self.thinking_toggle.setVisible(False)
        self.thinking = WrappedLabel()
        self.thinking.setObjectName("muted")
        self.thinking.setVisible(False)
        self.thinking.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.thinking_toggle.toggled.connect(self._toggle_thinking)
        layout.addWidget(self.thinking_toggle)
        layout.addWidget(self.thinking)
        self.body = MarkdownView(plain=role == "user")
        layout.addWidget(self.body)
        self.editor: QPlainTextEdit | None = None
        self.edit_row: QWidget | None = None
        bottom = QHBoxLayout()
        bottom.setContentsMargins(0, 0, 0, 0)
        self.footer = WrappedLabel()
        self.footer.setObjectName("stats")
        # No say in the bubble's minimum width, shown or not: a new minimum width would have
        # every block of a long reply measured again when the reply's figures appear.
        policy = self.footer.sizePolicy()
        policy.setRetainSizeWhenHidden(True)
        self.footer.setSizePolicy(policy)
        self.footer.setVisible(False)
        bottom.addWidget(self.footer, 1)
        self.buttons: dict[str, QToolButton] = {}
        for name, text, tip, roles in ACTIONS:
            if role not in roles or (not actions and name != "copy"):
                continue
            button = QToolButton()
            button.setText(text)
            button.setToolTip(tip)
            button.setAutoRaise(True)
            button.setObjectName("messageAction")
            # Hidden while a reply streams, but keeping its room: a row that widens as each
            # button shows would have the whole reply measured again at every new width.
            policy = button.sizePolicy()
            policy.setRetainSizeWhenHidden(True)
            button.setSizePolicy(policy)
            button.clicked.connect(lambda _c=False, n=name: self._clicked(n))
            bottom.addWidget(button)
            self.buttons[name] = button
        layout.addLayout(bottom)
        self.content = ""
        self.thinking_text = ""
        self._render_pending = False

    # ----- text ----------------------------------------------------------------------------
    def _toggle_thinking(self, opened: bool) -> None:
        self.thinking.setVisible(opened)
        self.thinking_toggle.setArrowType(
            Qt.ArrowType.DownArrow if opened else Qt.ArrowType.RightArrow
        )

    def append(self, content: str = "", thinking: str = "") -> None:
        """Add streamed text; drawn on the next frame, not per token."""
        if thinking:
            self.thinking_text += thinking
            self.thinking_toggle.setVisible(True)
        if content:
            self.content += content
        if (content or thinking) and not self._render_pending:
            self._render_pending = True
            QTimer.singleShot(FRAME_MS, self, self._render)

    def _render(self) -> None:
        if not self._render_pending:
            return  # finish() drew it already
        self._render_pending = False
        self.thinking.setText(self.thinking_text)
        self.body.show_text(self.content)

    def finish(self) -> None:
        """The text is complete (or stopped): draw it whole, as Markdown."""
        self._render_pending = False
        self.thinking.setText(self.thinking_text)
        self.thinking_toggle.setVisible(bool(self.thinking_text))
        self.body.finish(self.content)

    def set_text(self, content: str, thinking: str = "") -> None:
        """Whole text at once (a saved message)."""
        self.content, self.thinking_text = content, thinking
        self.finish()

    def set_streaming(self, streaming: bool) -> None:
        for button in self.buttons.values():
            button.setVisible(not streaming)

    def mark_earlier(self) -> None:
        """Context from before its column joined a comparison: greyed, with a dashed outline."""
        self.setObjectName("bubble_earlier")
        self.setStyleSheet(
            "QFrame#bubble_earlier { border: 1px dashed palette(mid); border-radius: 6px; }"
        )
        self.body.setStyleSheet("color: palette(mid);")

    def set_footer(self, text: str, *, error: bool = False) -> None:
        name = "error" if error else "stats"
        if self.footer.objectName() != name:  # restyling costs milliseconds; only on a change
            self.footer.setObjectName(name)
            self.footer.style().unpolish(self.footer)
            self.footer.style().polish(self.footer)
        self.footer.setText(text)
        self.footer.setVisible(bool(text))

    # ----- actions -------------------------------------------------------------------------
    def _clicked(self, name: str) -> None:
        if name == "copy":
            QGuiApplication.clipboard().setText(self.content)
            self.buttons["copy"].setText("Copied")
            button = self.buttons["copy"]
            QTimer.singleShot(1500, button, lambda: button.setText("Copy"))
        elif name == "edit":
            self.start_edit()
        else:
            self.action.emit(name)

    def start_edit(self) -> None:
        """Swap the text for an editor with Send and Cancel."""
        if self.editor is not None:
            return
        self.editor = QPlainTextEdit(self.content)
        self.editor.setMaximumHeight(140)
        send, cancel = QPushButton("Send"), QPushButton("Cancel")
        send.setDefault(True)
        row = QWidget()
        buttons = QHBoxLayout(row)
        buttons.setContentsMargins(0, 0, 0, 0)
        buttons.addStretch(1)
        buttons.addWidget(cancel)
        buttons.addWidget(send)
        layout = self.layout()
        assert isinstance(layout, QVBoxLayout)
        index = layout.indexOf(self.body)
        layout.insertWidget(index + 1, self.editor)
        layout.insertWidget(index + 2, row)
        self.edit_row = row
        self.body.setVisible(False)
        send.clicked.connect(self._send_edit)
        cancel.clicked.connect(self.stop_edit)
        self.editor.setFocus()

    def _send_edit(self) -> None:
        text = self.editor.toPlainText().strip() if self.editor is not None else ""
        if text:
            self.stop_edit()
            self.edited.emit(text)

    def stop_edit(self) -> None:
        for widget in (self.editor, self.edit_row):
            if widget is not None:
                widget.deleteLater()
        self.editor = self.edit_row = None
        self.body.setVisible(True)

"""A chat reply as Markdown: prose through Qt's Markdown reader, code blocks highlighted by Pygments
with a Copy button each, rendered block by block while the reply streams.

Never re-renders what it has already rendered: a finished block becomes a widget once and the
open tail is shown as plain text until it is finished.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache

from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtGui import QGuiApplication, QPalette
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})\s*([^\s`]*)")
MONOSPACE = "'DejaVu Sans Mono', 'Menlo', 'Consolas', monospace"


@dataclass(frozen=True)
class Block:
    """One finished piece of a reply: a prose paragraph (Markdown) or a fenced code block."""

    kind: str  # "prose" | "code"
    text: str
    language: str = ""


class BlockSplitter:
    """Cuts a growing Markdown text into finished blocks; remembers where the unfinished tail
    starts so each call reads only what arrived since the last finished block."""

    def __init__(self) -> None:
        self.consumed = 0  # text[:consumed] is in finished blocks
        self.open_fence = ""  # the fence of an unclosed code block in the tail, else ""
        self.open_language = ""

    def feed(self, text: str) -> list[Block]:
        """The blocks finished in `text` since the last call (text only ever grows)."""
        blocks: list[Block] = []
        start = self.consumed
        fence, language, code_from = "", "", 0
        pos = start
        while True:
            end = text.find("\n", pos)
            if end < 0:
                break
            line = text[pos:end]
            after = end + 1
            if fence:
                stripped = line.strip()
                if stripped.startswith(fence) and set(stripped) == {fence[0]}:
                    blocks.append(Block("code", text[code_from:pos].rstrip("\n"), language))
                    fence, start = "", after
            elif match := FENCE.match(line):
                if text[start:pos].strip():
                    blocks.append(Block("prose", text[start:pos].strip("\n")))
                fence, language, code_from, start = match.group(1), match.group(2), after, pos
            elif not line.strip():
                if text[start:pos].strip():
                    blocks.append(Block("prose", text[start:pos].strip("\n")))
                start = after
            pos = after
        self.consumed = start
        self.open_fence, self.open_language = fence, language
        return blocks

    def tail(self, text: str) -> str:
        """The unfinished rest: for an open code block, the code so far without its fence."""
        rest = text[self.consumed :]
        if self.open_fence:
            newline = rest.find("\n")
            return rest[newline + 1 :] if newline >= 0 else ""
        return rest

    def finish(self, text: str) -> list[Block]:
        """The last blocks once the reply is complete; an unclosed fence ends with the text."""
        blocks = self.feed(text)
        rest = self.tail(text)
        if self.open_fence:
            blocks.append(Block("code", rest.rstrip("\n"), self.open_language))
        elif rest.strip():
            blocks.append(Block("prose", rest.strip("\n")))
        self.consumed, self.open_fence = len(text), ""
        return blocks


class WrappedLabel(QLabel):
    """A word-wrapped label that remembers its height for each width until its text, font or
    style changes. QLabel lays its whole text out again on every heightForWidth call, and a
    column relayout asks every finished block several times: without the memory a long reply
    cost tens of milliseconds per streamed frame."""

    def __init__(self) -> None:
        super().__init__()
        self._heights: dict[int, int] = {}
        self.setWordWrap(True)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Minimum)

    def heightForWidth(self, width: int) -> int:
        height = self._heights.get(width)
        if height is None:
            if len(self._heights) > 16:  # a window dragged wider and narrower
                self._heights.clear()
            height = self._heights[width] = super().heightForWidth(width)
        return height

    def setText(self, text: str) -> None:
        self._heights.clear()
        super().setText(text)

    def setTextFormat(self, text_format: Qt.TextFormat) -> None:
        self._heights.clear()
        super().setTextFormat(text_format)

    def setWordWrap(self, on: bool) -> None:
        self._heights.clear()
        super().setWordWrap(on)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._heights.clear()
        super().changeEvent(event)


def is_dark(widget: QWidget) -> bool:
    return widget.palette().color(QPalette.ColorRole.Window).lightness() < 128


@lru_cache(maxsize=4)
def _style(dark: bool) -> tuple[object, str]:
    from pygments.formatters import HtmlFormatter

    formatter = HtmlFormatter(
        nowrap=True, noclasses=True, style="github-dark" if dark else "default"
    )
    return formatter, "#0d1117" if dark else "#f6f8fa"


def highlighted_html(code: str, language: str, dark: bool) -> str:
    """Code as inline-styled HTML (Qt's rich text knows no CSS classes); unknown languages are
    guessed from a fence name Pygments knows, else shown plain."""
    from pygments import highlight
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound

    formatter, _ = _style(dark)
    try:
        lexer = get_lexer_by_name(language or "text", stripnl=False)
    except ClassNotFound:
        lexer = get_lexer_by_name("text", stripnl=False)
    body = highlight(code, lexer, formatter).rstrip("\n")
    return f'<pre style="white-space: pre-wrap; margin: 0; font-family: {MONOSPACE};">{body}</pre>'


_warmed: set[str] = set()
_warm_worker: ThreadPoolExecutor | None = None


def warm_up(work: Callable[..., object], *args: object) -> None:
    """Run `work(*args)` (imports, no Qt) on the one chat warm-up thread, off the loop."""
    global _warm_worker
    if _warm_worker is None:
        _warm_worker = ThreadPoolExecutor(1, thread_name_prefix="chat-warm-up")
    _warm_worker.submit(work, *args)


def warm_highlighter(language: str = "python") -> None:
    """Load Pygments, its styles and the lexer for `language` off the loop: the first highlight
    of a language costs ~30 ms of imports and regex compiling, too much for one frame of a
    streaming reply. Called when a fence opens, so the block is cheap once it closes."""
    if language in _warmed:
        return
    _warmed.add(language)
    for dark in (False, True):
        warm_up(highlighted_html, "x = 1\n", language, dark)


class CodeBlockView(QFrame):
    """A fenced code block: language and Copy above, highlighted code below (wrapped)."""

    def __init__(self, code: str, language: str, *, highlight: bool = True) -> None:
        super().__init__()
        self.setObjectName("codeBlock")
        self.code = code
        self.language = language
        self.highlighted = highlight
        self.dark: bool | None = None
        self._restyle()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 8)
        layout.setSpacing(2)
        header = QHBoxLayout()
        self.language_label = QLabel(language or "code")
        self.language_label.setObjectName("muted")
        self.copy_button = QToolButton()
        self.copy_button.setText("Copy")
        self.copy_button.setToolTip("Copy this code block")
        self.copy_button.setAutoRaise(True)
        self.copy_button.clicked.connect(self.copy)
        header.addWidget(self.language_label)
        header.addStretch(1)
        header.addWidget(self.copy_button)
        layout.addLayout(header)
        self.body = WrappedLabel()
        self.body.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.body)
        self.set_code(code, highlight=highlight)

    def _restyle(self) -> bool:
        """Background and border for the current theme; False when the theme is unchanged.
        The app's palette, not the block's: its own background (this style sheet) would answer."""
        dark = QGuiApplication.palette().color(QPalette.ColorRole.Window).lightness() < 128
        if dark == self.dark:
            return False
        self.dark = dark
        _, background = _style(dark)
        border = "#30363d" if dark else "#d0d7de"
        self.setStyleSheet(
            f"QFrame#codeBlock {{ background: {background}; border: 1px solid {border};"
            " border-radius: 6px; }"
        )
        return True

    def changeEvent(self, event: QEvent) -> None:
        # A theme switch repaints the block in the new theme's colours (the highlight too).
        if event.type() == QEvent.Type.PaletteChange and self._restyle() and self.highlighted:
            self.set_code(self.code)
        super().changeEvent(event)

    def set_code(self, code: str, *, highlight: bool = True) -> None:
        self.code = code
        self.highlighted = highlight
        if highlight:
            self.body.setTextFormat(Qt.TextFormat.RichText)
            self.body.setText(highlighted_html(code, self.language, bool(self.dark)))
        else:  # still streaming: plain, cheap, and replaced once the fence closes
            self.body.setTextFormat(Qt.TextFormat.RichText)
            self.body.setText(
                f'<pre style="white-space: pre-wrap; margin: 0; font-family: {MONOSPACE};">'
                f"{html.escape(code)}</pre>"
            )

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.code)
        self.copy_button.setText("Copied")
        QTimer.singleShot(1500, self.copy_button, lambda: self.copy_button.setText("Copy"))


def prose_label(markdown: str) -> QLabel:
    label = WrappedLabel()
    label.setTextFormat(Qt.TextFormat.MarkdownText)
    label.setText(markdown)
    label.setOpenExternalLinks(True)
    label.setTextInteractionFlags(
        Qt.TextInteractionFlag.TextSelectableByMouse | Qt.TextInteractionFlag.LinksAccessibleByMouse
    )
    return label


class MarkdownView(QWidget):
    """A message body. `show_text` with the whole text so far (cheap: only new finished blocks
    are rendered); `finish` once the text is complete. plain=True shows the text as typed."""

    def __init__(self, *, plain: bool = False) -> None:
        super().__init__()
        self.plain = plain
        self.splitter = BlockSplitter()
        self.blocks: list[QWidget] = []
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(0, 0, 0, 0)
        self.layout_.setSpacing(6)
        self.tail = WrappedLabel()
        self.tail.setTextFormat(Qt.TextFormat.PlainText)
        self.tail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.layout_.addWidget(self.tail)
        self.tail_code: CodeBlockView | None = None
        self.text = ""

    def code_blocks(self) -> list[CodeBlockView]:
        return [b for b in self.blocks if isinstance(b, CodeBlockView)]

    def show_text(self, text: str) -> None:
        self.text = text
        if self.plain:
            self.tail.setText(text)
            return
        for block in self.splitter.feed(text):
            self._add(block)
        rest = self.splitter.tail(text)
        if self.splitter.open_fence:
            if self.tail_code is None:
                warm_highlighter(self.splitter.open_language)
                self.tail_code = CodeBlockView(rest, self.splitter.open_language, highlight=False)
                self.layout_.insertWidget(len(self.blocks), self.tail_code)
            else:
                self.tail_code.set_code(rest, highlight=False)
            self.tail.setText("")
        else:
            self.tail.setText(rest.strip("\n"))
        # Not setVisible per frame: showing a widget in a shown window lays the window out
        # at once (hundreds of ms over a long reply); an empty label is just zero text.

    def finish(self, text: str) -> None:
        """Render the rest as Markdown: the reply is complete (or stopped)."""
        self.text = text
        if self.plain:
            self.tail.setText(text)
            return
        for block in self.splitter.finish(text):
            self._add(block)
        self.tail.setText("")
        self.tail.setVisible(False)

    def reset(self, text: str, *, final: bool = True) -> None:
        """Start over with other text (an edited message)."""
        for widget in self.blocks:
            self.layout_.removeWidget(widget)
            widget.deleteLater()
        self.blocks.clear()
        self._drop_tail_code()
        self.splitter = BlockSplitter()
        if final:
            self.finish(text)
        else:
            self.show_text(text)

    def _drop_tail_code(self) -> None:
        if self.tail_code is not None:
            self.layout_.removeWidget(self.tail_code)
            self.tail_code.deleteLater()
            self.tail_code = None

    def _add(self, block: Block) -> None:
        widget: QWidget
        if block.kind == "code":
            self._drop_tail_code()  # the streaming copy of this block, now highlighted
            widget = CodeBlockView(block.text, block.language)
        else:
            widget = prose_label(block.text)
        self.layout_.insertWidget(len(self.blocks), widget)  # after the finished, before the tail
        self.blocks.append(widget)

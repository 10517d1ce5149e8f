"""Badges beside a model's name in the tree: its other capabilities, a missing or offline state,
an experiment; drawn by one delegate after the whole name, never over it.

Paints only; what a badge says comes from the row (`badges_of`), never from the database.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPalette
from PySide6.QtWidgets import QApplication, QStyle, QStyledItemDelegate, QStyleOptionViewItem

from desktop_registry.domain.entries import ModelEntry

BADGES_ROLE = Qt.ItemDataRole.UserRole + 1  # list of (text, colour key) for a model row

# Capabilities a model has beyond the category it is listed under, in a word each.
CAPABILITY_BADGES = {
    "function_calling": "tools",
    "multimodal": "vision",
    "reasoning": "thinking",
    "embedding": "embed",
    "code": "code",
    "math": "math",
}
STATE_BADGES = {"missing": "missing", "unavailable": "unavailable"}
# (light theme, dark theme) colours per badge kind; text and border in it, a faint fill.
COLOURS = {
    "capability": ("#0969da", "#79b8ff"),
    "missing": ("#9a6700", "#d29922"),
    "unavailable": ("#cf222e", "#ff7b72"),
    "offline": ("#6e7781", "#9aa0a6"),
    "kind": ("#1a7f37", "#3fb950"),
}
GAP, PAD = 4, 4  # px between badges, inside a badge


def badges_of(entry: ModelEntry, *, offline: bool = False) -> list[tuple[str, str]]:
    """What the row says besides the name: state first (it matters most), then capabilities."""
    out: list[tuple[str, str]] = []
    if offline:
        out.append(("offline", "offline"))
    elif entry.status in STATE_BADGES:
        out.append((STATE_BADGES[entry.status], entry.status))
    if entry.kind != "base":
        out.append((entry.kind, "kind"))
    for category in entry.categories[1:]:
        word = CAPABILITY_BADGES.get(category)
        if word:
            out.append((word, "capability"))
    return out


def badge_qcolor(key: str, palette: QPalette | None = None) -> QColor:
    palette = palette or QApplication.palette()
    dark = palette.color(QPalette.ColorRole.Base).lightness() < 128
    light_colour, dark_colour = COLOURS.get(key, COLOURS["capability"])
    return QColor(dark_colour if dark else light_colour)


def badge_font(base: QFont) -> QFont:
    font = QFont(base)
    size = base.pointSizeF()
    if size > 0:
        font.setPointSizeF(max(size - 1.5, 7.0))
    return font


class BadgeDelegate(QStyledItemDelegate):
    """Draws a row's name as the style does, then its badges after the name where they fit."""

    def badges_width(self, option: QStyleOptionViewItem, badges: list[tuple[str, str]]) -> int:
        if not badges:
            return 0
        metrics = QFontMetrics(badge_font(option.font))
        return sum(metrics.horizontalAdvance(text) + 2 * PAD + GAP for text, _ in badges) + GAP

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        size = super().sizeHint(option, index)
        badges = index.data(BADGES_ROLE) or []
        return QSize(size.width() + self.badges_width(option, badges), size.height())

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        badges = index.data(BADGES_ROLE) or []
        if not badges:
            super().paint(painter, option, index)
            return
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        style = opt.widget.style() if opt.widget is not None else QApplication.style()
        text_width = opt.fontMetrics.horizontalAdvance(opt.text) + 2 * 4
        room = opt.rect.width() - text_width
        wanted = self.badges_width(opt, badges)
        # The name comes first: badges that do not fit after it are left out (the tooltip
        # still lists the capabilities), so a name is never cut for a badge.
        shown = badges if wanted <= room else []
        if not shown:
            metrics = QFontMetrics(badge_font(opt.font))
            used = GAP
            for text, key in badges:
                width = metrics.horizontalAdvance(text) + 2 * PAD + GAP
                if used + width > room:
                    break
                shown.append((text, key))
                used += width
        reserved = self.badges_width(opt, shown)
        text_rect_width = opt.rect.width() - reserved
        name_opt = QStyleOptionViewItem(opt)
        name_opt.rect = QRect(opt.rect.x(), opt.rect.y(), text_rect_width, opt.rect.height())
        # Background and selection across the whole row, then the name in its part.
        background = QStyleOptionViewItem(opt)
        background.text = ""
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, background, painter, opt.widget)
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, name_opt, painter, opt.widget)
        self._draw_badges(painter, opt, shown, opt.rect.x() + min(text_width, text_rect_width))

    def _draw_badges(
        self, painter: QPainter, opt: QStyleOptionViewItem, badges: list[tuple[str, str]], x: int
    ) -> None:
        font = badge_font(opt.font)
        metrics = QFontMetrics(font)
        height = min(metrics.height() + 2, opt.rect.height() - 2)
        y = opt.rect.y() + (opt.rect.height() - height) // 2
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setFont(font)
        x += GAP
        # On the selection's highlight a blue badge would vanish: draw it in the highlight's text.
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        for text, key in badges:
            colour = (
                opt.palette.highlightedText().color()
                if selected
                else badge_qcolor(key, opt.palette)
            )
            width = metrics.horizontalAdvance(text) + 2 * PAD
            rect = QRect(x, y, width, height)
            fill = QColor(colour)
            fill.setAlpha(40)
            painter.setPen(colour)
            painter.setBrush(fill)
            painter.drawRoundedRect(rect, 4, 4)
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)
            x += width + GAP
        painter.restore()

"""A dock's title bar with a "?" that explains the panel, and the popup it opens.

Qt's own title bar cannot take a button, so the dock gets this one: the title, "?", and the float and close
buttons of the native bar. Mouse presses on the bar itself are left to the dock (QWidget ignores them), so
dragging the bar moves the dock and a double click floats or docks it, as before.
"""

from __future__ import annotations

from PyQt6.QtCore import QPoint, Qt
from PyQt6.QtWidgets import (
    QDockWidget,
    QFrame,
    QHBoxLayout,
    QLabel,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

HELP_WIDTH = 520  # pixels at most: two short paragraphs of ~12 words a line
POPUP_STYLE = "#help { background: #262a30; border: 1px solid #7a8794; } QLabel { color: #f0f0f0; }"


class DockTitleBar(QWidget):
    def __init__(self, dock: QDockWidget, on_help, tools: QWidget | None = None) -> None:
        """tools: the panel's own controls (the Gates panel's view box), beside the title, never over the plots."""
        super().__init__(dock)
        self.dock = dock
        self.title = QLabel(dock.windowTitle())
        self.help_button = self._button("?", f"What the {dock.windowTitle()} panel shows and what to look for")
        self.help_button.setStyleSheet("QToolButton { font-weight: bold; padding: 0px 5px; }")
        self.help_button.clicked.connect(lambda: on_help(self.help_button))
        style = self.style()
        self.float_button = self._button("", "Float this panel in a window of its own, or dock it again")
        self.float_button.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_TitleBarNormalButton))
        self.float_button.clicked.connect(lambda: dock.setFloating(not dock.isFloating()))
        self.close_button = self._button("", "Hide this panel (View brings it back)")
        self.close_button.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_TitleBarCloseButton))
        self.close_button.clicked.connect(dock.close)
        row = QHBoxLayout(self)
        row.setContentsMargins(6, 1, 2, 1)
        row.setSpacing(2)
        row.addWidget(self.title, 1)
        if tools is not None:
            row.addWidget(tools)
        for button in (self.help_button, self.float_button, self.close_button):
            row.addWidget(button)
        dock.windowTitleChanged.connect(self.title.setText)
        dock.featuresChanged.connect(self._show_buttons)
        self._show_buttons(dock.features())

    def _button(self, text: str, tip: str) -> QToolButton:
        button = QToolButton(self)
        button.setText(text)
        button.setToolTip(tip)
        button.setAutoRaise(True)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        return button

    def _show_buttons(self, features) -> None:
        self.float_button.setVisible(bool(features & QDockWidget.DockWidgetFeature.DockWidgetFloatable))
        self.close_button.setVisible(bool(features & QDockWidget.DockWidgetFeature.DockWidgetClosable))


class HelpPopup(QFrame):
    """Rich text under a "?" button; it goes at the next click anywhere (or Esc), so it never blocks a demo."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent, Qt.WindowType.Popup)
        self.setObjectName("help")
        self.setStyleSheet(POPUP_STYLE)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.RichText)
        column = QVBoxLayout(self)
        column.setContentsMargins(12, 6, 12, 6)
        column.addWidget(self.label)

    def show_text(self, html: str, anchor: QWidget) -> None:
        """Show `html` just below `anchor`, inside the screen, at most HELP_WIDTH wide."""
        self.label.setText(html)
        screen = anchor.screen().availableGeometry()
        width = min(HELP_WIDTH, screen.width() - 20)
        self.setFixedWidth(width)
        self.adjustSize()
        self.setFixedHeight(self.heightForWidth(width) if self.hasHeightForWidth() else self.sizeHint().height())
        below = anchor.mapToGlobal(QPoint(anchor.width(), anchor.height()))
        x = min(max(below.x() - width, screen.left() + 10), screen.right() - width - 10)
        y = min(below.y(), screen.bottom() - self.height() - 10)
        self.move(x, max(y, screen.top()))
        self.show()

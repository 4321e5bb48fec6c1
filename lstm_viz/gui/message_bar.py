"""A coloured bar of wrapped text with a ✕ that hides it: the main window's messages (errors, notices, warnings)
and, in a bar of its own under the menus, a preset's "what to watch" note."""

from __future__ import annotations

from PyQt6.QtCore import QEvent, Qt
from PyQt6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QWidget

STYLE = "#messages {{ background: {background}; border-top: 2px solid {line}; }} QLabel {{ color: {text}; }}"
ERROR_STYLE = STYLE.format(background="#6b1f1f", line="#e0534a", text="#fff0ee")
NOTICE_STYLE = STYLE.format(background="#1d4a2c", line="#4caf6a", text="#ecfff1")
WARNING_STYLE = STYLE.format(background="#5a4310", line="#e0a030", text="#fff6e0")  # stays, like an error
NOTE_STYLE = STYLE.format(background="#173a5c", line="#56b4e9", text="#eef7ff")


class MessageBar(QWidget):
    """Hidden until show_text(); ✕ (or hide()) hides it again. As tall as its text wrapped at its width."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("messages")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.close_button = QToolButton()
        self.close_button.setText("✕")
        self.close_button.setAutoRaise(True)
        self.close_button.setToolTip("Hide this message")
        self.close_button.clicked.connect(self.hide)
        row = QHBoxLayout(self)
        row.setContentsMargins(10, 4, 4, 4)
        row.addWidget(self.label, 1)
        row.addWidget(self.close_button)
        self.hide()

    def show_text(self, text: str, style: str) -> None:
        self.setStyleSheet(style)
        self.label.setText(text)
        self.show()


class NoteBar(MessageBar):
    """A message bar in a layout (under the menus): a fixed height, that of its text wrapped at its width. With
    its height for width instead, the window's least height would hold the text wrapped at the window's least
    width: lecture mode's grid can be ~320 px wide, and the note's ten lines there pushed the window 67 px past
    a 1024x768 screen."""

    def fit_height(self) -> None:
        height = self.layout().totalHeightForWidth(self.width())  # -1 without a text to wrap
        if height > 0:
            self.setFixedHeight(height)
            # Inside the first resize event (as the window is shown, under X11) setFixedHeight sends no second
            # one, and the label kept the first, taller geometry: the text's last line was cut at the bar's edge.
            self.layout().setGeometry(self.rect())

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self.fit_height()

    def changeEvent(self, event) -> None:  # noqa: N802
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self.fit_height()

    def show_text(self, text: str, style: str) -> None:
        super().show_text(text, style)
        self.fit_height()

"""What the panels share: a plot area filling the widget, the selected layer, direction and
unit, and the update flow of the panels that draw the probe trace."""

from __future__ import annotations

from PyQt6 import QtWidgets
from PyQt6.QtCore import pyqtSignal

from lstm_viz.core.snapshot import Snapshot, Trace
from lstm_viz.gui.panels.plots import CACHED, new_graphics

NO_CACHE = QtWidgets.QGraphicsItem.CacheMode.NoCache


class Panel(QtWidgets.QWidget):
    """A panel: its plots in `graphics`, filling the widget (above anything a subclass adds to `layout`)."""

    unit_clicked = pyqtSignal(int)  # a unit row of a heatmap was clicked
    time_plot = None  # the plot whose x axis is the probe's timestep, if any

    def __init__(self) -> None:
        super().__init__()
        self.graphics = new_graphics()
        self.box = QtWidgets.QVBoxLayout(self)
        self.box.setContentsMargins(0, 0, 0, 0)
        self.box.setSpacing(0)
        self.box.addWidget(self.graphics, stretch=1)
        self.layer = self.direction = self.unit = 0

    def update_snapshot(self, snapshot: Snapshot) -> None:
        raise NotImplementedError

    def render(self, *args, **kwargs) -> None:
        """QWidget.render with every plot item drawn anew, not from its cached pixmap (axes and titles
        are cached, see plots.py): an SVG export gets text and lines, not pictures of them."""
        cached = [item for item in self.graphics.scene().items() if item.cacheMode() != NO_CACHE]
        for item in cached:
            item.setCacheMode(NO_CACHE)
        try:
            super().render(*args, **kwargs)
        finally:
            for item in cached:
                item.setCacheMode(CACHED)

    def set_selection(self, layer: int, direction: int, unit: int) -> None:
        self.layer, self.direction, self.unit = layer, direction, unit


class TracePanel(Panel):
    """A panel that draws the probe trace: arrange(kind) when the kind of picture changes
    (the cell type, or the task), then draw() for every snapshot with a trace and every new
    selection. A snapshot without a trace keeps the last drawing."""

    def __init__(self) -> None:
        super().__init__()
        self.snapshot: Snapshot | None = None
        self.kind: str | None = None

    def kind_of(self, snapshot: Snapshot) -> str:
        return snapshot.trace.cell

    def arrange(self, kind: str) -> None:
        """Lay the plots out for this kind of picture (cell type or task)."""

    def draw(self) -> None:
        raise NotImplementedError

    @property
    def trace(self) -> Trace | None:
        return self.snapshot.trace if self.snapshot is not None else None

    def update_snapshot(self, snapshot: Snapshot) -> None:
        if snapshot.trace is None:
            return
        kind = self.kind_of(snapshot)
        if kind != self.kind:
            self.kind = kind
            self.arrange(kind)
        self.snapshot = snapshot
        self.draw()

    def set_selection(self, layer: int, direction: int, unit: int) -> None:
        super().set_selection(layer, direction, unit)
        if self.snapshot is not None:
            self.draw()

    def select_unit(self, unit: int) -> None:
        """A unit row was clicked: show it here and tell the window."""
        self.set_selection(self.layer, self.direction, unit)
        self.unit_clicked.emit(unit)

    def selection(self) -> tuple[int, int, int, str]:
        """(layer, direction, unit) moved inside the trace, and where_suffix() for titles."""
        layers, directions, _, units = self.trace[self.trace.names[0]].shape
        layer, direction = min(max(self.layer, 0), layers - 1), min(max(self.direction, 0), directions - 1)
        unit = min(max(self.unit, 0), units - 1)
        return layer, direction, unit, where_suffix(layers, directions, layer, direction)


def where_suffix(layers: int, directions: int, layer: int, direction: int) -> str:
    """' · layer 2, backward ←' when the trace has more than one layer or direction, else ''."""
    parts = []
    if layers > 1:
        parts.append(f"layer {layer + 1}")
    if directions > 1:
        parts.append("backward ←" if direction else "forward →")
    return " · " + ", ".join(parts) if parts else ""

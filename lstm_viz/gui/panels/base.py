"""What the panels share: a plot area filling the widget, the selection (layer, direction, unit,
timestep; see gui/state.py), and the update flow of the panels that draw the probe trace."""

from __future__ import annotations

import math

import numpy as np
from PyQt6 import QtWidgets
from PyQt6.QtCore import Qt, pyqtSignal

from lstm_viz.core.snapshot import Snapshot, Trace
from lstm_viz.gui.panels.plots import CACHED, TimePlot, new_graphics
from lstm_viz.gui.state import Selection

NO_CACHE = QtWidgets.QGraphicsItem.CacheMode.NoCache


class Panel(QtWidgets.QWidget):
    """A panel: its plots in `graphics`, filling the widget (above anything a subclass adds to `layout`)."""

    selection_requested = pyqtSignal(object)  # a Selection the user asked for here (a heatmap cell was clicked)
    time_plot = None  # the plot whose x axis is the probe's timestep, if any

    def __init__(self) -> None:
        super().__init__()
        self.graphics = new_graphics()
        self.box = QtWidgets.QVBoxLayout(self)
        self.box.setContentsMargins(0, 0, 0, 0)
        self.box.setSpacing(0)
        self.box.addWidget(self.graphics, stretch=1)
        self.selected = Selection()

    def update_snapshot(self, snapshot: Snapshot) -> None:
        raise NotImplementedError

    def fit_minimum_height(self) -> None:
        """Never shorter than the plots laid out now need (each plot's least height, titles and axes): a dock
        squeezed further would shrink plots below two labelled ticks. Again after a new layout or font scale."""
        needed = self.graphics.ci.effectiveSizeHint(Qt.SizeHint.MinimumSize).height()
        self.graphics.setMinimumHeight(math.ceil(needed) + 2 * self.graphics.frameWidth())

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

    def set_selection(self, selection: Selection) -> None:
        self.selected = selection


class TracePanel(Panel):
    """A panel that draws the probe trace: arrange(kind) when the kind of picture changes
    (the cell type, or the task), then draw() for every snapshot with a trace and every new
    selection. A snapshot without a trace keeps the last drawing."""

    def __init__(self) -> None:
        super().__init__()
        self.snapshot: Snapshot | None = None
        self.kind: str | None = None
        self._time_plots: list[TimePlot] | None = None  # the plots against the probe's timesteps, once laid out

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
        if kind != self.kind or self._time_plots is None:
            self.kind = kind
            self.arrange(kind)
            self.fit_minimum_height()
            self._time_plots = [item for item in self.graphics.scene().items() if isinstance(item, TimePlot)]
        self.snapshot = snapshot
        self.draw()
        marked = marked_timesteps(snapshot)
        for plot in self._time_plots:
            plot.show_marked_timesteps(marked)

    def set_selection(self, selection: Selection) -> None:
        super().set_selection(selection)
        if self.snapshot is not None:
            self.draw()

    def select(self, **changes: int) -> None:
        """The user picked something here (unit=, timestep=): show it and ask the window to show it everywhere."""
        self.set_selection(self.selected.moved(**changes))
        self.selection_requested.emit(self.selected)

    def select_cell(self, timestep: int, unit: int) -> None:
        """A heatmap cell was clicked: its unit and timestep."""
        self.select(unit=unit, timestep=timestep)

    def selection(self) -> tuple[int, int, int, str]:
        """(layer, direction, unit) moved inside the trace, and where_suffix() for titles."""
        layers, directions, _, units = self.trace[self.trace.names[0]].shape
        inside = self.selected.within(layers, directions, units)
        suffix = where_suffix(layers, directions, inside.layer, inside.direction)
        return inside.layer, inside.direction, inside.unit, suffix

    def selected_timestep(self) -> int:
        """The selected timestep moved inside the probe sequence."""
        steps = self.trace[self.trace.names[0]].shape[2]
        return min(max(self.selected.timestep, 0), steps - 1)


def where_suffix(layers: int, directions: int, layer: int, direction: int) -> str:
    """' · layer 2, backward ←' when the trace has more than one layer or direction, else ''."""
    parts = []
    if layers > 1:
        parts.append(f"layer {layer + 1}")
    if directions > 1:
        parts.append("backward ←" if direction else "forward →")
    return " · " + ", ".join(parts) if parts else ""


def marked_timesteps(snapshot: Snapshot) -> np.ndarray:
    """The probe's marked timesteps, which every plot against time points at: the adding problem's two (its
    input's marker channel is 1 there); none for other tasks."""
    if snapshot.config.task != "adding" or snapshot.trace is None:
        return np.empty(0, dtype=np.int64)
    return np.flatnonzero(snapshot.trace.probe_input[:, 1] > 0.5)  # (2,)

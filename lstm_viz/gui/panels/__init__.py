"""The plot panels. Each is a QWidget built with no arguments, with

- update_snapshot(snapshot): redraw in place from a Snapshot (GUI thread only);
- set_selection(Selection): what the per-unit and per-timestep views show (gui/state.py);
- selection_requested(Selection): emitted when the user picks a unit or timestep in the panel;
- time_plot: the PlotItem whose x axis is the probe's timestep, the same object for the
  panel's lifetime, for linking time axes across panels (None for TrainingPanel).
"""

from lstm_viz.gui.panels.cell import CellPanel
from lstm_viz.gui.panels.gates import GatesPanel
from lstm_viz.gui.panels.gradients import GradientsPanel
from lstm_viz.gui.panels.states import StatesPanel
from lstm_viz.gui.panels.task_view import TaskViewPanel
from lstm_viz.gui.panels.training import TrainingPanel

__all__ = ["CellPanel", "GatesPanel", "GradientsPanel", "StatesPanel", "TaskViewPanel", "TrainingPanel"]

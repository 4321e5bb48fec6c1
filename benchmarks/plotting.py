"""The gates panel redrawn with pyqtgraph (our GatesPanel) vs the same four heatmaps with matplotlib's Agg.

Both draw 4 units × time heatmaps with colour bars at H=128, T=200 into the same number of pixels,
each frame showing a different trace. matplotlib reuses its artists: set_data, then canvas.draw()
(its blitting fast path, which redraws only the images, is reported in the details too).
"""

from __future__ import annotations

import statistics
import time
from functools import partial

from benchmarks import alternate, median_ratio
from lstm_viz.core.config import RunConfig
from lstm_viz.core.snapshot import STATE_NAMES
from lstm_viz.core.trainer import Trainer

HIDDEN, SEQ_LEN = 128, 200
SIZE = (960, 720)  # pixels of the panel: about a quarter of a 1920x1080 screen
SNAPSHOTS = 8  # distinct traces, drawn in turn
GATES = STATE_NAMES["lstm"][:4]  # input, forget, candidate, output


def distinct_snapshots(config: RunConfig, count: int, steps_apart: int = 3) -> list:
    """`count` snapshots of one run, a few training steps apart, so every frame shows new values."""
    trainer = Trainer(config)
    snapshots = []
    for _ in range(count):
        for _ in range(steps_apart):
            trainer.step()
        snapshots.append(trainer.snapshot(with_view=False))
    return snapshots


class PyqtgraphGates:
    def __init__(self, snapshots: list) -> None:
        from PyQt6.QtCore import QEvent, QObject
        from PyQt6.QtWidgets import QApplication

        from lstm_viz.gui.app import configure_pyqtgraph
        from lstm_viz.gui.panels import GatesPanel

        self.app = QApplication.instance() or QApplication([])
        configure_pyqtgraph()
        self.panel = GatesPanel()
        self.panel.resize(*SIZE)
        self.panel.show()
        self.snapshots = snapshots
        self.frames = 0
        self.paints = 0

        class CountPaints(QObject):
            def eventFilter(inner, watched, event):  # noqa: N802, N805
                if event.type() == QEvent.Type.Paint:
                    self.paints += 1
                return False

        self._paint_counter = CountPaints()
        self.panel.graphics.viewport().installEventFilter(self._paint_counter)
        self.frame()

    def frame(self) -> None:
        """Update the panel and let Qt paint it, as the app's event loop does after a timer tick."""
        self.panel.update_snapshot(self.snapshots[self.frames % len(self.snapshots)])
        self.app.processEvents()
        self.frames += 1


class MatplotlibGates:
    def __init__(self, snapshots: list, blit: bool = False) -> None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        self.images = [snapshot.trace for snapshot in snapshots]
        self.figure = Figure(figsize=(SIZE[0] / 100, SIZE[1] / 100), dpi=100)
        self.canvas = FigureCanvasAgg(self.figure)
        axes = self.figure.subplots(2, 2)
        first = self.images[0]
        self.artists = []
        for ax, name in zip(axes.flat, GATES, strict=True):
            colormap, levels = ("coolwarm", (-1, 1)) if name == "cell_candidate" else ("viridis", (0, 1))
            image = ax.imshow(first[name][0, 0].T, aspect="auto", cmap=colormap, vmin=levels[0], vmax=levels[1])
            self.figure.colorbar(image, ax=ax)
            ax.set_title(name.replace("_", " "))
            ax.set_xlabel("timestep")
            ax.set_ylabel("unit")
            self.artists.append((ax, image, name))
        self.blit = blit
        self.canvas.draw()
        self.backgrounds = [self.canvas.copy_from_bbox(ax.bbox) for ax, _, _ in self.artists]
        self.frames = 0

    def frame(self) -> None:
        trace = self.images[self.frames % len(self.images)]
        for (ax, image, name), background in zip(self.artists, self.backgrounds, strict=True):
            image.set_data(trace[name][0, 0].T)  # (H, T)
            if self.blit:
                self.canvas.restore_region(background)
                ax.draw_artist(image)
                self.canvas.blit(ax.bbox)
        if not self.blit:
            self.canvas.draw()
        self.frames += 1


def frames_per_s(side, seconds: float) -> tuple[float, float]:
    """Frames per second of this thread's CPU time and of wall time."""
    frames, wall, cpu = 0, time.perf_counter(), time.thread_time()
    while time.thread_time() - cpu < seconds:
        side.frame()
        frames += 1
    return frames / (time.thread_time() - cpu), frames / (time.perf_counter() - wall)


def run(quick: bool) -> dict:
    seconds, repeats = (0.5, 5) if quick else (1.0, 11)
    config = RunConfig(task="sine", hidden=HIDDEN, seq_len=SEQ_LEN)
    snapshots = distinct_snapshots(config, SNAPSHOTS)
    pyqtgraph_side = PyqtgraphGates(snapshots)
    sides = {
        "pyqtgraph": pyqtgraph_side,
        "matplotlib": MatplotlibGates(snapshots),
        "matplotlib_blit": MatplotlibGates(snapshots, blit=True),
    }
    paints_before, frames_before = pyqtgraph_side.paints, pyqtgraph_side.frames
    rounds = alternate({name: partial(frames_per_s, side, seconds) for name, side in sides.items()}, repeats)
    cpu = {name: [cpu_rate for cpu_rate, _ in values] for name, values in rounds.items()}
    wall = {name: [wall_rate for _, wall_rate in values] for name, values in rounds.items()}
    details = {
        "config": {"hidden": HIDDEN, "seq_len": SEQ_LEN, "pixels": SIZE},
        "round_cpu_seconds": seconds,
        "rounds": repeats,
        "median_frames_per_cpu_s": {name: statistics.median(values) for name, values in cpu.items()},
        "median_frames_per_wall_s": {name: statistics.median(values) for name, values in wall.items()},
        "wall_ratio": median_ratio(wall["pyqtgraph"], wall["matplotlib"]),
        "ratio_to_matplotlib_blit": median_ratio(cpu["pyqtgraph"], cpu["matplotlib_blit"]),
        "pyqtgraph_paints_per_frame": (pyqtgraph_side.paints - paints_before)
        / max(pyqtgraph_side.frames - frames_before, 1),
    }
    pyqtgraph_side.panel.close()
    return {"figures": {"mpl_ratio": median_ratio(cpu["pyqtgraph"], cpu["matplotlib"])}, "details": details}

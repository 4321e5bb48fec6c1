"""python -m benchmarks [--quick] [--json out.json]: measure, print a markdown table, write JSON."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import sys
import time
import traceback

import torch  # before Qt, as the app does

SECTIONS = ("training", "probe", "metrics", "plotting", "gui", "history", "recorder", "compare")
# figure -> (comparison, target, what it is); comparison None: reported, no target.
TARGETS = {
    "train_ratio_sine": (">=", 0.95, "steps per wall s, Trainer + snapshots (2nd thread) / plain nn.LSTM, sine H=64"),
    "train_ratio_char": (">=", 0.97, "the same, chars (names) H=128 T=100"),
    "train_ratio_sine_fused": (None, None, "the same over a plain loop with fused Adam, as the Trainer's"),
    "train_ratio_char_fused": (None, None, "the same over a plain loop with fused Adam, as the Trainer's"),
    "loop_ratio": (None, None, "steps per wall s, Trainer + snapshots / per-timestep cell loop with gates, sine H=64"),
    "history_ratio_sine": (">=", 0.97, "steps per wall s, recording the run's history / not (both live), sine H=64"),
    "history_ratio_char": (">=", 0.97, "the same, chars (names) H=128 T=100"),
    "history_ratio_sine_total": (None, None, "the same over all rounds (first 100 steps, each recorded, included)"),
    "history_ratio_char_total": (None, None, "the same, chars"),
    "recorder_ratio": (">=", 0.95, "steps per CPU s, a user's nn.LSTM loop + lstm_viz.Recorder / alone, H=128 T=100"),
    "compare_ratio": (">=", 0.90, "rounds/wall s of cell=lstm,gru,rnn in turns / one step of each alone, adding-100"),
    "metrics_write_cost": ("<=", 0.01, "CPU s appending metrics.csv over 1M steps / their training CPU s, sine preset"),
    "probe_ms_1layer": ("<=", 3.0, "probe_trace, CPU ms, H=128 T=100, 1 layer"),
    "probe_ms_long": ("<=", 100.0, "probe_trace, CPU ms, H=256 T=1000, 1 layer: internals + gradients through time"),
    "probe_ms_2layer": (None, None, "probe_trace, CPU ms, H=128 T=100, 2 layers"),
    "probe_ms_unrolled_autograd": (None, None, "unrolled LSTM-cell autograd replay, CPU ms, H=128 T=100, 1 layer"),
    "app_train_ratio": (">=", 0.93, "steps/s, window training and drawing as usual / plain nn.LSTM loop, names T=100"),
    "gui_fps_long": (">=", 2.0, "frames/s the app's timer draws, a new snapshot at every tick, adding T=1000 H=256"),
    "gui_stall_p99_ms_long": ("<=", 50.0, "p99 lateness of a 10 ms GUI timer meanwhile (adding T=1000 H=256)"),
    "gui_fps_big": (">=", 10.0, "frames/s the app's timer draws, a new snapshot at every tick, names H=512"),
    "gui_fps": (">=", 30.0, "frames/s the app's timer draws, a new snapshot at every tick, training, H=128 T=200"),
    "gui_max_redraw_fps": (">=", 60.0, "1000 / wall ms of one full redraw + paint of every panel, training"),
    "gui_max_redraw_fps_cpu": (None, None, "1000 / GUI-thread CPU ms of the same redraw (its cost, whatever the load)"),
    "gui_stall_p99_ms": ("<=", 50.0, "p99 lateness (wall) of a 10 ms QTimer while the app trains and draws"),
    "mpl_ratio": (">=", 20.0, "gates panel frames per CPU s, pyqtgraph / matplotlib Agg, H=128 T=200"),
    "startup_s": ("<=", 2.0, "wall s from starting python -m lstm_viz to its first drawn frame"),
    "scrub_fps": (">=", 20.0, "records drawn per s while the timeline asks for the next one at every frame, names"),
    "open_s": ("<=", 1.0, "wall s from open_run on a 2000-record run (20k steps) to its first frame, Qt up"),
    "rss_growth_mb": ("<=", 50.0, "RSS growth over training steps (see details.gui.rss.steps), window drawing"),
    "window_rss_mb_1m": ("<=", 50.0, "RSS growth of the sine window fed 1M steps of metrics, a frame drawn every 10k"),
}


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions: under 3 minutes")
    parser.add_argument("--json", metavar="PATH", help="write all figures and details here")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, default=SECTIONS, help="run only these sections")
    args = parser.parse_args()

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    torch.set_num_threads(1)  # what the GUI's worker does
    started = time.perf_counter()
    result = {"quick": args.quick, "machine": machine_info(), "figures": {}, "details": {}, "errors": {}}
    for name in args.only:
        print(f"[{time.perf_counter() - started:5.0f} s] {name} ...", file=sys.stderr, flush=True)
        try:
            section = importlib.import_module(f"benchmarks.{name}").run(args.quick)
        except Exception as error:  # one broken section must not lose the others' figures
            traceback.print_exc()
            result["errors"][name] = f"{type(error).__name__}: {error}"
            continue
        result["figures"].update(section["figures"])
        result["details"][name] = section.get("details", {})
    result["seconds"] = round(time.perf_counter() - started, 1)
    result["machine"]["load_average_end"] = os.getloadavg()
    result["pass"] = {name: passed(name, value) for name, value in result["figures"].items()}

    print(table(result))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as file:
            json.dump(result, file, indent=2, default=float)
        print(f"\nwritten to {args.json}", file=sys.stderr)
    return 0


def passed(name: str, value: float) -> bool | None:
    comparison, target, _ = TARGETS.get(name, (None, None, ""))
    if comparison is None:
        return None
    return value >= target if comparison == ">=" else value <= target


def table(result: dict) -> str:
    machine = result["machine"]
    lines = [
        f"lstm_viz benchmarks ({'quick' if result['quick'] else 'full'}, {result['seconds']} s): "
        f"{machine['cores']} cores, torch {machine['torch']} with {machine['torch_threads']} thread(s), "
        f"Qt {machine['qt']}, pyqtgraph {machine['pyqtgraph']}, numpy {machine['numpy']}, Python {machine['python']}; "
        f"load average {machine['load_average'][0]:.1f} at start, {machine['load_average_end'][0]:.1f} at end",
        "",
        "| figure | value | target | pass | what |",
        "|---|---:|---:|:---:|---|",
    ]
    for name, (comparison, target, what) in TARGETS.items():
        if name not in result["figures"]:
            continue
        verdict = {True: "pass", False: "**FAIL**", None: ""}[result["pass"][name]]
        target_text = f"{comparison} {target:g}" if comparison else ""
        lines.append(f"| {name} | {result['figures'][name]:.3g} | {target_text} | {verdict} | {what} |")
    for section, error in result["errors"].items():
        lines.append(f"| ({section}) | error | | **FAIL** | {error} |")
    return "\n".join(lines)


def machine_info() -> dict:
    import numpy
    import psutil

    info = {
        "cores": os.cpu_count(),
        "physical_cores": psutil.cpu_count(logical=False),
        "load_average": os.getloadavg(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "numpy": numpy.__version__,
    }
    try:
        import pyqtgraph
        from PyQt6 import QtCore

        info.update(qt=QtCore.QT_VERSION_STR, pyqt=QtCore.PYQT_VERSION_STR, pyqtgraph=pyqtgraph.__version__)
    except ImportError:
        info.update(qt=None, pyqt=None, pyqtgraph=None)
    return info


if __name__ == "__main__":
    raise SystemExit(main())

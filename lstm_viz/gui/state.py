"""The view state the user sets: which layer, direction, unit and timestep every panel shows.

One immutable Selection lives in the main window; panels read it (set_selection) and ask for
a new one (selection_requested) when the user clicks; the window keeps it inside the model.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass


@dataclass(frozen=True)
class Selection:
    """Where the per-unit and per-timestep views look: layer and direction of the recurrent core, a unit of
    that layer, a timestep of the probe sequence (0-based, time running forward for both directions)."""

    layer: int = 0
    direction: int = 0
    unit: int = 0
    timestep: int = 0

    def moved(self, **changes: int) -> Selection:
        """This selection with some of its fields changed."""
        return dataclasses.replace(self, **changes)

    def within(self, layers: int, directions: int, units: int, steps: int | None = None) -> Selection:
        """Each field moved to the nearest value the model has (the timestep only kept ≥ 0 when `steps` is None)."""

        def clamp(value: int, count: int) -> int:
            return min(max(value, 0), max(count, 1) - 1)

        timestep = max(self.timestep, 0) if steps is None else clamp(self.timestep, steps)
        layer, direction, unit = clamp(self.layer, layers), clamp(self.direction, directions), clamp(self.unit, units)
        return Selection(layer, direction, unit, timestep)

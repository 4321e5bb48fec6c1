"""The comparison view: 2 to 4 runs that share a step axis, side by side (issue 12). One panel a file; every
panel takes the list of Snapshots of one step, one per run, in the runs' order, and draws run k in VARIANT_COLOURS[k]
everywhere."""

VARIANT_COLOURS = ("#4FC3F7", "#FFB74D", "#81C784", "#F06292")  # blue, orange, green, pink: apart on a projector

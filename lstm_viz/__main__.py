"""python -m lstm_viz: the same as the lstm-viz command."""

from lstm_viz.cli import main

raise SystemExit(main())

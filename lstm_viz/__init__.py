"""lstm_viz: watch the inside of an LSTM while it learns."""

__version__ = "0.1.0"

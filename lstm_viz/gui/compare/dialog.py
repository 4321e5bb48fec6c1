"""Run ▸ Compare… in the main window: pick a setting and 2 to 4 values of it; OK starts a comparison of the
current settings with those variants (the text is what `--compare` takes). A value refused says why in one
line and the dialog stays open; nothing running changes until OK succeeds."""

from __future__ import annotations

from PyQt6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout

from lstm_viz.core.compare import COMPARABLE, MAX_VARIANTS, MIN_VARIANTS, Comparison, parse_compare, value_label
from lstm_viz.core.config import ConfigError, RunConfig

CHOICES = {"cell": "lstm,gru,rnn", "optimizer": "adam,sgd,rmsprop", "bidirectional": "false,true",
           "layers": "1,2,3", "forget_bias": "0,1,3", "clip": "off,norm:1", "momentum": "0,0.9"}  # fmt: skip


def suggested_values(setting: str, config: RunConfig) -> str:
    """Values worth comparing to start from: the setting's choices, or the current value and its neighbours."""
    if setting in CHOICES:
        return CHOICES[setting]
    current = getattr(config, setting)
    if setting == "lr":
        return f"{current / 10:g},{current:g},{current * 10:g}"
    if setting in ("noise", "recurrent_gain"):
        return "0,0.5,1"
    return f"{value_label(current)},{value_label(current * 2)}"  # hidden, batch, seq_len


class CompareDialog(QDialog):
    """After OK (accepted), `comparison` holds the variants of `config`, built and ready to train."""

    def __init__(self, config: RunConfig, parent=None) -> None:
        super().__init__(parent)
        self.config = config
        self.comparison: Comparison | None = None
        self.setWindowTitle("Compare runs side by side")
        self.setting = QComboBox()
        self.setting.addItems(COMPARABLE)
        self.setting.setToolTip("The one setting the runs differ in; every other setting is the current one")
        self.values = QLineEdit()
        self.values.setToolTip(f"{MIN_VARIANTS} to {MAX_VARIANTS} values, separated by commas")
        self.error = QLabel()
        self.error.setStyleSheet("color: #c0392b")
        self.error.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow("Setting", self.setting)
        form.addRow("Values", self.values)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"Train {MIN_VARIANTS} to {MAX_VARIANTS} runs of the current settings that differ "
                                "in one setting, in a window of their own."))  # fmt: skip
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.setting.currentTextChanged.connect(self._suggest)
        self.setting.setCurrentText("cell")
        self._suggest("cell")

    def _suggest(self, setting: str) -> None:
        self.values.setText(suggested_values(setting, self.config))
        self.error.clear()

    def compare_text(self) -> str:
        """What --compare would take: 'cell=lstm,gru,rnn'."""
        values = ",".join(value.strip() for value in self.values.text().split(","))
        return f"{self.setting.currentText()}={values}"

    def accept(self) -> None:
        """Build the variants; a refused value keeps the dialog open with the reason in one line."""
        try:
            self.comparison = Comparison(*parse_compare(self.compare_text(), self.config))
        except ConfigError as error:
            self.comparison = None
            self.error.setText(" ".join(str(error).removeprefix("--compare ").split()))
            return
        super().accept()

from lstm_viz.gui.message_bar import NOTE_STYLE, NoteBar

NOTE = "names: Watch the sample under the task view: first random letters, then name-like syllables, then names. " * 2


def test_a_note_bar_lays_its_text_out_at_the_height_it_takes(qtbot):
    """Shown under X11 the bar's first resize event came at the note's height for a narrower width; the bar
    shrank to its text's height inside it, Qt sent no second resize event, and the label kept the taller
    geometry: the last line was cut at the bar's edge. A hidden widget gets no resize event either."""
    bar = NoteBar()
    qtbot.addWidget(bar)
    bar.setStyleSheet(NOTE_STYLE)
    bar.label.setText(NOTE)
    bar.resize(1024, 200)
    bar.layout().setGeometry(bar.rect())  # laid out taller than the text needs
    bar.fit_height()
    label = bar.label.geometry()
    assert bar.height() < 200  # it did shrink to its text
    assert bar.rect().contains(label)  # and the label with it: no line lies past the bar's bottom edge
    assert label.height() >= bar.label.heightForWidth(label.width())  # every line shows

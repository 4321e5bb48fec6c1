"""The Qt application: main window, controls, panels and the training worker thread."""

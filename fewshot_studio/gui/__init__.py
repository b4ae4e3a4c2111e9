"""The studio window: Qt views that take the engine's objects and listen to them.

Nothing here does maths: adaptation, prediction and files are the engine's (:mod:`fewshot_studio.core`);
the window arranges them, runs them off the GUI thread and shows what they report. The entry point is
:func:`fewshot_studio.gui.app.main`. Importing this package is cheap: torch is loaded only after the
window is on screen (see :mod:`.engine_loader`).
"""

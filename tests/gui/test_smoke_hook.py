"""The packaged application's smoke test (packaging/build_bundle.sh): with $FEWSHOT_STUDIO_SMOKE set, the
studio quits by itself once its window is shown and its engine loaded, and says whether that worked."""

from __future__ import annotations

from fewshot_studio.gui import app, engine_loader


def _run_and_close(monkeypatch) -> tuple[int, object]:
    seen = {}
    monkeypatch.setenv(app.SMOKE_ENV, "1")
    status = app.run([], on_created=lambda window: seen.setdefault("window", window))
    window = seen["window"]
    window.close()
    window.deleteLater()
    return status, window


def test_the_smoke_test_quits_once_the_window_is_shown_and_the_engine_loaded(qtbot, monkeypatch, capsys):
    status, window = _run_and_close(monkeypatch)
    assert status == 0
    assert window.ready
    assert "smoke test: window shown, engine loaded" in capsys.readouterr().out


def test_the_smoke_test_fails_when_the_engine_cannot_load(qtbot, monkeypatch, capsys):
    def broken():
        raise ImportError("no torch in this bundle")

    monkeypatch.setattr(engine_loader, "load_engine", broken)
    status, window = _run_and_close(monkeypatch)
    assert status == 1
    assert not window.ready
    assert "no torch in this bundle" in capsys.readouterr().err

"""Analyze page, the verification file: every person, provenance, keyframes, PDF, case notes, links."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.settings import ALLOW_LOOPBACK_LINKS_ENV, AppSettings
from dashboard.store import Store
from tests.app.apptest_helpers import logged_in
from tests.dashboard.builders import fast_settings, make_user

pytest_plugins = ["tests.dashboard.support"]


@pytest.fixture
def store(app_env: AppSettings) -> Store:
    store = Store(app_env.database_path)
    make_user(store, fast_settings(app_env.data_dir), "ada")
    return store


@pytest.fixture
def served(astronaut_clip: Path) -> Iterator[str]:
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(astronaut_clip.parent))
    handler.log_message = lambda *args: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/{astronaut_clip.name}"
    server.shutdown()
    server.server_close()


def text_of(app: AppTest) -> str:
    parts = [m.value for m in app.markdown] + [c.value for c in app.caption] + [t.value for t in app.text]
    return " ".join(str(p) for p in parts).replace("\\", "")  # markdown escapes


def analyse(app: AppTest, path: Path) -> AppTest:
    app.file_uploader[0].set_value((path.name, path.read_bytes(), "video/mp4"))
    return app.run()


def test_two_people_provenance_keyframes_and_downloads(store: Store, two_person_clip: Path) -> None:
    app = analyse(logged_in("ada", "pages/1_Analyze.py"), two_person_clip)
    assert not app.exception
    text = text_of(app)
    assert "Assessment:" in text and "Inconclusive" in text
    assert "no fitted verdict band" in text  # the tiny test model has none
    assert "Person 1 (main face)" in text and "Person 2" in text
    assert "No Content Credentials" in text and "Container metadata" in text
    assert "reverse image search" in text
    labels = {b.label for b in app.download_button}
    assert {"Download evidence report (PDF)", "Download keyframes (ZIP)", "Download JSON report"} <= labels
    assert len(app.get("plotly_chart")) == 2  # the main face and person 2


def test_case_notes_are_saved_shown_as_text_and_refused_when_empty(store: Store, astronaut_clip: Path) -> None:
    app = analyse(logged_in("ada", "pages/1_Analyze.py"), astronaut_clip)
    note = "<img src=x onerror=alert(1)> **not bold** called the uploader"
    app.text_area[0].input(note)
    next(b for b in app.button if b.label == "Save note").click()
    app.run()
    assert not app.exception
    assert note in [t.value for t in app.text]  # st.text: shown as written, never as markdown or HTML
    ada = store.get_user("ada")
    assert ada is not None
    analysis = store.list_analyses(ada.id)[0]
    assert [n.text for n in store.list_notes(ada.id, analysis.id)] == [note]
    app.text_area[0].input("   ")
    next(b for b in app.button if b.label == "Save note").click()
    app.run()
    assert any("The note was not saved: the note is empty" in e.value for e in app.error)
    assert len(store.list_notes(ada.id, analysis.id)) == 1


def test_link_to_this_machine_is_refused_by_default(store: Store, served: str) -> None:
    app = logged_in("ada", "pages/1_Analyze.py")
    app.text_input[0].input(served)
    next(b for b in app.button if b.label == "Analyse link").click()
    app.run()
    assert any("Could not analyse the link" in e.value and "loopback" in e.value for e in app.error)
    ada = store.get_user("ada")
    assert ada is not None and store.count_analyses(ada.id) == 0


def test_link_is_fetched_analysed_and_recorded_when_loopback_is_allowed(
    store: Store, served: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ALLOW_LOOPBACK_LINKS_ENV, "1")
    app = logged_in("ada", "pages/1_Analyze.py")
    app.text_input[0].input(served)
    next(b for b in app.button if b.label == "Analyse link").click()
    app.run()
    assert not app.exception and not any("Could not" in e.value for e in app.error)
    assert "Assessment:" in text_of(app)
    ada = store.get_user("ada")
    assert ada is not None
    (analysis,) = store.list_analyses(ada.id)
    assert analysis.settings["url"] == served and analysis.verdict == "inconclusive"

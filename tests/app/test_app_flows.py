"""Page flows with the tiny model: analyse, bad input, history (reopen, delete), lab, compare."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.history import ANALYSIS_PARAM
from dashboard.settings import AppSettings
from dashboard.store import Store
from dashboard.wording import VIDEO_PROBABILITY
from tests.app.apptest_helpers import logged_in, open_page
from tests.dashboard.builders import fast_settings, make_user

pytest_plugins = ["tests.dashboard.support"]


@pytest.fixture
def store(app_env: AppSettings) -> Store:
    store = Store(app_env.database_path)
    make_user(store, fast_settings(app_env.data_dir), "ada")
    make_user(store, fast_settings(app_env.data_dir), "bob")
    return store


def upload(app: AppTest, path: Path, name: str | None = None, index: int = 0) -> AppTest:
    app.file_uploader[index].set_value((name or path.name, path.read_bytes(), "video/mp4"))
    return app.run()


def markdown(app: AppTest) -> str:
    return " ".join(m.value for m in app.markdown)


def test_analyze_shows_verdict_timeline_faces_quality_and_downloads(store: Store, astronaut_clip: Path) -> None:
    app = upload(logged_in("ada", "pages/1_Analyze.py"), astronaut_clip, "interview.mp4")
    assert not app.exception
    assert "Assessment:" in markdown(app)
    assert "Face texture (CNN-LSTM) estimates a" in markdown(app)  # the row per signal
    assert any(m.label == VIDEO_PROBABILITY for m in app.metric)
    assert "UNTRAINED MODEL" in " ".join(e.value for e in app.error)
    assert len(app.get("plotly_chart")) == 1
    assert len(app.image) >= 2  # the selected frame and the gallery
    assert {"Download JSON report", "Download printable report (HTML)"} <= {b.label for b in app.download_button}
    assert app.table  # the input-quality panel
    ada = store.get_user("ada")
    assert ada is not None
    rows = store.list_analyses(ada.id)
    assert [r.file_name for r in rows] == ["interview.mp4"]
    app.run()  # a rerun (a click anywhere) does not analyse again or add a row
    assert store.count_analyses(ada.id) == 1


def test_frame_slider_shows_another_crop(store: Store, astronaut_clip: Path) -> None:
    app = upload(logged_in("ada", "pages/1_Analyze.py"), astronaut_clip)
    slider = next(s for s in app.select_slider if s.label.startswith("Frame shown"))
    first_caption = app.image[0].captions[0]
    slider.set_value(0 if slider.value != 0 else 1)
    app.run()
    assert app.image[0].captions[0] != first_caption


@pytest.mark.parametrize("fixture", ["text_file", "truncated_clip", "empty_clip"])
def test_bad_upload_shows_a_message_and_keeps_the_records(
    store: Store, astronaut_clip: Path, fixture: str, request: pytest.FixtureRequest
) -> None:
    app = upload(logged_in("ada", "pages/1_Analyze.py"), astronaut_clip)
    ada = store.get_user("ada")
    assert ada is not None and store.count_analyses(ada.id) == 1
    bad: Path = request.getfixturevalue(fixture)
    upload(app, bad, "suspect.mp4")
    assert not app.exception
    message = " ".join(e.value for e in app.error)
    assert "Could not analyse the file: suspect.mp4" in message
    assert "Traceback" not in message
    assert "Assessment:" not in markdown(app)
    assert store.count_analyses(ada.id) == 1


def test_no_face_clip_abstains(store: Store, blank_clip: Path) -> None:
    app = upload(logged_in("ada", "pages/1_Analyze.py"), blank_clip)
    assert "No face found: no assessment" in markdown(app)
    assert "Face texture (CNN-LSTM) could not judge this clip: no face found" in markdown(app)
    assert any("no face was found" in i.value.lower() for i in app.info)


def history_links(app: AppTest) -> dict[str, str]:
    """The History rows' links: label -> query string."""
    return {link.proto.label: link.proto.query_string for link in app.main.get("page_link")}


def open_linked(app: AppTest, analysis_id: int | str) -> AppTest:
    """Analyze opened from a link (or a reload) that names an analysis."""
    app.switch_page("pages/1_Analyze.py")
    app.query_params[ANALYSIS_PARAM] = str(analysis_id)
    return app.run()


def test_history_lists_only_my_analyses_and_links_to_one(store: Store, astronaut_clip: Path, blank_clip: Path) -> None:
    upload(logged_in("bob", "pages/1_Analyze.py"), blank_clip, "bobs-secret.mp4")
    app = upload(logged_in("ada", "pages/1_Analyze.py"), astronaut_clip, "adas.mp4")
    ada = store.get_user("ada")
    assert ada is not None
    (mine,) = store.list_analyses(ada.id)
    assert app.query_params[ANALYSIS_PARAM] == str(mine.id)  # the URL names what is shown
    open_page("pages/4_History.py", app)
    assert history_links(app) == {"Open adas.mp4": f"{ANALYSIS_PARAM}={mine.id}"}
    assert any(mine.sha256[:12] in c.value for c in app.caption)  # the hash prefix
    app = open_linked(logged_in("ada"), mine.id)  # a reload: a new session, the same account
    assert "Assessment:" in markdown(app)
    assert "Showing **adas.mp4** from your history." in " ".join(c.value for c in app.caption)


def test_a_link_to_another_users_analysis_shows_nothing_of_it(store: Store, astronaut_clip: Path) -> None:
    upload(logged_in("ada", "pages/1_Analyze.py"), astronaut_clip, "adas.mp4")
    ada = store.get_user("ada")
    assert ada is not None
    (mine,) = store.list_analyses(ada.id)
    for value in (mine.id, "not-a-number"):
        app = open_linked(logged_in("bob"), value)
        assert "Assessment:" not in markdown(app) and "adas.mp4" not in markdown(app)
        if value == mine.id:
            assert any("not in your history" in w.value for w in app.warning)


def test_history_filters_by_name_and_verdict(store: Store, astronaut_clip: Path, blank_clip: Path) -> None:
    app = upload(logged_in("ada", "pages/1_Analyze.py"), astronaut_clip, "interview.mp4")
    upload(app, blank_clip, "street.mp4")
    open_page("pages/4_History.py", app)
    assert set(history_links(app)) == {"Open interview.mp4", "Open street.mp4"}
    next(t for t in app.text_input if t.label == "File name contains").input("STREET")
    app.run()
    assert set(history_links(app)) == {"Open street.mp4"}
    next(t for t in app.text_input if t.label == "File name contains").input("")
    next(m for m in app.multiselect if m.label == "Assessment").set_value(["no_face"])
    app.run()
    assert set(history_links(app)) == {"Open street.mp4"}
    next(t for t in app.text_input if t.label == "File name contains").input("interview")
    app.run()
    assert not history_links(app) and any("matches these filters" in i.value for i in app.info)


def test_history_delete_asks_then_deletes_only_mine(store: Store, astronaut_clip: Path) -> None:
    bob_app = upload(logged_in("bob", "pages/1_Analyze.py"), astronaut_clip, "same.mp4")
    app = upload(logged_in("ada", "pages/1_Analyze.py"), astronaut_clip, "same.mp4")
    ada, bob = store.get_user("ada"), store.get_user("bob")
    assert ada is not None and bob is not None
    open_page("pages/4_History.py", app)
    next(b for b in app.button if b.label == "Delete same.mp4").click()
    app.run()
    assert store.count_analyses(ada.id) == 1  # nothing happens before the confirmation
    next(b for b in app.button if b.label == "Yes, delete").click()
    app.run()
    assert store.count_analyses(ada.id) == 0
    assert store.count_analyses(bob.id) == 1
    assert any("Deleted the analysis of same.mp4" in s.value for s in app.success)
    # Bob's analysis shares the stored result, which must survive Ada's delete.
    (bobs,) = store.list_analyses(bob.id)
    assert "Assessment:" in markdown(open_linked(bob_app, bobs.id))


def test_lab_switches_rules_and_temperature(store: Store, astronaut_clip: Path) -> None:
    app = upload(logged_in("ada", "pages/1_Analyze.py"), astronaut_clip)
    open_page("pages/3_Attention_lab.py", app)
    assert not app.exception
    assert "How certainty-based attention works" in markdown(app) and "Calibration" in markdown(app)
    radio = next(r for r in app.radio if r.label == "Aggregation rule")
    assert radio.value == "full_model"  # it opens on the number the Analyze page shows
    analyze_number = next(m.value for m in open_page("pages/1_Analyze.py", app).metric if m.label == VIDEO_PROBABILITY)
    open_page("pages/3_Attention_lab.py", app)
    assert app.metric[0].value == analyze_number
    radio = next(r for r in app.radio if r.label == "Aggregation rule")
    assert list(radio.options) == [
        "Mean of all face frames",
        "Maximum (the most suspicious frame)",
        "Confident strategy (DFDC winner)",
        "Certainty attention (weighted mean)",
        "Full model (attention + LSTM)",
    ]
    values = {}
    for rule in ("mean", "max", "full_model"):
        radio = next(r for r in app.radio if r.label == "Aggregation rule")
        radio.set_value(rule)
        app.run()
        assert not app.exception
        values[rule] = app.metric[0].value
    assert values["mean"] != values["max"]
    slider = next(s for s in app.slider if s.label == "Attention temperature")
    assert not slider.disabled
    weights_before = app.get("plotly_chart")[0].proto.spec
    slider.set_value(0.05)
    app.run()
    assert app.get("plotly_chart")[0].proto.spec != weights_before  # the weights moved
    assert app.table[0].value.shape[0] == 5


def test_compare_puts_two_clips_side_by_side(store: Store, astronaut_clip: Path, blank_clip: Path) -> None:
    app = logged_in("ada", "pages/2_Compare.py")
    upload(app, astronaut_clip, "original.mp4", index=0)
    upload(app, blank_clip, "edit.mp4", index=1)
    assert not app.exception
    assert len(app.get("plotly_chart")) == 2
    assert "Clip A: original.mp4" in markdown(app) and "Clip B: edit.mp4" in markdown(app)
    table = app.table[-1].value
    assert list(table.columns) == ["Clip A", "Clip B"]
    assert table.loc["Frames with a face", "Clip B"].startswith("0 of")
    assert any(w.value.startswith("Few faces: only 0 of") for w in app.warning)  # clip B's warning, under it
    axis = next(c for c in app.get("segmented_control") if c.proto.label == "Time axis")
    assert axis is not None
    charts = [json.loads(c.proto.spec) for c in app.get("plotly_chart")]
    titles = {c["layout"]["xaxis2"]["title"]["text"] for c in charts}
    assert len(titles) == 1  # both clips on the same kind of axis


def test_compare_does_not_put_the_same_clip_on_both_sides_by_default(store: Store, astronaut_clip: Path) -> None:
    app = upload(logged_in("ada", "pages/1_Analyze.py"), astronaut_clip)
    open_page("pages/2_Compare.py", app)
    picks = {s.label: s.value for s in app.selectbox if "from your history" in s.label}
    assert picks["…or pick clip A from your history"] is not None
    assert picks["…or pick clip B from your history"] is None
    assert any("Choose two clips" in i.value for i in app.info)
    assert not app.get("plotly_chart")


def page_text(app: AppTest) -> str:
    """Every label and value the page shows, as one string."""
    return str(app._tree)


def test_another_users_upload_of_the_same_clip_learns_nothing(store: Store, astronaut_clip: Path) -> None:
    """Row 5: Bob uploads the clip Ada analysed: no "stored result" note, no trace of Ada's file name."""
    upload(logged_in("ada", "pages/1_Analyze.py"), astronaut_clip, "ada-source-interview.mp4")
    bob = upload(logged_in("bob", "pages/1_Analyze.py"), astronaut_clip, "bob.mp4")
    text = page_text(bob)
    assert "bob.mp4: analysed in" in text
    assert "stored result" not in text and "before" not in text
    assert "ada-source-interview" not in text
    again = upload(logged_in("ada", "pages/1_Analyze.py"), astronaut_clip, "ada-source-interview.mp4")
    assert "you analysed this file with these settings before" in page_text(again)  # her own history only


def test_a_still_image_renamed_mp4_gets_one_clear_message(store: Store, tmp_path: Path) -> None:
    """Row 12 through the upload page."""
    import cv2
    from skimage import data as skimage_data

    still = tmp_path / "photo.mp4"
    still.write_bytes(cv2.imencode(".png", skimage_data.astronaut()[:, :, ::-1])[1].tobytes())
    app = upload(logged_in("ada", "pages/1_Analyze.py"), still)
    assert not app.exception
    assert [e.value for e in app.error] == [
        "Could not analyse the file: photo.mp4: this is not a video file (its content is a PNG image); "
        "upload a video (mp4, avi, mov, mkv or webm)."
    ]
    assert "Assessment:" not in markdown(app)


def test_a_sample_of_the_hostile_corpus_through_the_upload_page(
    store: Store, tmp_path: Path, astronaut_clip: Path
) -> None:
    """One file of every kind: each shows a verdict or one error line, never a traceback; the page keeps serving."""
    from tests.hostile_media import build_corpus

    corpus = build_corpus(tmp_path / "hostile")
    sample = {item.kind: item for item in corpus}.values()  # the last file of each kind
    app = logged_in("ada", "pages/1_Analyze.py")
    for item in sample:
        upload(app, item.path, item.path.name)
        assert not app.exception, item.path.name
        shown = [e.value for e in app.error]
        verdict = "Assessment:" in markdown(app)
        assert verdict or (shown == [shown[0]] and shown[0].startswith(f"Could not analyse the file: {item.path.name}"))
        assert all("\n" not in message and "Traceback" not in message for message in shown)
    upload(app, astronaut_clip, "after-the-storm.mp4")
    assert "Assessment:" in markdown(app)
    assert not [e.value for e in app.error if "Could not analyse" in e.value]

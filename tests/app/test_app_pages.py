"""Every page enforces login itself; a logged-in session sees the page's content."""

from __future__ import annotations

import pytest

from dashboard.settings import AppSettings
from dashboard.store import Store
from tests.app.apptest_helpers import PAGES, logged_in, open_page, shows_login_only, titles
from tests.dashboard.builders import fast_settings, make_user

pytest_plugins = ["tests.dashboard.support"]


@pytest.fixture
def user(app_env: AppSettings) -> str:
    store = Store(app_env.database_path)
    return make_user(store, fast_settings(app_env.data_dir), "ada").username


@pytest.mark.parametrize("page", list(PAGES))
def test_anonymous_session_sees_only_the_login(app_env: AppSettings, page: str) -> None:
    app = open_page(page)
    assert not app.exception
    assert shows_login_only(app)
    if page != "Home.py":
        assert PAGES[page] not in titles(app)


@pytest.mark.parametrize("page", list(PAGES))
def test_logged_in_session_sees_the_page(app_env: AppSettings, user: str, page: str) -> None:
    app = logged_in(user, page)
    assert not app.exception
    assert PAGES[page] in titles(app)
    assert not app.tabs or [t.label for t in app.tabs] != ["Log in", "Create an account"]
    sidebar = " ".join(t.value for t in app.sidebar.text)
    assert "Ada Reporter" in sidebar


def test_home_lists_the_pages(app_env: AppSettings, user: str) -> None:
    app = logged_in(user)
    pages = ["Analyze a clip", "Compare two clips", "Attention lab", "History", "Model card", "Account"]
    assert [link.label for link in app.main.get("page_link")] == pages
    assert [link.label for link in app.sidebar.get("page_link")] == ["Home", *pages]  # the menu, after login


def test_anonymous_visitor_gets_no_menu(app_env: AppSettings) -> None:
    assert not open_page("pages/4_History.py").get("page_link")


def test_analyze_offers_the_upload_with_the_allowed_types(app_env: AppSettings, user: str) -> None:
    app = logged_in(user, "pages/1_Analyze.py")
    allowed = set(app.file_uploader[0].allowed_type)
    assert {".mp4", ".avi", ".mov", ".mkv", ".webm"} <= allowed  # Streamlit adds the .mpeg4 alias
    assert not allowed & {".gif", ".txt", ".exe"}


def test_model_card_says_the_model_is_untrained_and_what_is_missing(app_env: AppSettings, user: str) -> None:
    app = logged_in(user, "pages/5_Model_card.py")
    errors = " ".join(e.value for e in app.error)
    assert "No trained model is installed" in errors
    warnings = " ".join(w.value for w in app.warning)
    assert "MODEL_CARD.md" in warnings


def test_model_card_of_the_shipped_model_shows_its_skill_card_and_figures(
    app_env: AppSettings, user: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pathlib import Path

    from dashboard.engine import Engine
    from dashboard.ui import runtime
    from pipeline.faces.registry import create_detector
    from pipeline.model.storage import load_detector
    from pipeline.scoring.scorer import Scorer
    from pipeline.settings import DEFAULT_MODEL_PATH, Settings

    shipped = Path(DEFAULT_MODEL_PATH)
    if not shipped.exists():
        pytest.skip("no trained model in models/")
    settings = Settings().with_overrides(detector="haar")
    engine = Engine(Scorer(settings, load_detector(shipped), create_detector("haar")))
    monkeypatch.setattr(runtime, "ENGINE_FACTORY", lambda: engine)
    app = logged_in(user, "pages/5_Model_card.py")
    assert not app.exception
    assert not any("No trained model" in e.value for e in app.error)
    text = " ".join(m.value for m in app.markdown)
    assert "Model card: certainty-attention" in text and "![" not in text
    assert "<!--" not in text  # the generated-figure markers stay out of the page
    signals = [t for t in app.table if "Leave-families-out AUC" in t.value.columns]
    assert len(signals) == 1 and signals[0].value.index.tolist() == ["Face texture (CNN-LSTM)"]
    assert signals[0].value.iloc[0]["Val AUC (loaded model)"].startswith("0.7")
    images = app.get("image")
    assert len(images) >= 3  # the reliability diagram, and the card's training curve and diagram


def test_a_name_with_markdown_is_shown_as_text_not_rendered(app_env: AppSettings) -> None:
    """A full name with Markdown image syntax must not make the browser fetch an outside URL."""
    from dashboard.accounts import register
    from tests.dashboard.builders import registration

    settings = fast_settings(app_env.data_dir)
    store = Store(app_env.database_path)
    name = "Eve ![x](http://example.invalid/p.png) _under_score_"
    user, errors = register(store, registration("eve", full_name=name), settings)
    assert user is not None, errors
    app = logged_in("eve")
    greeting = next(m.value for m in app.markdown if "Welcome" in m.value)
    assert "![x](" not in greeting and "\\!\\[x\\]\\(http" in greeting
    assert "\\_under\\_score\\_" in greeting

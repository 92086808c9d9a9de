"""Driving the app with Streamlit's AppTest: open a page, log in through the real form."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from tests.dashboard.builders import PASSWORD

REPO = Path(__file__).resolve().parents[2]
HOME = REPO / "Home.py"
PAGES = {
    "Home.py": "Deepfake video verification",
    "pages/1_Analyze.py": "Analyze a clip",
    "pages/2_Compare.py": "Compare two clips",
    "pages/3_Attention_lab.py": "Attention lab",
    "pages/4_History.py": "Your analyses",
    "pages/5_Model_card.py": "Model card",
    "pages/6_Account.py": "Your account",
}
TIMEOUT = 60


def open_page(page: str = "Home.py", app: AppTest | None = None, secrets: dict[str, str] | None = None) -> AppTest:
    """Run a page in a session (a new one unless `app` is given), as a click in the sidebar would."""
    if app is None:
        app = AppTest.from_file(str(HOME), default_timeout=TIMEOUT)
        app.secrets.update(secrets or {})
    if page != "Home.py":
        if not app._tree.children:  # AppTest needs one run before it can switch pages
            app.run()
        app.switch_page(page)
    return app.run()


def submit_login(app: AppTest, username: str, password: str = PASSWORD) -> AppTest:
    fields = {t.label: t for t in app.text_input if t.form_id == "login"}
    fields["User name"].input(username)
    fields["Password"].input(password)
    next(b for b in app.button if b.label == "Log in").click()
    return app.run()


def is_logged_in(app: AppTest) -> bool:
    """Whether the session holds a session token (set by a successful login)."""
    return "session_token" in app.session_state and bool(app.session_state["session_token"])


def logged_in(username: str, page: str = "Home.py", password: str = PASSWORD) -> AppTest:
    """A session logged in through the login form, then showing `page`."""
    app = open_page("Home.py")
    submit_login(app, username, password)
    assert is_logged_in(app)
    return open_page(page, app)


def titles(app: AppTest) -> list[str]:
    return [t.value for t in app.title]


def shows_login_only(app: AppTest) -> bool:
    """The anonymous view: the login and registration tabs, no page of the app."""
    return (
        titles(app) == [PAGES["Home.py"]]
        and [t.label for t in app.tabs] == ["Log in", "Create an account"]
        and not app.file_uploader
        and not app.get("plotly_chart")
        and not app.dataframe
        and not app.table
    )

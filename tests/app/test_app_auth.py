"""Login, lockout, cookies (valid, forged, stale), logout and registration through the real widgets."""

from __future__ import annotations

import time

import jwt
import pytest
from streamlit.testing.v1 import AppTest

from dashboard.settings import AppSettings
from dashboard.store import Store
from tests.app.apptest_helpers import PAGES, logged_in, open_page, shows_login_only, submit_login, titles
from tests.dashboard.builders import PASSWORD, TEST_COOKIE_KEY, fast_settings, make_user, set_browser_cookies

pytest_plugins = ["tests.dashboard.support"]


@pytest.fixture
def store(app_env: AppSettings) -> Store:
    store = Store(app_env.database_path)
    make_user(store, fast_settings(app_env.data_dir), "ada")
    return store


def errors(app: AppTest) -> str:
    return " ".join(e.value for e in app.error)


def cookie(username: str, key: str = TEST_COOKIE_KEY, expires_in: float = 3600) -> str:
    return jwt.encode({"username": username, "exp_date": time.time() + expires_in}, key, algorithm="HS256")


def test_login_with_the_right_password(store: Store) -> None:
    app = open_page()
    submit_login(app, "ada")
    assert app.session_state["authentication_status"] is True
    app.run()
    assert shows_login_only(app) is False
    assert any("Welcome, **Ada Reporter**" in m.value for m in app.markdown)


def test_user_name_is_case_insensitive(store: Store) -> None:
    app = submit_login(open_page(), "  ADA ")
    assert app.session_state["authentication_status"] is True


def test_wrong_password_is_refused_and_counted(store: Store) -> None:
    app = submit_login(open_page(), "ada", "Wrong-password-1")
    assert app.session_state["authentication_status"] is False
    assert "User name or password is incorrect." in errors(app)
    user = store.get_user("ada")
    assert user is not None and user.failed_logins == 1


def test_unknown_user_gets_the_same_message(store: Store) -> None:
    app = submit_login(open_page(), "mallory", PASSWORD)
    assert "User name or password is incorrect." in errors(app)
    assert store.count_users() == 1


def test_five_failures_lock_the_account_even_for_the_right_password(store: Store) -> None:
    app = open_page()
    for _ in range(5):
        submit_login(app, "ada", "Wrong-password-1")
    assert "the account is locked" in errors(app)
    user = store.get_user("ada")
    assert user is not None and user.failed_logins == 5 and user.locked_until is not None
    # A fresh session (another browser) with the right password is refused too: the count is in SQLite.
    other = submit_login(open_page(), "ada", PASSWORD)
    assert other.session_state["authentication_status"] is not True
    assert "locked" in errors(other)
    assert shows_login_only(other)


def test_the_lock_ends_after_the_lockout_time(store: Store) -> None:
    for _ in range(5):
        store.record_failed_login("ada", 5, 900, now=time.time() - 1000)
    app = submit_login(open_page(), "ada", PASSWORD)
    assert app.session_state["authentication_status"] is True
    user = store.get_user("ada")
    assert user is not None and user.failed_logins == 0


def test_a_valid_cookie_logs_in_without_the_form(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    set_browser_cookies(monkeypatch, {"dfd_auth": cookie("ada")})
    app = open_page("pages/4_History.py")
    assert not app.exception
    assert "Your analyses" in titles(app)


def test_the_key_in_st_secrets_wins_over_the_environment(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    secret_key = "from-secrets-toml-" + "s" * 40
    set_browser_cookies(monkeypatch, {"dfd_auth": cookie("ada", key=secret_key)})
    assert "Your analyses" in titles(open_page("pages/4_History.py", secrets={"cookie_key": secret_key}))
    set_browser_cookies(monkeypatch, {"dfd_auth": cookie("ada")})  # signed with the environment's key
    assert shows_login_only(open_page("pages/4_History.py", secrets={"cookie_key": secret_key}))


def test_a_short_configured_key_stops_the_app(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DFD_COOKIE_KEY", "short")
    app = open_page()
    assert "refuses logins" in errors(app)
    assert not app.text_input  # no login form signed with a weak key


@pytest.mark.parametrize(
    "value",
    [
        cookie("ada", key="an-attacker-guessed-this-key-0123456789"),  # wrong signature
        jwt.encode({"username": "ada", "exp_date": time.time() + 3600}, None, algorithm="none"),  # unsigned
        "not-a-jwt-at-all",
        cookie("ada", expires_in=-60),  # expired
        cookie("mallory"),  # correctly signed, but no such user
    ],
    ids=["wrong-key", "alg-none", "garbage", "expired", "unknown-user"],
)
def test_forged_or_stale_cookies_get_only_the_login(store: Store, monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    set_browser_cookies(monkeypatch, {"dfd_auth": value})
    for page in PAGES:
        app = open_page(page)
        assert not app.exception
        assert shows_login_only(app), page
    assert store.count_users() == 1
    user = store.get_user("ada")
    assert user is not None and user.failed_logins == 0


def test_logout_returns_to_the_login(store: Store) -> None:
    app = logged_in("ada", "pages/1_Analyze.py")
    next(b for b in app.sidebar.button if b.label == "Log out").click()
    app.run()
    assert app.session_state["authentication_status"] is None
    assert shows_login_only(app)
    assert any("logged out" in i.value for i in app.info)
    app.run()
    assert shows_login_only(app)


def fill_registration(app: AppTest, **values: object) -> AppTest:
    form = {w.label: w for w in [*app.text_input, *app.text_area] if w.form_id == "register"}
    defaults = {
        "Full name": "Grace Teacher",
        "E-mail": "grace@example.org",
        "Address": "2 School Lane, Leeds",
        "Phone number": "+44 113 496 0000",
        "User name": "grace",
        "Password": "Classroom-42!",
        "Confirm password": "Classroom-42!",
    }
    for label, value in {**defaults, **values}.items():
        if label in form:
            form[label].input(value)
    next(s for s in app.selectbox if s.label == "Gender").set_value(values.get("Gender", "Female"))
    next(n for n in app.number_input if n.label == "Age").set_value(values.get("Age", 41))
    next(b for b in app.button if b.label == "Create account").click()
    return app.run()


def test_registration_creates_an_account_that_can_log_in(store: Store) -> None:
    app = fill_registration(open_page())
    assert any("Account created for **grace**" in s.value for s in app.success)
    assert store.get_user("grace") is not None
    assert store.profile(store.get_user("grace").id)["gender"] == "Female"
    assert submit_login(open_page(), "grace", "Classroom-42!").session_state["authentication_status"] is True


def test_registration_shows_every_problem_and_stores_nothing(store: Store) -> None:
    app = fill_registration(
        open_page(), **{"E-mail": "not-an-email", "Phone number": "12", "Confirm password": "Different-42!", "Age": 9}
    )
    text = errors(app)
    for field in ("E-mail", "Phone", "Age", "Confirm password"):
        assert field in text
    assert store.count_users() == 1


def test_registration_refuses_a_taken_user_name(store: Store) -> None:
    app = fill_registration(open_page(), **{"User name": "ADA"})
    assert "already taken" in errors(app)
    assert store.count_users() == 1

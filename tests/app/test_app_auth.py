"""Login, lockout, session cookies (valid, replayed, forged), logout, the Account page and registration,
all through the real widgets."""

from __future__ import annotations

import time

import jwt
import pytest
from streamlit.testing.v1 import AppTest

from dashboard.accounts import REGISTRATION_DONE
from dashboard.sessions import LOGIN_REFUSED, login_limits, new_token
from dashboard.settings import AppSettings
from dashboard.store import Store
from tests.app.apptest_helpers import (
    PAGES,
    is_logged_in,
    logged_in,
    open_page,
    shows_login_only,
    submit_login,
    titles,
)
from tests.dashboard.builders import PASSWORD, TEST_COOKIE_KEY, fast_settings, make_user, set_browser_cookies

pytest_plugins = ["tests.dashboard.support"]

NEW_PASSWORD = "Violet-Harbour-Lantern-9"


@pytest.fixture
def store(app_env: AppSettings) -> Store:
    store = Store(app_env.database_path)
    make_user(store, fast_settings(app_env.data_dir), "ada")
    return store


def errors(app: AppTest) -> str:
    return " ".join(e.value for e in app.error)


def session_cookie(store: Store, username: str = "ada", lifetime_s: float = 3600) -> str:
    """A live session's token, as the browser's cookie would carry it."""
    user = store.get_user(username)
    assert user is not None
    token = new_token()
    store.create_session(user.id, token, lifetime_s)
    return token


def with_cookie(monkeypatch: pytest.MonkeyPatch, token: str, page: str = "pages/4_History.py") -> AppTest:
    """A new browser (fresh AppTest session) that only has the cookie."""
    set_browser_cookies(monkeypatch, {"dfd_session": token})
    return open_page(page)


def click(app: AppTest, label: str) -> AppTest:
    next(b for b in app.button if b.label == label).click()
    return app.run()


def test_login_with_the_right_password_opens_a_session(store: Store) -> None:
    app = open_page()
    submit_login(app, "ada")
    assert is_logged_in(app)
    app.run()
    assert shows_login_only(app) is False
    assert any("Welcome, **Ada Reporter**" in m.value for m in app.markdown)
    user = store.get_user("ada")
    assert user is not None and store.count_sessions(user.id) == 1
    assert store.session_user(app.session_state["session_token"]) == user


def test_user_name_is_case_insensitive(store: Store) -> None:
    assert is_logged_in(submit_login(open_page(), "  ADA ", PASSWORD))


def test_wrong_password_is_refused_and_counted(store: Store) -> None:
    app = submit_login(open_page(), "ada", "Wrong-password-1")
    assert not is_logged_in(app)
    assert errors(app) == LOGIN_REFUSED
    user = store.get_user("ada")
    assert user is not None and user.failed_logins == 1


def test_unknown_user_gets_the_same_message(store: Store) -> None:
    app = submit_login(open_page(), "mallory", PASSWORD)
    assert errors(app) == LOGIN_REFUSED
    assert store.count_users() == 1


def test_a_locked_account_answers_exactly_like_a_wrong_password(store: Store) -> None:
    """Row 4: the 5th and later failures do not say "locked", so they cannot tell real names from made-up ones."""
    real, invented = open_page(), open_page()
    for _ in range(6):
        submit_login(real, "ada", "Wrong-password-1")
        submit_login(invented, "nobody-here", "Wrong-password-1")
        assert errors(real) == errors(invented) == LOGIN_REFUSED
    user = store.get_user("ada")
    assert user is not None and user.locked_until is not None
    # Another browser with the right password is refused too, in the same words: the count is in SQLite.
    other = submit_login(open_page(), "ada", PASSWORD)
    assert not is_logged_in(other)
    assert errors(other) == LOGIN_REFUSED
    assert shows_login_only(other)


def test_the_lock_ends_after_the_lockout_time(store: Store, app_env: AppSettings) -> None:
    limits = login_limits(app_env)
    for _ in range(5):
        store.finish_login(store.reserve_login("ada", "10.0.0.9", limits, now=time.time() - 1000), succeeded=False)
    app = submit_login(open_page(), "ada", PASSWORD)
    assert is_logged_in(app)


def test_a_live_session_cookie_logs_in_without_the_form(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    app = with_cookie(monkeypatch, session_cookie(store))
    assert not app.exception
    assert "Your analyses" in titles(app)


def test_a_replayed_cookie_is_refused_after_logout(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """Row 1: log in, copy the cookie, log out, replay the copy in another browser."""
    app = logged_in("ada", "pages/1_Analyze.py")
    copied = app.session_state["session_token"]
    assert "Your analyses" in titles(with_cookie(monkeypatch, copied))  # the copy works while logged in
    next(b for b in app.sidebar.button if b.label == "Log out").click()
    app.run()
    assert shows_login_only(app)
    for page in PAGES:
        assert shows_login_only(with_cookie(monkeypatch, copied, page)), page


def test_a_password_change_ends_every_other_session(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows 1-2: a stolen cookie dies when the owner changes the password; the owner's own tab stays in."""
    stolen = session_cookie(store)
    app = logged_in("ada", "pages/6_Account.py")
    form = {t.label: t for t in app.text_input if t.form_id == "change_password"}
    form["Current password"].input(PASSWORD)
    form["New password"].input(NEW_PASSWORD)
    form["Confirm new password"].input(NEW_PASSWORD)
    click(app, "Change password")
    assert any("Password changed" in s.value for s in app.success)
    assert shows_login_only(with_cookie(monkeypatch, stolen))
    assert "Your account" in titles(app.run())  # this tab keeps its session
    assert is_logged_in(submit_login(open_page(), "ada", NEW_PASSWORD))
    assert not is_logged_in(submit_login(open_page(), "ada", PASSWORD))


def test_a_password_change_needs_the_current_password(store: Store) -> None:
    app = logged_in("ada", "pages/6_Account.py")
    form = {t.label: t for t in app.text_input if t.form_id == "change_password"}
    form["Current password"].input("Not-my-password-7")
    form["New password"].input(NEW_PASSWORD)
    form["Confirm new password"].input(NEW_PASSWORD)
    click(app, "Change password")
    assert "current password is not right" in errors(app)
    assert is_logged_in(submit_login(open_page(), "ada", PASSWORD))


def test_sign_out_everywhere_ends_every_session(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    other = session_cookie(store)
    app = logged_in("ada", "pages/6_Account.py")
    click(app, "Sign out everywhere")
    assert shows_login_only(app)
    assert shows_login_only(with_cookie(monkeypatch, other))
    user = store.get_user("ada")
    assert user is not None and store.count_sessions(user.id) == 0


def test_deleting_the_account_removes_it_its_sessions_and_analyses(
    store: Store, app_env: AppSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = session_cookie(store)
    user = store.get_user("ada")
    assert user is not None
    key = "a" * 32 + "_" + "b" * 16
    store.add_analysis(user.id, "clip.mp4", "f" * 64, key, "fake", 0.8, {"frames": 16})
    app = logged_in("ada", "pages/6_Account.py")
    next(t for t in app.text_input if t.form_id == "delete_account").input(PASSWORD)
    next(c for c in app.checkbox if c.label.startswith("Yes, delete")).check()
    click(app, "Delete my account")
    assert shows_login_only(app)
    assert store.get_user("ada") is None
    assert store.count_analyses(user.id) == 0
    assert shows_login_only(with_cookie(monkeypatch, other))
    assert not is_logged_in(submit_login(open_page(), "ada", PASSWORD))


def test_a_session_is_refused_while_the_account_is_locked(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    token = session_cookie(store)
    for _ in range(5):
        submit_login(open_page(), "ada", "Wrong-password-1")
    assert shows_login_only(with_cookie(monkeypatch, token))


def test_an_expired_session_is_refused(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    assert shows_login_only(with_cookie(monkeypatch, session_cookie(store, lifetime_s=-1)))


@pytest.mark.parametrize(
    "cookies",
    [
        {"dfd_session": ""},
        {"dfd_session": "guessed-session-id-0123456789"},
        {"dfd_session": new_token()},  # well formed, never issued
        {"dfd_session": "not a token at all \u0000"},
        # The old signed cookies, even correctly signed with the key, open nothing any more.
        {"dfd_auth": jwt.encode({"username": "ada", "exp_date": time.time() + 3600}, TEST_COOKIE_KEY, "HS256")},
        {"dfd_auth": jwt.encode({"username": "ada", "exp_date": time.time() + 3600}, None, algorithm="none")},
        {"dfd_session": jwt.encode({"username": "ada", "exp_date": time.time() + 3600}, None, algorithm="none")},
    ],
    ids=["empty", "guessed", "never-issued", "garbage", "old-jwt", "old-jwt-alg-none", "jwt-alg-none"],
)
def test_forged_or_stale_cookies_get_only_the_login(
    store: Store, monkeypatch: pytest.MonkeyPatch, cookies: dict[str, str]
) -> None:
    set_browser_cookies(monkeypatch, cookies)
    for page in PAGES:
        app = open_page(page)
        assert not app.exception
        assert shows_login_only(app), page
    assert store.count_users() == 1
    user = store.get_user("ada")
    assert user is not None and user.failed_logins == 0


def test_logout_returns_to_the_login_and_deletes_the_session(store: Store) -> None:
    app = logged_in("ada", "pages/1_Analyze.py")
    token = app.session_state["session_token"]
    next(b for b in app.sidebar.button if b.label == "Log out").click()
    app.run()
    assert not is_logged_in(app)
    assert shows_login_only(app)
    assert any("logged out" in i.value for i in app.info)
    assert store.session_user(token) is None
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
    assert [s.value for s in app.success] == [REGISTRATION_DONE]
    assert store.get_user("grace") is not None
    assert store.profile(store.get_user("grace").id)["gender"] == "Female"
    assert is_logged_in(submit_login(open_page(), "grace", "Classroom-42!"))


def test_registration_shows_every_problem_and_stores_nothing(store: Store) -> None:
    app = fill_registration(
        open_page(), **{"E-mail": "not-an-email", "Phone number": "12", "Confirm password": "Different-42!", "Age": 9}
    )
    text = errors(app)
    for field in ("E-mail", "Phone", "Age", "Confirm password"):
        assert field in text
    assert store.count_users() == 1


@pytest.mark.parametrize(
    "changes", [{"User name": "ADA"}, {"E-mail": "ADA@example.org"}, {}], ids=["taken-name", "taken-email", "new"]
)
def test_registration_answers_the_same_whether_or_not_the_name_or_address_exists(
    store: Store, changes: dict[str, str]
) -> None:
    """Row 4: taken names and addresses get the very words a new account gets; only a new one is stored."""
    app = fill_registration(open_page(), **changes)
    assert [s.value for s in app.success] == [REGISTRATION_DONE]
    assert not app.error
    assert store.count_users() == (1 if changes else 2)


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"Password": "Password123!", "Confirm password": "Password123!"}, "Password"),
        ({"Password": "Qwerty123!", "Confirm password": "Qwerty123!"}, "Password"),
        ({"Password": "aaaaaaaaA1", "Confirm password": "aaaaaaaaA1"}, "Password"),
        ({"Phone number": "//1/2/3//"}, "Phone"),
    ],
    ids=["Password123!", "Qwerty123!", "aaaaaaaaA1", "phone-slashes"],
)
def test_registration_refuses_weak_passwords_and_fake_phone_numbers(
    store: Store, changes: dict[str, str], field: str
) -> None:
    """Row 11."""
    app = fill_registration(open_page(), **changes)
    assert field in errors(app)
    assert store.count_users() == 1


def test_registration_strips_control_characters_from_names(store: Store) -> None:
    """Row 11: NUL and right-to-left overrides never reach the database."""
    fill_registration(open_page(), **{"Full name": "Grace\x00 \u202eTeacher\u200b"})
    user = store.get_user("grace")
    assert user is not None and user.full_name == "Grace Teacher"


def test_anonymous_registration_is_throttled(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """Row 11: a burst of sign-ups from one place stops at the limit."""
    monkeypatch.setenv("DFD_SIGNUPS_PER_ADDRESS", "3")  # the fixture's own registration is the first
    for number in range(2):
        fill_registration(open_page(), **{"User name": f"grace{number}", "E-mail": f"g{number}@example.org"})
    app = fill_registration(open_page(), **{"User name": "grace9", "E-mail": "g9@example.org"})
    assert "Too many new accounts" in errors(app)
    assert store.count_users() == 3

"""Login, registration and logout, enforced by every page itself.

With a `pages/` folder Streamlit runs each page script directly, so a page that forgot to check
would be open to anyone: each page's first call is `page_setup`, which stops the script for an
anonymous visitor after drawing the login and registration forms.

How the pieces fit:
- SQLite (`dashboard.store`) is the source of truth. Each run hands streamlit-authenticator a
  credentials dict built fresh from it; nothing is ever written to the authenticator's YAML.
- streamlit-authenticator draws the login form, checks the bcrypt hash, and signs/reads the
  re-login cookie (a JWT signed with the cookie key).
- Failed logins are counted in SQLite (the authenticator's own counter lives in memory only and
  would reset on every run); at 5 the account is locked for a while, and the authenticator refuses.
- Registration is our own form: the paper's fields are not the authenticator's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import streamlit as st
import streamlit_authenticator as stauth
from streamlit.errors import StreamlitSecretNotFoundError
from streamlit_authenticator.utilities import LoginError

from dashboard.accounts import RegistrationForm, register
from dashboard.cookie_key import CookieKeyError, resolve_cookie_key, verify_cookie_token
from dashboard.settings import APP_NAME, AppSettings
from dashboard.store import Store
from dashboard.theme import ACCESSIBLE_CSS
from dashboard.ui import runtime
from dashboard.ui.navigation import sidebar_menu

LOGIN_FIELDS = {"Form name": "Log in", "Username": "User name", "Password": "Password", "Login": "Log in"}


@dataclass(frozen=True)
class CurrentUser:
    id: int
    username: str
    name: str
    email: str


def page_setup(title: str, icon: str) -> CurrentUser:
    """Configure the page and return the logged-in user; anonymous visitors never get past this."""
    st.set_page_config(page_title=f"{title} · {APP_NAME}", page_icon=icon, layout="wide")
    st.html(ACCESSIBLE_CSS)
    return require_login()


def _secret_cookie_key() -> str | None:
    try:
        value = st.secrets.get("cookie_key")
    except (FileNotFoundError, StreamlitSecretNotFoundError):
        return None
    return str(value) if value else None


def require_login() -> CurrentUser:
    settings = runtime.app_settings()
    store = runtime.get_store(settings)
    try:
        cookie_key = resolve_cookie_key(settings, _secret_cookie_key())
    except CookieKeyError as error:
        st.error(f"The server is misconfigured and refuses logins: {error}")
        st.stop()
    credentials = store.credentials()
    with st.sidebar:  # its invisible cookie component goes there, so the main column never shifts
        authenticator = stauth.Authenticate(
            credentials,
            cookie_name=settings.cookie_name,
            cookie_key=cookie_key,
            cookie_expiry_days=settings.cookie_expiry_days,
            auto_hash=False,
            login_sleep_time=0,  # the cookie is read from the request headers: no component to wait for
        )
    if not st.session_state.get("authentication_status"):
        _login_from_cookie(authenticator, settings.cookie_name, cookie_key)
    if st.session_state.get("authentication_status"):
        user = store.get_user(st.session_state.get("username") or "")
        if user is None:  # the account went away while the session was open
            authenticator.logout(location="unrendered")
        else:
            sidebar_menu()
            with st.sidebar:
                st.markdown(f"Signed in as **{user.full_name}**  \n`{user.username}`")
                # Not key="logout": the authenticator keeps its own flag under that session-state name.
                authenticator.logout(button_name="Log out", location="sidebar", key="logout_button")
            if st.session_state.get("authentication_status"):
                return CurrentUser(id=user.id, username=user.username, name=user.full_name, email=user.email)
            st.session_state["logged_out_notice"] = True
    _anonymous_view(authenticator, store, settings, credentials)
    if st.session_state.get("authentication_status"):
        # Logged in by this run's form. The authenticator has just sent the component that writes the
        # cookie; when it has, it reruns the page, which then draws without the forms above.
        st.success("Logged in. Opening the app…")
    st.stop()


def _login_from_cookie(authenticator: stauth.Authenticate, cookie_name: str, cookie_key: str) -> None:
    """Re-login from a valid cookie without drawing anything; any other cookie is ignored for the session.

    Setting the authenticator's `logout` flag makes it skip cookies for the rest of the session.
    """
    token = st.context.cookies.get(cookie_name)
    if token is None:
        return
    if verify_cookie_token(token, cookie_key) is None:
        st.session_state["logout"] = True  # forged, unsigned, expired or malformed
        return
    try:
        authenticator.login(location="unrendered")
    except LoginError:
        # Correctly signed, but for a user who no longer exists.
        st.session_state["logout"] = True
        st.session_state["authentication_status"] = None


def _anonymous_view(
    authenticator: stauth.Authenticate, store: Store, settings: AppSettings, credentials: dict[str, Any]
) -> None:
    st.title(APP_NAME)
    st.markdown(
        "Check whether the face in a video clip was manipulated, see which frames the model relied on, "
        "and download a report."
    )
    st.header("Log in or create an account")
    if st.session_state.pop("logged_out_notice", False):
        st.info("You are logged out.")
    login_tab, register_tab = st.tabs(["Log in", "Create an account"])
    with login_tab:
        _login_form(authenticator, store, settings, credentials)
    with register_tab:
        _registration_form(store, settings)


def _login_form(
    authenticator: stauth.Authenticate, store: Store, settings: AppSettings, credentials: dict[str, Any]
) -> None:
    users = dict(credentials["usernames"])  # the same per-user dicts the authenticator updates
    failures_before = {name: int(user.get("failed_login_attempts", 0)) for name, user in users.items()}
    try:
        authenticator.login(
            location="main",
            max_login_attempts=settings.lockout_attempts,
            fields=LOGIN_FIELDS,
            key="login",
            callback=lambda info: store.record_successful_login(info["username"]),
        )
    except LoginError as error:
        if "attempts" in str(error):
            st.error(
                f"This account is locked after {settings.lockout_attempts} failed logins. "
                f"Try again in {settings.lockout_minutes:.0f} minutes."
            )
        else:
            st.error(f"Login refused: {error}")
        return
    for name, user in users.items():
        if int(user.get("failed_login_attempts", 0)) > failures_before[name]:
            count = store.record_failed_login(name, settings.lockout_attempts, settings.lockout_minutes * 60)
            if count >= settings.lockout_attempts:
                st.error(
                    f"That was the {settings.lockout_attempts}th failed login: the account is locked for "
                    f"{settings.lockout_minutes:.0f} minutes."
                )
                return
    if st.session_state.get("authentication_status") is False:
        st.error("User name or password is incorrect.")
    st.caption(f"After {settings.lockout_attempts} failed logins an account is locked for a while.")


def _registration_form(store: Store, settings: AppSettings) -> None:
    with st.form("register", clear_on_submit=False):
        st.subheader("Create an account")
        left, right = st.columns(2)
        full_name = left.text_input("Full name", max_chars=100, autocomplete="name")
        email = right.text_input("E-mail", max_chars=254, autocomplete="email")
        address = st.text_area("Address", max_chars=300, height=68)
        left, middle, right = st.columns(3)
        phone = left.text_input("Phone number", max_chars=25, autocomplete="tel", help="Digits, optional leading +")
        gender = middle.selectbox("Gender", settings.genders, index=None, placeholder="Choose…")
        age = right.number_input(
            "Age", min_value=0, max_value=200, value=None, step=1, placeholder=f"{settings.min_age}–{settings.max_age}"
        )
        username = st.text_input("User name", max_chars=settings.username_max, autocomplete="username")
        left, right = st.columns(2)
        password = left.text_input(
            "Password",
            type="password",
            autocomplete="new-password",
            help=f"At least {settings.password.min_length} characters, mixing "
            f"{settings.password.min_character_classes} of: lower case, upper case, digits, symbols.",
        )
        confirm = right.text_input("Confirm password", type="password", autocomplete="new-password")
        submitted = st.form_submit_button("Create account", type="primary")
    if not submitted:
        return
    form = RegistrationForm(
        full_name=full_name,
        address=address,
        email=email,
        phone=phone,
        gender=gender or "",
        age=None if age is None else int(age),
        username=username,
        password=password,
        confirm_password=confirm,
    )
    user, errors = register(store, form, settings)
    if errors:
        st.error("Please fix the following:\n\n" + "\n".join(f"- {message}" for message in errors.values()))
        return
    assert user is not None
    st.success(f"Account created for **{user.username}**. Log in with your user name in the *Log in* tab.")

"""Login, registration and logout, enforced by every page itself.

With a `pages/` folder Streamlit runs each page script directly, so a page that forgot to check
would be open to anyone: each page's first call is `page_setup`, which stops the script for an
anonymous visitor after drawing the login and registration forms.

How the pieces fit:
- SQLite (`dashboard.store`) holds users and sessions; `dashboard.sessions` does the logic.
- A login opens a session row and keeps its token in this browser tab's session state. The page
  cannot set an HttpOnly cookie itself, so it sends the browser once to `/auth/session` with a
  one-use ticket, and that route (`dashboard.ui.server`) sets the cookie. Every later run checks the
  token against the database, so a deleted session stops working at the next click.
- Registration is our own form: the paper's fields.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from dashboard.accounts import REGISTRATION_DONE, RegistrationForm, register
from dashboard.sessions import log_in, log_out, new_token
from dashboard.settings import APP_NAME, AppSettings
from dashboard.store import Store, User
from dashboard.theme import ACCESSIBLE_CSS
from dashboard.ui import runtime, server
from dashboard.ui.navigation import sidebar_menu

TOKEN = "session_token"


@dataclass(frozen=True)
class CurrentUser:
    id: int
    username: str
    name: str
    email: str
    token: str = ""


def page_setup(title: str, icon: str) -> CurrentUser:
    """Configure the page and return the logged-in user; anonymous visitors never get past this."""
    st.set_page_config(page_title=f"{title} · {APP_NAME}", page_icon=icon, layout="wide")
    st.html(ACCESSIBLE_CSS)
    return require_login()


def client_address() -> str:
    """The browser's address as the server sees it (a proxy's, behind one); rate limits key on it."""
    try:
        return st.context.ip_address or "unknown"
    except (AttributeError, RuntimeError):
        return "unknown"


def _streamlit_session_id() -> str | None:
    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else None


def current_token(settings: AppSettings) -> str | None:
    """This tab's session token, else the browser's cookie."""
    token = st.session_state.get(TOKEN)
    if token:
        return str(token)
    cookie = st.context.cookies.get(settings.cookie_name)
    return cookie or None


def require_login() -> CurrentUser:
    settings = runtime.app_settings()
    store = runtime.get_store(settings)
    token = current_token(settings)
    user = store.session_user(token) if token else None
    if user is None:
        if st.session_state.pop(TOKEN, None):
            st.session_state["ended_notice"] = True
        server.forget_streamlit_session(_streamlit_session_id())
        _anonymous_view(store, settings)
        st.stop()
    assert token is not None
    st.session_state[TOKEN] = token
    server.remember_streamlit_session(_streamlit_session_id(), user.id)
    sidebar_menu()
    with st.sidebar:
        st.text(f"Signed in as {user.full_name}\n{user.username}")  # plain text: a name never becomes a link
        if st.button("Log out", key="logout_button"):
            sign_out(store, token)
    return _current(user, token)


def _current(user: User, token: str) -> CurrentUser:
    return CurrentUser(id=user.id, username=user.username, name=user.full_name, email=user.email, token=token)


def sign_out(store: Store, token: str | None) -> None:
    """End this session on the server, clear the browser's cookie, show the login."""
    log_out(store, token)
    st.session_state.pop(TOKEN, None)
    server.forget_streamlit_session(_streamlit_session_id())
    st.session_state["logged_out_notice"] = True
    st.rerun()


def _navigate(url: str) -> None:
    """Send the browser to one of the server's own routes (the cookie routes in `server`)."""
    if server.routes_active():
        st.html(f"<script>window.location.replace({json.dumps(url)});</script>", unsafe_allow_javascript=True)


def _return_path() -> str:
    """Where the browser was (path only: never another site)."""
    try:
        path = urlsplit(st.context.url or "/").path or "/"
    except (AttributeError, RuntimeError, ValueError):
        path = "/"
    return path if path.startswith("/") and not path.startswith("//") else "/"


def _anonymous_view(store: Store, settings: AppSettings) -> None:
    st.title(APP_NAME)
    st.markdown(
        "Check whether the face in a video clip was manipulated, see which frames the model relied on, "
        "and download a report."
    )
    st.header("Log in or create an account")
    if st.session_state.pop("logged_out_notice", False):
        st.info("You are logged out.")
        _navigate(server.LOGOUT_PATH)  # the route clears the HttpOnly cookie, then comes back here
    elif st.query_params.get(server.SIGNED_OUT_PARAM):
        st.info("You are logged out.")
    if st.session_state.pop("ended_notice", False):
        st.info("Your session has ended (signed out, password changed or expired). Please log in again.")
    login_tab, register_tab = st.tabs(["Log in", "Create an account"])
    with login_tab:
        _login_form(store, settings)
    with register_tab:
        _registration_form(store, settings)


def _login_form(store: Store, settings: AppSettings) -> None:
    with st.form("login"):
        st.subheader("Log in")
        username = st.text_input("User name", autocomplete="username")
        password = st.text_input("Password", type="password", autocomplete="current-password")
        submitted = st.form_submit_button("Log in", type="primary")
    st.caption(f"After {settings.lockout_attempts} failed logins an account is paused for a while.")
    if not submitted:
        return
    outcome = log_in(store, username, password, client_address(), settings)
    if outcome.token is None or outcome.user is None:
        st.error(outcome.message)
        return
    st.session_state[TOKEN] = outcome.token
    ticket = new_token()
    store.add_login_ticket(ticket, outcome.token, settings.login_ticket_s)
    st.success("Logged in. Opening the app…")
    if server.routes_active():
        _navigate(f"{server.SESSION_PATH}?ticket={quote(ticket)}&next={quote(_return_path())}")
    else:
        st.rerun()


def _registration_form(store: Store, settings: AppSettings) -> None:
    with st.form("register", clear_on_submit=False):
        st.subheader("Create an account")
        left, right = st.columns(2)
        full_name = left.text_input("Full name", max_chars=100, autocomplete="name")
        email = right.text_input("E-mail", max_chars=254, autocomplete="email")
        address = st.text_area("Address", max_chars=300, height=68)
        left, middle, right = st.columns(3)
        phone = left.text_input(
            "Phone number", max_chars=25, autocomplete="tel", help="With the country code, e.g. +49 30 1234567"
        )
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
            f"{settings.password.min_character_classes} of: lower case, upper case, digits, symbols; "
            "not a common password. A phrase of unrelated words is best.",
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
    _user, errors = register(store, form, settings, client_address())
    if errors:
        st.error("Please fix the following:\n\n" + "\n".join(f"- {message}" for message in errors.values()))
        return
    st.success(REGISTRATION_DONE)

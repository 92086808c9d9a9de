"""The Account page's sections, one small function each, so a new section is one more call in the page."""

from __future__ import annotations

import streamlit as st

from dashboard.sessions import change_password, delete_account
from dashboard.settings import AppSettings
from dashboard.store import Store
from dashboard.ui import runtime
from dashboard.ui.auth import CurrentUser, sign_out


def profile_section(user: CurrentUser, store: Store) -> None:
    """Who is signed in, as plain text (names are never rendered as Markdown)."""
    st.subheader("Profile")
    profile = store.profile(user.id)
    st.text(f"User name: {user.username}\nName: {user.name}\nE-mail: {user.email}\nPhone: {profile.get('phone', '')}")


def change_password_section(user: CurrentUser, store: Store, app: AppSettings) -> None:
    """A new password (the current one is asked first); every other session of the account ends."""
    st.subheader("Change password")
    with st.form("change_password", clear_on_submit=True):
        old = st.text_input("Current password", type="password", autocomplete="current-password")
        new = st.text_input("New password", type="password", autocomplete="new-password")
        confirm = st.text_input("Confirm new password", type="password", autocomplete="new-password")
        submitted = st.form_submit_button("Change password")
    if not submitted:
        return
    account = store.session_user(user.token)
    if account is None:
        st.error("Your session has ended; please log in again.")
        return
    problems = change_password(store, account, user.token, old, new, confirm, app)
    if problems:
        st.error(" ".join(problems))
    else:
        st.success("Password changed. Every other session of this account has been signed out.")


def sessions_section(user: CurrentUser, store: Store) -> None:
    """Sign out every browser that holds a session of this account, this one included."""
    st.subheader("Sessions")
    count = store.count_sessions(user.id)
    st.caption(f"This account is signed in {count} time{'s' if count != 1 else ''} (browsers and devices).")
    if st.button("Sign out everywhere", key="sign_out_everywhere"):
        store.delete_sessions(user.id)
        sign_out(store, user.token)


def delete_account_section(user: CurrentUser, store: Store, app: AppSettings) -> None:
    """Delete the account, its sessions, its analyses and their stored results, after the password."""
    st.subheader("Delete account")
    st.caption("Deletes your account, your history and the stored results of your analyses. This cannot be undone.")
    with st.form("delete_account", clear_on_submit=True):
        password = st.text_input("Password", type="password", autocomplete="current-password")
        confirmed = st.checkbox("Yes, delete my account and all my analyses")
        submitted = st.form_submit_button("Delete my account", type="primary")
    if not submitted:
        return
    if not confirmed:
        st.error("Tick the box to confirm.")
        return
    account = store.session_user(user.token)
    results = runtime.get_results(app)
    if account is None or not delete_account(store, account, password, app, on_orphan=results.delete):
        st.error("The password is not right; nothing was deleted.")
        return
    sign_out(store, user.token)

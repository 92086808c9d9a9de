"""The Account page's API tokens section: create a token (shown once), list and revoke them."""

from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st

from dashboard.api_tokens import TokenStore
from dashboard.store import Store
from dashboard.ui.auth import CurrentUser

NEW_TOKEN_KEY = "api_token_just_created"


def _when(timestamp: float | None) -> str:
    if timestamp is None:
        return "never"
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M UTC")


def api_tokens_section(user: CurrentUser, store: Store) -> None:
    """Tokens let newsroom tools call the REST API as this user; each sees only this user's analyses."""
    tokens = TokenStore(store)
    st.subheader("API tokens")
    st.caption(
        "A token lets a newsroom tool (a CMS plug-in, a script) submit clips and read results through the "
        "REST API as you. It sees only your analyses. Revoke a token as soon as a tool no longer needs it."
    )
    with st.form("create_api_token", clear_on_submit=True):
        name = st.text_input("Token name", max_chars=60, placeholder="e.g. CMS plug-in")
        if st.form_submit_button("Create token", icon=":material/key:"):
            _, token = tokens.create(user.id, name)
            st.session_state[NEW_TOKEN_KEY] = token
    new_token = st.session_state.get(NEW_TOKEN_KEY)
    if new_token:
        st.success("Token created. Copy it now: it is shown only once and stored only as a hash.")
        st.code(new_token, language=None)
    listed = tokens.list(user.id)
    if not listed:
        st.info("You have no API tokens.")
        return
    for record in listed:
        left, right = st.columns([4, 1])
        state = "active" if record.active else f"revoked {_when(record.revoked_at)}"
        left.markdown(
            f"**{record.name}** · `{record.hint}…` · created {_when(record.created_at)} · "
            f"last used {_when(record.last_used_at)} · {state}"
        )
        if record.active and right.button("Revoke", key=f"revoke_token_{record.id}", icon=":material/block:"):
            tokens.revoke(user.id, record.id)
            st.session_state.pop(NEW_TOKEN_KEY, None)
            st.rerun()

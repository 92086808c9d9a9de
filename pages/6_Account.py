"""Account: change the password, sign out everywhere, delete the account and its analyses."""

import streamlit as st

from dashboard.ui import runtime
from dashboard.ui.account import change_password_section, delete_account_section, profile_section, sessions_section
from dashboard.ui.api_tokens import api_tokens_section
from dashboard.ui.auth import page_setup

user = page_setup("Account", ":material/manage_accounts:")
app = runtime.app_settings()
store = runtime.get_store(app)

st.title("Your account")
profile_section(user, store)
change_password_section(user, store, app)
sessions_section(user, store)
api_tokens_section(user, store)
delete_account_section(user, store, app)

"""The app's pages and the sidebar menu, drawn only for a logged-in user."""

from __future__ import annotations

from typing import NamedTuple

import streamlit as st


class AppPage(NamedTuple):
    path: str
    label: str
    icon: str
    summary: str


HOME = AppPage("Home.py", "Home", ":material/home:", "Your recent analyses.")
PAGES = (
    AppPage(
        "pages/1_Analyze.py", "Analyze a clip", ":material/search:", "Upload a video: verdict, timeline, faces, report."
    ),
    AppPage("pages/2_Compare.py", "Compare two clips", ":material/compare:", "An original next to a suspected edit."),
    AppPage(
        "pages/3_Attention_lab.py", "Attention lab", ":material/science:", "How combining frames changes a verdict."
    ),
    AppPage("pages/4_History.py", "History", ":material/history:", "Your past analyses: reopen or delete them."),
    AppPage("pages/5_Model_card.py", "Model card", ":material/description:", "What the model is and where it fails."),
    AppPage("pages/6_Account.py", "Account", ":material/manage_accounts:", "Password, sessions, API tokens, deletion."),
)


def sidebar_menu() -> None:
    """Links to every page. Streamlit's own menu is off (`client.showSidebarNavigation`), so a visitor who
    is not logged in meets no links that only lead back to the login."""
    with st.sidebar, st.container(key="app_menu"):
        for page in (HOME, *PAGES):
            st.page_link(page.path, label=page.label, icon=page.icon)

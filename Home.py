"""Entry point (`streamlit run Home.py`): login and registration, then a map of the app."""

import streamlit as st

from dashboard.history import ANALYSIS_PARAM
from dashboard.settings import APP_NAME
from dashboard.ui import runtime
from dashboard.ui.auth import page_setup
from dashboard.ui.components import analysis_label
from dashboard.ui.navigation import PAGES
from dashboard.wording import plain_markdown

user = page_setup("Home", ":material/home:")

st.title(APP_NAME)
st.markdown(
    f"Welcome, **{plain_markdown(user.name)}**. Upload a clip and get an honest verdict you can explain: a calibrated "
    "probability, the faces the model looked at, and how much each frame counted."
)

columns = st.columns(len(PAGES))
for column, page in zip(columns, PAGES, strict=True):
    with column, st.container(border=True, height=150):
        st.page_link(page.path, label=page.label, icon=page.icon)
        st.caption(page.summary)

app = runtime.app_settings()
recent = runtime.get_store(app).list_analyses(user.id, limit=5)
st.header("Your recent analyses")
if recent:
    for analysis in recent:  # each opens its analysis on Analyze, with a link that survives a reload
        st.page_link(
            "pages/1_Analyze.py",
            label=plain_markdown(analysis_label(analysis)),
            query_params={ANALYSIS_PARAM: str(analysis.id)},
        )
else:
    st.info("No analyses yet: start on the **Analyze a clip** page.")

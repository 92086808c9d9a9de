"""Entry point (`streamlit run Home.py`): login and registration, then a map of the app."""

import streamlit as st

from dashboard.settings import APP_NAME
from dashboard.ui import runtime
from dashboard.ui.auth import page_setup
from dashboard.ui.components import analysis_label

user = page_setup("Home", ":material/home:")

st.title(APP_NAME)
st.markdown(
    f"Welcome, **{user.name}**. Upload a clip and get an honest verdict you can explain: a calibrated "
    "probability, the faces the model looked at, and how much each frame counted."
)

PAGES = (
    ("pages/1_Analyze.py", "Analyze a clip", ":material/search:", "Upload a video: verdict, timeline, faces, report."),
    ("pages/2_Compare.py", "Compare two clips", ":material/compare:", "An original next to a suspected edit."),
    ("pages/3_Attention_lab.py", "Attention lab", ":material/science:", "How combining frames changes a verdict."),
    ("pages/4_History.py", "History", ":material/history:", "Your past analyses: reopen or delete them."),
    ("pages/5_Model_card.py", "Model card", ":material/description:", "What the model is and where it fails."),
)
columns = st.columns(len(PAGES))
for column, (path, label, icon, text) in zip(columns, PAGES, strict=True):
    with column, st.container(border=True, height=150):
        st.page_link(path, label=label, icon=icon)
        st.caption(text)

app = runtime.app_settings()
recent = runtime.get_store(app).list_analyses(user.id, limit=5)
st.subheader("Your recent analyses")
if recent:
    st.markdown("\n".join(f"- {analysis_label(a)}" for a in recent))
else:
    st.info("No analyses yet: start on the **Analyze a clip** page.")

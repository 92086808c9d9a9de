"""Analyze: upload a clip, watch each stage, read the verdict, timeline, faces and quality, download reports.

The URL names the analysis shown (`?analysis=12`), so a reload or a link shared with the same account
reopens it.
"""

import streamlit as st

from dashboard.history import ANALYSIS_PARAM, analysis_id_from_query
from dashboard.ui import runtime
from dashboard.ui.auth import page_setup
from dashboard.ui.components import (
    CURRENT,
    analyse_link,
    analyse_upload,
    analysis_settings_sidebar,
    full_result_view,
    open_analysis,
    video_uploader,
)

user = page_setup("Analyze", ":material/search:")
app = runtime.app_settings()

st.title("Analyze a clip")
engine = runtime.get_engine()
frames, detector = analysis_settings_sidebar(engine, app)

linked = analysis_id_from_query(st.query_params.get(ANALYSIS_PARAM))
if linked is not None:
    st.session_state[CURRENT] = linked
uploaded = video_uploader("Upload a video (mp4, avi, mov, mkv or webm)", key="analyze_upload")
if uploaded is not None:
    analysis_id = analyse_upload(uploaded, engine, user, frames, detector)
    if analysis_id is not None:
        st.session_state[CURRENT] = analysis_id
    else:
        st.session_state.pop(CURRENT, None)

with st.form("link_form", clear_on_submit=False, border=False):
    url = st.text_input(
        "Or paste a link to a video (http or https)",
        placeholder="https://…",
        help="The server fetches it with yt-dlp, within a size and length cap. Links to private or local network "
        "addresses are refused.",
    )
    if st.form_submit_button("Analyse link", icon=":material/link:") and url.strip():
        analysis_id = analyse_link(url.strip(), engine, user, frames, detector)
        if analysis_id is not None:
            st.session_state[CURRENT] = analysis_id

current = st.session_state.get(CURRENT)
opened = open_analysis(user, current) if current is not None else None
if opened is not None:
    st.query_params[ANALYSIS_PARAM] = str(current)
elif linked is not None:
    st.query_params.pop(ANALYSIS_PARAM, None)
    st.session_state.pop(CURRENT, None)
    st.warning("That analysis is not in your history: it was deleted, or it belongs to another account.")
if opened is None:
    st.info(
        "Upload a clip to start. The analysis samples frames, finds the main face, scores each face crop "
        "and weighs the frames by how certain the model is. A 10-second clip takes a few seconds."
    )
else:
    if uploaded is None:
        st.caption(f"Showing **{opened.analysis.file_name}** from your history.")
    full_result_view(opened, app)

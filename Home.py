"""Dashboard entry point. The full app (login, upload, charts) is the dashboard issue's work."""

import streamlit as st

st.set_page_config(page_title="Deepfake verification", page_icon="🔎", layout="wide")
st.title("Deepfake video verification")
st.info(
    "The dashboard is coming. Until then, score clips from the command line: "
    "`python -m pipeline score --json CLIP.mp4`."
)

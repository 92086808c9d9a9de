"""History: the user's own past analyses; reopen one or delete one. Never another user's."""

import streamlit as st

from dashboard.ui import runtime
from dashboard.ui.auth import page_setup
from dashboard.ui.components import CURRENT, format_when
from dashboard.wording import any_verdict_label

user = page_setup("History", ":material/history:")
app = runtime.app_settings()
store = runtime.get_store(app)
results = runtime.get_results(app)

st.title("Your analyses")
notice = st.session_state.pop("history_notice", None)
if notice:
    st.success(notice)
total = store.count_analyses(user.id)
if total == 0:
    st.info("You have no analyses yet. Upload a clip on the **Analyze a clip** page.")
    st.stop()

pages = (total + app.history_page_size - 1) // app.history_page_size
page = 1
if pages > 1:
    page = int(st.number_input(f"Page (of {pages})", min_value=1, max_value=pages, value=1, step=1))
analyses = store.list_analyses(user.id, limit=app.history_page_size, offset=(page - 1) * app.history_page_size)
st.caption(f"{total} analyses, newest first. Only you can see them.")

WIDTHS = [1.7, 2.6, 2.1, 1.2, 1.1, 1.1]
header = st.columns(WIDTHS)
for cell, label in zip(header, ("Date", "File", "Assessment", "Probability"), strict=False):
    cell.markdown(f"**{label}**")
pending = st.session_state.get("pending_delete")
for analysis in analyses:
    date, name, verdict, probability, reopen, delete = st.columns(WIDTHS, vertical_alignment="center")
    date.write(format_when(analysis.created_at))
    name.write(analysis.file_name)
    verdict.write(any_verdict_label(analysis.verdict))
    probability.write("—" if analysis.probability is None else f"{100 * analysis.probability:.1f}%")
    if reopen.button("Open", key=f"reopen_{analysis.id}", help=f"Reopen {analysis.file_name} on the Analyze page"):
        st.session_state[CURRENT] = analysis.id
        st.switch_page("pages/1_Analyze.py")
    if delete.button("Delete", key=f"delete_{analysis.id}", help=f"Delete the analysis of {analysis.file_name}"):
        st.session_state["pending_delete"] = analysis.id
        pending = analysis.id
    if pending == analysis.id:
        with st.container(border=True):
            st.warning(f"Delete the analysis of **{analysis.file_name}**? Its stored result and face crops go too.")
            yes, no, _ = st.columns([1, 1, 4])
            if yes.button("Yes, delete", key=f"confirm_delete_{analysis.id}", type="primary"):
                store.delete_analysis(user.id, analysis.id, on_orphan=results.delete)
                if st.session_state.get(CURRENT) == analysis.id:
                    st.session_state.pop(CURRENT, None)
                st.session_state.pop("pending_delete", None)
                st.session_state["history_notice"] = f"Deleted the analysis of {analysis.file_name}."
                st.rerun()
            if no.button("Cancel", key=f"cancel_delete_{analysis.id}"):
                st.session_state.pop("pending_delete", None)
                st.rerun()

"""History: the user's own past analyses; reopen one or delete one. Never another user's."""

import streamlit as st

from dashboard.history import ANALYSIS_PARAM, HistoryFilter, day_range, hash_prefix
from dashboard.ui import runtime
from dashboard.ui.auth import page_setup
from dashboard.ui.components import CURRENT, browser_zone, format_when
from dashboard.wording import VIDEO_PROBABILITY, any_verdict_label, percent
from pipeline.assessment import Assessment

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

zone = browser_zone()
with st.container(border=True):
    name_col, verdict_col, dates_col = st.columns([2, 2, 2])
    name_filter = name_col.text_input("File name contains", key="history_name")
    verdict_filter = verdict_col.multiselect(
        "Assessment",
        [a.value for a in Assessment],
        format_func=any_verdict_label,
        key="history_verdicts",
        placeholder="Any assessment",
    )
    days = dates_col.date_input("Analysed between", value=(), key="history_days", format="YYYY-MM-DD")
chosen = HistoryFilter(name_filter, frozenset(str(v) for v in verdict_filter), *day_range(days))
matching = chosen.apply(store.list_analyses(user.id, limit=total), zone)
if not matching:
    st.info(f"None of your {total} analyses matches these filters.")
    st.stop()

pages = (len(matching) + app.history_page_size - 1) // app.history_page_size
page = 1
if pages > 1:
    page = int(st.number_input(f"Page (of {pages})", min_value=1, max_value=pages, value=1, step=1))
analyses = matching[(page - 1) * app.history_page_size : page * app.history_page_size]
shown = f"{len(matching)} of {total}" if len(matching) < total else f"{total}"
st.caption(f"{shown} analyses, newest first. Only you can see them. Open one to get a link you can reload.")

WIDTHS = [1.5, 3.0, 2.0, 1.3, 1.6]
header = st.columns(WIDTHS)
for cell, label in zip(header, ("Date", "File (SHA-256 start)", "Assessment", VIDEO_PROBABILITY), strict=False):
    cell.markdown(f"**{label}**")
pending = st.session_state.get("pending_delete")
for analysis in analyses:
    when, name, verdict, probability, delete = st.columns(WIDTHS, vertical_alignment="center")
    when.write(format_when(analysis.created_at))
    with name:
        st.page_link(
            "pages/1_Analyze.py",
            label=f"Open {analysis.file_name}",
            query_params={ANALYSIS_PARAM: str(analysis.id)},
            help=f"Reopen {analysis.file_name} on the Analyze page",
        )
        st.caption(f"SHA-256 `{hash_prefix(analysis.sha256)}…`")
    verdict.write(any_verdict_label(analysis.verdict))
    probability.write(percent(analysis.probability))
    if delete.button(
        f"Delete {analysis.file_name}", key=f"delete_{analysis.id}", help=f"Delete the analysis of {analysis.file_name}"
    ):
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

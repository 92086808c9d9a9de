"""Attention lab (teachers): switch the aggregation rule and the temperature; watch weights and verdict move."""

import pandas as pd
import streamlit as st

from dashboard.charts import CHART_CONFIG, describe_lab, lab_figure
from dashboard.lab import (
    CERTAINTY_ATTENTION_EXPLAINED,
    FULL_MODEL,
    STRATEGIES,
    USES_TEMPERATURE,
    apply_strategy,
    effective_frames,
)
from dashboard.ui import runtime
from dashboard.ui.auth import page_setup
from dashboard.ui.components import CURRENT, open_analysis, pick_analysis
from dashboard.wording import THRESHOLD, VIDEO_PROBABILITY, percent

user = page_setup("Attention lab", ":material/science:")
app = runtime.app_settings()
store = runtime.get_store(app)

st.title("Attention lab")
st.markdown(
    "Take a clip you analysed and change **how the frames are combined** into one verdict. "
    "The bars show how much each frame counts; the dotted line is the video probability."
)

chosen = pick_analysis(user, "Clip", "lab_pick", store, st.session_state.get(CURRENT))
if chosen is None:
    st.info("Analyse a clip first (page **Analyze a clip**); then come back to explore it here.")
    st.stop()
opened = open_analysis(user, chosen)
if opened is None:
    st.stop()
result = opened.result
if result.face_frames == 0:
    st.warning("No face was found in this clip, so there is nothing to weigh. Pick another clip.")
    st.stop()

engine = runtime.get_engine()
same_model = engine.can_rerun(result)
options = [name for name in STRATEGIES if name != FULL_MODEL or same_model]
controls, readout = st.columns([2, 1])
with controls:
    strategy = st.radio(
        "Aggregation rule",
        options,
        index=options.index("certainty_attention"),
        format_func=STRATEGIES.__getitem__,
        horizontal=True,
        key="lab_strategy",
    )
    temperature = st.slider(
        "Attention temperature",
        min_value=0.05,
        max_value=2.0,
        value=round(engine.model_temperature, 2),
        step=0.05,
        key="lab_temperature",
        help="Low: the surest frames dominate. High: every face frame counts about the same.",
        disabled=strategy not in USES_TEMPERATURE,
    )
    if not same_model:
        st.caption("The full model is unavailable for this clip: it was analysed with a different model version.")


def outcome_for(name: str):
    """One rule at the current temperature (the full model re-runs its attention and LSTM head)."""
    output = engine.full_model(opened.analysis.result_key, result, temperature) if name == FULL_MODEL else None
    return apply_strategy(name, result, temperature, output, measure=engine.certainty_measure)


outcome = outcome_for(strategy)
with readout, st.container(border=True):
    st.metric(VIDEO_PROBABILITY, percent(outcome.probability))
    st.markdown(f"**Verdict: {outcome.verdict}** ({THRESHOLD.lower()} {100 * result.threshold:.0f}%)")
    st.caption(
        f"Listens to about {effective_frames(outcome.weights):.1f} of {result.face_frames} face frames."
        + ("" if outcome.calibrated else " Frame-level rules are not calibrated.")
    )

st.plotly_chart(
    lab_figure(result, outcome), key="lab_chart", config=CHART_CONFIG, theme=None, alt=describe_lab(outcome)
)
st.caption(describe_lab(outcome))

table_col, explain_col = st.columns([3, 2], gap="large")
rows = []
for name in options:
    item = outcome if name == strategy else outcome_for(name)
    rows.append(
        {
            "Rule": STRATEGIES[name],
            VIDEO_PROBABILITY: percent(item.probability),
            "Verdict": item.verdict,
            "Frames listened to": f"{effective_frames(item.weights):.1f}",
            "Uses temperature": "yes" if name in USES_TEMPERATURE else "no",
        }
    )
with table_col:
    st.header("All rules at this temperature")
    st.table(pd.DataFrame(rows).set_index("Rule"))
    st.caption(
        "The verdict on the Analyze page is the full model at the model's own temperature "
        f"({engine.model_temperature:.2f})."
    )
with explain_col, st.container(border=True):
    st.markdown(CERTAINTY_ATTENTION_EXPLAINED)

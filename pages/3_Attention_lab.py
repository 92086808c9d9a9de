"""Attention lab (teachers): switch the aggregation rule and the temperature; watch weights and verdict move."""

import pandas as pd
import streamlit as st

from dashboard.charts import CHART_CONFIG, describe_lab, lab_figure
from dashboard.lab import (
    CERTAINTY_ATTENTION_EXPLAINED,
    FULL_MODEL,
    HIGHEST_TEMPERATURE,
    LOWEST_TEMPERATURE,
    STRATEGIES,
    TEMPERATURE_MATTERS_POINTS,
    USES_TEMPERATURE,
    apply_strategy,
    effective_frames,
    temperature_swing,
    weight_shares,
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
    "Take a clip you analysed and change **how the frames are combined** into one verdict. It opens on the "
    "full model at its own temperature: the number the Analyze page shows. The lower panel shows each "
    "frame's share of the verdict; the dashed line is the share every frame would get if all counted the same."
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
        index=options.index(FULL_MODEL if same_model else "certainty_attention"),
        format_func=STRATEGIES.__getitem__,
        horizontal=True,
        key="lab_strategy",
    )
    temperature = st.slider(
        "Attention temperature",
        min_value=LOWEST_TEMPERATURE,
        max_value=HIGHEST_TEMPERATURE,
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


def share_axis_top(name: str) -> float:
    """The weight panel's top for this rule over the whole temperature range (its peak is at the lowest
    temperature), so moving the slider changes the bars, not the axis."""
    if name not in USES_TEMPERATURE:
        return 0.0
    output = engine.full_model(opened.analysis.result_key, result, LOWEST_TEMPERATURE) if name == FULL_MODEL else None
    peaked = apply_strategy(name, result, LOWEST_TEMPERATURE, output, measure=engine.certainty_measure)
    return float(weight_shares(peaked.weights).max(initial=0.0))


outcome = outcome_for(strategy)
with readout, st.container(border=True):
    st.metric(VIDEO_PROBABILITY, percent(outcome.probability))
    st.markdown(f"**Verdict: {outcome.verdict}** ({THRESHOLD.lower()} {100 * result.threshold:.0f}%)")
    st.caption(
        f"Listens to about {effective_frames(outcome.weights):.1f} of {result.face_frames} face frames. "
        + (
            "Calibrated, like the Analyze page's number"
            if outcome.calibrated
            else "Not calibrated: compare it with the other simple rules"
        )
        + f"; the Analyze page shows {percent(result.probability_fake)} for this clip."
    )

swing = temperature_swing(result, engine.certainty_measure)
if strategy not in USES_TEMPERATURE:
    st.info(f"{STRATEGIES[strategy]} ignores the temperature: the slider has no effect on this rule.")
elif swing < TEMPERATURE_MATTERS_POINTS:
    st.info(
        "Here the temperature cannot matter: every face frame is about equally sure, so weighting frames by "
        f"certainty gives each about the same share at any temperature (no frame's share moves more than "
        f"{swing:.1f} percentage points from {LOWEST_TEMPERATURE} to {HIGHEST_TEMPERATURE}). Try a clip whose "
        "frames disagree."
    )

st.plotly_chart(
    lab_figure(result, outcome, share_top=share_axis_top(strategy)),
    key="lab_chart",
    config=CHART_CONFIG,
    theme=None,
    alt=describe_lab(outcome),
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

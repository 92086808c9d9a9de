"""Compare (reviewers): two clips side by side, timelines on one scale, verdicts and faces next to each other."""

import pandas as pd
import streamlit as st

from dashboard.quality import assess_quality
from dashboard.ui import runtime
from dashboard.ui.auth import page_setup
from dashboard.ui.components import (
    CURRENT,
    analyse_upload,
    analysis_settings_sidebar,
    face_gallery,
    open_analysis,
    pick_analysis,
    timeline_section,
    verdict_card,
    video_uploader,
)
from dashboard.wording import UNTRAINED_WARNING, VIDEO_PROBABILITY, percent

SECONDS = "Seconds"
SHARE = "Share of the clip"

user = page_setup("Compare", ":material/compare:")
app = runtime.app_settings()
store = runtime.get_store(app)

st.title("Compare two clips")
st.markdown(
    "Put an original next to a suspected edit. Both timelines share one attention scale and, as you choose, "
    "one time axis in seconds or each clip's own length from start to end."
)
engine = runtime.get_engine()
frames, detector = analysis_settings_sidebar(engine, app)

opened = []
for side, column in zip(("A", "B"), st.columns(2, gap="large"), strict=True):
    with column:
        st.header(f"Clip {side}")
        uploaded = video_uploader(f"Upload clip {side}", key=f"compare_upload_{side}")
        pick_key = f"compare_pick_{side}"
        if uploaded is not None:
            new_id = analyse_upload(uploaded, engine, user, frames, detector)
            if new_id is not None and st.session_state.get(f"compare_seen_{side}") != new_id:
                st.session_state[f"compare_seen_{side}"] = new_id
                st.session_state[pick_key] = new_id  # a fresh upload selects itself below
        default = st.session_state.get(CURRENT) if side == "A" else None
        chosen = pick_analysis(
            user, f"…or pick clip {side} from your history", pick_key, store, default, newest_by_default=side == "A"
        )
        opened.append(open_analysis(user, chosen) if chosen is not None else None)

if not all(opened):
    st.info("Choose two clips (upload them or pick them from your history) to compare them.")
    st.stop()

first, second = opened
assert first is not None and second is not None
end = max(first.result.video.duration_s, second.result.video.duration_s, 1e-3)
attention_top = max(f.attention for o in opened if o for f in o.result.frames) or 1e-6
if not (first.result.model.trained and second.result.model.trained):
    st.error(UNTRAINED_WARNING, icon=":material/warning:")
if first.result.sha256 == second.result.sha256:
    st.info("Both sides are the same file (identical SHA-256).")

pairs = list(zip(("A", "B"), (first, second), strict=True))
qualities = [assess_quality(o.result, app.quality) for o in opened if o]
axis = st.segmented_control(
    "Time axis",
    [SECONDS, SHARE],
    default=SHARE if abs(first.result.video.duration_s - second.result.video.duration_s) > 1.0 else SECONDS,
    key="compare_axis",
    help="Seconds: the same moment in both clips lines up. Share of the clip: start and end line up, "
    "so a short clip is not squeezed next to a long one.",
)
# One row per kind of content, so the two sides stay aligned however long a verdict text is.
for (side, item), column in zip(pairs, st.columns(2, gap="large"), strict=True):
    with column:
        st.markdown(f"**Clip {side}: {item.analysis.file_name}**")
        verdict_card(item.result, compact=True)
        quality = qualities[0 if side == "A" else 1]
        for warning in quality.warnings:
            st.warning(warning, icon=":material/warning:")
        if not quality.warnings:
            st.caption("No input-quality concern.")
for (side, item), column in zip(pairs, st.columns(2, gap="large"), strict=True):
    with column:
        timeline_section(
            item.result,
            key=f"compare_{side}_{item.analysis.result_key}",
            x_range=(0.0, end),
            share_of_clip=axis == SHARE,
            attention_max=attention_top,
            frame_viewer=False,
            height=440,
            title=f"Clip {side}: probability, certainty, attention",
        )
for (side, item), column in zip(pairs, st.columns(2, gap="large"), strict=True):
    with column:
        st.markdown(f"Faces the model weighed most in clip {side}")
        face_gallery(item.result, count=4, columns=4, width=120, compact=True)

st.header("Side by side")
rows = {label: [value] for label, value in qualities[0].rows()}
for label, value in qualities[1].rows():
    rows.setdefault(label, ["—"]).append(value)
table = pd.DataFrame.from_dict(rows, orient="index", columns=["Clip A", "Clip B"])
table.loc[VIDEO_PROBABILITY] = [percent(o.result.probability_fake) for o in opened if o]
table.loc["SHA-256 (first 16)"] = [o.result.sha256[:16] for o in opened if o]
st.table(table)

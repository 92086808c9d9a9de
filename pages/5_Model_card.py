"""Model card: what the detector is, how well it does, how reliable its probabilities are, where it fails."""

import pandas as pd
import streamlit as st

from dashboard.model_card import (
    metric_rows,
    read_model_files,
    runtime_rows,
    split_card_images,
    verdict_band_rows,
    without_html_comments,
)
from dashboard.signals_wording import signal_skill_rows
from dashboard.ui import runtime
from dashboard.ui.auth import page_setup
from dashboard.wording import LIMITATIONS, THRESHOLD, UNTRAINED_MODEL_CARD, WHY_MOSTLY_INCONCLUSIVE, measured_skill

page_setup("Model card", ":material/description:")
st.title("Model card")

engine = runtime.get_engine()
info = engine.scorer.model.info
files = read_model_files(engine.settings.model_path)

if not info.trained:
    st.error(UNTRAINED_MODEL_CARD, icon=":material/warning:")
else:
    st.success(f"A trained model is loaded: {info.name} version {info.version}.", icon=":material/check_circle:")
if files.missing:
    st.warning("Not found in the `models/` folder: " + ", ".join(files.missing) + ".")
if files.metadata_error:
    st.error(files.metadata_error)

st.header("The loaded model")
details = [
    ("Name", info.name),
    ("Version", info.version),
    ("Trained", "yes" if info.trained else "NO: random weights, no evidence"),
    ("Backbone", info.backbone),
    ("Input size", f"{info.input_size} px"),
    (THRESHOLD, f"{info.threshold:.3f}"),
    ("Calibration (Platt)", f"temperature {info.calibration_temperature:.3f}, bias {info.calibration_bias:+.3f}"),
    ("Attention temperature", f"{engine.model_temperature:.2f}"),
    ("Created", info.created or "—"),
    ("Training data SHA-256", info.training_data_sha256 or "—"),
    ("Weights source", info.weights_source or "—"),
    ("Model SHA-256", info.sha256),
    *runtime_rows(
        engine.scorer.model.encoder_status,
        engine.scorer.detector.name,
        getattr(engine.scorer.detector, "runtime", "its own library"),
    ),
]
st.table(pd.DataFrame(details, columns=["Field", "Value"]).set_index("Field"))
if info.notes:
    st.markdown(f"**Notes:** {info.notes}")

st.header("Verdicts and how often they were right")
st.table(
    pd.DataFrame(verdict_band_rows(info.verdict_band, info.input_range), columns=["Measure", "Value"]).set_index(
        "Measure"
    )
)
if info.verdict_band is not None:
    st.markdown(WHY_MOSTLY_INCONCLUSIVE.format(target=100 * info.verdict_band.target_rate))

metrics = info.metrics.to_dict() if not info.metrics.is_empty else (files.metadata or {}).get("metrics") or {}
st.header("Signals")
st.table(
    pd.DataFrame(
        signal_skill_rows([engine.scorer.cnn_lstm.name], metrics),
        columns=["Signal", "Used in the verdict", "Val AUC (loaded model)", "Leave-families-out AUC"],
    ).set_index("Signal")
)
st.header("Metrics")
if metrics:
    st.table(pd.DataFrame(metric_rows(metrics), columns=["Metric", "Value"]).set_index("Metric"))
else:
    st.info("No evaluation metrics are recorded for this model yet.")

st.header("Reliability diagram")
if files.diagrams:
    for diagram in files.diagrams:
        st.image(
            str(diagram),
            caption=diagram.name,
            alt="Reliability diagram: predicted probability against the observed share of fakes; "
            "points on the diagonal mean well-calibrated probabilities.",
            width=560,
        )
else:
    st.info(
        "No reliability diagram yet. It will show whether a predicted 70% really means about 70% of such "
        "clips are fake; until then, do not read the probability as a calibrated frequency."
    )

st.header("Model card")
if files.card_markdown:
    card_text, card_images = split_card_images(without_html_comments(files.card_markdown), files.model_path.parent)
    st.markdown(card_text)
    for image_path, alt in card_images:
        st.image(
            str(image_path),
            caption=alt or image_path.name,
            alt=alt or f"Figure from the model card: {image_path.name}",
            width=760,
        )
else:
    st.info("`models/MODEL_CARD.md` is not there yet; it will describe the training data, intended use and tests.")

st.header("Limitations")
skill = measured_skill(info)
st.markdown("\n".join(f"- {item}" for item in ([skill] if skill else []) + list(LIMITATIONS)))

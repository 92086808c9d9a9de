"""Each signal's verdict in plain words, on the clip's time axis (the Analyze page's signal rows)."""

from __future__ import annotations

from typing import Any

from pipeline.signals.contract import SignalResult

# What each registered signal measures, as a reader would say it.
SIGNAL_NAMES = {"cnn_lstm": "Face texture (CNN-LSTM)"}
# A window counts as suspicious at or above this per-window score.
SUSPICIOUS_WINDOW = 0.5


def signal_title(signal: SignalResult) -> str:
    return SIGNAL_NAMES.get(signal.name, signal.name)


def signal_sentence(signal: SignalResult) -> str:
    """One sentence: the signal's estimate and where in the clip it looks most suspicious, or why
    it could not judge."""
    title = signal_title(signal)
    if not signal.available or signal.probability_fake is None:
        return f"{title} could not judge this clip: {signal.reason}."
    sentence = f"{title} estimates a {100 * signal.probability_fake:.0f}% probability of manipulation"
    stretches = suspicious_stretches(signal)
    if not stretches:
        return sentence + "; no stretch of the clip stands out."
    spans = ", ".join(f"{start:.1f} to {end:.1f} s" for start, end in stretches)
    return sentence + f"; it looks most suspicious between {spans}."


def suspicious_stretches(signal: SignalResult) -> list[tuple[float, float]]:
    """Consecutive windows scored at or above SUSPICIOUS_WINDOW, merged into (start, end) stretches."""
    stretches: list[tuple[float, float]] = []
    for window in signal.windows:
        if window.score < SUSPICIOUS_WINDOW:
            continue
        if stretches and abs(stretches[-1][1] - window.start_s) < 1e-9:
            stretches[-1] = (stretches[-1][0], window.end_s)
        else:
            stretches.append((window.start_s, window.end_s))
    return stretches


# Leave-families-out skill of each signal's recipe (docs/experiments.md, run names in brackets).
# The shipped CNN-LSTM's own CNN saw every clip, so its recipe was measured on the ImageNet CNN.
LEAVE_FAMILIES_OUT = {
    "cnn_lstm": "0.635 (0.558-0.705): its head recipe retrained per fold on the ImageNet CNN (LFO-2, 2026-12-03)",
}


def signal_skill_rows(signal_names: list[str], metrics: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(signal, used in the verdict, val AUC of the loaded model, leave-families-out AUC) per signal."""
    val = metrics.get("val", {})
    val = val.get("calibrated", val) if isinstance(val, dict) else {}
    auc = val.get("auc") if isinstance(val, dict) else None
    val_text = f"{auc:.3f} on {val.get('clips', '?')} val clips" if isinstance(auc, float) else "not measured"
    return [
        (
            SIGNAL_NAMES.get(name, name),
            "yes, alone" if len(signal_names) == 1 else "yes",
            val_text,
            LEAVE_FAMILIES_OUT.get(name, "not measured"),
        )
        for name in signal_names
    ]

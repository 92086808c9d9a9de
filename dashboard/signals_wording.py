"""Each signal's verdict in plain words, on the clip's time axis (the Analyze page's signal rows)."""

from __future__ import annotations

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

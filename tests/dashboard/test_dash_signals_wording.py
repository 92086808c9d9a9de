"""The per-signal sentences of the Analyze page."""

from dashboard.signals_wording import signal_sentence, suspicious_stretches
from pipeline.signals.contract import SignalResult, SignalWindow


def test_suspicious_windows_merge_into_stretches_and_are_named_in_seconds():
    windows = (
        SignalWindow(0.0, 1.0, 0.2),
        SignalWindow(1.0, 2.0, 0.7),
        SignalWindow(2.0, 3.0, 0.9),
        SignalWindow(4.0, 5.0, 0.6),
    )
    signal = SignalResult("cnn_lstm", True, "", 0.64, windows)
    assert suspicious_stretches(signal) == [(1.0, 3.0), (4.0, 5.0)]
    sentence = signal_sentence(signal)
    assert "64%" in sentence and "1.0 to 3.0 s, 4.0 to 5.0 s" in sentence
    assert sentence.startswith("Face texture")


def test_a_calm_signal_and_an_abstaining_one_say_so():
    calm = SignalResult("cnn_lstm", True, "", 0.2, (SignalWindow(0.0, 1.0, 0.1),))
    assert "no stretch of the clip stands out" in signal_sentence(calm)
    missing = SignalResult.unavailable("mouth_voice", "the clip has no audio")
    assert signal_sentence(missing) == "mouth_voice could not judge this clip: the clip has no audio."


def test_the_model_card_table_reads_val_auc_from_the_metadata():
    from dashboard.signals_wording import signal_skill_rows

    metrics = {"val": {"calibrated": {"auc": 0.7324, "clips": 106}}}
    ((name, used, val, lfo),) = signal_skill_rows(["cnn_lstm"], metrics)
    assert name == "Face texture (CNN-LSTM)" and used == "yes, alone"
    assert val == "0.732 on 106 val clips"
    assert lfo.startswith("0.635")
    assert signal_skill_rows(["cnn_lstm"], {})[0][2] == "not measured"

"""The signal contract: typed results, their JSON round trip, windows, the registry, the fusion."""

import json

import numpy as np
import pytest

from pipeline.signals.contract import SIGNALS, SignalResult, SignalWindow, register_signal, windows_of
from pipeline.signals.fusion import FusionWeights, fuse


def test_a_result_survives_its_json_round_trip():
    result = SignalResult("cnn_lstm", True, "8 of 8 sampled frames have a face", 0.73, (SignalWindow(0.0, 1.0, 0.61),))
    assert SignalResult.from_record(json.loads(json.dumps(result.to_record()))) == result
    public = result.to_json_dict()
    assert set(public) == {"name", "available", "reason", "probability_fake", "windows"}
    assert public["windows"] == [{"start_s": 0.0, "end_s": 1.0, "score": 0.61}]


def test_an_unavailable_signal_has_a_reason_and_no_probability():
    missing = SignalResult.unavailable("mouth_voice", "the clip has no audio")
    assert missing.probability_fake is None and missing.reason == "the clip has no audio"
    assert missing.to_json_dict()["probability_fake"] is None
    with pytest.raises(ValueError):
        SignalResult("x", True, "", None)
    with pytest.raises(ValueError):
        SignalResult("x", False, "", 0.5)


def test_windows_group_face_frames_by_time():
    times = (0.0, 0.4, 0.8, 1.2, 1.6, 2.4)
    scores = np.array([0.2, 0.4, 0.6, 0.9, 0.7, 0.1])
    mask = np.array([1, 1, 1, 1, 0, 0], dtype=np.float32)
    windows = windows_of(times, scores, mask, window_s=1.0)
    assert [(w.start_s, w.end_s) for w in windows] == [(0.0, 1.0), (1.0, 2.0)]  # 2-3 s has no face
    assert windows[0].score == pytest.approx(0.4)
    assert windows[1].score == pytest.approx(0.9)  # the frame without a face is not averaged in


def test_the_registry_refuses_a_second_signal_of_one_name():
    import pipeline.signals.cnn_lstm  # noqa: F401  (registers the CNN-LSTM)

    assert "cnn_lstm" in SIGNALS
    with pytest.raises(ValueError, match="twice"):
        register_signal("cnn_lstm")(object)


def test_a_missing_signal_is_left_out_of_the_fusion_not_read_as_half():
    present = SignalResult("texture", True, "", 0.9)
    missing = SignalResult.unavailable("mouth_voice", "no audio")
    weights = FusionWeights({"texture": 1.0, "mouth_voice": 1.0})
    assert fuse([present, missing], weights) == pytest.approx(0.9)
    both = fuse(
        [present, SignalResult("mouth_voice", True, "", 0.5)], FusionWeights({"texture": 0.5, "mouth_voice": 0.5})
    )
    assert both < 0.9  # a real 0.5 from an available signal does pull the verdict
    assert fuse([missing], weights) is None


def test_fusion_weights_and_bias_act_on_logits():
    weights = FusionWeights({"a": 2.0}, bias=0.0)
    assert fuse([SignalResult("a", True, "", 0.75)], weights) == pytest.approx(0.9)  # 2 * logit(0.75) = logit(0.9)
    assert fuse([SignalResult("a", True, "", 0.5)], FusionWeights({"a": 1.0}, bias=np.log(3))) == pytest.approx(0.75)
    assert fuse([SignalResult("a", True, "", 0.42)], FusionWeights.single("a")) == 0.42


def test_signals_survive_the_stored_result_round_trip():
    from dataclasses import replace

    from tests.dashboard.builders import make_result

    result = make_result([0.9, None, 0.2, 0.7])
    signals = (
        SignalResult("cnn_lstm", True, "3 of 4 sampled frames have a face", 0.61, (SignalWindow(0.0, 1.0, 0.55),)),
        SignalResult.unavailable("mouth_voice", "the clip has no audio"),
    )
    result = replace(result, signals=signals)
    crops = np.stack([f.crop for f in result.frames if f.crop is not None])
    again = type(result).from_record(json.loads(json.dumps(result.to_record())), crops)
    assert again.signals == signals
    assert [s["available"] for s in result.to_json_dict()["signals"]] == [True, False]

"""The paper's certainty-attention CNN-LSTM as a signal: the clip's calibrated probability and,
per window, the mean frame-head probability of the face frames in it."""

from __future__ import annotations

from pipeline.faces.track import to_model_input
from pipeline.model.output import ModelOutput, ScoringModel
from pipeline.scoring.calibration import calibrate
from pipeline.signals.contract import ClipInput, SignalResult, register_signal, windows_of

CNN_LSTM = "cnn_lstm"


@register_signal(CNN_LSTM)
class CnnLstmSignal:
    """Runs the loaded detector on the face crops; abstains when the clip has no face."""

    name = CNN_LSTM

    def __init__(self, model: ScoringModel, window_s: float):
        self.model = model
        self.window_s = window_s

    def run(self, clip: ClipInput) -> tuple[SignalResult, ModelOutput | None]:
        """The signal's result and the network's per-frame outputs (attention, certainty) for
        the frame records and the Attention lab."""
        mask = clip.mask
        if mask.sum() == 0:
            return SignalResult.unavailable(self.name, "no face found in the sampled frames"), None
        output = self.model.predict(to_model_input(clip.crops), mask)
        info = self.model.info
        probability = calibrate(output.video_probability, info.calibration_temperature, info.calibration_bias)
        windows = windows_of(clip.times_s, output.frame_probability, mask, self.window_s)
        reason = f"{int(mask.sum())} of {len(mask)} sampled frames have a face"
        return SignalResult(self.name, True, reason, probability, windows), output

    def evaluate(self, clip: ClipInput) -> SignalResult:
        return self.run(clip)[0]

"""The network's per-clip outputs as numpy arrays: what the runtime returns and the lab draws."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ModelOutput:
    """Per-clip outputs of the network, as numpy arrays over the T sampled frames."""

    video_probability: float
    frame_probability: np.ndarray
    certainty: np.ndarray
    attention: np.ndarray

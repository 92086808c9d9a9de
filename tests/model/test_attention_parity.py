"""The Keras certainty attention and the numpy rule the lab and the ablation use are the same function."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.model.layers import CertaintyAttention
from pipeline.scoring.aggregation import certainty, certainty_attention_weights


@pytest.mark.parametrize("measure", ["margin", "entropy"])
@pytest.mark.parametrize("temperature", [0.05, 0.2, 1.0, 5.0])
def test_keras_layer_matches_the_numpy_rule(measure: str, temperature: float):
    rng = np.random.default_rng(7)
    p = rng.uniform(0.01, 0.99, size=(3, 12)).astype(np.float32)
    mask = (rng.uniform(size=(3, 12)) > 0.3).astype(np.float32)
    mask[:, 0] = 1.0  # every clip has a face
    layer = CertaintyAttention(temperature, measure)
    keras_certainty, keras_attention = (np.asarray(out) for out in layer([p, mask]))
    for row in range(3):
        expected = certainty_attention_weights(p[row], mask[row], temperature, measure)
        assert np.allclose(keras_attention[row], expected, atol=1e-5)
        assert np.allclose(keras_certainty[row], certainty(p[row], measure) * mask[row], atol=1e-5)

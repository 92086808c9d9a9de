"""MesoNet (Afchar et al., WIFS 2018) with the authors' published weights, as a peer baseline.

Built layer for layer as the paper describes so the Keras 2.1 weights-only HDF5 files
load into Keras 3. Its output is P(real); we report P(fake) = 1 - P(real), and the
video score is the mean over face frames (the usual MesoNet video rule).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import keras
import numpy as np

from pipeline.settings import REPO_ROOT

MESONET_DIR = REPO_ROOT.parent / "shared" / "baselines" / "mesonet"
MESONET_INPUT = 256


def build_meso4() -> keras.Model:
    layers = keras.layers
    inputs = keras.Input((MESONET_INPUT, MESONET_INPUT, 3))
    x = inputs
    for filters, kernel, pool in ((8, 3, 2), (8, 5, 2), (16, 5, 2), (16, 5, 4)):
        x = layers.Conv2D(filters, kernel, padding="same", activation="relu")(x)
        x = layers.BatchNormalization()(x)
        x = layers.MaxPooling2D(pool_size=pool, padding="same")(x)
    x = layers.Flatten()(x)
    x = layers.Dropout(0.5)(x)
    x = layers.Dense(16)(x)
    x = layers.LeakyReLU(negative_slope=0.1)(x)
    x = layers.Dropout(0.5)(x)
    outputs = layers.Dense(1, activation="sigmoid")(x)
    return keras.Model(inputs, outputs, name="meso4")


def load_meso4(weights: str | Path = MESONET_DIR / "Meso4_DF.h5") -> keras.Model:
    model = build_meso4()
    model.load_weights(str(weights))
    return model


def meso4_fake_probabilities(model: keras.Model, crops: np.ndarray) -> np.ndarray:
    """P(fake) per uint8 RGB crop (resized to MesoNet's 256x256 input, scaled to 0..1)."""
    if len(crops) == 0:
        return np.zeros(0)
    resized = np.stack([cv2.resize(c, (MESONET_INPUT, MESONET_INPUT)) for c in crops]).astype(np.float32) / 255.0
    p_real = np.asarray(model.predict_on_batch(resized)).reshape(-1)
    return 1.0 - p_real

"""The shared MAdds counter: hand-computed counts per layer kind, nested layers, and MobileNeXt-1.0."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import keras
import pytest

from official.core import registry
from official.core.madds import count_madds

L = keras.layers
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def single(layer: L.Layer, in_shape: tuple[int, ...]) -> int:
    inputs = keras.Input(in_shape)
    return count_madds(keras.Model(inputs, layer(inputs))).total


def test_counts_per_layer_kind():
    # Conv2D 3x3 stride 2 "same" on 8x8x4 -> 4x4x6: 16 positions x 6 outputs x 9 taps x 4 inputs.
    assert single(L.Conv2D(6, 3, strides=2, padding="same"), (8, 8, 4)) == 16 * 6 * 9 * 4
    # Grouped conv: each output sees C_in / groups inputs.
    assert single(L.Conv2D(8, 1, groups=2), (5, 5, 4)) == 25 * 8 * 2
    # Depthwise 3x3 valid on 6x6x5 with depth multiplier 2 -> 4x4x10.
    assert single(L.DepthwiseConv2D(3, depth_multiplier=2), (6, 6, 5)) == 16 * 10 * 9
    # Separable: depthwise 3x3 (4x4x3) + pointwise 3 -> 7.
    assert single(L.SeparableConv2D(7, 3), (6, 6, 3)) == 16 * 3 * 9 + 16 * 3 * 7
    # Transposed 2x2 stride 2: every input pixel scatters 2x2x5 outputs from 3 channels.
    assert single(L.Conv2DTranspose(5, 2, strides=2), (4, 4, 3)) == 16 * 3 * 4 * 5
    # Dense applied to a sequence: every position is a matmul.
    assert single(L.Dense(9), (7, 4)) == 7 * 4 * 9
    # Conv1D and layers without MACs.
    assert single(L.Conv1D(3, 5), (10, 2)) == 6 * 3 * 5 * 2
    assert single(L.BatchNormalization(), (4, 4, 3)) == 0


@keras.saving.register_keras_serializable(package="test_madds")
class TwoConvs(L.Layer):
    """A custom block calling its sublayers inside call(): invisible to the functional graph."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.a = L.Conv2D(4, 1)
        self.b = L.Dense(2)

    def call(self, x):
        return self.b(self.a(x) + self.a(x))  # a shared layer called twice counts twice


def test_nested_layers_are_counted():
    inputs = keras.Input((3, 3, 5))
    outputs = TwoConvs()(inputs)
    report = count_madds(keras.Model(inputs, outputs))
    assert report.total == 2 * (9 * 4 * 5) + 9 * 4 * 2
    assert [r.kind for r in report.rows] == ["Conv2D", "Conv2D", "Dense"]


def test_unknown_input_size_needs_input_shape():
    inputs = keras.Input((None, None, 3))
    model = keras.Model(inputs, L.Conv2D(2, 1)(inputs))
    with pytest.raises(ValueError, match="input_shape"):
        count_madds(model)
    assert count_madds(model, input_shape=(4, 4, 3)).total == 16 * 2 * 3


def test_mobilenext_100_madds():
    report = count_madds(registry.create_model("mobilenext_100"))
    # Spec card: 311,342,592 counted with the official PyTorch definition (convs + FC, 224x224).
    assert abs(report.total - 311_342_592) <= 0.001 * 311_342_592
    assert report.by_kind()["Dense"] == 1280 * 1000
    assert report.trainable_params == 3_535_416


def test_profile_cli_writes_json(tmp_path):
    out = tmp_path / "madds.json"
    cmd = [sys.executable, "-m", "tools.profile", "--model", "mobilenext_140", "--image_size", "224"]
    proc = subprocess.run(cmd + ["--json", str(out)], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "(588.3M)" in proc.stdout  # spec card: 588.3M for MobileNeXt-1.4
    payload = json.loads(out.read_text())
    assert abs(payload["madds"] - 588.3e6) <= 0.001 * 588.3e6
    assert payload["trainable_params"] == 6_126_168

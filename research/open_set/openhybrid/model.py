"""OpenHybrid (Zhang et al., ECCV 2020): a classifier and a flow density model sharing one encoder.

No official code exists; this is the spec card's reconstruction (research/open_set/openhybrid/README.md
lists every guess):
- encoder E: the classifier32 trunk (999,104 parameters), image -> (B, H/8, W/8, 128) map z;
- classifier C: global average pool + linear to K logits (card: "GAP followed by a linear layer");
- flow F on the map z itself (not flattened): a coupling flow (flows.py) with exact log-det, giving
  log p(z) = sum log N(F(z); 0, 1) + log|det dF/dz| per image;
- loss = CE(C(z), y) + nll_weight * NLL(z) in bits per dimension, -log p(z) / (D ln 2) with D = H*W*128
  (the card's "- D log(nvals)" dequantisation offset is a constant for real-valued features: dropped);
- open-set score s(x) = log p(z), higher = more likely known.
`joint=False` stops the flow's gradient at z (the card's "two-stage" ablation: the encoder learns from the
cross-entropy only and the flow fits its embedding).
"""

from __future__ import annotations

import math

import keras
from keras import layers, ops

from official.core.base_model import ZooLayer, ZooModel
from official.vision.backbones.classifier32 import CLASSIFIER32_WIDTHS, classifier32_trunk
from research.open_set.openhybrid.flows import CouplingFlow


@keras.saving.register_keras_serializable(package="eccv20zoo")
class StopGradient(ZooLayer):
    """Identity forward, no gradient backward (the two-stage ablation's cut between encoder and flow)."""

    def call(self, x):
        return ops.stop_gradient(x)


@keras.saving.register_keras_serializable(package="eccv20zoo")
class ExampleStandardise(ZooLayer):
    """z -> (z - mean) / std over each example's own values (H, W, C): no batch statistics, no weights.

    Fixes the scale of the flow's input, so the encoder cannot raise log p(z) of every image by shrinking
    its features (the degenerate optimum of CE + NLL: BN gammas -> 0, the flow's scale up). The 3rd-party
    code min-max normalises with batch statistics for the same reason; the card forbids that (log p would
    depend on the batch). Our choice (unverified for the paper).
    """

    def __init__(self, epsilon: float = 1e-5, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = epsilon

    def call(self, z):
        axes = tuple(range(1, len(z.shape)))
        mean = ops.mean(z, axis=axes, keepdims=True)
        var = ops.mean(ops.square(z - mean), axis=axes, keepdims=True)
        return (z - mean) * ops.rsqrt(var + self.epsilon)


@keras.saving.register_keras_serializable(package="eccv20zoo")
class OpenHybrid(ZooModel):
    """classifier32 encoder + GAP/linear classifier + coupling flow on the encoder's map.

    Outputs {"logits": (B, K), "score": (B,) = log p(z), "log_likelihood": (B,) = log p(z)}.

    Args:
        classes: K known classes.
        input_shape: (height, width, 3); 32x32 gives a 4x4x128 map, 64x64 (Tiny ImageNet) 8x8x128.
        dropout_rate: the trunk's spatial dropout before conv1, conv4 and conv7.
        flow_steps: coupling-flow steps (ActNorm, permutation, affine coupling).
        flow_hidden: width of each coupling's conditioning network.
        flow_seed: seeds the flow's channel permutations.
        nll_weight: lambda of loss = CE + lambda * NLL (bits/dim); 1 in the 3rd-party code.
        joint: True trains the encoder with both terms (the paper); False cuts the flow's gradient at z.
        flow_norm: "example" standardises each z over its own values before the flow (ExampleStandardise);
            "none" feeds z as it is (the encoder can then collapse its scale to raise every log p).
        widths: the trunk's nine conv widths (the paper's: CLASSIFIER32_WIDTHS; narrow ones for tests).
    """

    def __init__(
        self,
        classes: int = 6,
        input_shape: tuple[int, int, int] = (32, 32, 3),
        dropout_rate: float = 0.2,
        flow_steps: int = 8,
        flow_hidden: int = 256,
        flow_seed: int = 0,
        nll_weight: float = 1.0,
        joint: bool = True,
        flow_norm: str = "example",
        widths: tuple[int, ...] = CLASSIFIER32_WIDTHS,
        **kwargs,
    ):
        images = keras.Input(shape=tuple(input_shape), name="images")
        z = classifier32_trunk(images, dropout_rate=dropout_rate, name="encoder_", widths=tuple(widths))
        pooled = layers.GlobalAveragePooling2D(name="avg_pool")(z)
        logits = layers.Dense(classes, name="logits", dtype="float32")(pooled)
        if flow_norm not in ("example", "none"):
            raise ValueError(f"flow_norm must be 'example' or 'none', got {flow_norm!r}")
        flow_in = z if joint else StopGradient(name="two_stage_cut")(z)
        if flow_norm == "example":
            flow_in = ExampleStandardise(name="flow_standardise")(flow_in)
        flow_in = layers.Activation("linear", dtype="float32", name="flow_input")(flow_in)
        log_likelihood = CouplingFlow(flow_steps, flow_hidden, flow_seed, dtype="float32", name="flow")(flow_in)
        score = layers.Activation("linear", dtype="float32", name="score")(log_likelihood)
        outputs = {"logits": logits, "score": score, "log_likelihood": log_likelihood}
        super().__init__(inputs=images, outputs=outputs, **kwargs)
        self.flow_dims = int(math.prod(z.shape[1:]))  # D of the bits-per-dimension NLL

    @property
    def flow(self) -> CouplingFlow:
        return self.get_layer("flow")

    def encoder(self) -> keras.Model:
        """images -> z, sharing weights (for invertibility / density checks on real embeddings)."""
        return keras.Model(self.input, self.get_layer("encoder_lrelu9").output, name=f"{self.name}_encoder")

    def nll_bits_per_dim(self, log_likelihood):
        """-log p(z) / (D ln 2) per image."""
        return -log_likelihood / (self.flow_dims * math.log(2.0))

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """CE(logits, y) + nll_weight * mean NLL in bits/dim, plus regularisation losses (y: int labels (B,))."""
        labels = ops.reshape(ops.cast(y, "int32"), (-1,))
        ce = ops.mean(keras.losses.sparse_categorical_crossentropy(labels, y_pred["logits"], from_logits=True))
        nll = ops.mean(self.nll_bits_per_dim(y_pred["log_likelihood"]))
        loss = ce + self.constructor_args["nll_weight"] * nll
        if self.losses:
            loss = loss + ops.cast(ops.sum(ops.stack(self.losses)), loss.dtype)
        return loss

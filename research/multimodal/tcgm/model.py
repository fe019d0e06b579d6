"""TCGM's modality classifiers: one MLP per view and their Bayes fusion (Sun, Xu et al., ECCV 2020).

Per view (20news_dataset/models/model.py `Logistic`): Linear(d_m, 512) - BN - ReLU - Linear(512, 64) - BN -
ReLU - Linear(64, C) - log-softmax; 2,082,756 parameters for d_m = 4000, C = 4 (spec card check 5). BN as
torch's BatchNorm1d (momentum 0.1 -> Keras 0.9, eps 1e-5).
Inputs {"view_0": (B, d_0), ..., "view_{M-1}": (B, d_{M-1})}; outputs {"log_probs": (B, M, C) log h_m(x_m),
"fused_log_probs": (B, C)} = losses.fuse_log_probs with every view present.
Layer names: view{m}_fc1..fc{K+1}, view{m}_bn1..bn{K} (convert.py maps the official Net[m + 1] onto them).
"""

from __future__ import annotations

import keras
from keras import layers

from official.core.base_model import ZooLayer, ZooModel
from research.multimodal.tcgm import losses


@keras.saving.register_keras_serializable(package="eccv20zoo")
class FuseViews(ZooLayer):
    """(log_probs (B, M, C)[, mask (B, M)]) -> fused log posterior (B, C) under the class prior."""

    def __init__(self, class_prior: tuple[float, ...] = (), num_classes: int = 4, **kwargs):
        super().__init__(**kwargs)
        self.class_prior, self.num_classes = class_prior, num_classes

    def call(self, log_probs, mask=None):
        return losses.fuse_log_probs(log_probs, losses.prior_vector(self.class_prior, self.num_classes), mask)

    def compute_output_shape(self, log_probs_shape, mask_shape=None):
        return (log_probs_shape[0], log_probs_shape[2])


@keras.saving.register_keras_serializable(package="eccv20zoo")
class TcgmNet(ZooModel):
    """M independent view classifiers h_m(x_m) -> Delta^C and their fusion.

    Args:
        view_dims: feature width of each view (20 Newsgroups: 3 blocks of 4,000 TF-IDF columns).
        hidden_units: widths of the hidden Linear-BN-ReLU layers (official: 512, 64).
        num_classes: C (official: 4 newsgroups).
        class_prior: p (C values) used by the fusion and the TC loss; () = uniform (the official code).
        bn_momentum, bn_epsilon: BatchNorm1d's 0.1 (torch convention) and 1e-5.
    """

    def __init__(
        self,
        view_dims: tuple[int, ...] = (4000, 4000, 4000),
        hidden_units: tuple[int, ...] = (512, 64),
        num_classes: int = 4,
        class_prior: tuple[float, ...] = (),
        bn_momentum: float = 0.9,
        bn_epsilon: float = 1e-5,
        **kwargs,
    ):
        if len(view_dims) < 2:
            raise ValueError(f"view_dims: TCGM needs at least 2 views, got {tuple(view_dims)}")
        inputs = {f"view_{m}": keras.Input((d,), name=f"view_{m}") for m, d in enumerate(view_dims)}
        per_view = []
        for m in range(len(view_dims)):
            x = inputs[f"view_{m}"]
            for k, units in enumerate(hidden_units, start=1):
                x = layers.Dense(units, name=f"view{m}_fc{k}")(x)
                x = layers.BatchNormalization(momentum=bn_momentum, epsilon=bn_epsilon, name=f"view{m}_bn{k}")(x)
                x = layers.ReLU(name=f"view{m}_relu{k}")(x)
            logits = layers.Dense(num_classes, name=f"view{m}_fc{len(hidden_units) + 1}", dtype="float32")(x)
            per_view.append(layers.Reshape((1, num_classes), name=f"view{m}_axis")(logits))
        logits = layers.Concatenate(axis=1, name="views")(per_view)
        log_probs = layers.Activation("log_softmax", name="log_probs", dtype="float32")(logits)
        fused = FuseViews(tuple(class_prior), num_classes, name="fused", dtype="float32")(log_probs)
        super().__init__(inputs=inputs, outputs={"log_probs": log_probs, "fused_log_probs": fused}, **kwargs)

    @property
    def num_views(self) -> int:
        return len(self.constructor_args["view_dims"])

    def prior(self):
        """The class prior p (C,) of the fusion and the TC loss."""
        a = self.constructor_args
        return losses.prior_vector(a["class_prior"], a["num_classes"])

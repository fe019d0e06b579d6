"""PointNet++ classifier (Qi et al., NeurIPS 2017) as PointMixup trains it (yunlu-chen/PointMixup, Pointnet2MSG).

Set abstractions (official/layers/pointnet2.py) -> (B, width) global feature -> head FC-BN-ReLU-Dropout x 2 -> FC.
The PointMixup card's MSG table (`pointnet2/models/pointnet2_msg_cls.py`, input_channels=0, use_xyz=True):
  SA1 512 centres, radii 0.1/0.2/0.4, nsample 16/32/128, MLPs [32,32,64], [64,64,128], [64,96,128] -> 320-d
  SA2 128 centres, radii 0.2/0.4/0.8, nsample 32/64/128, MLPs [64,64,128], [128,128,256], [128,128,256] -> 640-d
  SA3 group-all, MLP [256,512,1024] -> 1024-d
  head FC 512 (no bias) BN ReLU Dropout 0.5, FC 256 (no bias) BN ReLU Dropout 0.5, FC classes (bias)
Input: xyz only, channels-last (batch, num_points, 3); output: logits (batch, classes).

`run_stages(points, mix=..., training=...)` runs the same layers by hand with a hook after the input and after
each non-final SA (the layers of manifold PointMixup: 0 = input, 1 = after SA1, 2 = after SA2); the functional
graph built in `__init__` is the plain forward (what is saved, evaluated and exported).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import keras
from keras import layers

from official.core.base_model import ZooModel
from official.layers.pointnet2 import BN_EPSILON, SetAbstraction, torch_linear_init


@dataclasses.dataclass(frozen=True)
class SAStage:
    """One set abstraction: npoint None = group-all; one (radius, nsample, mlp) per scale."""

    npoint: int | None
    radii: tuple[float, ...]
    nsamples: tuple[int, ...]
    mlps: tuple[tuple[int, ...], ...]


MSG_STAGES = (  # PointMixup card, "Backbone PointNet++ MSG classifier"
    SAStage(512, (0.1, 0.2, 0.4), (16, 32, 128), ((32, 32, 64), (64, 64, 128), (64, 96, 128))),
    SAStage(128, (0.2, 0.4, 0.8), (32, 64, 128), ((64, 64, 128), (128, 128, 256), (128, 128, 256))),
    SAStage(None, (), (), ((256, 512, 1024),)),
)
SSG_STAGES = (  # Pointnet2_PyTorch pointnet2_ssg_cls: the same table at one scale
    SAStage(512, (0.2,), (64,), ((64, 64, 128),)),
    SAStage(128, (0.4,), (64,), ((128, 128, 256),)),
    SAStage(None, (), (), ((256, 512, 1024),)),
)
HEAD_WIDTHS = (512, 256)


def stages_to_spec(stages: tuple[SAStage, ...]) -> tuple:
    """Plain tuples (the model's config form) of typed stages."""
    return tuple((s.npoint, s.radii, s.nsamples, s.mlps) for s in stages)


def spec_to_stages(spec) -> tuple[SAStage, ...]:
    return tuple(SAStage(None if n is None else int(n), tuple(r), tuple(k), tuple(tuple(m) for m in mlps))
                 for n, r, k, mlps in spec)


@keras.saving.register_keras_serializable(package="eccv20zoo")
class PointNet2Classifier(ZooModel):
    """PointNet++ classifier on xyz point clouds.

    Args:
        classes: output classes (40 for ModelNet40).
        num_points: points per cloud (static: FPS and ball query have fixed shapes; 1,024 in the recipe).
        stages: set-abstraction table, tuples (npoint or None, radii, nsamples, mlps); default the MSG table.
        head_widths: hidden FC widths of the head.
        dropout_rate: head dropout (0.5).
        use_xyz: relative xyz as grouped features (Pointnet2 use_xyz=True).
        bn_momentum: Keras BatchNorm momentum (1 - PyTorch's; the recipe decays PyTorch's 0.5 -> 0.01).
    """

    def __init__(self, classes: int = 40, num_points: int = 1024, stages: tuple = stages_to_spec(MSG_STAGES),
                 head_widths: tuple[int, ...] = HEAD_WIDTHS, dropout_rate: float = 0.5, use_xyz: bool = True,
                 bn_momentum: float = 0.99, **kwargs):
        typed = spec_to_stages(stages)
        if typed[-1].npoint is not None:
            raise ValueError("PointNet2Classifier: the last stage must group all points (npoint None)")
        sa_layers = [SetAbstraction(s.mlps, s.npoint, s.radii, s.nsamples, use_xyz, bn_momentum, name=f"sa{i + 1}")
                     for i, s in enumerate(typed)]
        head = []
        for i, width in enumerate(head_widths):
            head += [layers.Dense(width, use_bias=False, kernel_initializer=torch_linear_init(), name=f"fc{i + 1}"),
                     layers.BatchNormalization(momentum=bn_momentum, epsilon=BN_EPSILON, name=f"fc{i + 1}_bn"),
                     layers.ReLU(name=f"fc{i + 1}_relu"),
                     layers.Dropout(dropout_rate, name=f"fc{i + 1}_dropout")]
        head.append(layers.Dense(classes, kernel_initializer=torch_linear_init(),
                                 bias_initializer=keras.initializers.Zeros(), name="logits", dtype="float32"))
        points = keras.Input(shape=(num_points, 3), name="points")
        xyz, features = points, None
        for sa in sa_layers:
            xyz, features = sa(xyz, features)
        x = features[:, 0]
        for layer in head:
            x = layer(x)
        super().__init__(inputs=points, outputs=x, **kwargs)
        self.sa_layers = sa_layers
        self.head_layers = head
        self.classes = classes
        self.num_points = num_points

    def run_stages(self, points, mix: Callable | None = None, training: bool = False):
        """Logits of the same layers, with `mix(level, xyz, features) -> (xyz, features)` applied to the input
        (level 0) and after each set abstraction but the last (levels 1 .. len(sa_layers) - 1)."""
        xyz, features = points, None
        if mix is not None:
            xyz, features = mix(0, xyz, features)
        for level, sa in enumerate(self.sa_layers, start=1):
            xyz, features = sa(xyz, features, training=training)
            if mix is not None and level < len(self.sa_layers):
                xyz, features = mix(level, xyz, features)
        x = features[:, 0]
        for layer in self.head_layers:
            x = layer(x, training=training)
        return x

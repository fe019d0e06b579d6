"""RSN: Residual Steps Network (Cai et al., ECCV 2020), a multi-stage top-down pose estimator.

Follows the authors' code (caiyuanhao1998/RSN, exps/RSN18.coco/network.py and exps/4XRSN18.coco/
network.py): stem -> N stages of (downsample module of Residual Steps Blocks, 4 levels; upsample module
at 256 channels with a heatmap head per level) with cross-stage aggregation; see layers.py for the blocks.
RSN-18 built this way has 9,159,072 trainable parameters and 4xRSN-18 38,456,256 (spec card
`rsn.md`, measured by instantiating the official module).

Input: a normalised person crop (batch, H, W, 3) (the official pipeline feeds BGR / 255 normalised with
means (0.406, 0.456, 0.485) and stds (0.225, 0.224, 0.229)). Output: a dict
- "heatmaps": (batch, H / 4, W / 4, K), the last stage's finest prediction (PRM-refined when
  `use_prm`): what inference, flip test, decoding and export use;
- "stage_heatmaps": (batch, num_stages, levels, H / 4, W / 4, K), every prediction for the loss,
  stage 0 first and, within a stage, levels coarse -> fine (`outputs[i][j]` of the official
  `_calculate_loss`); stage_heatmaps[:, -1, -1] == heatmaps.
Heatmaps are in the targets' units (the official targets peak at 255) and float32 under mixed precision.
`inference_model()` shares the weights and returns only "heatmaps" (the exported signature).
Imports Keras only (no TensorFlow), so it runs under KERAS_BACKEND=jax.
"""

from __future__ import annotations

import keras
from keras import layers, ops

from official.core.base_model import ZooLayer, ZooModel
from official.losses.keypoint_mse import rsn_loss
from official.vision.rsn.layers import downsample_module, pose_refine_machine, stem, upsample_module

PRM_PLACEMENTS = ("final", "all")


@keras.saving.register_keras_serializable(package="eccv20zoo")
class StackHeatmaps(ZooLayer):
    """Stacks num_stages * num_levels (batch, H, W, K) maps into (batch, num_stages, num_levels, H, W, K)."""

    def __init__(self, num_stages: int, num_levels: int, **kwargs):
        super().__init__(**kwargs)
        self.num_stages = num_stages
        self.num_levels = num_levels

    def call(self, maps):
        x = ops.stack(maps, axis=1)
        return ops.reshape(x, (-1, self.num_stages, self.num_levels, *x.shape[2:]))

    def compute_output_shape(self, input_shapes):
        return (input_shapes[0][0], self.num_stages, self.num_levels, *input_shapes[0][1:])


@keras.saving.register_keras_serializable(package="eccv20zoo")
class RSN(ZooModel):
    """Multi-stage Residual Steps Network (functional graph built in __init__).

    Args:
        num_keypoints: heatmap channels K (COCO 17, MPII 16).
        num_stages: stacked RSN stages (1 for RSN-18/50/101, 4 for 4xRSN).
        blocks_per_level: Residual Steps Blocks per downsample level ((2, 2, 2, 2) RSN-18,
            (3, 4, 6, 3) RSN-50, (3, 4, 23, 3) RSN-101).
        level_widths: output channels of the levels, fine -> coarse ((64, 128, 256, 512)).
        stem_width: stem output channels and the width of the stage-to-stage conv (64).
        unit_channels: channels of the upsample module (`UPSAMPLE_CHANNEL_NUM`, 256).
        num_steps: branches of a Residual Steps Block (4 in the code; mmpose's `num_steps`).
        output_stride: input size / heatmap size (4: 256x192 -> 64x48, the official OUTPUT_SHAPE).
        use_prm: add the Pose Refine Machine (not wired in the released code; see `prm_placement`).
        prm_placement: "final" (one PRM on the last stage's finest prediction) or "all" (a PRM on every
            prediction after its resize, as mmpose's MSPNHead with use_prm=True).
        input_shape: (height, width, 3) of the person crop (COCO 256x192, MPII 256x256).
        bn_momentum, bn_epsilon: BatchNorm (PyTorch momentum 0.1 = Keras 0.9, eps 1e-5).
    """

    def __init__(
        self,
        num_keypoints: int = 17,
        num_stages: int = 1,
        blocks_per_level: tuple[int, ...] = (2, 2, 2, 2),
        level_widths: tuple[int, ...] = (64, 128, 256, 512),
        stem_width: int = 64,
        unit_channels: int = 256,
        num_steps: int = 4,
        output_stride: int = 4,
        use_prm: bool = False,
        prm_placement: str = "final",
        input_shape: tuple[int, int, int] = (256, 192, 3),
        bn_momentum: float = 0.9,
        bn_epsilon: float = 1e-5,
        **kwargs,
    ):
        if len(blocks_per_level) != len(level_widths) or len(level_widths) < 2:
            raise ValueError(
                f"RSN: blocks_per_level {tuple(blocks_per_level)} and level_widths {tuple(level_widths)} "
                "need the same length (>= 2)"
            )
        if num_stages < 1 or num_steps < 2:
            raise ValueError(f"RSN: num_stages must be >= 1 and num_steps >= 2, got {num_stages}, {num_steps}")
        if prm_placement not in PRM_PLACEMENTS:
            raise ValueError(f"RSN: prm_placement must be one of {PRM_PLACEMENTS}, got {prm_placement!r}")
        height, width = int(input_shape[0]), int(input_shape[1])
        output_size = (height // output_stride, width // output_stride)
        bn = {"momentum": bn_momentum, "epsilon": bn_epsilon}
        levels = len(level_widths)

        images = keras.Input(shape=tuple(input_shape), name="images")
        x = stem(images, stem_width, bn)
        skip1 = skip2 = None
        maps = []
        for s in range(num_stages):
            last = s == num_stages - 1
            features = downsample_module(
                x, level_widths, blocks_per_level, f"s{s}_down", bn, skip1, skip2, num_steps
            )
            heatmaps, skip1, skip2, x = upsample_module(
                features, unit_channels, num_keypoints, output_size, f"s{s}_up", bn,
                gen_skip=not last, cross_channels=None if last else stem_width,
            )
            if use_prm:
                for u, h in enumerate(heatmaps):
                    if prm_placement == "all" or (last and u == levels - 1):
                        heatmaps[u] = pose_refine_machine(h, f"s{s}_u{u}_prm", bn)
            maps.extend(heatmaps)
        final = layers.Activation("linear", dtype="float32", name="heatmaps")(maps[-1])
        stacked = StackHeatmaps(num_stages, levels, dtype="float32", name="stage_heatmaps")(maps)
        super().__init__(inputs=images, outputs={"heatmaps": final, "stage_heatmaps": stacked}, **kwargs)
        self.num_keypoints = num_keypoints
        self.num_stages = num_stages
        self.num_levels = levels
        self.output_size = output_size

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """RSN's training objective (`losses.keypoint_mse.rsn_loss`: per-level MSE, OHKM top 8 on the
        finest) when `y` is the keypoint task's {"targets": (B, 5, H, W, K), "valid": (B, K)}; Keras 3
        checks y_true against y_pred's structure, so a per-output loss cannot see both. Regularisation
        losses are added as Keras does."""
        if not (isinstance(y, dict) and "targets" in y and "valid" in y):
            return super().compute_loss(x, y, y_pred, sample_weight, training)
        loss = rsn_loss(y_pred["stage_heatmaps"], y["targets"], y["valid"])
        if self.losses:
            loss = loss + ops.cast(ops.sum(ops.stack(self.losses)), loss.dtype)
        return loss

    def inference_model(self) -> keras.Model:
        """A model sharing these weights whose only output is the final (batch, H/4, W/4, K) heatmaps."""
        return keras.Model(self.input, self.get_layer("heatmaps").output, name=f"{self.name}_heatmaps")

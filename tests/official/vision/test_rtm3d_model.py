"""RTM3D structure and numerics: parameter counts of the named variants (spec card / official modules),
the nine head shapes at KITTI's 384x1280 (spec check 4), a round trip through config / .keras (the
SavedModel is test_rtm3d_trained.py's), TF-vs-JAX parity, one XLA training step, and a 2-image overfit (spec check 7) after which
`detect` finds each object with its class and 3D location."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

import official.vision.rtm3d  # noqa: F401  (registers the variants)
from official.core import registry
from official.core.model_table import shape_only
from official.data.mono3d_targets import encode_targets
from official.vision.rtm3d.model import RTM3D
from tests import helpers

# Official counts: KM3D msra_resnet PoseResNet-18 with the nine heads (spec card); KM3D pose_dla_dcn
# DLASeg 20,552,912 minus the 41,728 parameters of the two level-3/4 tree `project` modules that
# PyTorch creates and never calls (dla_dcn.py, counted outside the repo).
PARAMS = {"rtm3d_resnet18": 16_703_152, "rtm3d_dla34": 20_552_912 - 41_728}
HEADS = {"hm": 3, "hm_hp": 9, "hps": 18, "hp_offset": 2, "reg": 2, "wh": 2, "dim": 3, "rot": 8, "prob": 1}
SMALL = dict(head_conv=16, resnet_blocks=(1, 1, 1, 1), resnet_widths=(16, 16, 32, 32), stem_width=16,
             deconv_filters=(32, 32, 32), input_shape=(64, 192, 3), confidence_rampup_steps=60,
             center_threshold=0.3)  # fmt: skip


@pytest.mark.parametrize("name", sorted(PARAMS))
def test_parameter_counts_and_head_shapes(name):
    with shape_only():
        model = registry.create_model(name)
    assert helpers.trainable_count(model) == PARAMS[name]
    shapes = {k: tuple(v.shape) for k, v in zip(model.output_names, model.outputs, strict=True)}
    assert shapes == {k: (None, 96, 320, c) for k, c in HEADS.items()}


def test_round_trips_and_backends(tmp_path):
    # No SavedModel round trip here (CI time): test_rtm3d_trained.py exports the trained rtm3d_tiny's
    # SavedModel, verifies it against Keras and checks the served detections against `detect`.
    helpers.run_model_test("rtm3d_tiny", tmp_path, overrides={"input_shape": (64, 192, 3)}, saved_model=False,
                           jax=True, jax_atol=2e-4)


def _frames():
    """Two frames of three objects each, projected through a scaled KITTI camera (input 64 x 192)."""
    from official.data import kitti_geometry

    P2 = np.array([[108.0, 0.0, 96.0, 6.7], [0.0, 108.0, 26.0, 0.03], [0.0, 0.0, 1.0, 0.0027]], np.float32)
    scenes = [
        [(0, (1.5, 1.6, 3.9), (-3.0, 1.65, 9.0), 0.5), (1, (1.8, 0.6, 0.8), (2.5, 1.65, 7.0), -2.0)],
        [(2, (1.7, 0.6, 1.8), (1.0, 1.65, 8.0), 2.6), (0, (1.5, 1.6, 4.0), (-2.5, 1.65, 12.0), -1.2)],
    ]
    frames = []
    for scene in scenes:
        f = {"gt_classes": np.full(8, -1, np.int32), "gt_valid": np.zeros(8, bool), "gt_boxes2d": np.zeros((8, 4), np.float32),
             "gt_dimensions": np.zeros((8, 3), np.float32), "gt_locations": np.zeros((8, 3), np.float32),
             "gt_rotation_y": np.zeros(8, np.float32), "gt_alpha": np.zeros(8, np.float32), "P2": P2}
        for i, (c, dims, loc, ry) in enumerate(scene):
            f["gt_classes"][i], f["gt_valid"][i] = c, True
            f["gt_dimensions"][i], f["gt_locations"][i], f["gt_rotation_y"][i] = dims, loc, ry
            f["gt_boxes2d"][i] = kitti_geometry.box2d_from_3d(dims, loc, ry, P2, (64, 192))
            f["gt_alpha"][i] = kitti_geometry.alpha_from_rotation_y(ry, loc[0], loc[2])
        frames.append(f)
    return frames, scenes


def _images(frames, scenes):
    """Flat-shaded boxes on grey (the painter's order far to near), so the net has something to see."""
    from PIL import Image, ImageDraw

    from official.data import kitti_geometry

    images = []
    for f, scene in zip(frames, scenes, strict=True):
        image = Image.new("RGB", (192, 64), (90, 90, 90))
        draw = ImageDraw.Draw(image)
        for c, dims, loc, ry in sorted(scene, key=lambda o: -o[2][2]):
            uv = kitti_geometry.box_keypoints_2d(dims, loc, ry, f["P2"])
            faces = [((0, 1, 5, 4), 200), ((2, 3, 7, 6), 120), ((1, 2, 6, 5), 160), ((3, 0, 4, 7), 60), ((4, 5, 6, 7), 240)]
            for face, shade in faces:
                draw.polygon([tuple(uv[i]) for i in face], fill=(shade, (shade + 80 * c) % 256, 255 - shade))
        images.append(np.asarray(image, np.float32))
    return np.stack(images)


def test_xla_training_step_and_overfit_recovers_objects():
    keras.utils.set_random_seed(0)
    frames, scenes = _frames()
    x = _images(frames, scenes)
    targets = [encode_targets({k: tf.constant(v) for k, v in f.items()}, (64, 192), 3, max_objects=8) for f in frames]
    y = {k: tf.stack([t[k] for t in targets]) for k in targets[0]}
    # CI time: XLA's CPU compile grows with the step's op count, and Adam adds ~38 ops per variable (SGD:
    # 36.5 -> 24.5 s CPU; the model and its loss are what has to lower). Both optimizers are built before
    # `fit`: slots created inside the first call make tf.function trace the step twice (overfit: 23 -> 13
    # s CPU for its first 20 steps).
    xla = RTM3D(**SMALL)
    xla.compile(optimizer=keras.optimizers.SGD(1e-3), loss=None, jit_compile=True)
    xla.optimizer.build(xla.trainable_variables)
    history = xla.fit(x, y, batch_size=2, epochs=2, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))

    model = RTM3D(**SMALL)
    model.compile(optimizer=keras.optimizers.Adam(2e-3), loss=None, jit_compile=False)
    model.optimizer.build(model.trainable_variables)
    history = model.fit(tf.data.Dataset.from_tensors((x, y)).repeat(), steps_per_epoch=200, epochs=1, verbose=0)
    assert history.history["hm_loss"][-1] < 0.15
    dets = model.detect(x, np.stack([f["P2"] for f in frames]))
    for b, scene in enumerate(scenes):
        valid = np.asarray(dets["valid"][b])
        assert valid.sum() == len(scene), f"frame {b}: {valid.sum()} detections for {len(scene)} objects"
        locations, classes = np.asarray(dets["locations"][b])[valid], np.asarray(dets["classes"][b])[valid]
        for c, _, loc, _ in scene:
            dist = np.linalg.norm(locations - np.asarray(loc), axis=1)
            k = int(np.argmin(dist))
            assert classes[k] == c and dist[k] < 0.15 * loc[2], (b, c, loc, locations[k], dist[k])

"""Box augmentation: boxes follow the pixels, crops drop/clip boxes, eval resize inverts exactly."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from official.data import box_augment as ba


def drawn_example(
    height: int, width: int, boxes: list[list[int]], classes: list[int]
) -> dict[str, tf.Tensor]:
    """Black image with box i filled at grey level 80 + 60 * class (integer pixel boxes)."""
    image = np.zeros((height, width, 3), np.uint8)
    for (x1, y1, x2, y2), c in zip(boxes, classes, strict=True):
        image[y1:y2, x1:x2] = 80 + 60 * c
    return {
        "image": tf.constant(image),
        "image_id": tf.constant(5, tf.int64),
        "boxes": tf.constant(boxes, tf.float32),
        "classes": tf.constant(classes, tf.int32),
        "is_crowd": tf.constant([c == 2 for c in classes]),
    }


def test_flip_known_values_and_twice_is_identity():
    ex = drawn_example(40, 100, [[10, 5, 30, 20]], [1])
    image, boxes = ba.flip_horizontal(ex["image"], ex["boxes"])
    np.testing.assert_array_equal(boxes.numpy(), [[70, 5, 90, 20]])
    assert (image.numpy()[5:20, 70:90] == 140).all() and image.numpy().astype(int).sum() == 15 * 20 * 3 * 140
    image2, boxes2 = ba.flip_horizontal(image, boxes)
    np.testing.assert_array_equal(image2.numpy(), ex["image"].numpy())
    np.testing.assert_array_equal(boxes2.numpy(), ex["boxes"].numpy())


def test_eval_resize_is_exact_and_invertible():
    # 90 x 50 image into 64: sy = 64/90, resized width round(50 * 64/90) = 36, so sx = 36/50.
    ex = drawn_example(90, 50, [[0, 0, 50, 90], [10, 20, 30, 60]], [0, 1])  # drawn in this order
    out = ba.augment(ex, 64, training=False)
    sx, sy = 36 / 50, 64 / 90
    np.testing.assert_allclose(out["scale"].numpy(), [sx, sy], rtol=1e-6)
    np.testing.assert_array_equal(out["offset"].numpy(), [0, 0])
    assert not out["flipped"].numpy() and out["original_size"].numpy().tolist() == [90, 50]
    want = np.array([[0, 0, 36, 64], [10 * sx, 20 * sy, 30 * sx, 60 * sy]], np.float32)
    np.testing.assert_allclose(out["boxes"].numpy(), want, rtol=1e-6)
    image = out["image"].numpy()
    assert image.shape == (64, 64, 3) and image.dtype == np.float32
    # Pixels: class-1 box (grey 140) inside its mapped box, the class-0 background (80) elsewhere,
    # the pad value (0) right of the 36 resized columns.
    x1, y1, x2, y2 = want[1]
    np.testing.assert_allclose(image[int(y1) + 2 : int(y2) - 1, int(x1) + 2 : int(x2) - 1], 140, atol=0.5)
    np.testing.assert_allclose(image[:, : int(x1) - 1], 80, atol=0.5)
    assert (image[:, 36:] == 0).all()
    back = ba.unmap_boxes(out["boxes"], out["scale"], out["offset"], out["flipped"], 64)
    np.testing.assert_allclose(back.numpy(), ex["boxes"].numpy(), rtol=1e-6, atol=1e-5)


def test_crop_clips_and_drops_boxes():
    image = tf.zeros([64, 128, 3], tf.uint8)
    boxes = tf.constant([[0, 0, 10, 10], [50, 50, 70, 60], [90, 10, 130, 30]], tf.float32)
    # No resize; the 64 x 64 window starts at x = 40.
    out, moved, scale = ba.scale_and_crop(image, boxes, tf.constant([64, 128]), tf.constant([40, 0]), 64)
    assert out.shape == (64, 64, 3)
    np.testing.assert_array_equal(scale.numpy(), [1, 1])
    np.testing.assert_array_equal(moved.numpy(), [[-40, 0, -30, 10], [10, 50, 30, 60], [50, 10, 90, 30]])
    clipped, keep = ba.clip_boxes(moved, 64)
    np.testing.assert_array_equal(keep.numpy(), [False, True, True])  # the first box is cropped out
    np.testing.assert_array_equal(clipped.numpy()[1:], [[10, 50, 30, 60], [50, 10, 64, 30]])
    # The third box keeps 14/40 = 35% of its area.
    assert ba.clip_boxes(moved, 64, min_area_fraction=0.3)[1].numpy().tolist() == [False, True, True]
    assert ba.clip_boxes(moved, 64, min_area_fraction=0.5)[1].numpy().tolist() == [False, True, False]


def test_window_outside_image_is_padded():
    image = tf.fill([20, 20, 3], tf.constant(200, tf.uint8))
    out, _, _ = ba.scale_and_crop(
        image, tf.zeros([0, 4]), tf.constant([20, 20]), tf.constant([-10, -5]), 32, 7.0
    )
    out = out.numpy()
    assert (out[5:25, 10:30] == 200).all()
    assert (
        (out[:5] == 7).all()
        and (out[:, :10] == 7).all()
        and (out[25:] == 7).all()
        and (out[:, 30:] == 7).all()
    )


def test_training_boxes_follow_pixels_and_labels_stay_aligned():
    boxes = [[10, 10, 50, 40], [70, 20, 110, 90], [120, 60, 150, 110]]
    ex = drawn_example(120, 160, boxes, [0, 1, 2])
    flips = set()
    for seed in range(10):
        out = ba.augment(ex, 96, training=True, jitter=0.0, lighting_std=0.0, seed=seed)
        image, got = out["image"].numpy(), out["boxes"].numpy()
        classes, crowd = out["classes"].numpy(), out["is_crowd"].numpy()
        flips.add(bool(out["flipped"].numpy()))
        assert (got >= 0).all() and (got <= 96).all()
        assert len(got) == len(classes) == len(crowd)
        np.testing.assert_array_equal(crowd, classes == 2)
        covered = np.zeros((96, 96), bool)
        for (x1, y1, x2, y2), c in zip(got, classes, strict=True):
            covered[int(np.floor(y1)) : int(np.ceil(y2)), int(np.floor(x1)) : int(np.ceil(x2))] = True
            inner = image[int(y1) + 2 : int(y2) - 2, int(x1) + 2 : int(x2) - 2]
            if inner.size:  # the box interior has its class's grey level: boxes and labels match pixels
                np.testing.assert_allclose(inner, 80 + 60 * c, atol=1.0)
        ring = np.zeros_like(covered)
        ring[1:-1, 1:-1] = covered[:-2, 1:-1] | covered[2:, 1:-1] | covered[1:-1, :-2] | covered[1:-1, 2:]
        assert image[~(covered | ring)].max() == 0, "no object pixels outside the boxes"
        back = ba.unmap_boxes(got, out["scale"], out["offset"], out["flipped"], 96).numpy()
        originals = np.asarray(boxes, np.float32)
        for b, c in zip(back, classes, strict=True):  # a kept box maps into its original box
            o = originals[c]
            assert b[0] >= o[0] - 1e-3 and b[1] >= o[1] - 1e-3 and b[2] <= o[2] + 1e-3 and b[3] <= o[3] + 1e-3
    assert flips == {True, False}


def test_same_seed_same_output_and_discrete_scales():
    ex = drawn_example(100, 100, [[10, 10, 60, 50]], [1])
    a = ba.augment(ex, 100, training=True, seed=3)
    b = ba.augment(ex, 100, training=True, seed=tf.constant([3, 0]))
    c = ba.augment(ex, 100, training=True, seed=4)
    for key in ("image", "boxes", "scale", "offset", "flipped"):
        np.testing.assert_array_equal(a[key].numpy(), b[key].numpy())
    assert not np.array_equal(a["image"].numpy(), c["image"].numpy())
    # Resize factors come from 0.6, 0.7, ..., 1.4 (both ends included) times S / longest side.
    fn = tf.function(lambda s: ba.augment(ex, 100, True, jitter=0.0, lighting_std=0.0, seed=s)["scale"])
    scales = {round(float(fn(tf.constant([s, 1]))[0]), 4) for s in range(80)}
    assert scales == {0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4}


def test_augment_dataset_is_reproducible():
    ex = drawn_example(50, 70, [[5, 5, 30, 30]], [0])
    ds = tf.data.Dataset.from_tensors(ex).repeat(4)
    run = [e["image"].numpy() for e in ba.augment_dataset(ds, 48, True, seed=11)]
    again = [e["image"].numpy() for e in ba.augment_dataset(ds, 48, True, seed=11)]
    assert all(np.array_equal(x, y) for x, y in zip(run, again, strict=True))
    assert not np.array_equal(run[0], run[1]), "each element gets its own random draw"


def test_color_jitter():
    image = tf.random.stateless_uniform([16, 16, 3], [1, 2], 0, 255)
    np.testing.assert_array_equal(
        ba.color_jitter(image, tf.constant([1, 1]), 0.0, 0.0).numpy(), image.numpy()
    )
    out = ba.color_jitter(image, tf.constant([1, 1]), 0.4, 0.1).numpy()
    assert out.min() >= 0 and out.max() <= 255 and not np.allclose(out, image.numpy())
    # Brightness alone on a grey image scales it by a factor in [0.6, 1.4] (contrast/saturation of a
    # flat grey image are no-ops), so the ratio is uniform over pixels.
    flat = tf.fill([8, 8, 3], 100.0)
    ratio = ba.color_jitter(flat, tf.constant([3, 4]), 0.4, 0.0).numpy() / 100.0
    assert np.ptp(ratio) < 1e-5 and 0.6 <= ratio.flat[0] <= 1.4


def test_pad_to_max():
    ex = drawn_example(20, 20, [[0, 0, 5, 5], [1, 1, 6, 6], [2, 2, 9, 9]], [0, 2, 1])
    out = ba.pad_to_max(ex, 5)
    np.testing.assert_array_equal(out["box_mask"].numpy(), [1, 1, 1, 0, 0])
    np.testing.assert_array_equal(out["classes"].numpy(), [0, 2, 1, -1, -1])
    np.testing.assert_array_equal(out["is_crowd"].numpy(), [False, True, False, False, False])
    np.testing.assert_array_equal(out["boxes"].numpy()[3:], 0)
    assert out["num_boxes"].numpy() == 3 and out["boxes"].shape == (5, 4)
    cut = ba.pad_to_max(ex, 2)
    np.testing.assert_array_equal(cut["boxes"].numpy(), [[0, 0, 5, 5], [1, 1, 6, 6]])
    assert cut["num_boxes"].numpy() == 2
    empty = ba.pad_to_max(
        {
            **ex,
            "boxes": tf.zeros([0, 4]),
            "classes": tf.zeros([0], tf.int32),
            "is_crowd": tf.zeros([0], tf.bool),
        },
        3,
    )
    assert empty["num_boxes"].numpy() == 0 and empty["box_mask"].numpy().sum() == 0


@pytest.mark.parametrize("training", [True, False])
def test_batched_pipeline_shapes(training):
    ex = drawn_example(30, 40, [[5, 5, 20, 20]], [1])
    ds = ba.augment_dataset(tf.data.Dataset.from_tensors(ex).repeat(3), 32, training, seed=0)
    batch = next(iter(ds.map(lambda e: ba.pad_to_max(e, 4)).batch(3)))
    assert batch["image"].shape == (3, 32, 32, 3) and batch["boxes"].shape == (3, 4, 4)
    back = ba.unmap_boxes(batch["boxes"], batch["scale"], batch["offset"], batch["flipped"], 32).numpy()
    if not training:
        np.testing.assert_allclose(back[:, 0], [[5, 5, 20, 20]] * 3, rtol=1e-6)

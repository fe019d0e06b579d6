"""Frame-folder video clips (UCF101 / HMDB51 / Kinetics as the DPC / MemDPC / CoCLR code lays them out) -> tf.data.

Layout (TengdaHan/MemDPC process_data, spec card memdpc.md "Data"):
    ROOT/<class>/<video>/image_00001.jpg ...         frames, 1-based, `image_%05d.jpg`
    SPLITS/ClassInd.txt                              one class per line (`name` or UCF's `1 name`); line order = label
    SPLITS/train_split01.csv, test_split01.csv ...   UCF101 / HMDB51 (splits 1-3); SPLITS/train_split.csv, val_split.csv
                                                     for Kinetics. Rows `video_frame_dir,num_frames`, no header; a
                                                     relative dir is taken under ROOT; the class is the dir's parent.
Sampling (dataset.py idx_sampler): a video needs more than num_seq * seq_len * downsample frames (shorter ones are
dropped, as the official filter); a random start in [0, vlen - num_seq * seq_len * downsample), then
num_seq * seq_len frames spaced by `downsample`, cut into num_seq blocks of seq_len -> (num_seq, seq_len, H, W, 3).
Missing folders / frames, unknown classes and short videos are counted per reason, logged and skipped; a missing
file or a malformed row is a one-line VideoFramesError naming the file, the line and the field.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
from collections import Counter

import tensorflow as tf

from official.core.errors import PathNotFoundError, UserError
from official.data import element_seeds
from official.data.augment_ops import split_seed

log = logging.getLogger(__name__)

IMAGENET_MEAN = (0.485, 0.456, 0.406)  # utils/augmentation.py Normalize (torchvision ImageNet statistics)
IMAGENET_STD = (0.229, 0.224, 0.225)
FRAME_PATTERN = "image_%05d.jpg"


class VideoFramesError(UserError, ValueError):
    """A split list or class index is malformed; the message names the file, line and field."""


def split_file(dataset: str, split: str, which_split: int = 1) -> str:
    """The official split CSV name: ucf101 / hmdb51 `{train,test}_split0K.csv`, kinetics `{train,val}_split.csv`."""
    if dataset in ("ucf101", "hmdb51"):
        if split not in ("train", "test", "val"):
            raise VideoFramesError(f"{dataset}: split must be train or test, got {split!r} (field split)")
        return f"{'train' if split == 'train' else 'test'}_split{which_split:02d}.csv"
    if dataset in ("kinetics", "k400"):
        return "train_split.csv" if split == "train" else "val_split.csv"
    raise VideoFramesError(f"unknown dataset {dataset!r} (field dataset: ucf101, hmdb51, kinetics)")


def read_class_index(path: str) -> list[str]:
    """ClassInd.txt -> class names in label order; accepts `name` and UCF101's `1 name` lines."""
    if not os.path.isfile(path):
        raise PathNotFoundError(f"{path}: class index file does not exist")
    names = []
    with open(path) as f:
        for line in f:
            parts = line.split()
            if parts:
                names.append(parts[-1])
    if not names:
        raise VideoFramesError(f"{path}: class index is empty (field class name)")
    return names


@dataclasses.dataclass
class VideoList:
    """Usable videos of a split and the per-reason counts of those skipped."""

    dirs: list[str]
    num_frames: list[int]
    labels: list[int]
    class_names: list[str]
    skipped: Counter


def list_videos(root: str, split_csv: str, class_index: str, min_frames: int, check_frames: bool = True) -> VideoList:
    """Reads a split CSV; keeps videos with more than `min_frames` frames whose folder (and last frame) exist."""
    if not os.path.isdir(root):
        raise PathNotFoundError(f"{root}: frame root does not exist")
    if not os.path.isfile(split_csv):
        raise PathNotFoundError(f"{split_csv}: split list does not exist")
    class_names = read_class_index(class_index)
    to_label = {n: i for i, n in enumerate(class_names)}
    out = VideoList([], [], [], class_names, Counter())
    with open(split_csv) as f:
        for lineno, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            fields = line.rsplit(",", 1)
            if len(fields) != 2:
                raise VideoFramesError(f"{split_csv}:{lineno}: expected `video_frame_dir,num_frames` (field num_frames)")
            vdir, vlen = fields[0].strip(), fields[1].strip()
            try:
                vlen = int(vlen)
            except ValueError:
                raise VideoFramesError(f"{split_csv}:{lineno}: num_frames {vlen!r} is not an integer (field num_frames)") from None
            vdir = vdir if os.path.isabs(vdir) else os.path.join(root, vdir)
            vdir = vdir.rstrip("/")
            cls = os.path.basename(os.path.dirname(vdir))
            if cls not in to_label:
                out.skipped["unknown class"] += 1
            elif vlen - min_frames <= 0:  # dataset.py: drop if vlen - num_seq * seq_len * downsample <= 0
                out.skipped["too short"] += 1
            elif check_frames and not os.path.isfile(os.path.join(vdir, FRAME_PATTERN % vlen)):
                out.skipped["missing frames"] += 1
            else:
                out.dirs.append(vdir)
                out.num_frames.append(vlen)
                out.labels.append(to_label[cls])
    if out.skipped:
        log.warning("%s: skipped %d videos (%s); %d kept", split_csv, sum(out.skipped.values()),
                    ", ".join(f"{k}: {v}" for k, v in sorted(out.skipped.items())), len(out.dirs))
    if not out.dirs:
        raise VideoFramesError(f"{split_csv}: no usable video (skipped {dict(out.skipped)}; field num_frames)")
    return out


def write_split_csv(root: str, videos: list[tuple[str, str]], path: str) -> None:
    """Writes `class/video,num_frames` rows (write_csv.py's format, relative to root so the set can move) for
    (class, video) folders under root, counting their frames."""
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        for cls, vid in videos:
            n = len([x for x in os.listdir(os.path.join(root, cls, vid)) if x.startswith("image_") and x.endswith(".jpg")])
            f.write(f"{cls}/{vid},{n}\n")
    os.replace(tmp, path)


def frame_indices(num_frames: tf.Tensor, total: int, downsample: int, random: bool, seed=None) -> tf.Tensor:
    """0-based frame indices: random start in [0, vlen - total * ds) when training (`seed`: a `[2]` stateless
    seed; None draws an unreproducible one), else the centre start."""
    span = total * downsample
    avail = tf.maximum(tf.cast(num_frames, tf.int32) - span, 1)
    if random:
        start = tf.random.stateless_uniform((), split_seed(seed, 1)[0], 0, avail, tf.int32)
    else:
        start = avail // 2
    return start + tf.range(total, dtype=tf.int32) * downsample


def load_frames(video_dir: tf.Tensor, indices: tf.Tensor) -> tf.Tensor:
    """Decodes `image_%05d.jpg` (index + 1) frames of one folder -> (T, H, W, 3) uint8."""
    names = tf.strings.join([video_dir, "/image_", tf.strings.as_string(indices + 1, width=5, fill="0"), ".jpg"])
    return tf.map_fn(lambda p: tf.io.decode_jpeg(tf.io.read_file(p), channels=3), names,
                     fn_output_signature=tf.TensorSpec((None, None, 3), tf.uint8))


def random_sized_crop(frames: tf.Tensor, size: int, seed=None) -> tf.Tensor:
    """augmentation.RandomSizedCrop(consistent): area 0.5-1, aspect 3/4-4/3, one box for all frames, -> size^2.
    Four independent draws from the `[2]` seed (one stateful op seed shared by all four drew the same number:
    aspect tied to area, y0 to x0)."""
    shape = tf.shape(frames)
    h, w = tf.cast(shape[1], tf.float32), tf.cast(shape[2], tf.float32)
    area_seed, aspect_seed, y_seed, x_seed = split_seed(seed, 4)
    area = tf.random.stateless_uniform((), area_seed, 0.5, 1.0) * h * w
    aspect = tf.random.stateless_uniform((), aspect_seed, 3 / 4, 4 / 3)
    ch = tf.minimum(tf.round(tf.sqrt(area / aspect)), h)
    cw = tf.minimum(tf.round(tf.sqrt(area * aspect)), w)
    y0 = tf.random.stateless_uniform((), y_seed) * (h - ch)
    x0 = tf.random.stateless_uniform((), x_seed) * (w - cw)
    box = tf.stack([y0 / h, x0 / w, (y0 + ch) / h, (x0 + cw) / w])[None]
    n = shape[0]
    return tf.image.crop_and_resize(tf.cast(frames, tf.float32), tf.tile(box, [n, 1]), tf.range(n), (size, size))


def center_resize(frames: tf.Tensor, size: int) -> tf.Tensor:
    """Evaluation: the central square, resized to size^2 (Scale + CenterCrop of the official test transform)."""
    shape = tf.shape(frames)
    s = tf.minimum(shape[1], shape[2])
    y0, x0 = (shape[1] - s) // 2, (shape[2] - s) // 2
    crop = frames[:, y0:y0 + s, x0:x0 + s]
    return tf.image.resize(tf.cast(crop, tf.float32), (size, size))


def colour_augment(frames: tf.Tensor, grey_p: float, jitter: tuple[float, float, float, float], seed=None) -> tf.Tensor:
    """Per-frame RandomGray (one channel copied to all three, p) then ColorJitter (brightness, contrast, saturation,
    hue) on [0, 1] frames; each frame draws its own factors (the official non-consistent mode), fixed order.
    Every draw has its own stream from the `[2]` seed."""
    t = tf.shape(frames)[0]
    b, c, s, hue = jitter
    seeds = split_seed(seed, 6)
    channel = tf.random.stateless_uniform((t,), seeds[0], 0, 3, tf.int32)
    grey = tf.repeat(tf.gather(frames, channel, axis=3, batch_dims=1)[..., None], 3, axis=-1)
    use_grey = tf.random.stateless_uniform((t, 1, 1, 1), seeds[1]) < grey_p
    x = tf.where(use_grey, grey, frames)

    def factor(amount, factor_seed):
        return tf.random.stateless_uniform((t, 1, 1, 1), factor_seed, max(0.0, 1 - amount), 1 + amount)

    x = tf.clip_by_value(x * factor(b, seeds[2]), 0, 1)
    mean = tf.reduce_mean(tf.image.rgb_to_grayscale(x), axis=(1, 2, 3), keepdims=True)
    x = tf.clip_by_value((x - mean) * factor(c, seeds[3]) + mean, 0, 1)
    gray = tf.image.rgb_to_grayscale(x)
    x = tf.clip_by_value((x - gray) * factor(s, seeds[4]) + gray, 0, 1)
    hsv = tf.image.rgb_to_hsv(x)
    shift = tf.random.stateless_uniform((t, 1, 1), seeds[5], -hue, hue)
    hsv = tf.stack([tf.math.floormod(hsv[..., 0] + shift, 1.0), hsv[..., 1], hsv[..., 2]], axis=-1)
    return tf.image.hsv_to_rgb(hsv)


def clip_dataset(videos: VideoList, num_seq: int = 8, seq_len: int = 5, downsample: int = 3, img_dim: int = 128,
                 training: bool = True, grey_p: float = 0.25, jitter=(0.5, 0.5, 0.5, 0.25), normalize: bool = True,
                 seed: int | None = None) -> tf.data.Dataset:
    """Dataset of {"clip": (num_seq, seq_len, img_dim, img_dim, 3) float32, "label": int32}; unreadable JPEGs
    drop their clip (tf.data ignore_errors, logged)."""
    total = num_seq * seq_len
    ds = tf.data.Dataset.from_tensor_slices(
        {"dir": videos.dirs, "num_frames": videos.num_frames, "label": tf.constant(videos.labels, tf.int32)})
    if training:  # each clip's draws come from its own seed: a seeded run is reproducible
        ds = ds.shuffle(len(videos.dirs), seed=seed, reshuffle_each_iteration=True)
        ds = element_seeds.with_element_seeds(ds, seed).map(lambda ex, s: {**ex, "seed": s})

    def make(ex):
        if training:
            start_seed, crop_seed, flip_seed, colour_seed = split_seed(ex["seed"], 4)
            frames = load_frames(ex["dir"], frame_indices(ex["num_frames"], total, downsample, True, start_seed))
            x = random_sized_crop(frames, img_dim, crop_seed) / 255.0
            flip = tf.random.stateless_uniform((), flip_seed) < 0.5
            x = tf.cond(flip, lambda: x[:, :, ::-1], lambda: x)  # consistent flip
            x = colour_augment(x, grey_p, tuple(jitter), colour_seed)
        else:
            frames = load_frames(ex["dir"], frame_indices(ex["num_frames"], total, downsample, False))
            x = center_resize(frames, img_dim) / 255.0
        if normalize:
            x = (x - tf.constant(IMAGENET_MEAN)) / tf.constant(IMAGENET_STD)
        x = tf.reshape(x, (num_seq, seq_len, img_dim, img_dim, 3))
        return {"clip": x, "label": ex["label"]}

    return ds.map(make, num_parallel_calls=tf.data.AUTOTUNE).ignore_errors(log_warning=True)


def min_frames(num_seq: int, seq_len: int, downsample: int) -> int:
    """Frames a video must exceed to give one clip (the official `vlen - num_seq * seq_len * downsample <= 0` drop)."""
    return num_seq * seq_len * downsample


def feature_map_size(img_dim: int) -> int:
    """Spatial size of the R-2D3D output (model.py last_size = ceil(img_dim / 32))."""
    return int(math.ceil(img_dim / 32))

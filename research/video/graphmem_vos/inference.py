"""The GraphMemVOS test protocol (runfiles/eval_DAVIS_graph_memory.py `Run_video`), frame by frame on numpy.

For frame t the memory holds frame 0 (its given mask), then
- t = 1: frame 0 only (one node: plain read);
- 2 <= t <= 4: frames 0 and t - 1;
- t > 4: frame 0, the centres of 4 equal segments of [0, t) (offsets i * d + d // 2, d = t // 4) and
  frame t - 1: 6 nodes (frame 0 may appear twice, as in the repo).
Every memory frame is written with its current soft prediction (frame 0 with the one-hot given mask). The
repo re-encodes the sampled frames at every step; a frame's prediction never changes once made, so the keys
and values are cached here (same numbers, less compute). Its `Mem_every = 5` bookkeeping only ever feeds
frame 0 into the memory, so it has no effect and no parameter here. Frames are zero-padded (centred) to a
multiple of 16 and the logits cropped back (`pad_divide_by`); `flip=True` averages the probabilities
with a run on the mirrored video (the repo's use_flip). The memory is padded to a fixed capacity with a
validity mask, so `step` sees one shape (XLA, export). The repo keeps 11 object channels (K) and
softmaxes over the empty ones too (logit log(1e-7), ~1e-7 of the mass each); here only the sequence's
objects have slots.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

NUM_SEGMENTS = 4  # record.num_segment
CAPACITY = NUM_SEGMENTS + 2  # first + segment centres + previous frame


def memory_indices(t: int, num_segments: int = NUM_SEGMENTS) -> list[int]:
    """Indices of the frames in memory when frame t (>= 1) is segmented."""
    if t <= 1:
        return [0]
    if t <= num_segments:
        return [0, t - 1]
    d = t // num_segments
    return [0, *(i * d + d // 2 for i in range(num_segments)), t - 1]


def pad_amounts(size: int, divisor: int = 16) -> tuple[int, int]:
    """(before, after) zero padding of `size` up to a multiple of `divisor`, centred like pad_divide_by."""
    extra = -size % divisor
    return extra // 2, extra - extra // 2


def one_hot(ids: np.ndarray, num_objects: int) -> np.ndarray:
    """(H, W) ids -> (H, W, num_objects + 1) float32 (ids above num_objects, e.g. void 255, -> background)."""
    ids = np.where(ids > num_objects, 0, ids)
    return np.eye(num_objects + 1, dtype=np.float32)[ids]


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _run(memorize: Callable, step: Callable, frames: np.ndarray, first: np.ndarray, region: np.ndarray,
         num_segments: int) -> np.ndarray:
    n, num_objects = len(frames), first.shape[-1] - 1
    capacity = num_segments + 2
    probs = [first]
    keys: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    object_mask = np.ones((1, num_objects), np.float32)
    for t in range(1, n):
        if t - 1 not in keys:
            k, v = memorize(frames[t - 1][None], probs[t - 1][None])
            keys[t - 1] = (np.asarray(k)[0], np.asarray(v)[0])
        idx = memory_indices(t, num_segments)
        k0, v0 = keys[0]
        mk = np.zeros((1, num_objects, capacity, *k0.shape[1:]), np.float32)
        mv = np.zeros((1, num_objects, capacity, *v0.shape[1:]), np.float32)
        for slot, i in enumerate(idx):
            mk[0, :, slot], mv[0, :, slot] = keys[i]
        mask = (np.arange(capacity) < len(idx))[None]
        logits = np.asarray(step(frames[t][None], mk, mv, mask, object_mask))[0]
        # the repo crops the prediction and zero-pads it again when it is memorised: 0 in every channel
        probs.append(_softmax(logits.astype(np.float64)).astype(np.float32) * region)
    return np.stack(probs)


def run_video(memorize: Callable, step: Callable, frames: np.ndarray, first_ids: np.ndarray, num_objects: int,
              flip: bool = False, num_segments: int = NUM_SEGMENTS) -> np.ndarray:
    """Probabilities (T, H, W, num_objects + 1) of a video.

    memorize(frame (1, H, W, 3), probs (1, H, W, K)) -> (keys (1, O, h, w, Ck), values) and
    step(frame, keys (1, O, C, h, w, Ck), values, memory_mask (1, C), object_mask (1, O)) -> logits
    (1, H, W, K) are GraphMemVOS.memorize / .step (or compiled / exported versions of them); frames
    (T, H, W, 3) float in [0, 1]; first_ids (H, W) the given mask of frame 0 (ids 1..num_objects)."""
    _, h, w, _ = frames.shape
    (top, bottom), (left, right) = pad_amounts(h), pad_amounts(w)
    padded = np.pad(frames.astype(np.float32), ((0, 0), (top, bottom), (left, right), (0, 0)))
    first = np.pad(one_hot(np.asarray(first_ids), num_objects), ((top, bottom), (left, right), (0, 0)))
    region = np.pad(np.ones((h, w, 1), np.float32), ((top, bottom), (left, right), (0, 0)))
    out = _run(memorize, step, padded, first, region, num_segments)
    if flip:
        mirrored = _run(memorize, step, padded[:, :, ::-1].copy(), first[:, ::-1].copy(), region[:, ::-1].copy(),
                        num_segments)
        out = (out + mirrored[:, :, ::-1]) / 2
    return out[:, top:top + h, left:left + w]

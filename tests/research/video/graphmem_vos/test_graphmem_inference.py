"""The GraphMemVOS test protocol (research/video/graphmem_vos/inference.py) with numpy stand-ins for the network:
the memory frames equal a re-simulation of eval_DAVIS_graph_memory.py's Run_video bookkeeping (this_keys /
keys / Mem_every / _sample_pair_indices on frame indices), frame 0 is the given mask, every frame's
probabilities sum to 1, padding to 16 and cropping back, memorised masks are 0 in the padding, flip TTA."""

from __future__ import annotations

import numpy as np
import pytest

from research.video.graphmem_vos import inference


def _official_memory(num_frames: int, mem_every: int = 5, num_segment: int = 4) -> dict[int, list[int]]:
    """Frame indices in memory per frame t, following Run_video with lists of indices for tensors."""
    to_memorize = list(range(0, num_frames, mem_every))
    out, keys, this_keys = {}, None, None
    for t in range(1, num_frames):
        prev = [t - 1]
        if t - 1 == 0:
            this_keys = prev
        elif t <= num_segment:
            this_keys = keys + prev
        if t > num_segment:
            d = t // num_segment
            select = [this_keys[0]] + [i * d + d // 2 for i in range(num_segment)] + prev
        else:
            select = this_keys
        out[t] = select
        if t - 1 in to_memorize:
            keys = this_keys
    return out


@pytest.mark.parametrize("num_frames", [2, 5, 9, 30])
def test_memory_frames_follow_the_official_loop(num_frames):
    want = _official_memory(num_frames)
    assert {t: inference.memory_indices(t) for t in range(1, num_frames)} == want
    assert max(len(v) for v in want.values()) <= inference.CAPACITY


class _Stub:
    """memorize: keys carry the frame's id (its mean value) and the object's mean probability in and outside
    the image; step: logits that favour each object by the mean id of its valid memory nodes."""

    def __init__(self):
        self.calls, self.steps = [], []

    def memorize(self, frame, probs):
        self.calls.append((float(frame[0].max()), probs[0].copy()))
        o = probs.shape[-1] - 1
        k = np.full((1, o, 2, 2, 1), frame[0].max(), np.float32)
        return k, k.repeat(2, -1)

    def step(self, frame, keys, values, memory_mask, object_mask):
        self.steps.append((frame.shape, keys.shape, memory_mask.copy(), keys[0, 0, :, 0, 0, 0].copy()))
        _, h, w, _ = frame.shape
        o = keys.shape[1]
        rng = np.random.default_rng(int(frame[0].max() * 100))
        return rng.normal(size=(1, h, w, o + 1)).astype(np.float32) * 3


def test_run_video_pads_keeps_the_first_mask_and_normalises():
    t, h, w = 9, 20, 30
    frames = np.stack([np.full((h, w, 3), i / 10, np.float32) for i in range(t)])
    first = np.zeros((h, w), np.int32)
    first[2:8, 3:10], first[10:18, 12:25], first[0, 0] = 1, 2, 255  # void -> background
    stub = _Stub()
    probs = inference.run_video(stub.memorize, stub.step, frames, first, 2)
    assert probs.shape == (t, h, w, 3)
    np.testing.assert_allclose(probs.sum(-1), 1, atol=1e-5)
    np.testing.assert_array_equal(probs[0], inference.one_hot(first, 2))
    assert probs[0, 0, 0, 0] == 1
    for step_t, (shape, kshape, mask, ids) in enumerate(stub.steps, start=1):
        assert shape == (1, 32, 32, 3) and kshape[2] == inference.CAPACITY  # padded to 16, fixed capacity
        want = inference.memory_indices(step_t)
        assert mask[0].sum() == len(want)
        np.testing.assert_allclose(ids[: len(want)], np.array(want) / 10, atol=1e-6)
    assert [c[0] for c in stub.calls] == pytest.approx([i / 10 for i in range(t - 1)])  # each frame written once
    top, left = inference.pad_amounts(h)[0], inference.pad_amounts(w)[0]
    assert (top, left) == (6, 1)
    for _, mem_probs in stub.calls:
        inside = mem_probs[top:top + h, left:left + w]
        np.testing.assert_allclose(inside.sum(-1), 1, atol=1e-5)
        assert np.abs(mem_probs).sum() == pytest.approx(np.abs(inside).sum())  # zero in the padding


def test_flip_averages_the_mirrored_run():
    t, h, w = 4, 16, 16
    rng = np.random.default_rng(1)
    frames = rng.uniform(0, 1, (t, h, w, 3)).astype(np.float32)
    first = np.zeros((h, w), np.int32)
    first[4:9, 2:6] = 1

    def step(frame, keys, values, memory_mask, object_mask):
        x = np.arange(frame.shape[2], dtype=np.float32)[None, None, :, None]
        return np.concatenate([np.zeros_like(x), x / 4], -1).repeat(frame.shape[1], 1)  # object likelier on the right

    memorize = _Stub().memorize
    plain = inference.run_video(memorize, step, frames, first, 1)
    both = inference.run_video(memorize, step, frames, first, 1, flip=True)
    mirrored = plain[:, :, ::-1]
    np.testing.assert_allclose(both[1:], (plain[1:] + mirrored[1:]) / 2, atol=1e-6)
    np.testing.assert_allclose(both[1:, :, :, 1], 0.5 * (plain[1:, :, :, 1] + plain[1:, :, ::-1, 1]), atol=1e-6)
    np.testing.assert_array_equal(both[0], plain[0])

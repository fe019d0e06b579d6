"""GraphMemVOS encoders (research/video/graphmem_vos/encoders.py): spec check 2 (trunk parameters), the
feature strides of check 1, and the memory encoder's mask convs entering before bn1."""

from __future__ import annotations

import numpy as np

from research.video.graphmem_vos import encoders


def _trainable(model) -> int:
    return int(sum(np.prod(w.shape) for w in model.trainable_weights))


def test_encoders_parameters_strides_and_mask_path():
    q, m = encoders.query_encoder(), encoders.memory_encoder()
    assert _trainable(q) == 8_543_296 and _trainable(m) == 8_549_568  # torchvision counts (spec card)
    rng = np.random.default_rng(0)
    frame = rng.uniform(0, 1, (1, 64, 96, 3)).astype(np.float32)
    out_q = {k: np.asarray(v) for k, v in q(frame).items()}
    assert out_q["r4"].shape == (1, 4, 6, 1024) and out_q["r3"].shape == (1, 8, 12, 512)
    assert out_q["r2"].shape == (1, 16, 24, 256)
    shared = {w.path.replace("encoder_q", ""): w for w in q.weights}
    copied = 0
    for w in m.weights:  # the memory encoder with the query encoder's trunk weights
        key = w.path.replace("encoder_m", "")
        if key in shared:
            w.assign(shared[key])
            copied += 1
    assert copied == len(q.weights)
    zeros = np.zeros((1, 64, 96, 1), np.float32)
    same = np.asarray(m([frame, zeros, zeros])["r4"])
    np.testing.assert_allclose(same, out_q["r4"], atol=1e-4)  # empty masks: the query trunk
    mask = zeros.copy()
    mask[:, 20:40, 30:60] = 1
    assert np.abs(np.asarray(m([frame, mask, zeros])["r4"]) - same).max() > 1e-3

"""Stage 1's self-supervised denoising input: the sketch G_A sees is corrupted; the cycle loss compares
G_B(G_A(noisy)) with the CLEAN sketch (objective.py).

Per sketch, one uniform draw u: u < p_noise (0.2) -> multiplied pixel-wise by a noise-stroke image (the
dataset's train_noise/ folder); p_noise <= u < p_noise + p_patch (0.3) -> multiplied by a map that is 1
except in a patch x patch window (50 at 128 px, top-left uniform in [0, size - patch]) holding the same
window of another training sketch; else clean. Products are taken in the [-1, 1] tensor space, as the
official code does (a black stroke times a black stroke is white). keras.ops only (XLA-compilable).
"""

from __future__ import annotations

from keras import ops, random


def compose(clean, noise, other, u, offsets, p_noise: float = 0.2, p_patch: float = 0.3, patch: int = 50):
    """clean, noise, other: (B, H, W, C) in [-1, 1]; u: (B,) in [0, 1); offsets: (B, 2) int (row, col)."""
    height, width = int(clean.shape[1]), int(clean.shape[2])
    rows = ops.arange(height, dtype="int32")[None, :, None]
    cols = ops.arange(width, dtype="int32")[None, None, :]
    offsets = ops.cast(offsets, "int32")
    y0, x0 = offsets[:, 0][:, None, None], offsets[:, 1][:, None, None]
    inside = (rows >= y0) & (rows < y0 + patch) & (cols >= x0) & (cols < x0 + patch)
    window = ops.where(inside[..., None], other, ops.ones_like(other))
    u = ops.reshape(u, (-1, 1, 1, 1))
    patched = clean * window
    noisy = clean * noise
    return ops.where(u < p_noise, noisy, ops.where(u < p_noise + p_patch, patched, clean))


def corrupt(clean, noise, other, seed, p_noise: float = 0.2, p_patch: float = 0.3, patch: int = 50):
    """`compose` with seeded draws (`seed`: an int or a keras.random.SeedGenerator)."""
    batch = ops.shape(clean)[0]
    height, width = int(clean.shape[1]), int(clean.shape[2])
    if patch > min(height, width):
        raise ValueError(f"noise patch {patch} is larger than the {height}x{width} sketch")
    if isinstance(seed, int):  # one int seed would give the three draws the same numbers (rows == cols)
        seed = random.SeedGenerator(seed)
    u = random.uniform((batch,), seed=seed)
    rows = random.randint((batch, 1), 0, height - patch + 1, seed=seed)
    cols = random.randint((batch, 1), 0, width - patch + 1, seed=seed)
    return compose(clean, noise, other, u, ops.concatenate([rows, cols], axis=1), p_noise, p_patch, patch)


def patch_size(image_side: int, official_side: int = 128, official_patch: int = 50) -> int:
    """The official 50-px window scaled to another image side (50 at 128, 12 at 32)."""
    return max(1, round(official_patch * image_side / official_side))

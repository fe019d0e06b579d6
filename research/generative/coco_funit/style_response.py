"""Does a translator follow its style image? A check that a constant, a style-blind (collapsed) or an
untrained generator fails, used by the short-run test and benchmarks/coco_funit_small_run.py.

For content images x and one style image per class k, the output's mean colour m_k = mean_HW(G(x, y_k)).
For each pair of classes (i, j) and each x: the cosine between m_i - m_j and mean(y_i) - mean(y_j), and the
ratio of their lengths. A constant or style-blind output has a change of 0 (ratio 0); a generator that follows
the styles moves its colour the way the styles differ (cosine near 1). numpy only: `translate` is any
callable (content, style) -> images (Keras model, SavedModel signature).
"""

from __future__ import annotations

import numpy as np


def style_response(translate, content: np.ndarray, styles: list[np.ndarray]) -> tuple[float, float]:
    """(mean cosine, median length ratio) over every content image and every pair of `styles` (H, W, 3)."""
    means = [np.asarray(translate(content, np.repeat(s[None], len(content), 0))).mean((1, 2)) for s in styles]
    cos, ratio = [], []
    for i in range(len(styles)):
        for j in range(i + 1, len(styles)):
            d_out, d_style = means[i] - means[j], styles[i].mean((0, 1)) - styles[j].mean((0, 1))
            cos += list(d_out @ d_style / (np.linalg.norm(d_out, axis=1) * np.linalg.norm(d_style) + 1e-12))
            ratio += list(np.linalg.norm(d_out, axis=1) / np.linalg.norm(d_style))
    return float(np.mean(cos)), float(np.median(ratio))


def keras_translator(generator):
    return lambda c, s: generator({"content": c, "style": s}, training=False)

"""Peak picking on centre/corner heatmaps (CornerNet, CenterNet, CPN, RTM3D) in keras.ops, fixed shapes.

`peak_nms` keeps local maxima (3x3 max-pool NMS), `top_corners` takes the top-k peaks over cells and
classes (two-stage top-k, see its comment), `gather_cells` reads a feature map at flat cell indices.
"""

from __future__ import annotations

from keras import ops


def peak_nms(heat, kernel: int = 3):
    """Keeps values equal to their kernel x kernel neighbourhood max, zeroes the rest; (B, H, W, C)."""
    hmax = ops.max_pool(heat, pool_size=kernel, strides=1, padding="same")
    return heat * ops.cast(hmax == heat, heat.dtype)


def top_corners(heat, k: int) -> dict:
    """Top-k peaks of (B, H, W, C) probabilities over cells and classes.

    Returns scores (B, k), classes (B, k) int32, xs, ys (B, k) float32 cell coordinates and cells
    (B, k) int32 flat indices y * W + x.
    """
    _, height, width, channels = heat.shape
    # Two stages, the top k of each image row then the top k of those H * k candidates: the same
    # scores and indices as one top_k over H * W * C (both put ties at the lower flat index first, as
    # the candidates keep row-major order). A single (1, N) top-k with N % 1024 == 0, N > 2^20 and
    # k <= sqrt(N) (DLA-34 at 511 px, batch 1: N = 128 * 128 * 80) is rewritten by XLA's GPU
    # "topk-splitter" pass, here into one part, the same top-k: compiling it grew past 128 GB of host
    # memory (benchmarks/xla_topk_probe.py, benchmarks/results/cpn_batch1_notes.md).
    row_size = width * channels
    rows = ops.reshape(heat, (-1, height, row_size))
    row_scores, row_index = ops.top_k(rows, min(k, row_size))
    row_index = ops.cast(row_index, "int32") + ops.arange(height, dtype="int32")[:, None] * row_size
    candidates = row_scores.shape[-1] * height
    scores, pick = ops.top_k(ops.reshape(row_scores, (-1, candidates)), k)
    index = ops.take_along_axis(ops.reshape(row_index, (-1, candidates)), ops.cast(pick, "int32"), axis=1)
    classes = index % channels
    cells = index // channels
    return {
        "scores": scores,
        "classes": classes,
        "cells": cells,
        "xs": ops.cast(cells % width, "float32"),
        "ys": ops.cast(cells // width, "float32"),
    }


def gather_cells(feature_map, cells):
    """(B, H, W, D) values at flat cell indices (B, N) -> (B, N, D)."""
    _, height, width, depth = feature_map.shape
    flat = ops.reshape(feature_map, (-1, height * width, depth))
    return ops.take_along_axis(flat, ops.cast(cells, "int32")[..., None], axis=1)

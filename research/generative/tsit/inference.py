"""Deterministic TSIT inference: G(content, style) with bottleneck noise (AST/MMIS) or z (SIS) drawn from a
fixed seed, so evaluation, sample grids, tools.translate-style use and exports are reproducible."""

from __future__ import annotations

import numpy as np


def bottleneck(cfg: dict) -> tuple[int, int]:
    scale = 2 ** (int(cfg["levels"]) - 1)
    return int(cfg["image_size"][0]) // scale, int(cfg["image_size"][1]) // scale


def fixed_noise(cfg: dict, batch_size: int, seed: int = 0) -> dict:
    """{"noise": N(0,1)} (AST/MMIS) or {"z": N(0,1)} (SIS+VAE) or {} as float32 numpy, from `seed`;
    `cfg` is the generator's config (network.get_config() or the experiment's model section)."""
    rng = np.random.default_rng(seed)
    if cfg["mode"] == "ast":
        return {"noise": rng.standard_normal((batch_size, *bottleneck(cfg), 3)).astype(np.float32)}
    if cfg["use_vae"]:
        return {"z": rng.standard_normal((batch_size, int(cfg["z_dim"]))).astype(np.float32)}
    return {}


def translate(network, content, style=None, seed: int = 0, training: bool = False):
    """network(content [, style], fixed noise) -> images; content/style numpy or tensors (batch first)."""
    inputs = {"content": content, **fixed_noise(network.get_config(), int(content.shape[0]), seed)}
    if network.get_config()["mode"] == "ast":
        inputs["style"] = style
    return network(inputs, training=training)


def fixed_translator(batch, network_fn, seed: int = 0):
    """(content images to show, callable(images, training) -> translations with the batch's styles)."""
    content, style = np.asarray(batch["a"]), np.asarray(batch["b"])

    def run(images, training=False):
        return translate(network_fn(), images, style[: len(images)], seed, training)

    shown = content if content.shape[-1] == 3 else np.asarray(batch["b"])  # SIS: show the real photos
    return shown, (lambda: run) if shown is content else (lambda: (lambda _, training=False: run(content, training)))

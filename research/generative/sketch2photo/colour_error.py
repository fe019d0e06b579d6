"""How close a colouriser's output is to the true colours, on aligned (gray, colour) pairs: the stage-2 small
run's figure (`tools.make_domains --kind=gray_colour` aligns its test split) and the test that trains it.

Three mean absolute errors in [0, 1] units (images in [-1, 1] are halved), each against the true colour image:
- `rgb`: over pixels and channels;
- `chroma`: of x - Y(x) (Y the ITU-R 601 luma), the colour without its brightness: the part a colouriser
  adds, since the gray input already carries the brightness;
- `luma`: of Y(x) against the gray input, which stage 2's luminance loss drives down.
Baselines scored the same way: the gray input itself (exact luma, no colour: its chroma error is what a
colouriser has to beat) and a constant (the per-pixel mean of `reference` colour images, e.g. the training
photos). numpy only: `colorize` is any callable gray (B, H, W, 3) -> colour (Keras model, SavedModel signature)."""

from __future__ import annotations

import numpy as np

LUMA = np.array([0.299, 0.587, 0.114])


def _errors(x: np.ndarray, colour: np.ndarray, gray: np.ndarray) -> dict[str, float]:
    x, colour = np.asarray(x, np.float64), np.asarray(colour, np.float64)
    y, y_true = x @ LUMA, colour @ LUMA
    return {"rgb": float(np.abs(x - colour).mean() / 2),
            "chroma": float(np.abs((x - y[..., None]) - (colour - y_true[..., None])).mean() / 2),
            "luma": float(np.abs(y - np.asarray(gray, np.float64)[..., 0]).mean() / 2)}


def colour_errors(colorize, gray: np.ndarray, colour: np.ndarray, reference: np.ndarray) -> dict[str, dict]:
    """{"colorized", "gray_input", "mean_image"} -> {"rgb", "chroma", "luma"} over the pairs (gray[i], colour[i])."""
    if gray.shape != colour.shape:
        raise ValueError(f"gray {gray.shape} and colour {colour.shape} images must pair up")
    fake = np.concatenate([np.asarray(colorize(gray[i:i + 16])) for i in range(0, len(gray), 16)])
    mean_image = np.broadcast_to(np.asarray(reference).mean(0), colour.shape)
    return {name: _errors(x, colour, gray) for name, x in (("colorized", fake), ("gray_input", gray),
                                                           ("mean_image", mean_image))}


def load_folder(folder: str, size: int) -> np.ndarray:
    """Every image of `folder` (sorted names) as (N, size, size, 3) float32 in [-1, 1] (bicubic resize, as eval)."""
    import os

    from PIL import Image

    names = sorted(n for n in os.listdir(folder) if n.lower().endswith((".png", ".jpg", ".jpeg")))
    if not names:
        raise ValueError(f"{folder}: no .png/.jpg images")
    images = [np.asarray(Image.open(os.path.join(folder, n)).convert("RGB").resize((size, size), Image.BICUBIC))
              for n in names]
    return np.stack(images).astype(np.float32) / 127.5 - 1.0

"""Draws an aging grid with an exported DAAE SavedModel (tools.export; its `age` and `age_to` signatures):
one row per input face: the input, then the face re-rendered at each target age; the input's estimated age
and each column's target are printed.
    python -m research.generative.daae.age_grid --saved_model=exports/daae_tiny_faces/1 --input=data/faces \
        --ages=10,40,70 --count=6 --out=research/generative/daae/samples/aging_grid.png
"""

from __future__ import annotations

import argparse
import os

import numpy as np


def read_faces(folder: str, size: int, count: int, names: list[str] | None = None) -> tuple[list[str], np.ndarray]:
    from PIL import Image

    if not os.path.isdir(folder):
        raise SystemExit(f"error: {folder}: no such input folder (--input)")
    files = names or sorted(f for f in os.listdir(folder) if f.lower().endswith((".jpg", ".jpeg", ".png")))[:count]
    if not files:
        raise SystemExit(f"error: {folder}: no .jpg / .png faces (--input)")
    images = [np.asarray(Image.open(os.path.join(folder, f)).convert("RGB").resize((size, size), Image.BILINEAR),
                         np.float32) / 127.5 - 1.0 for f in files]
    return files, np.stack(images)


def aging_grid(serve_age, serve_age_to, faces: np.ndarray, ages: list[float]) -> tuple[np.ndarray, np.ndarray]:
    """(rows * S, (1 + len(ages)) * S, 3) uint8 grid and the inputs' estimated ages."""
    import tensorflow as tf

    x = tf.constant(faces)
    estimated = serve_age(image=x)["age"].numpy()
    columns = [faces] + [serve_age_to(image=x, target_age=tf.fill([len(faces)], float(a)))["image"].numpy()
                         for a in ages]
    rows = [np.concatenate([c[i] for c in columns], axis=1) for i in range(len(faces))]
    picture = np.clip(np.round((np.concatenate(rows, axis=0) + 1.0) * 127.5), 0, 255).astype(np.uint8)
    return picture, estimated


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--saved_model", required=True, help="SavedModel version folder written by tools.export")
    parser.add_argument("--input", required=True, help="folder of aligned face images")
    parser.add_argument("--ages", default="10,40,70", help="comma-separated target ages in years")
    parser.add_argument("--count", type=int, default=6, help="faces (rows) taken in sorted file order")
    parser.add_argument("--out", required=True, help="output PNG")
    args = parser.parse_args(argv)
    import tensorflow as tf
    from PIL import Image

    if not os.path.isdir(args.saved_model):
        raise SystemExit(f"error: {args.saved_model}: no such SavedModel folder (--saved_model)")
    loaded = tf.saved_model.load(args.saved_model)
    size = int(loaded.signatures["age"].structured_input_signature[1]["image"].shape[1])
    files, faces = read_faces(args.input, size, args.count)
    ages = [float(a) for a in args.ages.split(",")]
    picture, estimated = aging_grid(loaded.signatures["age"], loaded.signatures["age_to"], faces, ages)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    Image.fromarray(picture).resize((picture.shape[1] * 2, picture.shape[0] * 2), Image.NEAREST).save(args.out)
    print(f"wrote {args.out}: columns input, {', '.join(f'{a:g}' for a in ages)} years")
    for f, e in zip(files, estimated, strict=True):
        print(f"  {f}: estimated {e:.1f} years")


if __name__ == "__main__":
    main()

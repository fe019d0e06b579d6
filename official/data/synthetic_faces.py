"""Generated "faces" with an ordinal age, for the face-aging small runs and fixtures, written in a real
dataset's naming (UTKFace or CACD2000; official/data/face_ages.py reads both).

Each identity has a fixed skin colour, hair colour, face aspect and eye spacing. Age shows the way it does
at low resolution: the head grows until 20, the hair greys from 20 to 80, and forehead lines appear from 30
(one more every 15 years). Background colour and a few pixels of position jitter vary per image (the
"extraneous" factor). Ages are drawn uniformly in [1, 90].
"""

from __future__ import annotations

import os

import numpy as np
from PIL import Image, ImageDraw

FORMATS = ("cacd", "utkface")
SKIN = ((241, 194, 125), (224, 172, 105), (198, 134, 66), (141, 85, 36), (255, 219, 172), (234, 192, 134))
HAIR = ((40, 30, 20), (90, 60, 30), (20, 20, 20), (150, 100, 40), (60, 40, 40))


def identity_traits(identity: int, seed: int = 0) -> dict:
    rng = np.random.default_rng([seed, identity])
    return {"skin": np.array(SKIN[identity % len(SKIN)], float) + rng.normal(0, 8, 3),
            "hair": np.array(HAIR[(identity // len(SKIN)) % len(HAIR)], float) + rng.normal(0, 8, 3),
            "aspect": float(rng.uniform(0.72, 0.9)), "eyes": float(rng.uniform(0.28, 0.42))}


def draw_face(traits: dict, age: float, size: int, rng: np.random.Generator) -> Image.Image:
    """A size x size RGB face of the identity `traits` at `age` years."""
    background = tuple(int(v) for v in rng.uniform(150, 235, 3))
    image = Image.new("RGB", (size, size), background)
    draw = ImageDraw.Draw(image)
    grow = 0.7 + 0.3 * min(age, 20.0) / 20.0
    cx, cy = size / 2 + rng.uniform(-2, 2) * size / 64, size / 2 + rng.uniform(-2, 2) * size / 64 + size * 0.06
    ry = 0.36 * size * grow
    rx = ry * traits["aspect"]
    grey = float(np.clip((age - 20.0) / 60.0, 0.0, 1.0))
    hair = tuple(int(v) for v in np.clip((1 - grey) * traits["hair"] + grey * np.array([235.0, 235.0, 235.0]), 0, 255))
    draw.ellipse((cx - rx * 1.12, cy - ry * 1.18, cx + rx * 1.12, cy + ry * 0.3), fill=hair)  # hair behind the top
    skin = tuple(int(v) for v in np.clip(traits["skin"], 0, 255))
    draw.ellipse((cx - rx, cy - ry * 0.85, cx + rx, cy + ry), fill=skin)
    lines = int(max(age - 30.0, 0.0) // 15.0) + (1 if age >= 30 else 0)
    line_colour = tuple(int(v) for v in np.clip(traits["skin"] * 0.6, 0, 255))
    for i in range(min(lines, 5)):
        y = cy - ry * (0.62 - 0.09 * i)
        draw.line((cx - rx * 0.5, y, cx + rx * 0.5, y), fill=line_colour, width=max(1, size // 64))
    ex, ey, er = rx * traits["eyes"] * 2, cy - ry * 0.1, max(1.0, size / 40)
    for sx in (-1, 1):
        draw.ellipse((cx + sx * ex / 2 - er, ey - er, cx + sx * ex / 2 + er, ey + er), fill=(30, 30, 30))
    draw.line((cx - rx * 0.3, cy + ry * 0.45, cx + rx * 0.3, cy + ry * 0.45), fill=(150, 60, 60), width=max(1, size // 40))
    return image


def file_name(fmt: str, age: int, identity: int, index: int) -> str:
    if fmt == "cacd":  # <age>_<First>_<Last>_<nnnn>.jpg
        return f"{age}_Synth_Face{identity:03d}_{index:04d}.jpg"
    if fmt == "utkface":  # <age>_<gender>_<race>_<yyyymmddHHMMSSfff>.jpg.chip.jpg
        return f"{age}_{identity % 2}_{identity % 5}_2017011{identity % 10}{index:09d}.jpg.chip.jpg"
    raise ValueError(f"format: expected one of {', '.join(FORMATS)}, got {fmt!r}")


def write_faces(folder: str, fmt: str = "cacd", identities: int = 20, per_identity: int = 25, size: int = 64,
                seed: int = 0) -> list[tuple[str, int, int]]:
    """Writes identities x per_identity JPEGs to `folder`; returns (file name, age, identity) per image."""
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(seed)
    written = []
    for identity in range(identities):
        traits = identity_traits(identity, seed)
        for index in range(per_identity):
            age = int(rng.integers(1, 91))
            name = file_name(fmt, age, identity, index + 1)
            draw_face(traits, age, size, rng).save(os.path.join(folder, name), quality=95)
            written.append((name, age, identity))
    return written

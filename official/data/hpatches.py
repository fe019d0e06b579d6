"""HPatches full-image sequences (Balntas et al., CVPR 2017): `<root>/<seq>/1.ppm ... 6.ppm` + `H_1_2 ... H_1_6`.

Layout of hpatches-sequences-release: one folder per sequence, `i_*` (illumination: same viewpoint) or
`v_*` (viewpoint); images are binary PPM (P6, maxval 255); `H_1_k` is a text file of 9 numbers on 3 lines,
the homography mapping pixel coordinates of image 1 to image k (OpenCV convention: the centre of pixel
(r, c) is (c, r)). Evaluation pairs are (1, k), k = 2..6.
Bad records (unreadable image, homography file with other than 9 finite numbers or a singular matrix) are
counted, logged with the file and field, and skipped; a missing root or a root without sequences is a one-line
`PathNotFoundError` / `HPatchesError` naming it.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Iterator

import numpy as np

from official.core.errors import PathNotFoundError, UserError

log = logging.getLogger(__name__)
KINDS = {"i": "illumination", "v": "viewpoint"}


class HPatchesError(UserError, ValueError):
    """An HPatches file is malformed; the message names the file and the field."""


@dataclasses.dataclass(frozen=True)
class HPatchesPair:
    sequence: str  # folder name, e.g. v_graffiti
    index: int  # k of the pair (1, k)
    source: str  # path of 1.ppm
    target: str  # path of k.ppm
    homography: tuple[tuple[float, ...], ...]  # H_1_k, 3 x 3

    @property
    def kind(self) -> str:
        """"i" (illumination) or "v" (viewpoint), from the sequence name's prefix."""
        return self.sequence[0]


# --- PPM ---------------------------------------------------------------------------------------


def _ppm_tokens(data: bytes, count: int) -> tuple[list[bytes], int]:
    """The first `count` header tokens (comments skipped) and the offset just after the last one's whitespace."""
    tokens, pos = [], 0
    while len(tokens) < count:
        while pos < len(data) and data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            while pos < len(data) and data[pos:pos + 1] not in (b"\n", b"\r"):
                pos += 1
            continue
        start = pos
        while pos < len(data) and not data[pos:pos + 1].isspace():
            pos += 1
        if start == pos:
            break
        tokens.append(data[start:pos])
    return tokens, pos + 1


def read_ppm(path: str) -> np.ndarray:
    """(H, W, 3) uint8 of a binary PPM (P6) or PGM (P5, replicated to 3 channels), maxval <= 255."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as err:
        raise HPatchesError(f"{path}: image: unreadable ({err})") from err
    tokens, offset = _ppm_tokens(data, 4)
    if len(tokens) < 4 or tokens[0] not in (b"P6", b"P5"):
        raise HPatchesError(f"{path}: PPM header: expected P6/P5 width height maxval, got {b' '.join(tokens)!r}")
    try:
        width, height, maxval = (int(t) for t in tokens[1:4])
    except ValueError as err:
        raise HPatchesError(f"{path}: PPM header: width/height/maxval not integers") from err
    if maxval > 255 or width <= 0 or height <= 0:
        raise HPatchesError(f"{path}: PPM header: maxval {maxval} (only 8-bit) or size {width}x{height}")
    channels = 3 if tokens[0] == b"P6" else 1
    size = width * height * channels
    pixels = np.frombuffer(data, np.uint8, count=min(size, max(0, len(data) - offset)), offset=min(offset, len(data)))
    if pixels.size != size:
        raise HPatchesError(f"{path}: PPM pixels: {pixels.size} bytes, header says {size}")
    image = pixels.reshape(height, width, channels)
    return np.repeat(image, 3, axis=2) if channels == 1 else image.copy()


def write_ppm(path: str, image: np.ndarray) -> None:
    """Writes (H, W, 3) uint8 as binary PPM (P6), through a temp name."""
    image = np.ascontiguousarray(image, np.uint8)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"write_ppm: expected (H, W, 3) uint8, got {image.shape}")
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(f"P6\n{image.shape[1]} {image.shape[0]}\n255\n".encode())
        f.write(image.tobytes())
    os.replace(tmp, path)


# --- homographies ------------------------------------------------------------------------------


def read_homography(path: str) -> np.ndarray:
    """The 3 x 3 float64 matrix of an `H_1_k` file (9 whitespace-separated numbers)."""
    try:
        with open(path, encoding="utf-8") as f:
            values = [float(t) for t in f.read().split()]
    except (OSError, ValueError) as err:
        raise HPatchesError(f"{path}: homography: unreadable or not numbers ({err})") from err
    if len(values) != 9 or not np.all(np.isfinite(values)):
        raise HPatchesError(f"{path}: homography: expected 9 finite numbers, got {len(values)}")
    h = np.asarray(values, np.float64).reshape(3, 3)
    if abs(np.linalg.det(h)) < 1e-12:
        raise HPatchesError(f"{path}: homography: singular matrix")
    return h


def write_homography(path: str, h: np.ndarray) -> None:
    lines = [" ".join(f"{v:.10g}" for v in row) for row in np.asarray(h, np.float64).reshape(3, 3)]
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def apply_homography(h: np.ndarray, points: np.ndarray) -> np.ndarray:
    """(N, 2) points -> H (x, y, 1) dehomogenised (N, 2)."""
    p = np.concatenate([np.asarray(points, np.float64), np.ones((len(points), 1))], axis=1) @ np.asarray(h).T
    return p[:, :2] / p[:, 2:3]


def scale_matrix(sx: float, sy: float) -> np.ndarray:
    """Resizing by (sx, sy) in OpenCV pixel coordinates: x' = sx (x + 0.5) - 0.5 (pixel areas scale)."""
    return np.array([[sx, 0.0, 0.5 * sx - 0.5], [0.0, sy, 0.5 * sy - 0.5], [0.0, 0.0, 1.0]])


# --- sequences ---------------------------------------------------------------------------------


def list_pairs(root: str, kinds: str = "iv", indices: tuple[int, ...] = (2, 3, 4, 5, 6)) -> tuple[list[HPatchesPair], int]:
    """(pairs (1, k) of every sequence under `root` whose name starts with one of `kinds`, records skipped)."""
    if not os.path.isdir(root):
        raise PathNotFoundError(f"{root}: HPatches root not found (data.path)")
    sequences = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)) and d[:1] in KINDS)
    if not sequences:
        raise HPatchesError(f"{root}: no HPatches sequences (folders i_* / v_* holding 1.ppm and H_1_k)")
    pairs, skipped = [], 0
    for seq in sequences:
        if seq[0] not in kinds:
            continue
        folder = os.path.join(root, seq)
        source = os.path.join(folder, "1.ppm")
        if not os.path.isfile(source):
            skipped += 1
            log.warning("skipped sequence %s: 1.ppm missing", folder)
            continue
        for k in indices:
            target, h_path = os.path.join(folder, f"{k}.ppm"), os.path.join(folder, f"H_1_{k}")
            if not (os.path.isfile(target) and os.path.isfile(h_path)):
                if os.path.isfile(target) or os.path.isfile(h_path):
                    skipped += 1
                    log.warning("skipped pair %s (1, %d): %s missing", folder, k,
                                f"H_1_{k}" if os.path.isfile(target) else f"{k}.ppm")
                continue
            try:
                h = read_homography(h_path)
            except HPatchesError as err:
                skipped += 1
                log.warning("skipped pair: %s", err)
                continue
            pairs.append(HPatchesPair(seq, k, source, target, tuple(map(tuple, h.tolist()))))
    if skipped:
        log.warning("HPatches %s: %d pairs read, %d records skipped", root, len(pairs), skipped)
    return pairs, skipped


def load_pair(pair: HPatchesPair, size: tuple[int, int] | None = None) -> dict[str, np.ndarray] | None:
    """{image, target_image (H, W, 3) float32 in [0, 1], homography (3, 3)} of a pair, both images resized to
    `size` = (H, W) (homography adjusted); None (logged) when an image is unreadable."""
    try:
        a, b = read_ppm(pair.source), read_ppm(pair.target)
    except HPatchesError as err:
        log.warning("skipped pair: %s", err)
        return None
    h = np.asarray(pair.homography, np.float64)
    if size is not None:
        a, sa = _resize(a, size)
        b, sb = _resize(b, size)
        h = sb @ h @ np.linalg.inv(sa)
    return {"image": a, "target_image": b, "homography": h}


def _resize(image: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Image as float32 [0, 1] at `size` (H, W) (area-preserving bilinear) and the matrix of that resize."""
    height, width = image.shape[:2]
    x = image.astype(np.float32) / 255.0
    if (height, width) == tuple(size):
        return x, np.eye(3)
    from skimage.transform import resize

    out = resize(x, (size[0], size[1], 3), order=1, anti_aliasing=True, preserve_range=True).astype(np.float32)
    return out, scale_matrix(size[1] / width, size[0] / height)


def iterate_pairs(pairs: list[HPatchesPair], size: tuple[int, int] | None = None) -> Iterator[tuple[HPatchesPair, dict]]:
    """(pair, load_pair(pair, size)) for the readable pairs, in order."""
    for pair in pairs:
        loaded = load_pair(pair, size)
        if loaded is not None:
            yield pair, loaded


def hpatches_dataset(pairs: list[HPatchesPair], size: tuple[int, int]):
    """tf.data of {image, target_image (H, W, 3) float32, homography (3, 3) float64, viewpoint bool, index}
    over the readable pairs (all resized to `size`); unreadable images are skipped and counted in the log."""
    import tensorflow as tf

    def generate():
        for n, (pair, loaded) in enumerate(iterate_pairs(pairs, size)):
            yield {**loaded, "viewpoint": pair.kind == "v", "index": n}

    height, width = size
    spec = {"image": tf.TensorSpec((height, width, 3), tf.float32),
            "target_image": tf.TensorSpec((height, width, 3), tf.float32),
            "homography": tf.TensorSpec((3, 3), tf.float64),
            "viewpoint": tf.TensorSpec((), tf.bool), "index": tf.TensorSpec((), tf.int32)}
    return tf.data.Dataset.from_generator(generate, output_signature=spec)

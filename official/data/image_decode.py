"""Decoding encoded images without ever crashing an epoch: bad files are skipped, counted and logged.

A cheap structural check (magic bytes, and the end-of-image marker for JPEG/PNG, which catches the common
truncated download) filters bad files before decoding, counting each one in a `SkipCounter` and printing
its path to stderr. Anything the check misses and the decoder still rejects is dropped by
`ignore_errors` as a last line of defence (logged by tf.data, not counted).
"""

from __future__ import annotations

import sys

import tensorflow as tf

_TAIL_BYTES = 64  # JPEGs may carry a few padding bytes after the EOI marker


class SkipCounter:
    """Counts examples a pipeline skipped; readable from Python while or after iterating."""

    def __init__(self, name: str = "unreadable_images"):
        self.name = name
        with tf.init_scope():
            self._count = tf.Variable(0, dtype=tf.int64, trainable=False, name=name)

    def increment(self) -> tf.Tensor:
        return self._count.assign_add(1)

    @property
    def count(self) -> int:
        return int(self._count.numpy())


def _ends_with_pair(tail: tf.Tensor, first: bytes, second: bytes) -> tf.Tensor:
    chars = tf.strings.bytes_split(tail)
    n = tf.shape(chars)[0]
    a, b = chars[: tf.maximum(n - 1, 0)], chars[1:]
    return tf.reduce_any(tf.logical_and(tf.equal(a, first), tf.equal(b, second)))


def looks_decodable(encoded: tf.Tensor) -> tf.Tensor:
    """True when `encoded` (scalar string) is a complete JPEG/PNG, or a GIF/BMP by its magic bytes."""
    length = tf.strings.length(encoded)
    head = tf.strings.substr(encoded, 0, 4)
    tail = tf.strings.substr(encoded, tf.maximum(length - _TAIL_BYTES, 0), _TAIL_BYTES)
    is_jpeg = tf.equal(tf.strings.substr(head, 0, 2), b"\xff\xd8")
    is_png = tf.equal(head, b"\x89PNG")
    is_other = tf.logical_or(
        tf.equal(tf.strings.substr(head, 0, 3), b"GIF"), tf.equal(tf.strings.substr(head, 0, 2), b"BM")
    )
    jpeg_ok = tf.logical_and(is_jpeg, _ends_with_pair(tail, b"\xff", b"\xd9"))
    # A PNG ends with the IEND chunk: its 4-byte type then a 4-byte CRC.
    png_ok = tf.logical_and(is_png, tf.equal(tf.strings.substr(encoded, tf.maximum(length - 8, 0), 4), b"IEND"))
    return tf.logical_and(length > 8, tf.logical_or(tf.logical_or(jpeg_ok, png_ok), is_other))


def filter_decodable(dataset: tf.data.Dataset, counter: SkipCounter, keys: tuple[str, ...] = ("encoded",)) -> tf.data.Dataset:
    """Drops elements whose "encoded" image (or any image under `keys`) is not decodable; counts and logs
    each one by "source"."""

    def keep(example: dict) -> tf.Tensor:
        ok = tf.reduce_all(tf.stack([looks_decodable(example[k]) for k in keys]))

        def skip() -> tf.Tensor:
            with tf.control_dependencies([counter.increment()]):
                log = tf.print(
                    "WARNING: skipped unreadable image:", example["source"], output_stream=sys.stderr
                )
            with tf.control_dependencies([log]):
                return tf.constant(False)

        return tf.cond(ok, lambda: tf.constant(True), skip)

    return dataset.filter(keep)


def decode_rgb(encoded: tf.Tensor) -> tf.Tensor:
    """Decodes JPEG/PNG/GIF/BMP bytes to uint8 (height, width, 3)."""
    image = tf.io.decode_image(encoded, channels=3, expand_animations=False)
    image.set_shape([None, None, 3])
    return image

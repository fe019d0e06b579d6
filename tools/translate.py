"""Translates a folder of images with a trained translation generator (an `image_translation` experiment):
    python -m tools.translate --experiment=cyclegan_tiny_domains --model_dir=runs/cg --input=photos --out=translated
    python -m tools.translate --experiment=cyclegan_tiny_domains --saved_model=exports/cg/1 --input=photos --out=translated
Each image (searched recursively) is resized to the generator's input size, translated and written as PNG at
OUT/<same relative path>.png (with --keep_size, resized back to its own size). Files are written through a
temporary name; unreadable images are reported and skipped, and the summary counts them.
"""

from __future__ import annotations

import os
import time

from absl import app, flags

from tools import _cli

FLAGS = flags.FLAGS


def define_flags() -> None:
    flags.DEFINE_string("experiment", None, "Registered image_translation experiment (gives the generator).",
                        required=True)
    flags.DEFINE_string("model_dir", None, "Training folder: uses its newest checkpoint (the averaged generator "
                        "when the run kept one).")
    flags.DEFINE_string("saved_model", None, "A SavedModel version folder written by tools.export (its "
                        "serving_default signature).")
    flags.DEFINE_string("input", None, "Folder of images to translate (searched recursively).", required=True)
    flags.DEFINE_string("out", None, "Output folder for the translated PNGs.", required=True)
    flags.DEFINE_integer("batch_size", 8, "Images translated per call.")
    flags.DEFINE_bool("keep_size", False, "Resize each translation back to its input's size.")
    flags.DEFINE_multi_string("config_file", [], "YAML overrides, as in tools.train.")
    flags.DEFINE_string("params_override", "", "Comma-separated overrides, as in tools.train.")


def list_images(root: str) -> list[str]:
    from official.core.errors import PathNotFoundError
    from official.data.imagefolder import IMAGE_EXTENSIONS

    if not os.path.isdir(root):
        raise PathNotFoundError(f"{root}: no such input folder")
    paths = sorted(os.path.join(d, f) for d, _, files in os.walk(root) for f in files if f.endswith(IMAGE_EXTENSIONS))
    if not paths:
        raise PathNotFoundError(f"{root}: no images ({', '.join(IMAGE_EXTENSIONS[:5])})")
    return paths


def _read(path: str, size: tuple[int, int]):
    import numpy as np
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            image = image.convert("RGB")
            original = image.size
            resized = image.resize((size[1], size[0]), Image.BICUBIC)
        return np.asarray(resized, np.float32) / 127.5 - 1.0, original
    except (OSError, UnidentifiedImageError, ValueError) as err:
        print(f"WARNING: skipped unreadable image {path}: {err}")
        return None, None


def translate_folder(translate, size: tuple[int, int], root: str, out: str, batch_size: int,
                     keep_size: bool) -> tuple[int, int]:
    """Translates every image under `root` into `out`; returns (written, skipped)."""
    import io

    import numpy as np
    from PIL import Image

    from official.core.file_io import write_bytes

    paths = list_images(root)
    written = skipped = 0
    start = time.time()
    for i in range(0, len(paths), batch_size):
        chunk = [(p, *_read(p, size)) for p in paths[i:i + batch_size]]
        good = [c for c in chunk if c[1] is not None]
        skipped += len(chunk) - len(good)
        if not good:
            continue
        outputs = np.asarray(translate(np.stack([c[1] for c in good])))
        for (path, _, original), image in zip(good, outputs, strict=True):
            pixels = np.clip(np.round((image + 1.0) * 127.5), 0, 255).astype(np.uint8)
            picture = Image.fromarray(pixels if pixels.shape[-1] == 3 else pixels[..., 0])
            if keep_size and picture.size != original:
                picture = picture.resize(original, Image.BICUBIC)
            buffer = io.BytesIO()
            picture.save(buffer, "PNG")
            target = os.path.join(out, os.path.splitext(os.path.relpath(path, root))[0] + ".png")
            write_bytes(target, buffer.getvalue())
            written += 1
        print(f"translated {written + skipped}/{len(paths)} images ({time.time() - start:.1f} s)", flush=True)
    return written, skipped


def main(argv: list[str]) -> None:
    del argv
    if bool(FLAGS.model_dir) == bool(FLAGS.saved_model):
        raise app.UsageError("give exactly one of --model_dir, --saved_model")
    import tensorflow as tf

    from official.core import config as config_lib
    from official.core import trainer
    from official.core.errors import PathNotFoundError

    cfg = config_lib.resolve(FLAGS.experiment, FLAGS.config_file, FLAGS.params_override)
    if cfg.task.name != "image_translation":
        raise config_lib.ConfigError(f"--experiment: {FLAGS.experiment} is a {cfg.task.name} experiment, not "
                                     "image_translation")
    size = tuple(int(s) for s in cfg.eval_data.crop_size)
    with _cli.naming_config_keys(cfg):
        if FLAGS.model_dir:
            model, _, step = trainer.restore_for_inference(cfg, FLAGS.model_dir)
            fn = tf.function(lambda x: model(x, training=False))
            source = f"checkpoint step {step} of {FLAGS.model_dir}"
        else:
            if not os.path.isfile(os.path.join(FLAGS.saved_model, "saved_model.pb")):
                raise PathNotFoundError(f"{FLAGS.saved_model}: no saved_model.pb inside (not a SavedModel folder)")
            serve = tf.saved_model.load(FLAGS.saved_model).signatures["serving_default"]
            fn = lambda x: serve(image=tf.constant(x))["image"]  # noqa: E731
            source = f"SavedModel {FLAGS.saved_model}"
        written, skipped = translate_folder(lambda x: fn(tf.constant(x, tf.float32)), size, FLAGS.input, FLAGS.out,
                                            FLAGS.batch_size, FLAGS.keep_size)
    print(f"wrote {written} translated image(s) to {FLAGS.out} with the {source}"
          + (f"; {skipped} unreadable image(s) skipped" if skipped else ""))


if __name__ == "__main__":
    define_flags()
    _cli.run(main)

"""Official ForkGAN TensorFlow 1 checkpoints (zhengziqiang/ForkGAN, `cyclegan.model-N` written by tf.train.Saver)
-> a Keras ForkGenerator:

    python -m tools.convert_checkpoint --from=tf1 --model=forkgan_gf64 \
        --src=check/alderley/alderley_256/cyclegan.model-NNN.index --dst=converted/forkgan_alderley_a2b
    (--checkpoint_key=generatorB2A converts the day -> night generator)

The checkpoint is read with tf.train.load_checkpoint (the `.index` file or its prefix). Variable names follow
the official scopes: slim convs `<scope>/<layer>/Conv/weights` (HWIO, like Keras), slim transposed convs
`<layer>/Conv2d_transpose/weights` (H, W, out, in: Keras' layout), the residual blocks' atrous convs
`<layer>/filter` (HWIO), instance norm `<layer>/scale` and `/offset` (-> gamma, beta). Our layers carry the
official layer names, so the map is name + kind. The discriminators, the classifier and Adam's slots are
counted as skipped (the authors released no weights; the converter exists for checkpoints users trained).
"""

from __future__ import annotations

import os
import re
import types

import keras
import numpy as np

from official.core import registry
from official.core.checkpoint_convert import ConversionError, assign_strict, check_destination, save_converted
from research.generative.forkgan.networks import ForkGenerator

_ATROUS = re.compile(r"^(g_r\d+(_rec)?_c\d|d_h\d+_conv_scale_\d+_first_c)$")


def official_names(layer: keras.layers.Layer, scope: str) -> list[tuple[str, object]]:
    """(official variable name, Keras variable) of one layer with weights."""
    base = f"{scope}/{layer.name}"
    if isinstance(layer, keras.layers.Conv2DTranspose):
        return [(f"{base}/Conv2d_transpose/weights", layer.kernel)]
    if isinstance(layer, keras.layers.Conv2D):
        return [(f"{base}/filter" if _ATROUS.match(layer.name) else f"{base}/Conv/weights", layer.kernel)]
    if isinstance(layer, keras.layers.GroupNormalization):
        return [(f"{base}/scale", layer.gamma), (f"{base}/offset", layer.beta)]
    if layer.trainable_weights:
        raise ConversionError(f"no official name for layer {layer.name} ({type(layer).__name__})")
    return []


def weight_map(model: keras.Model, scope: str) -> list[tuple[str, object, None]]:
    """Every trainable weight of a ForkGenerator / DomainClassifier / MultiScaleDiscriminator under `scope`."""
    entries = []
    for layer in model._flatten_layers(include_self=False, recursive=True):
        if not isinstance(layer, keras.Model):
            entries.extend((name, var, None) for name, var in official_names(layer, scope))
    return entries


def _is_slot(name: str) -> bool:
    """Adam's moments (`<variable>/Adam`, `/Adam_1`): optimizer state, not weights."""
    return name.rsplit("/", 1)[-1].startswith("Adam")


def load_official(model: keras.Model, arrays: dict[str, np.ndarray], scope: str):
    """Strictly fills `model` from the tensors under `scope/`; returns (report, skipped count)."""
    prefix = f"{scope}/"
    mine = {k: v for k, v in arrays.items() if k.startswith(prefix) and not _is_slot(k)}
    if not mine:
        scopes = sorted({k.split("/", 1)[0] for k in arrays})
        raise ConversionError(f"no variables under '{scope}' (scopes: {', '.join(scopes[:8])})")
    trainable = types.SimpleNamespace(weights=model.trainable_weights)  # the noise layers' seeds are not weights
    report = assign_strict(trainable, weight_map(model, scope), mine)
    return report, len(arrays) - len(mine)


def read_tf1_checkpoint(src: str) -> dict[str, np.ndarray]:
    import tensorflow as tf

    prefix = src[: -len(".index")] if src.endswith(".index") else src
    try:
        reader = tf.train.load_checkpoint(prefix)
    except (tf.errors.OpError, ValueError) as err:
        raise ConversionError(f"{src}: not a TensorFlow checkpoint ({str(err).splitlines()[0]})") from None
    return {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()}


def convert_tf1(src: str, dst: str, model_name: str, checkpoint_key: str = "", allow_pickle: bool = False,
                **overrides) -> dict:
    """`checkpoint_key`: the generator's scope, generatorA2B (night -> day, default) or generatorB2A."""
    del allow_pickle
    check_destination(dst)
    scope = checkpoint_key or "generatorA2B"
    arrays = read_tf1_checkpoint(src)
    model = registry.create_model(model_name, **overrides)
    if not isinstance(model, ForkGenerator):
        raise ConversionError(f"{model_name} is not a ForkGenerator model")
    try:
        report, skipped = load_official(model, arrays, scope)
    except ConversionError as err:
        raise ConversionError(f"{src} ({model_name}): {err}") from None
    payload = {"source": os.path.abspath(src), "model": model_name, "scope": scope, "config": model.get_config(),
               **report.to_json()}
    outputs = save_converted(model, dst, payload)
    return {"tensors": len(report.assigned), "skipped": skipped, "outputs": outputs}


CONVERTERS = {"tf1": convert_tf1}

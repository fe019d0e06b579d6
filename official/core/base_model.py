"""The zoo's model base: `get_config()` is the constructor's arguments, recorded when the object is made.

Every zoo model and layer is rebuilt from its config (`.keras` files, `keras.models.clone_model`, the
registry sweep, the TF-vs-JAX parity check), so the config must hold every constructor argument.
Written out by hand per model it drifts (a dropped key reloads a model silently with a default), so
the arguments are captured once, here, from the call itself: `ZooModel.__new__` binds them to the
signature of the class being built, defaults applied, and `get_config()` returns them. Subclasses write
no `get_config` / `from_config`.

Values must be plain config data (None, bool, int, float, str, and tuples / lists / dicts of them) or
Keras objects (serialised with `keras.saving.serialize_keras_object`); anything else is refused when
the config is asked for, naming the class and the argument. Lists are kept as tuples so that a config
compares equal after a JSON round trip. A model's config carries `name` and `trainable` but no `dtype`:
its layers take the dtype policy in force when it is built (mixed precision is a run choice).
"""

from __future__ import annotations

import inspect
import types
from collections.abc import Mapping
from typing import Any

import keras

_PLAIN = (type(None), bool, int, float, str)


def _freeze(value: Any) -> Any:
    """Lists become tuples (recursively) so configs compare equal before and after JSON."""
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, dict):
        return {k: _freeze(v) for k, v in value.items()}
    return value


def _serialise(value: Any, where: str) -> Any:
    if isinstance(value, _PLAIN):
        return value
    if isinstance(value, (list, tuple)):
        return tuple(_serialise(v, where) for v in value)
    if isinstance(value, dict):
        return {str(k): _serialise(v, where) for k, v in value.items()}
    if hasattr(value, "item") and getattr(value, "shape", None) == ():  # numpy / tensor scalar
        return value.item()
    if isinstance(value, (keras.layers.Layer, keras.Operation)) or hasattr(value, "get_config"):
        return keras.saving.serialize_keras_object(value)
    raise TypeError(f"{where}: {type(value).__name__} is not config data (plain values, tuples, dicts, Keras objects)")


def _is_serialised_object(value: Any) -> bool:
    return isinstance(value, dict) and "class_name" in value and "config" in value


def _deserialise(value: Any) -> Any:
    if _is_serialised_object(value):
        return keras.saving.deserialize_keras_object(value)
    return value


class ConstructorConfig:
    """Mixin for Keras layers and models: the constructor's arguments are the config.

    Put it before the Keras class: `class Block(ConstructorConfig, keras.layers.Layer)`.
    """

    def __new__(cls, *args: Any, **kwargs: Any):
        instance = super().__new__(cls, *args, **kwargs)
        signature = inspect.signature(cls.__init__)
        try:
            bound = signature.bind(None, *args, **kwargs)
        except TypeError:  # a wrong call (__init__ says so next), or copy/deepcopy (it copies __dict__)
            return instance
        bound.apply_defaults()
        recorded = {}
        for name, param in signature.parameters.items():
            if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD) or name == next(iter(signature.parameters)):
                continue  # self; **kwargs (name, trainable, dtype) travel through the Keras base config
            if param.kind == param.POSITIONAL_ONLY:
                raise TypeError(f"{cls.__name__}: positional-only argument '{name}' cannot be rebuilt from a config")
            recorded[name] = _freeze(bound.arguments[name])
        # object.__setattr__: a plain dict, kept out of Keras' and TensorFlow's attribute tracking.
        object.__setattr__(instance, "_constructor_args", recorded)
        return instance

    @property
    def constructor_args(self) -> Mapping[str, Any]:
        """The arguments this object was built with, defaults included (read-only)."""
        return types.MappingProxyType(self._constructor_args)

    def get_config(self) -> dict:
        config = super().get_config()  # name, trainable (and dtype for layers)
        if isinstance(self, keras.Model):
            config.pop("dtype", None)
        for name, value in self._constructor_args.items():
            config[name] = _serialise(value, f"{type(self).__name__}.{name}")
        return config

    @classmethod
    def from_config(cls, config: dict):
        config = {k: _deserialise(v) for k, v in config.items()}
        if "dtype" in config and issubclass(cls, keras.Model):
            config.pop("dtype")
        return cls(**config)

    def _trackable_children(self, save_type: str = "checkpoint", **kwargs: Any) -> dict:
        """TensorFlow's object graph, plus the layers and variables held in lists and dicts.

        Keras 3 wraps list/dict attributes in its own tracked types, which TensorFlow's AutoTrackable
        skips in checkpoints (keras-team/keras#18398; Keras adds them for SavedModels only), so a
        `tf.train.Checkpoint(model=...)` silently left out every layer kept in `self.blocks = [...]`:
        a trained model restored with most of its weights random. Each element is added here as a
        child named `<attribute>-<index or key>` (nested: `blocks-0-1`). Only TensorFlow calls this.
        """
        children = super()._trackable_children(save_type, **kwargs)
        if save_type == "checkpoint":
            for attr in getattr(self, "_tracked", ()):
                _add_collection_children(children, attr, getattr(self, attr, None))
        return children


class BuiltByFirstCall:
    """Mixin for container layers and subclass models: variables are created by the first call, not by a trace.

    Keras 3 builds a layer that has no `build()` by tracing its `call` symbolically (in a TensorFlow
    FuncGraph) before the first call, and a functional model's symbolic call traces it a second time. For
    a DARTS supernet of ~1,200 layers that trace costs 20x an eager forward pass (partaware_pose_tiny_search
    builds in 22.7 s instead of 4.9 s on 2 CPU cores; the 256 px supernet took minutes). With this no-op
    `build`, Keras marks the layer built and its sublayers (stock Keras layers, which build from shapes)
    create their variables during the first real call, eager or symbolic. Only for layers whose `call`
    reaches every sublayer, and which are called (or whose model calls itself) before weights are loaded.
    Put it first: `class Cell(BuiltByFirstCall, ZooLayer)`.
    """

    def build(self, input_shape=None):
        """Nothing to create here: the first call builds the sublayers."""


class _ParameterCount:
    @property
    def trainable_parameter_count(self) -> int:
        """Trainable parameters as papers, timm and PyTorch's `parameters()` count them (BN gamma/beta in)."""
        return sum(_numel(v.shape) for v in self.trainable_weights)


class LossTermTrackers:
    """Mixin for models whose `compute_loss` sums named terms: one `keras.metrics.Mean` per term, so fit's
    logs and tools.train's progress lines show each term.

    Call `self.track_loss_terms(names)` in `__init__` and end `compute_loss` with
    `return self.tracked_total(total, terms)`. Keras tracks metrics held in attributes, so `model.metrics`
    lists the trackers without an override. An overridden `compute_loss` must add the layers' own losses
    (`self.losses`: regularisers, `add_loss`) itself; `tracked_total` does.
    """

    def track_loss_terms(self, names) -> None:
        self.loss_trackers = [keras.metrics.Mean(name=n) for n in names]

    def tracked_total(self, total, terms: Mapping[str, Any]):
        """total + the layers' losses, after each tracker took its term from `terms`."""
        for tracker in self.loss_trackers:
            tracker.update_state(terms[tracker.name])
        for extra in self.losses:
            total = total + extra
        return total


class ZooModel(_ParameterCount, ConstructorConfig, keras.Model):
    """Base of every zoo model (functional-subclass style: build the graph in `__init__`, then call
    `super().__init__(inputs=..., outputs=..., **kwargs)`).

    Detectors' backbones also set `self.pyramid_outputs = {"P2": ..., ...}` (CONVENTIONS "Model code").
    """


class ZooSubclassModel(_ParameterCount, ConstructorConfig, keras.Model):
    """Base of the zoo models whose `call` is Python rather than a functional graph (ConvONet's
    data-dependent scatters). Not a ZooModel subclass: the first functional ZooModel built in a process
    makes Keras rewrite ZooModel's base from Model to Functional (`inject_functional_model_class`),
    after which a subclass-style `super().__init__()` fails for want of inputs and outputs.
    """


class ZooLayer(ConstructorConfig, keras.layers.Layer):
    """Base of zoo layers whose constructor arguments are their config."""


def _add_collection_children(children: dict, prefix: str, value: Any) -> None:
    """Adds the trackable leaves of a (nested) list / tuple / dict under `prefix-<index or key>`."""
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _add_collection_children(children, f"{prefix}-{i}", item)
    elif isinstance(value, dict):
        for key, item in value.items():
            _add_collection_children(children, f"{prefix}-{key}", item)
    elif hasattr(value, "_trackable_children") and prefix not in children:
        children[prefix] = value


def _numel(shape) -> int:
    n = 1
    for d in shape:
        n *= int(d)
    return n

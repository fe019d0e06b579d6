"""The zoo's registries: model builders, experiment configs and tasks, keyed by name.

One module, three tables. Packages listed in `zoo_index.py` register themselves on import; every lookup
imports that index first, so a name is found whatever the caller imported, and a package that fails to
import is named in the error instead of surfacing later as "unknown model".
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from typing import Any, TypeVar

from official.core.errors import UserError

F = TypeVar("F", bound=Callable[..., Any])

_MODELS: dict[str, Callable[..., Any]] = {}
_EXPERIMENTS: dict[str, Callable[[], Any]] = {}
_TASKS: dict[str, type] = {}
_TRAINING_METHODS: dict[str, type] = {}


class RegistryError(UserError, KeyError):
    """An unknown or duplicate name; the message lists close matches."""

    def __str__(self) -> str:  # KeyError would print the message quoted
        return str(self.args[0])


def _register(table: dict[str, Any], kind: str, name: str | None) -> Callable[[F], F]:
    def decorator(obj: F) -> F:
        key = name or obj.__name__
        if key in table and table[key] is not obj:
            raise RegistryError(f"{kind} '{key}' is registered twice ({table[key]!r} and {obj!r})")
        table[key] = obj
        return obj

    return decorator


def register_model(name: str | None = None) -> Callable[[F], F]:
    """Registers a variant builder `fn(**overrides) -> keras.Model` under `name` (default: fn name)."""
    return _register(_MODELS, "model", name)


def register_variant(name: str, model_cls: type, **fixed: Any) -> Callable[..., Any]:
    """Registers `model_cls(**fixed, **overrides)` as `name`: the data form of a 4-line variant function.

    The variant's config dataclass is derived from `model_cls.__init__` (see `config.model_config`).
    """

    def build(**overrides: Any) -> Any:
        return model_cls(**{**fixed, **overrides})

    build.__name__ = name
    build.__doc__ = f"{model_cls.__name__}({', '.join(f'{k}={v!r}' for k, v in fixed.items())})"
    build.model_cls = model_cls  # type: ignore[attr-defined]
    build.fixed = dict(fixed)  # type: ignore[attr-defined]
    return register_model(name)(build)


def builder_parameters(name: str) -> list[tuple[str, Any, Any]]:
    """(argument, type hint, default) of the model `name`'s constructor, variant values applied."""
    import inspect
    import typing

    builder = _lookup(_MODELS, "model", name)
    target = getattr(builder, "model_cls", None)
    fn = target.__init__ if target is not None else builder
    fixed = getattr(builder, "fixed", {})
    try:
        hints = typing.get_type_hints(fn)
    except Exception:  # unresolvable annotations: fall back to unchecked values
        hints = {}
    out = []
    for p in inspect.signature(fn).parameters.values():
        if p.name == "self" or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        default = fixed.get(p.name, None if p.default is p.empty else p.default)
        out.append((p.name, hints.get(p.name, Any), default))
    return out


def register_experiment(name: str | None = None) -> Callable[[F], F]:
    """Registers a factory `fn() -> ExperimentConfig` under `name` (default: fn name)."""
    return _register(_EXPERIMENTS, "experiment", name)


def register_task(name: str) -> Callable[[F], F]:
    """Registers a Task class under the name that `ExperimentConfig.task.name` refers to."""
    return _register(_TASKS, "task", name)


def register_training_method(name: str) -> Callable[[F], F]:
    """Registers a training-method class (with a `config_cls`) under `ExperimentConfig.training.method`."""
    return _register(_TRAINING_METHODS, "training method", name)


def _ensure_index() -> None:
    from official.core import zoo_index

    zoo_index.import_all()


def _lookup(table: dict[str, Any], kind: str, name: str) -> Any:
    if name not in table:  # a name its caller's imports registered needs no index (and no TensorFlow)
        _ensure_index()
    if name not in table:
        close = [k for k in sorted(table) if name.split("_")[0] in k][:8]
        hint = f"; similar: {', '.join(close)}" if close else ""
        raise RegistryError(
            f"unknown {kind} '{name}' ({len(table)} registered; `python -m tools.list` prints them{hint})"
        )
    return table[name]


def create_model(name: str, **overrides: Any) -> Any:
    """Builds the registered model `name`; overrides left at None are dropped (timm's convention)."""
    builder = _lookup(_MODELS, "model", name)
    return builder(**{k: v for k, v in overrides.items() if v is not None})


def get_model_builder(name: str) -> Callable[..., Any]:
    return _lookup(_MODELS, "model", name)


def get_experiment(name: str) -> Any:
    """Returns a fresh ExperimentConfig for `name` (a new object on every call: safe to mutate)."""
    return _lookup(_EXPERIMENTS, "experiment", name)()


def get_task_cls(name: str) -> type:
    return _lookup(_TASKS, "task", name)


def get_training_method(name: str) -> type:
    return _lookup(_TRAINING_METHODS, "training method", name)


def list_training_methods() -> list[str]:
    _ensure_index()
    return sorted(_TRAINING_METHODS)


def list_models(pattern: str = "*") -> list[str]:
    _ensure_index()
    return sorted(k for k in _MODELS if fnmatch.fnmatch(k, pattern))


def list_experiments(pattern: str = "*") -> list[str]:
    _ensure_index()
    return sorted(k for k in _EXPERIMENTS if fnmatch.fnmatch(k, pattern))


def list_tasks() -> list[str]:
    _ensure_index()
    return sorted(_TASKS)


def unregister_model(name: str) -> None:
    """Removes a model (tests register throwaway models and clean up after themselves)."""
    _MODELS.pop(name, None)


def unregister_experiment(name: str) -> None:
    _EXPERIMENTS.pop(name, None)

"""Typed experiment configs: plain dataclasses, YAML files and `a.b=1` overrides, checked by type.

Layering is defaults (the registered experiment) -> `--config_file` YAML -> `--params_override`.
An unknown key or a value of the wrong type raises `ConfigError` naming the full key and the type
expected, before anything runs. The resolved config is written as YAML and is enough to reproduce the
run (`--experiment` + `--config_file MODEL_DIR/config.yaml`).
"""

from __future__ import annotations

import dataclasses
import os
import re
import types
import typing
from typing import Any, ClassVar, Literal, Union

import yaml

from official.core.errors import UserError

# Task-specific configs subclass these; overrides are checked against the instance's own fields.


@dataclasses.dataclass
class TaskConfig:
    name: str = "image_classification"  # registered Task class that builds inputs, losses, metrics
    num_classes: int = 1000  # classifier outputs; must match the dataset's class count


@dataclasses.dataclass
class ModelConfig:
    name: str = ""  # registered model variant; the remaining fields are its constructor arguments
    keras_file: str = ""  # a saved .keras network used instead of building the variant (tools.prune's pruned.keras); "" = build it


@dataclasses.dataclass
class DataConfig:
    # Fields holding a file or folder: relative values resolve against runtime.data_dir (`anchor_data_paths`).
    PATH_FIELDS: ClassVar[tuple[str, ...]] = ("path",)

    source: str = "imagefolder"  # imagefolder (folder per class) | tfrecord (image/encoded, image/class/label) | cifar (CIFAR pickles; CIFAR-100: fine labels) | cifar_coarse | mnist (IDX images file; labels file beside it) | svhn (train_32x32.mat / test_32x32.mat; label 10 -> 0) | tinyimagenet (tiny-imagenet-200/train or /val; classes = sorted wnids.txt) | cub | nabirds | aircraft | cars | food101 (dataset root + split name, e.g. CUB_200_2011/train; official/data/fine_grained.py)
    path: str = ""  # dataset root folder, or a TFRecord file pattern such as /data/train-*
    image_size: int = 224  # square output size fed to the model
    shuffle_buffer: int = 10_000  # examples in the shuffle buffer (training only)
    cache: bool = False  # cache decoded examples in memory (small datasets only)
    deterministic: bool = False  # keep element order when training (reproducible runs; a little slower)
    random_resized_crop: bool = True  # training: Inception-style random-resized crop
    rrc_scale: tuple[float, float] = (0.08, 1.0)  # area fraction range of the random crop
    rrc_ratio: tuple[float, float] = (0.75, 1.3333333333333333)  # aspect-ratio range of the random crop
    pad_crop: int = 0  # training without random_resized_crop: zero-pad this many pixels, random crop back (CIFAR: 4)
    horizontal_flip: bool = True  # training: random left-right flip
    color_jitter: float = 0.0  # training: brightness/contrast/saturation strength (timm's --color-jitter)
    crop_pct: float = 0.875  # evaluation: resize to size/crop_pct, then centre-crop size
    interpolation: str = "bilinear"  # bilinear | bicubic | nearest | area
    mean: tuple[float, float, float] = (123.675, 116.28, 103.53)  # per-channel mean on the 0-255 scale
    std: tuple[float, float, float] = (58.395, 57.12, 57.375)  # per-channel std on the 0-255 scale
    label_offset: int = 0  # subtracted from stored labels (1 for tf-slim shards where 0 is background)
    auto_augment: str = ""  # training: "" (off) | autoaugment (ImageNet policy, one sub-policy per image) | randaugment
    augment_num_ops: int = 2  # randaugment: ops applied per image (N)
    augment_magnitude: float = 9.0  # randaugment: magnitude M on AutoAugment's 0-10 scale
    noise_replace_prob: float = 0.0  # training: replace the augmented image by uniform noise with this probability (AutoAugment-KD's outlier test)
    classes: tuple[int, ...] = ()  # keep only these stored labels, renumbered 0..K-1 in list order (open-set known/unknown splits); () = all


@dataclasses.dataclass
class OptimizerConfig:
    name: str = "sgd"  # sgd | adam | adamw | rmsprop
    momentum: float = 0.9  # sgd/rmsprop momentum
    nesterov: bool = False  # sgd: Nesterov momentum
    beta_1: float = 0.9  # adam/adamw
    beta_2: float = 0.999  # adam/adamw
    epsilon: float = 1e-7  # adam/adamw/rmsprop
    rho: float = 0.9  # rmsprop decay
    clipnorm: float = 0.0  # per-variable gradient-norm clip (0 = off)
    global_clipnorm: float = 0.0  # clip the norm of all gradients together, torch's clip_grad_norm_ (0 = off)
    amsgrad: bool = False  # adam/adamw: the AMSGrad variant (torch Adam(amsgrad=True))


@dataclasses.dataclass
class ScheduleConfig:
    name: str = "cosine"  # constant | cosine | step | multistep (x decay_rate at each milestone) | linear (to min_lr at the end, RSN)
    base_lr: float = 0.1  # peak learning rate (for trainer.lr_reference_batch if that is set)
    warmup_epochs: float = 0.0  # linear warm-up length
    warmup_start_lr: float = 0.0  # learning rate at step 0 of the warm-up (scaled like base_lr)
    min_lr: float = 0.0  # cosine floor
    cooldown_epochs: float = 0.0  # epochs at min_lr after the cosine (timm's cooldown)
    decay_epochs: float = 30.0  # step: epochs between decays
    decay_rate: float = 0.1  # step, multistep: multiplier at each decay
    milestones: tuple[float, ...] = ()  # multistep: epochs at which the rate is multiplied by decay_rate


@dataclasses.dataclass
class TrainerConfig:
    epochs: int = 10  # training length in epochs (ignored when train_steps > 0)
    train_steps: int = 0  # training length in steps; 0 = epochs x steps_per_epoch
    steps_per_epoch: int = 0  # 0 = dataset size // global batch
    global_batch_size: int = 256  # examples per step over all replicas
    per_replica_batch_size: int = 0  # > 0: global batch = this x replicas (overrides global_batch_size)
    lr_reference_batch: int = 0  # > 0: lr = base_lr x global batch / this (linear scaling)
    optimizer: OptimizerConfig = dataclasses.field(default_factory=OptimizerConfig)  # update rule
    lr_schedule: ScheduleConfig = dataclasses.field(default_factory=ScheduleConfig)  # lr over steps
    weight_decay: float = 0.0  # L2 coefficient on weights with ndim > 1 (never BN or biases)
    weight_decay_mode: str = "l2"  # l2 (added to gradients, like PyTorch SGD) | decoupled (AdamW-style)
    label_smoothing: float = 0.0  # cross-entropy label smoothing
    steps_per_loop: int = 0  # steps between checkpoints/logs/validation; 0 = one epoch
    checkpoints_to_keep: int = 3  # the last k checkpoints are kept
    validation_every_n_loops: int = 1  # validate every n loops when mode=train_and_eval (0 = never)
    validation_steps: int = 0  # 0 = the whole validation set
    log_every_n_steps: int = 50  # one log line every n steps when stdout is not a terminal
    init_checkpoint: str = ""  # fine-tuning: weights loaded into the model at a fresh start (MODEL_DIR, checkpoint or .weights.h5)


@dataclasses.dataclass
class RuntimeConfig:
    strategy: str = "auto"  # auto | one_device | mirrored | multi_worker (reads TF_CONFIG)
    mixed_precision: str = "float32"  # float32 | mixed_float16 | mixed_bfloat16
    jit_compile: str | bool = "auto"  # auto (XLA only where a GPU is present) | true | false
    seed: int = 0  # seeds Python, NumPy, TF and Keras: initial weights, file and example shuffles, augmentation
    deterministic: bool = False  # bit-identical reruns: ordered tf.data maps (+ TF op determinism on GPU)
    intra_op_threads: int = 0  # TF threads inside one op (0 = one per core); fixed, results match across core counts
    inter_op_threads: int = 0  # TF ops run concurrently (0 = one per core)
    num_logical_cpus: int = 0  # > 1 splits the CPU into n logical devices (tests of mirrored on CPU)
    data_dir: str = "data"  # root of relative data paths (train_data/eval_data path, annotations); relative = from the working directory


@dataclasses.dataclass
class ExportConfig:
    formats: tuple[str, ...] = ("saved_model", "tflite")  # any of saved_model, tflite, onnx
    quantize: str = "none"  # TFLite: none | float16 | dynamic | int8
    image_size: int = 0  # serving input size; 0 = eval_data.image_size
    version: int = 0  # TF Serving version folder; 0 = one above the highest present
    representative_examples: int = 128  # int8 calibration examples from the experiment's data
    verify_examples: int = 32  # examples re-run through each artifact to check it
    atol: float = 1e-4  # max |difference| allowed for float artifacts
    min_top1_agreement: float = 0.95  # int8 artifacts: agreement with Keras required (top-1; keypoints: peaks within a cell)
    warmup_requests: int = 2  # TF Serving warmup records written


@dataclasses.dataclass
class TrainingMethodConfig:
    """How the model is trained; methods (official/training/<method>) subclass it with their own fields.

    Setting `training.method` (in YAML or `--params_override`) swaps in that method's config class,
    so any experiment can be trained with any registered method.
    """

    SWITCH_KEY: ClassVar[str] = "method"

    method: str = "standard"  # standard (plain fit) | a registered method: autoaug_kd | noise | side_tuning

    @classmethod
    def switch(cls, method: str) -> TrainingMethodConfig:
        """A fresh config of the registered method `method` (its defaults)."""
        from official.core import registry

        if method == "standard":
            return TrainingMethodConfig()
        return registry.get_training_method(method).config_cls()


@dataclasses.dataclass
class ExperimentConfig:
    experiment: str = ""  # registered experiment this config started from
    task: TaskConfig = dataclasses.field(default_factory=TaskConfig)  # what is learned
    model: ModelConfig = dataclasses.field(default_factory=ModelConfig)  # which network
    train_data: DataConfig = dataclasses.field(default_factory=DataConfig)  # training input
    eval_data: DataConfig = dataclasses.field(default_factory=DataConfig)  # validation input
    trainer: TrainerConfig = dataclasses.field(default_factory=TrainerConfig)  # how long and how
    runtime: RuntimeConfig = dataclasses.field(default_factory=RuntimeConfig)  # where and in what precision
    export: ExportConfig = dataclasses.field(default_factory=ExportConfig)  # serving artifacts
    training: TrainingMethodConfig = dataclasses.field(default_factory=TrainingMethodConfig)  # training method


class ConfigError(UserError, ValueError):
    """A config key or value is wrong; the message names the key."""


# ---------------------------------------------------------------------------------------------
# Type checking


def _type_name(hint: Any) -> str:
    if hint is Any:
        return "any"
    if isinstance(hint, type):
        return hint.__name__
    return str(hint).replace("typing.", "")


def _coerce(value: Any, hint: Any, key: str) -> Any:
    """Returns `value` converted to `hint`, or raises ConfigError naming `key`."""
    if hint is Any or hint is object:
        return value
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        for arm in args:
            if arm is type(None):
                continue
            try:
                return _coerce(value, arm, key)
            except ConfigError:
                continue
        raise ConfigError(f"{key}: expected {_type_name(hint)}, got {type(value).__name__} {value!r}")
    if origin is Literal:
        if value in args:
            return value
        raise ConfigError(f"{key}: expected one of {list(args)}, got {value!r}")
    if origin in (tuple, list) or hint in (tuple, list):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{key}: expected {_type_name(hint)}, got {type(value).__name__} {value!r}")
        if origin is tuple and args and args[-1] is not Ellipsis:
            if len(args) != len(value):
                raise ConfigError(f"{key}: expected {len(args)} items ({_type_name(hint)}), got {value!r}")
            items = [_coerce(v, a, f"{key}[{i}]") for i, (v, a) in enumerate(zip(value, args, strict=True))]
        else:
            arm = args[0] if args else Any
            items = [_coerce(v, arm, f"{key}[{i}]") for i, v in enumerate(value)]
        return tuple(items) if (origin is tuple or hint is tuple) else items
    if origin is dict or hint is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{key}: expected a mapping, got {type(value).__name__} {value!r}")
        return dict(value)
    if dataclasses.is_dataclass(hint):
        if isinstance(value, hint):
            return value
        if not isinstance(value, dict):
            raise ConfigError(f"{key}: expected a mapping of {hint.__name__} fields, got {value!r}")
        obj = hint()
        apply_dict(obj, value, prefix=f"{key}.")
        return obj
    if hint is bool:
        if isinstance(value, bool):
            return value
    elif hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif hint is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif hint is str:
        if isinstance(value, str):
            return value
    elif isinstance(hint, type) and isinstance(value, hint):
        return value
    raise ConfigError(f"{key}: expected {_type_name(hint)}, got {type(value).__name__} {value!r}")


def _field_hints(obj: Any) -> dict[str, Any]:
    cls = type(obj)
    hints = getattr(cls, "__config_hints__", None)
    if hints is None:
        hints = typing.get_type_hints(cls)
    return {f.name: hints.get(f.name, Any) for f in dataclasses.fields(obj)}


def set_value(obj: Any, dotted_key: str, value: Any, prefix: str = "") -> None:
    """Sets `a.b.c` on a dataclass tree, type-checked; unknown keys name the valid ones."""
    head, _, rest = dotted_key.partition(".")
    hints = _field_hints(obj)
    full = f"{prefix}{head}"
    if head not in hints:
        raise ConfigError(f"{full}: unknown key (valid keys here: {', '.join(sorted(hints))})")
    current = getattr(obj, head)
    switch = getattr(current, "SWITCH_KEY", None)
    if switch is not None:  # a section whose class follows one of its keys (training.method)
        wanted = value.get(switch) if (not rest and isinstance(value, dict)) else (value if rest == switch else None)
        if wanted is not None and wanted != getattr(current, switch):
            try:
                current = type(current).switch(_coerce(wanted, str, f"{full}.{switch}"))
            except UserError as err:
                raise ConfigError(f"{full}.{switch}: {err}") from err
            setattr(obj, head, current)
    if rest:
        if not dataclasses.is_dataclass(current):
            raise ConfigError(f"{full}: is a {_type_name(hints[head])}, it has no key '{rest}'")
        set_value(current, rest, value, prefix=f"{full}.")
        return
    if dataclasses.is_dataclass(current) and isinstance(value, dict):
        apply_dict(current, value, prefix=f"{full}.")
        return
    setattr(obj, head, _coerce(value, hints[head], full))


def apply_dict(obj: Any, values: dict[str, Any], prefix: str = "") -> None:
    """Applies a nested mapping (a parsed YAML file) onto a dataclass tree."""
    if not isinstance(values, dict):
        raise ConfigError(f"{prefix or 'config'}: expected a mapping, got {values!r}")
    for key, value in values.items():
        set_value(obj, str(key), value, prefix=prefix)


def _split_overrides(text: str) -> list[str]:
    """Splits `a=1,b=[1,2],c='x,y'` on commas outside brackets and quotes."""
    parts, depth, quote, start = [], 0, "", 0
    for i, ch in enumerate(text):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "[{(":
            depth += 1
        elif ch in "]})":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


_FLOAT = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)$")


def _yaml11_float(value: Any) -> Any:
    """YAML 1.1 reads `1e-2` as a string; on the command line everybody means a number."""
    if isinstance(value, str) and _FLOAT.match(value.strip()):
        return float(value)
    if isinstance(value, list):
        return [_yaml11_float(v) for v in value]
    if isinstance(value, dict):
        return {k: _yaml11_float(v) for k, v in value.items()}
    return value


def parse_overrides(text: str) -> dict[str, Any]:
    """`trainer.epochs=3,model.width=0.5` -> {"trainer.epochs": 3, "model.width": 0.5}."""
    out: dict[str, Any] = {}
    for part in _split_overrides(text):
        key, sep, raw = part.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"params_override: '{part}' is not of the form key=value")
        try:
            value = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError as err:
            raise ConfigError(f"{key.strip()}: cannot parse value {raw!r}: {err}") from err
        out[key.strip()] = _yaml11_float(value)
    return out


def apply_overrides(obj: Any, text: str) -> None:
    for key, value in parse_overrides(text).items():
        set_value(obj, key, value)


def load_yaml_file(path: str) -> dict[str, Any]:
    if not os.path.isfile(path):
        raise ConfigError(f"config_file: {path} does not exist")
    with open(path, encoding="utf-8") as f:
        try:
            data = yaml.safe_load(f) or {}
        except yaml.YAMLError as err:
            raise ConfigError(f"config_file: {path} is not valid YAML: {err}") from err
    if not isinstance(data, dict):
        raise ConfigError(f"config_file: {path} must hold a mapping at top level")
    return _yaml11_float(data)  # `weight_decay: 1e-4` is a number, as on the command line


def apply_yaml_file(obj: Any, path: str) -> None:
    try:
        apply_dict(obj, load_yaml_file(path))
    except ConfigError as err:
        raise ConfigError(f"{path}: {err}") from err


def to_dict(obj: Any) -> Any:
    """A dataclass tree as plain YAML-safe Python (tuples become lists)."""
    if dataclasses.is_dataclass(obj):
        return {f.name: to_dict(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (list, tuple)):
        return [to_dict(v) for v in obj]
    if isinstance(obj, dict):
        return {k: to_dict(v) for k, v in obj.items()}
    return obj


def to_yaml(obj: Any) -> str:
    return yaml.safe_dump(to_dict(obj), sort_keys=False, default_flow_style=None)


def save_yaml(obj: Any, path: str) -> None:
    """Writes the resolved config atomically (temp name, then rename)."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(to_yaml(obj))
    os.replace(tmp, path)


def _is_absolute(path: str) -> bool:
    return os.path.isabs(path) or "://" in path  # gs://, s3://, hdfs:// patterns are used as given


def anchor_data_paths(cfg: ExperimentConfig) -> ExperimentConfig:
    """Makes every relative data path absolute under `runtime.data_dir` (in place; returns `cfg`).

    Experiments name their data relative to a data root (`shapes/train`, `coco/annotations/...`), as
    mmdetection's `data_root` does, so one `--data_dir` moves all of them and a tool runs from any
    folder. The result is absolute, so the saved `MODEL_DIR/config.yaml` reloads the same files
    from anywhere; absolute values and URLs are kept as they are.
    """
    root = os.path.expanduser(cfg.runtime.data_dir or ".")
    # The experiment's DataConfigs, and those a task holds (the open-set task's unknown_data).
    sections = [getattr(cfg, f.name) for f in dataclasses.fields(cfg)]
    sections += [getattr(cfg.task, f.name) for f in dataclasses.fields(cfg.task)]
    for data in sections:
        if not isinstance(data, DataConfig):
            continue
        for name in type(data).PATH_FIELDS:
            value = getattr(data, name)
            if value and not _is_absolute(value):
                setattr(data, name, os.path.abspath(os.path.join(root, os.path.expanduser(value))))
    return cfg


def resolve(
    experiment: str,
    config_files: list[str] | tuple[str, ...] = (),
    params_override: str = "",
    data_dir: str | None = None,
) -> ExperimentConfig:
    """Registered defaults -> YAML files -> overrides (-> `data_dir`, the `--data_dir` flag), each step
    type-checked; relative data paths then resolve against `runtime.data_dir` (`anchor_data_paths`)."""
    from official.core import registry

    cfg = registry.get_experiment(experiment)
    cfg.experiment = experiment
    for path in config_files:
        apply_yaml_file(cfg, path)
    if params_override:
        apply_overrides(cfg, params_override)
    if data_dir:
        cfg.runtime.data_dir = data_dir
    cfg.experiment = experiment
    return anchor_data_paths(cfg)


def constant_adam_trainer(train_steps: int, batch: int, lr: float, steps_per_loop: int, log_every_n_steps: int = 100,
                          **fields: Any) -> TrainerConfig:
    """The recipe of many official PyTorch codes: Adam with torch's defaults (betas 0.9 / 0.999, eps 1e-8) at a
    constant rate, `train_steps` steps of `batch`, a checkpoint (and a logged loop) every `steps_per_loop`
    steps, three kept; `fields` set any other TrainerConfig field."""
    return TrainerConfig(
        train_steps=train_steps,
        steps_per_epoch=steps_per_loop,
        global_batch_size=batch,
        optimizer=OptimizerConfig(name="adam", beta_1=0.9, beta_2=0.999, epsilon=1e-8),
        lr_schedule=ScheduleConfig(name="constant", base_lr=lr),
        steps_per_loop=steps_per_loop,
        checkpoints_to_keep=3,
        log_every_n_steps=log_every_n_steps,
        **fields,
    )


def model_config(name: str, **values: Any) -> ModelConfig:
    """The config dataclass of model `name`: its constructor arguments as typed, commented fields.

    Derived from the constructor signature, so it can never drift from the model code; `values`
    override the variant's defaults and are type-checked like any override.
    """
    from official.core import registry

    params = registry.builder_parameters(name)
    specs, hints = [], {"name": str}
    for arg, hint, default in params:
        if isinstance(default, (list, dict, set)):
            spec = dataclasses.field(default_factory=lambda d=default: type(d)(d))
        else:
            spec = dataclasses.field(default=default)
        if default is None and hint is not Any and type(None) not in typing.get_args(hint):
            hint = hint | None
        specs.append((arg, hint, spec))
        hints[arg] = hint
    cls_name = "".join(part.capitalize() for part in name.split("_")) + "Config"
    cls = dataclasses.make_dataclass(cls_name, specs, bases=(ModelConfig,))
    cls.__config_hints__ = hints
    obj = cls(name=name)
    for key, value in values.items():
        set_value(obj, key, value, prefix="model.")
    return obj


def model_kwargs(cfg: ModelConfig) -> dict[str, Any]:
    """Constructor arguments of a model config (every field but `name` and `keras_file`)."""
    return {f.name: getattr(cfg, f.name) for f in dataclasses.fields(cfg) if f.name not in ("name", "keras_file")}

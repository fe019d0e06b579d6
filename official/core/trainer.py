"""The one trainer: Keras `fit` under a tf.distribute strategy, with resume, checkpoints and eval.

Training is a sequence of loops of `steps_per_loop` steps (Keras "epochs" over an endless dataset):
a checkpoint is written and, in train_and_eval, validation runs at every loop end. A run killed at any
point and started again with the same command restores the newest checkpoint and continues from its
step (optimizer.iterations), so at most one loop of work is repeated.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import time
from typing import Any

import keras
import tensorflow as tf

from official.core import callbacks as callbacks_lib
from official.core import config as config_lib
from official.core import keras_compat, optimization
from official.core import strategy as strategy_lib
from official.core.errors import PathNotFoundError
from official.core.file_io import write_json
from official.core.task import Task, build_task
from official.training import method as method_lib
from official.training import pretrained

log = logging.getLogger(__name__)

MODES = ("train", "eval", "train_and_eval")


@dataclasses.dataclass
class RunPlan:
    """Derived sizes of a run, printed in the banner."""

    replicas: int
    global_batch_size: int
    steps_per_epoch: int
    total_steps: int
    steps_per_loop: int
    num_loops: int
    lr_scale: float


def plan_run(cfg: config_lib.ExperimentConfig, task: Task, replicas: int) -> RunPlan:
    t = cfg.trainer
    global_batch = t.per_replica_batch_size * replicas if t.per_replica_batch_size > 0 else t.global_batch_size
    if global_batch % replicas:
        raise config_lib.ConfigError(
            f"trainer.global_batch_size: {global_batch} does not divide over {replicas} replicas"
        )
    steps_per_epoch = t.steps_per_epoch
    if steps_per_epoch <= 0:
        n = task.num_examples(cfg.train_data)
        if not n:
            raise config_lib.ConfigError("trainer.steps_per_epoch: the reader cannot count examples; set it")
        steps_per_epoch = max(n // global_batch, 1)
    total = t.train_steps if t.train_steps > 0 else t.epochs * steps_per_epoch
    per_loop = min(t.steps_per_loop if t.steps_per_loop > 0 else steps_per_epoch, total)
    if t.train_steps > 0 and total % per_loop:
        # Training runs whole loops; rounding up would silently train (and schedule the rate over) more
        # steps than asked. Epoch-based lengths still round up to whole loops (the banner prints it).
        raise config_lib.ConfigError(
            f"trainer.train_steps: {total} is not a whole number of loops of trainer.steps_per_loop={per_loop}; "
            f"set trainer.steps_per_loop to a divisor of it (e.g. {math.gcd(total, per_loop)}) or change train_steps"
        )
    loops = math.ceil(total / per_loop)
    lr_scale = global_batch / t.lr_reference_batch if t.lr_reference_batch > 0 else 1.0
    return RunPlan(replicas, global_batch, steps_per_epoch, loops * per_loop, per_loop, loops, lr_scale)


def _distributed(strategy, task: Task, data, training: bool, global_batch: int):
    def fn(ctx: tf.distribute.InputContext):
        return task.build_inputs(data, training, global_batch, input_context=ctx)

    return strategy.distribute_datasets_from_function(fn)


def _banner(cfg, strategy, plan: RunPlan, jit: bool, resumed: int, model_dir: str, model: keras.Model, mode: str) -> None:
    rows = [
        ("experiment", cfg.experiment),
        ("mode", mode),
        ("model", f"{cfg.model.name} ({method_lib.inference_model(model).count_params():,} parameters)"),
        ("training method", cfg.training.method),
        ("strategy", f"{strategy_lib.describe(strategy)} x {plan.replicas} replica(s)"),
        ("global batch", f"{plan.global_batch_size} (lr x {plan.lr_scale:g})"),
        ("steps", f"{plan.total_steps} = {plan.num_loops} loops x {plan.steps_per_loop} ({plan.steps_per_epoch}/epoch)"),
        ("XLA (jit_compile)", str(jit)),
        ("precision", cfg.runtime.mixed_precision),
        ("seed", f"{cfg.runtime.seed}" + (" (deterministic)" if cfg.runtime.deterministic else "")),
        ("resumed from step", str(resumed) if resumed else "- (fresh start)"),
        ("config", os.path.join(model_dir, "config.yaml")),
    ]
    width = max(len(k) for k, _ in rows)
    print("=" * 72)
    for k, v in rows:
        print(f"  {k:<{width}} : {v}")
    print("=" * 72, flush=True)


def _build_compiled_state(model: keras.Model, element_spec: Any) -> None:
    """Builds the compiled loss and metrics from the input spec, before `fit` sees any data.

    Keras' own pre-fit build pulls one batch off the training iterator (shifting the data order) and
    fails on MultiWorkerMirroredStrategy's per-replica batches; building here from the dataset's
    element_spec makes that step a no-op, so it is switched off.
    """
    model._symbolic_build(data_batch=element_spec)
    object.__setattr__(model, "_maybe_symbolic_build", lambda iterator=None, data_batch=None: None)


def build_compiled_model(cfg, task: Task, plan: RunPlan, jit: bool, method=None) -> keras.Model:
    """Model (wrapped by the experiment's training method) + optimizer + compile, inside the strategy scope."""
    network = task.build_model()
    model = (method or method_lib.build_method(cfg, task)).wrap(network)
    # Optimizer and weight decay cover the network only: a method's own variables (a frozen teacher, a
    # noise generator with its own optimizer) are not the network's to decay or step.
    optimizer, _ = optimization.configure_optimizer(network, cfg.trainer, plan.steps_per_epoch, plan.total_steps, plan.lr_scale)
    task.compile_model(model, optimizer, jit)
    model.optimizer.build(method_lib.optimized_variables(model, network))
    _build_compiled_state(model, task.build_inputs(cfg.train_data, True, plan.global_batch_size).element_spec)
    return model


def _write_json(path: str, payload: dict) -> None:
    write_json(payload, path, indent=2, sort_keys=True)


def _print_table(title: str, metrics: dict[str, Any]) -> None:
    print(f"--- {title} ---")
    for k, v in sorted(metrics.items()):
        print(f"  {k:<24} {v:.4f}" if isinstance(v, float) else f"  {k:<24} {v}")


def run_experiment(
    cfg: config_lib.ExperimentConfig, model_dir: str, mode: str = "train_and_eval", return_model: bool = False
) -> Any:
    """Trains and/or evaluates `cfg` in `model_dir`; returns the final metrics (and the model)."""
    if mode not in MODES:
        raise ValueError(f"mode: expected one of {', '.join(MODES)}, got {mode!r}")
    os.makedirs(model_dir, exist_ok=True)
    # Thread pools and the strategy first: both must precede any TF initialisation.
    strategy_lib.configure_threads(cfg.runtime.intra_op_threads, cfg.runtime.inter_op_threads)
    strategy = strategy_lib.create_strategy(cfg.runtime.strategy, cfg.runtime.num_logical_cpus)
    if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        keras_compat.patch_multi_worker_reduce()
    # The seed fixes every initializer (Keras 3 draws an unseeded initializer's seed from Python's
    # `random` when the layer is built), the shuffles and the per-example augmentation seeds.
    keras.utils.set_random_seed(cfg.runtime.seed)
    if cfg.runtime.deterministic and tf.config.list_physical_devices("GPU"):
        # Process-wide: GPU kernels (cuDNN convolution gradients, scatter-adds) pick deterministic
        # algorithms. Not on CPU, where it changes no bit of a seeded run with a fixed thread count (a
        # 300-step digits run gave identical weights with and without it) but would make every tf.data
        # map serial, because the unreadable-image counter is a stateful op.
        tf.config.experimental.enable_op_determinism()
    keras.mixed_precision.set_global_policy(cfg.runtime.mixed_precision)
    chief = strategy_lib.is_chief(strategy)
    jit = strategy_lib.resolve_jit_compile(cfg.runtime.jit_compile)
    task = build_task(cfg)
    plan = plan_run(cfg, task, strategy.num_replicas_in_sync)
    if chief:
        config_lib.save_yaml(cfg, os.path.join(model_dir, "config.yaml"))

    method = method_lib.build_method(cfg, task)
    method.model_dir = model_dir  # for methods that write beside the checkpoints (GAN sample grids)
    with strategy.scope():
        model = build_compiled_model(cfg, task, plan, jit, method)
        ckpt = callbacks_lib.CheckpointCallback(
            model_dir, method_lib.inference_model(model), model.optimizer, cfg.trainer.checkpoints_to_keep, chief,
            strategy_lib.worker_id(strategy), extras=method_lib.checkpoint_extras(model),
        )
        resumed = ckpt.restore()
        if not resumed and cfg.trainer.init_checkpoint:
            used = pretrained.restore_weights(
                method_lib.inference_model(model), cfg.trainer.init_checkpoint, "trainer.init_checkpoint"
            )
            print(f"initialised the model from {used}")
        if mode != "eval":
            method.prepare(model, resumed)
    _banner(cfg, strategy, plan, jit, resumed, model_dir, model, mode)
    results: dict[str, Any] = {}

    if mode in ("train", "train_and_eval"):
        initial_loop = resumed // plan.steps_per_loop
        if initial_loop >= plan.num_loops:
            print(f"training already complete at step {resumed}; nothing to train")
        else:
            train_ds = _distributed(strategy, task, cfg.train_data, True, plan.global_batch_size)
            val_ds, val_freq, val_steps = None, 1, cfg.trainer.validation_steps
            if mode == "train_and_eval" and cfg.trainer.validation_every_n_loops > 0:
                # A plain finite dataset: Keras distributes it and stops cleanly at its end.
                val_ds = task.build_inputs(cfg.eval_data, False, plan.global_batch_size)
                val_freq = cfg.trainer.validation_every_n_loops
                n_val = task.num_examples(cfg.eval_data)
                if not val_steps and n_val and not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
                    val_steps = math.ceil(n_val / plan.global_batch_size)
                if val_steps:
                    # Keras keeps one validation iterator across loops when steps are given: repeat the
                    # data so every validation reads the next `val_steps` batches (one whole pass).
                    val_ds = val_ds.repeat()
            tty = callbacks_lib.stdout_is_terminal()
            cbs = [
                ckpt,
                callbacks_lib.ScalarLogger(model_dir, model.optimizer, cfg.trainer.log_every_n_steps, not tty, chief),
                *method.callbacks(model),
            ]
            if chief:
                cbs.append(keras.callbacks.CSVLogger(os.path.join(model_dir, "summary.csv"), append=True))
            start = time.time()
            history = model.fit(
                train_ds,
                epochs=plan.num_loops,
                initial_epoch=initial_loop,
                steps_per_epoch=plan.steps_per_loop,
                validation_data=val_ds,
                validation_freq=val_freq,
                validation_steps=val_steps or None,
                shuffle=False,
                callbacks=cbs,
                verbose=1 if tty else 0,
            )
            elapsed = time.time() - start
            results.update({k: float(v[-1]) for k, v in history.history.items()})
            results["train_seconds"] = elapsed
            print(f"trained {int(model.optimizer.iterations.numpy()) - resumed} steps in {elapsed:.1f} s")
        results["step"] = int(model.optimizer.iterations.numpy())

    if mode in ("eval", "train_and_eval"):
        if mode == "eval" and not resumed:
            raise PathNotFoundError(f"{model_dir}: no checkpoint to evaluate (checkpoints/ is empty)")
        eval_ds = task.build_inputs(cfg.eval_data, False, plan.global_batch_size)
        metrics = task.evaluate(model, eval_ds, steps=cfg.trainer.validation_steps or None)
        results["eval"] = metrics
        skipped = getattr(task, "skipped_examples", lambda: 0)()
        if skipped:
            print(f"WARNING: {skipped} unreadable image(s) were skipped (paths logged above)")
            results["skipped_examples"] = skipped
        if chief:
            _write_json(os.path.join(model_dir, "eval_results.json"), {"step": int(model.optimizer.iterations.numpy()), **metrics})
        _print_table("evaluation", {k: v for k, v in metrics.items() if not isinstance(v, dict)})

    if chief:
        print("artifacts:")
        print(f"  config       {os.path.join(model_dir, 'config.yaml')}")
        print(f"  checkpoints  {os.path.join(model_dir, 'checkpoints')}")
        print(f"  tensorboard  {model_dir} (train/, validation/)")
        if "eval" in results:
            print(f"  metrics      {os.path.join(model_dir, 'eval_results.json')}")
    return (results, model) if return_model else results


def check_trained_model_config(cfg: config_lib.ExperimentConfig, model_dir: str) -> None:
    """A one-line error when `cfg.model` differs from the model section of the run's `config.yaml`.

    Checkpoints name variables by their place in the network, so a network built from other arguments
    (a structural `--params_override` given in training and forgotten at evaluation) could take the
    checkpoint's values without any shape error and silently score the wrong weights.
    """
    path = os.path.join(model_dir, "config.yaml")
    if not os.path.isfile(path):
        return
    trained = config_lib.load_yaml_file(path).get("model") or {}
    current = config_lib.to_dict(cfg.model)
    differ = sorted(k for k in set(trained) | set(current) if k != "keras_file" and trained.get(k) != current.get(k))
    if differ:
        key = differ[0]
        raise config_lib.ConfigError(
            f"{path}: model.{key}: the checkpoint was trained with {trained.get(key)!r}, this config has "
            f"{current.get(key)!r}" + (f" (and {len(differ) - 1} more model key(s))" if len(differ) > 1 else "")
            + f"; give the training run's --params_override, or --config_file {path}"
        )


def restore_for_inference(cfg: config_lib.ExperimentConfig, model_dir: str) -> tuple[keras.Model, Task, int]:
    """Builds the model and loads the newest checkpoint's weights (no optimizer needed). With no
    `model_dir`, a `model.keras_file` network is used with the weights of its file (step 0)."""
    keras.mixed_precision.set_global_policy(cfg.runtime.mixed_precision)
    task = build_task(cfg)
    model = task.build_model()
    if not model_dir:
        if not cfg.model.keras_file:
            raise config_lib.ConfigError("--model_dir: no training folder given (or set model.keras_file)")
        return model, task, 0
    directory = os.path.join(model_dir, "checkpoints")
    latest = tf.train.latest_checkpoint(directory)
    if latest is None:
        raise PathNotFoundError(f"{directory}: no checkpoint found (train first, or pass --saved_model)")
    check_trained_model_config(cfg, model_dir)
    try:
        tf.train.Checkpoint(model=model).restore(latest).expect_partial()
    except ValueError as err:  # other shapes: a checkpoint of another model (or of a model.keras_file network)
        first = str(err).strip().splitlines()[0]
        raise config_lib.ConfigError(
            f"{latest}: does not fit the experiment's model ({first}); a network trained from a "
            "model.keras_file needs the same file (--keras_file)"
        ) from err
    step = int(latest.rsplit("-", 1)[-1]) if "-" in latest else 0
    return model, task, step

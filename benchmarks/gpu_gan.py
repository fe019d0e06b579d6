"""Training-step throughput of the GAN methods on one GPU (JAX): the whole adversarial step of each method's
objective (G forward + backward + Adam, then D), at the paper's resolution and batch.

    python3 benchmarks/gpu_gan.py [--models cyclegan,sketch2photo,forkgan,tsit,coco_funit] [--out PATH]
    python3 benchmarks/gpu_gan.py --peer tsit_official --tsit-src DIR [--out PATH]   # PyTorch, separate process
    KERAS_BACKEND=jax JAX_PLATFORMS=cpu python benchmarks/gpu_gan.py --smoke       # small-run configs, CPU

JAX: each case is the registered experiment (resolution, batch, objective and its arguments, optimizers),
its generator built from the variant with random weights, the objective built as `training.method: gan`
builds it, and official/training/gan/jax_step.py's JaxAdversarialStep jitted with the state donated; batches
are random arrays of the reader's shapes. Differences from training, all stated in the JSON: the history of
50 fakes (CycleGAN, Sketch2Photo, ForkGAN) is off (it is a tf.Module; a per-image select, small next to
the networks); TSIT's VGG-19 has random weights (ImageNet weights are a file; speed does not depend on
them). Timed with benchmarks/gpu_pose.py `measure` (compiling call alone, warm-up, median of windows).
No TensorFlow is imported (the device has none); the packages are entered bare.

Peer (`--peer tsit_official`): the authors' TSIT code (github EndlessSora/TSIT, fetched outside the repo and
loaded from --tsit-src; never committed), its Pix2PixTrainer's run_generator_one_step +
run_discriminator_one_step at the summer->winter script's options (AST, 256x256, batch 1, hinge, vgg 1,
feat 1, TTUR Adam), float32. Stand-ins for what the checkout lacks: the Synchronized-BatchNorm submodule
-> torch.nn.BatchNorm2d (equal on one GPU) and nn.DataParallel; `dill` -> pickle when absent;
torchvision's VGG-19 with random weights (no download there).
"""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from benchmarks.common import measure_models  # noqa: E402
from benchmarks.gpu_issue13 import enter_bare  # noqa: E402
from benchmarks.gpu_pose import measure  # noqa: E402

# name -> (package, paper experiment, small-run experiment, objective module, precisions the paper trains in)
CASES = {
    "cyclegan": ("official.vision.gan", "cyclegan_resnet9_horse2zebra", "cyclegan_tiny_domains",
                 "official.training.gan.cyclegan", "float32"),
    "sketch2photo": ("research.generative.sketch2photo", "sketch2photo_resnet9_shoev2", "sketch2photo_tiny_domains",
                     "research.generative.sketch2photo.objective", "float32"),
    "forkgan": ("research.generative.forkgan", "forkgan_gf64_alderley", "forkgan_tiny_night_day",
                "research.generative.forkgan.objective", "float32"),
    "tsit": ("research.generative.tsit", "tsit_ast_summer2winter", "tsit_tiny_domains",
             "research.generative.tsit.objective", "float32"),
    # COCO-FUNIT trained with mixed precision (fp16 on V100s); bfloat16 is JAX's mixed precision here
    "coco_funit": ("research.generative.coco_funit", "coco_funit_base64_animal_faces", "coco_funit_small_few_shot",
                   "research.generative.coco_funit.objective", "bfloat16,float32"),
}


def load_experiment(name: str, smoke: bool):
    import importlib

    package, paper, small, objective_module, _ = CASES[name]
    for pkg in (package, "official.training.gan"):
        enter_bare(pkg)
    for module in (f"{package}.variants", f"{package}.experiments", objective_module):
        importlib.import_module(module)
    from official.core import registry

    return registry.get_experiment(small if smoke else paper), (small if smoke else paper)


def build(name: str, smoke: bool, batch_override: int = 0):
    """(objective, generator optimizer, batch arrays, description) for one case."""
    import dataclasses

    import numpy as np

    from official.core import optimization
    from official.core.model_files import build_network
    from official.training.gan.method import get_objective

    cfg, experiment = load_experiment(name, smoke)
    training = dataclasses.replace(cfg.training, pool_size=0, sample_every_n_steps=0)
    args = dict(training.objective_args)
    if "vgg_weights" in args and args.get("lambda_vgg", 0) > 0:
        args["vgg_weights"] = "random"
    crop = tuple(int(s) for s in cfg.train_data.crop_size)
    batch = batch_override or (2 if smoke else int(cfg.trainer.global_batch_size))
    network = build_network(cfg.model)
    steps = dict(steps_per_epoch=1000, total_steps=100_000, lr_scale=1.0)
    objective = get_objective(training.objective)(network, training, cfg.trainer, steps, (*crop, 3),
                                                  seed=cfg.runtime.seed, **args)
    g_optimizer, _ = optimization.configure_optimizer(network, cfg.trainer, 1000, 100_000, 1.0)
    rng = np.random.default_rng(0)

    def images(channels):
        return rng.uniform(-1, 1, (batch, *crop, channels)).astype("float32")

    if name == "coco_funit":
        arrays = {"content": images(3), "style": images(3),
                  "content_label": rng.integers(0, objective.num_classes, batch).astype("int32"),
                  "style_label": rng.integers(0, objective.num_classes, batch).astype("int32")}
    elif name == "sketch2photo":
        channels = int(network.input_shape[-1])
        arrays = {"a": images(channels), "b": images(int(network.output_shape[-1])), "noise": images(channels),
                  "other": images(channels), "draws": rng.uniform(0, 1, (batch, 3)).astype("float32")}
    else:
        arrays = {"a": images(3), "b": images(3)}
    info = {"experiment": experiment, "model": cfg.model.name, "resolution": list(crop), "batch": batch,
            "objective": training.objective, "gan_loss": training.gan_loss, "ema_decay": training.ema_decay,
            "history_of_fakes": f"off (the experiment's pool_size {cfg.training.pool_size} is TF-only)"
            if cfg.training.pool_size else "none",
            "optimizer": f"{cfg.trainer.optimizer.name} beta_1 {cfg.trainer.optimizer.beta_1}",
            "generator_parameters": int(sum(np.prod(v.shape) for v in objective.generator_variables)),
            "discriminator_parameters": int(sum(np.prod(v.shape) for v in objective.discriminator_variables))}
    if "vgg_weights" in args:
        info["vgg"] = "random weights" if args["vgg_weights"] == "random" else args["vgg_weights"]
    return objective, g_optimizer, arrays, info


def bench_model(name: str, args) -> dict:
    import jax
    import keras
    import numpy as np

    from benchmarks.common import jaxpr_flops
    from official.training.gan.jax_step import JaxAdversarialStep

    result = {"case": name, "device": str(jax.devices()[0]), "keras": keras.__version__, "jax": jax.__version__}
    for precision in (args.precisions or CASES[name][4]).split(","):
        keras.config.set_dtype_policy("mixed_bfloat16" if precision == "bfloat16" else "float32")
        try:
            objective, g_optimizer, arrays, info = build(name, args.smoke, args.batch)
        finally:
            keras.config.set_dtype_policy("float32")
        result.update(info)
        trainer = JaxAdversarialStep(objective, g_optimizer)
        batch = jax.device_put(arrays)
        state = jax.device_put(trainer.initial_state())
        flops = jaxpr_flops(trainer.step, state, batch) if not args.smoke else None
        step = trainer.jit(donate=True)
        holder = {"state": state}

        def one(holder=holder, step=step, batch=batch):
            holder["state"], logs = step(holder["state"], batch)
            return logs

        figures, first_logs = measure(one, jax.block_until_ready, info["batch"], args.warmup, args.windows, args.steps)
        last_logs = one()
        losses = {k: [float(first_logs[k]), float(last_logs[k])] for k in sorted(first_logs)}
        if not all(np.isfinite(v).all() for v in losses.values()):
            raise FloatingPointError(f"{name} {precision}: non-finite losses {losses}")
        figures.update(steps_per_s=1.0 / (figures["median_step_ms"] / 1000), losses_first_last=losses)
        if flops:
            figures.update(step_tflop=flops / 1e12, achieved_tflops=flops / (figures["median_step_ms"] / 1000) / 1e12)
        result[precision] = figures
        print(f"  {name} {precision}: {info['resolution']} batch {info['batch']}: {figures['steps_per_s']:.2f} steps/s, "
              f"{figures['images_per_s']:.1f} img/s (compile {figures['first_call_s']:.0f} s)", flush=True)
    return result


# --- the PyTorch peer: the authors' TSIT ------------------------------------------------------------------


def tsit_official(args) -> dict:
    """The authors' TSIT Pix2PixTrainer step (see the module docstring for the stand-ins)."""
    import pickle
    import types

    import torch

    src = os.path.abspath(args.tsit_src)
    if not os.path.exists(os.path.join(src, "models", "pix2pix_model.py")):
        raise FileNotFoundError(f"--tsit-src {src}: no models/pix2pix_model.py (a checkout of EndlessSora/TSIT)")
    sys.path.insert(0, src)
    shim = types.ModuleType("models.networks.sync_batchnorm")
    shim.SynchronizedBatchNorm2d = torch.nn.BatchNorm2d
    shim.DataParallelWithCallback = torch.nn.DataParallel
    sys.modules["models.networks.sync_batchnorm"] = shim
    try:
        import dill  # noqa: F401
        stand_ins = []
    except ImportError:
        sys.modules["dill"] = pickle
        stand_ins = ["dill -> pickle"]
    import torchvision

    vgg19 = torchvision.models.vgg19
    torchvision.models.vgg19 = lambda pretrained=False, **kw: vgg19(weights=None)
    cuda = torch.cuda.is_available() and not args.smoke
    size = 128 if args.smoke else 256
    argv = ["train.py", "--name", "bench", "--task", "AST", "--gpu_ids", "0" if cuda else "-1",
            "--checkpoints_dir", os.path.join(args.scratch, "tsit_checkpoints"), "--batchSize", str(args.batch or 1),
            "--dataset_mode", "summer2winteryosemite", "--croot", args.scratch, "--sroot", args.scratch,
            "--no_pairing_check", "--no_instance", "--gan_mode", "hinge", "--num_upsampling_layers", "more",
            "--alpha", "1.0", "--lambda_vgg", "1", "--lambda_feat", "1", "--crop_size", str(size), "--load_size", str(size)]
    if args.smoke:
        argv += ["--ngf", "8", "--ndf", "8"]
    saved, sys.argv = sys.argv, argv
    try:
        from options.train_options import TrainOptions
        from trainers.pix2pix_trainer import Pix2PixTrainer

        opt = TrainOptions().parse()
    finally:
        sys.argv = saved
    adam = torch.optim.Adam

    class FloatBetasAdam(adam):  # TTUR's betas (0, 0.9): torch >= 2 rejects an int beta next to a float
        def __init__(self, params, betas=(0.9, 0.999), **kwargs):
            super().__init__(params, betas=tuple(float(b) for b in betas), **kwargs)

    torch.optim.Adam = FloatBetasAdam
    torch.backends.cudnn.benchmark = True  # the official train.py leaves it at the default; stated in the JSON
    trainer = Pix2PixTrainer(opt)
    gen = torch.Generator().manual_seed(0)
    batch = opt.batchSize
    data = {"label": torch.rand(batch, 3, size, size, generator=gen) * 2 - 1,
            "image": torch.rand(batch, 3, size, size, generator=gen) * 2 - 1, "instance": torch.zeros(1)}
    count = lambda m: int(sum(p.numel() for p in m.parameters()))  # noqa: E731
    model = trainer.pix2pix_model_on_one_gpu

    def one():
        trainer.run_generator_one_step(dict(data))
        trainer.run_discriminator_one_step(dict(data))
        return trainer.get_latest_losses()

    def sync(_):
        if cuda:
            torch.cuda.synchronize()

    figures, _ = measure(one, sync, batch, args.warmup, args.windows, args.steps)
    losses = {k: float(v.mean()) for k, v in one().items()}
    figures["steps_per_s"] = 1.0 / (figures["median_step_ms"] / 1000)
    result = {"case": "tsit_official_pytorch", "code": "EndlessSora/TSIT (authors' PyTorch), loaded from --tsit-src",
              "device": torch.cuda.get_device_name(0) if cuda else "cpu", "torch": torch.__version__,
              "torchvision": torchvision.__version__, "resolution": [size, size], "batch": batch,
              "precision": "float32 (cudnn.allow_tf32 default: True for convolutions)",
              "cudnn_benchmark": True, "options": " ".join(argv[1:]),
              "generator_parameters": count(model.netG), "discriminator_parameters": count(model.netD),
              "stand_ins": ["SynchronizedBatchNorm2d -> BatchNorm2d", "DataParallelWithCallback -> DataParallel",
                            "VGG-19 random weights",
                            "Adam betas (0, 0.9) passed as floats", *stand_ins],
              "float32": {**figures, "losses_last": losses}}
    print(f"  tsit_official_pytorch: {size}x{size} batch {batch}: {figures['steps_per_s']:.2f} steps/s, "
          f"{figures['images_per_s']:.1f} img/s", flush=True)
    return result


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--models", default=",".join(CASES), help=f"comma-separated subset of {', '.join(CASES)}")
    p.add_argument("--precisions", default="", help="float32 and/or bfloat16 for every case (default: each "
                   "case's paper precision, COCO-FUNIT bfloat16,float32)")
    p.add_argument("--batch", type=int, default=0, help="batch for every case (default: the experiment's)")
    p.add_argument("--windows", type=int, default=5, help="timed windows; the median is reported")
    p.add_argument("--steps", type=int, default=10, help="steps per window")
    p.add_argument("--warmup", type=int, default=3, help="untimed steps after the compiling call")
    p.add_argument("--peer", default="", choices=["", "tsit_official"],
                   help="time the authors' PyTorch code instead of the JAX cases (run it in its own process)")
    p.add_argument("--tsit-src", default=os.environ.get("TSIT_SRC", ""),
                   help="checkout of EndlessSora/TSIT for --peer tsit_official (default $TSIT_SRC)")
    p.add_argument("--scratch", default="/tmp/gpu_gan", help="scratch folder for the peer's option files")
    p.add_argument("--smoke", action="store_true", help="small-run experiments, batch 2, 1 window of 1 step")
    p.add_argument("--out", default=os.path.join(REPO, "benchmarks", "results", "gpu_gan.json"),
                   help="results JSON (written atomically)")
    args = p.parse_args(argv)
    if args.smoke:
        args.windows, args.steps, args.warmup = 1, 1, 0
    unknown = set(args.models.split(",")) - set(CASES)
    if unknown:
        p.error(f"--models: unknown {sorted(unknown)}; expected any of {', '.join(CASES)}")
    if args.peer and not args.tsit_src:
        p.error("--peer tsit_official needs --tsit-src (a checkout of EndlessSora/TSIT) or $TSIT_SRC")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.peer:
        os.makedirs(args.scratch, exist_ok=True)
        return measure_models(["tsit_official"], lambda name, a: tsit_official(a), args)
    return measure_models(args.models.split(","), bench_model, args)


if __name__ == "__main__":
    sys.exit(main())
